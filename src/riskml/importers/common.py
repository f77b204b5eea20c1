"""What every importer shares: the result types, checksum checks, source reading and writing the ledger.

An importer is split in two so that the mapping can be tested on tiny hand-made frames:
``read_<name>(path) -> DataFrame`` reads and checks the public file, and
``<name>_to_ledger(frame) -> Converted`` maps it onto the ledger contract without touching the disk.
:func:`write_converted` then writes the tables, ``labels.csv``, ``data.yaml`` and ``import.json``.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from riskml.config import DataConfig
from riskml.data.contract import TABLES
from riskml.errors import DataError, RiskmlError
from riskml.io import write_table, write_text

MANIFEST = "import.json"
LABELS = "labels.csv"
DATA_CONFIG = "data.yaml"
LABEL_COLUMNS = ("customer_id", "as_of", "label")
# files an earlier import may have left in the output directory; removed when this import does not write them
_STALE_CANDIDATES = tuple(f"{t}{s}" for t in TABLES for s in (".csv", ".parquet")) + (LABELS, "labels.parquet")
MAX_PROBLEMS = 20


class ChecksumWarning(UserWarning):
    """The source file differs from the published copy the importer was written against."""


@dataclass(frozen=True)
class Converted:
    """A data set mapped onto the ledger contract, in memory (nothing written yet).

    ``tables`` holds contract tables by name (columns already in contract order, dates as ISO strings),
    ``labels`` the outcomes (``customer_id``, ``as_of``, ``label``) when the data set has them.
    """

    tables: dict[str, pd.DataFrame]
    data_config: DataConfig
    labels: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportResult:
    """What :func:`riskml.importers.import_dataset` wrote, for the CLI summary and for scripts."""

    name: str
    source: Path
    out_dir: Path
    paths: dict[str, Path]
    row_counts: dict[str, int]
    sha256: str
    checksum_ok: bool | None  # None: no published checksum to compare with
    notes: tuple[str, ...] = field(default=())
    label_rate: float | None = None  # share of positive labels, when labels were written


# ---------------------------------------------------------------------------------------------- checksums
def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_checksum(path: Path, digest: str, known: dict[str, str]) -> tuple[bool | None, str | None]:
    """Compare ``digest`` with the published checksums ``known`` (label -> sha256).

    Returns (ok, note). A mismatch is a warning, not an error: a re-saved or newer copy of the file may
    import fine, but results may then differ from the figures in PROVENANCE.md and docs/real-data.md."""
    if not known:
        return None, None
    for label, value in known.items():
        if digest == value:
            return True, f"{path.name}: sha256 matches the published {label}"
    note = (f"{path.name}: sha256 {digest[:12]}... differs from the published copy "
            f"({', '.join(f'{k} {v[:12]}...' for k, v in known.items())}); importing anyway, "
            "but row counts and results may differ from docs/real-data.md")
    warnings.warn(note, ChecksumWarning, stacklevel=3)
    return False, note


# ------------------------------------------------------------------------------------------ source reading
def require_file(path: str | Path) -> Path:
    """``path`` as a Path, or a :class:`RiskmlError` saying it is missing or not a file."""
    path = Path(path)
    if not path.exists():
        raise RiskmlError(f"{path}: source file not found")
    if not path.is_file():
        raise RiskmlError(f"{path}: expected a file; got a directory")
    return path


def require_columns(df: pd.DataFrame, columns: Iterable[str], path: Path) -> None:
    """Raise a :class:`DataError` naming the file and every required column that is missing."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; found {list(df.columns)}")


def row_problems(path: Path, mask: pd.Series, column: str, rule: str, values: pd.Series | None = None,
                 header_lines: int = 1) -> list[str]:
    """One message per offending row (file line, column, rule and the value), at most ``MAX_PROBLEMS``.

    ``mask`` is True on bad rows of a frame read with a default RangeIndex; line numbers count the
    header, so row 0 is line ``header_lines + 1``."""
    bad = mask[mask.fillna(True).astype(bool)].index
    out = []
    for i in bad[:MAX_PROBLEMS]:
        if values is None:
            shown = ""
        else:
            v = values.loc[i]
            shown = " (the cell is empty)" if pd.isna(v) else f" (got {v!r})"
        out.append(f"{path}: line {int(i) + header_lines + 1}: column {column}: {rule}{shown}")
    if len(bad) > MAX_PROBLEMS:
        out.append(f"{path}: column {column}: {len(bad) - MAX_PROBLEMS} more rows break the same rule")
    return out


