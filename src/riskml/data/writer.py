"""Write a :class:`~riskml.data.ledger.Ledger` as a ledger directory: one file per non-empty table.

Used by ``riskml synth`` and by the importers, so that every ledger directory riskml writes has the
same layout: ``<table>.csv`` or ``<table>.parquet`` with the contract's column names, each written
atomically (a failed run leaves the previous file or none, never a half-written one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from riskml.data.contract import TABLES
from riskml.data.ledger import Ledger
from riskml.errors import ConfigError
from riskml.io import write_table

LedgerFormat = Literal["csv", "parquet"]
FORMATS: tuple[str, ...] = ("csv", "parquet")


def check_format(fmt: str) -> LedgerFormat:
    """``fmt`` if it is a format a ledger directory can be written in, else a :class:`ConfigError`."""
    if fmt not in FORMATS:
        raise ConfigError(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    return fmt  # type: ignore[return-value]


def write_ledger(ledger: Ledger, out_dir: str | Path, fmt: LedgerFormat = "csv") -> dict[str, Path]:
    """Write each non-empty table of ``ledger`` to ``out_dir/<table>.<fmt>``; return {table: path}.

    Columns are written in contract order, followed by any other columns the frame carries (e.g.
    declared extra customer attributes). A file of the same table in the other format, or of a
    table that is empty this time, is removed afterwards: a directory holding both
    ``customers.csv`` and ``customers.parquet``, or a stale ``orders.csv`` from an earlier run, would
    be ambiguous to the loader. Other files in ``out_dir`` are left alone.
    """
    fmt = check_format(fmt)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: output must be a directory; a file of that name exists")
    written: dict[str, Path] = {}
    for name, df in ledger.tables().items():
        if df.empty:
            continue
        contract_cols = [c for c in TABLES[name].column_names if c in df.columns]
        extra_cols = [c for c in df.columns if c not in contract_cols]
        # a ledger directory is riskml's input: written verbatim (no formula escape), read back as it was
        written[name] = write_table(df[contract_cols + extra_cols], out / f"{name}.{fmt}", neutralise=False)
    for name in TABLES:
        for other in FORMATS:
            stale = out / f"{name}.{other}"
            if stale.exists() and written.get(name) != stale:
                stale.unlink()
    return written
