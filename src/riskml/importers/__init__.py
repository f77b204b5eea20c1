"""Importers for public data sets: turn a published file into a ledger directory riskml can read.

Each writes the contract tables (``customers.csv``, ``invoices.csv``, ``payments.csv`` and, where the
mapping needs them, ``adjustments.csv``), ``labels.csv`` when the data set has outcomes (for
``riskml train --labels``), ``data.yaml`` (the data's as-of date and the declared customer attributes;
the loader reads it from the directory) and ``import.json`` (source, checksum, counts, notes).

    >>> from riskml.importers import import_dataset                                  # doctest: +SKIP
    >>> import_dataset("taiwan", "../shared/datasets/uci_taiwan_credit_default/UCI_Credit_Card.csv",
    ...                "data/taiwan").row_counts                                     # doctest: +SKIP

The mappings, their choices and what they lose are documented in ``docs/real-data.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from riskml.errors import RiskmlError
from riskml.importers import german, ibm, polish, taiwan
from riskml.importers.common import (
    ChecksumWarning,
    Converted,
    ImportResult,
    check_checksum,
    prepare_out_dir,
    require_file,
    sha256_file,
    write_converted,
)

__all__ = ["DATASETS", "ChecksumWarning", "Converted", "ImportResult", "convert", "import_dataset"]


@dataclass(frozen=True)
class Dataset:
    """One importable data set: how to read it, how to map it, and the published checksums."""

    name: str
    title: str
    convert: Callable[[Path], Converted]
    known_sha256: dict[str, str]


def _convert_ibm(path: Path) -> Converted:
    return ibm.ibm_to_ledger(ibm.read_ibm(path))


def _convert_taiwan(path: Path) -> Converted:
    return taiwan.taiwan_to_ledger(taiwan.read_taiwan(path))


def _convert_polish(path: Path) -> Converted:
    frame, year = polish.read_polish(path)
    return polish.polish_to_ledger(frame, year)


def _convert_german(path: Path) -> Converted:
    return german.german_to_ledger(german.read_german(path))


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(ibm.NAME, ibm.TITLE, _convert_ibm, ibm.KNOWN_SHA256),
        Dataset(taiwan.NAME, taiwan.TITLE, _convert_taiwan, taiwan.KNOWN_SHA256),
        Dataset(polish.NAME, polish.TITLE, _convert_polish, polish.KNOWN_SHA256),
        Dataset(german.NAME, german.TITLE, _convert_german, german.KNOWN_SHA256),
    )
}


def _dataset(name: str) -> Dataset:
    ds = DATASETS.get(name.strip().lower())
    if ds is None:
        raise RiskmlError(f"data set must be one of {sorted(DATASETS)}; got {name!r}")
    return ds


def convert(name: str, source: str | Path) -> Converted:
    """Read and map a data set in memory, writing nothing (for tests and notebooks)."""
    return _dataset(name).convert(require_file(source))


def import_dataset(name: str, source: str | Path, out_dir: str | Path, overwrite: bool = False) -> ImportResult:
    """Import the public data set ``name`` from the file ``source`` into the ledger directory ``out_dir``.

    The source's sha256 is compared with the published copy (a mismatch warns with a
    :class:`ChecksumWarning` and is recorded in the notes; it is not an error). A malformed source
    raises :class:`riskml.errors.DataError` listing file, line, column and rule, and nothing is written.
    ``out_dir`` may be new, or hold an earlier import (its stale files are replaced); a directory
    holding some other ledger is refused unless ``overwrite``.
    """
    ds = _dataset(name)
    source = require_file(source)
    out = Path(out_dir)
    prepare_out_dir(out, overwrite)
    digest = sha256_file(source)
    converted = ds.convert(source)  # a malformed file fails here, before any checksum warning
    ok, check_note = check_checksum(source, digest, ds.known_sha256)
    notes = ((check_note,) if check_note else ()) + converted.notes
    counts = {table: len(df) for table, df in converted.tables.items()}
    if converted.labels is not None:
        counts["labels"] = len(converted.labels)
    label_rate = float(converted.labels["label"].mean()) if converted.labels is not None else None
    manifest = {
        "dataset": ds.name,
        "title": ds.title,
        "source": str(source.resolve()),
        "sha256": digest,
        "checksum_ok": ok,
        "as_of": converted.data_config.as_of,
        "row_counts": counts,
        "label_rate": label_rate,
        "notes": list(notes),
        "docs": "docs/real-data.md",
    }
    header = (f"riskml import {ds.name}: {ds.title}\nsource: {source.name} (sha256 {digest[:16]}...)\n"
              "written by the importer; see docs/real-data.md for the mapping")
    paths = write_converted(converted, out, manifest, header)
    return ImportResult(
        name=ds.name, source=source, out_dir=out, paths=paths, row_counts=counts, sha256=digest,
        checksum_ok=ok, notes=notes, label_rate=label_rate,
    )