def parse_dates(df: pd.DataFrame, column: str, fmt: str, path: Path, problems: list[str]) -> pd.Series:
    """Parse ``column`` with ``fmt``; every unparseable or empty value is added to ``problems``."""
    raw = df[column]
    parsed = pd.to_datetime(raw, format=fmt, errors="coerce")
    problems.extend(row_problems(path, parsed.isna(), column, f"expected a date in format {fmt}", raw))
    return parsed


def parse_numbers(df: pd.DataFrame, column: str, path: Path, problems: list[str]) -> pd.Series:
    """Parse ``column`` as float; non-numeric, infinite and empty values go to ``problems``."""
    raw = df[column]
    parsed = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = ~np.isfinite(parsed)
    problems.extend(row_problems(path, bad, column, "expected a number", raw))
    return parsed


def raise_problems(problems: list[str]) -> None:
    """Raise one :class:`DataError` listing every problem found (nothing is written)."""
    if problems:
        raise DataError(problems)


# ----------------------------------------------------------------------------------------- frame helpers
def iso(dates: pd.Series) -> pd.Series:
    """Dates as ISO ``YYYY-MM-DD`` strings; missing stays missing (an empty CSV cell)."""
    return pd.to_datetime(dates).dt.strftime("%Y-%m-%d")


def contract_frame(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the contract columns of table ``name`` first, in contract order, then any extras.

    Required contract columns must be present (a missing one is a bug in the importer)."""
    table = TABLES[name]
    missing = [c for c in table.required_columns if c not in df.columns]
    if missing:
        raise ValueError(f"importer bug: table {name} lacks required column(s) {missing}")
    ordered = [c for c in table.column_names if c in df.columns]
    extras = [c for c in df.columns if c not in ordered]
    return df[ordered + extras].reset_index(drop=True)


def empty_contract_frame(name: str) -> pd.DataFrame:
    """A header-only frame with the required columns of table ``name``."""
    return pd.DataFrame({c: pd.Series([], dtype="str") for c in TABLES[name].required_columns})


def labels_frame(customer_ids: pd.Series, as_of: str, labels: pd.Series) -> pd.DataFrame:
    """The ``labels.csv`` frame: one row per customer at ``as_of`` with a 0/1 label."""
    return pd.DataFrame({
        "customer_id": customer_ids.astype("str").to_numpy(),
        "as_of": as_of,
        "label": labels.astype("int64").to_numpy(),
    })


# --------------------------------------------------------------------------------------------- writing
def data_config_yaml(cfg: DataConfig, header: str) -> str:
    """``data.yaml`` text: a comment header, then only the settings that differ from the defaults."""
    body = yaml.safe_dump(cfg.model_dump(mode="json", exclude_defaults=True), sort_keys=False,
                          allow_unicode=True, width=100)
    comment = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
    return comment + body


def prepare_out_dir(out_dir: Path, overwrite: bool) -> None:
    """Refuse to write over a ledger that ``riskml import`` did not write, unless ``overwrite``.

    A directory holding a ``customers`` table but no ``import.json`` is probably a user's own ledger."""
    if out_dir.exists() and not out_dir.is_dir():
        raise RiskmlError(f"{out_dir}: --out must be a directory; got a file")
    has_ledger = any((out_dir / f"customers{s}").exists() for s in (".csv", ".parquet"))
    if has_ledger and not (out_dir / MANIFEST).exists() and not overwrite:
        raise RiskmlError(
            f"{out_dir}: holds a ledger that riskml import did not write; choose another --out "
            "or pass --force to overwrite it"
        )


def write_converted(converted: Converted, out_dir: Path, manifest: Mapping[str, object],
                    config_header: str) -> dict[str, Path]:
    """Write the tables, labels, ``data.yaml`` and ``import.json`` into ``out_dir`` (each file atomically).

    Ledger files an earlier import left there and this one does not write are removed, so the loader
    never mixes two data sets. ``import.json`` is written first with ``complete: false`` (so that a
    failed run can be repeated into the same directory) and again last with ``complete: true``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text(json.dumps({**manifest, "complete": False}, indent=2, default=str) + "\n", out_dir / MANIFEST)
    paths: dict[str, Path] = {}
    for name, df in converted.tables.items():
        paths[name] = write_table(df, out_dir / f"{name}.csv", neutralise=False)  # input: read back verbatim
    if converted.labels is not None:
        paths["labels"] = write_table(converted.labels, out_dir / LABELS)
    paths["data_config"] = write_text(data_config_yaml(converted.data_config, config_header),
                                      out_dir / DATA_CONFIG)
    written = {p.name for p in paths.values()}
    for stale in _STALE_CANDIDATES:
        if stale not in written and (out_dir / stale).exists():
            (out_dir / stale).unlink()
    paths["manifest"] = write_text(json.dumps({**manifest, "complete": True}, indent=2, default=str) + "\n",
                                   out_dir / MANIFEST)
    return paths
