"""File input/output: one place for reading and atomically writing tables and text."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from riskml.errors import RiskmlError

TABLE_SUFFIXES = (".parquet", ".csv")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    A killed or failing run leaves either the old file or none, never a half-written one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; the output gets the usual permissions
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as Parquet or CSV (chosen by the suffix), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise RiskmlError(f"{path}: output must end in .parquet or .csv; got {suffix or 'no suffix'!r}")
    with atomic_path(path) as tmp:
        if suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False)
    return path


def write_text(text: str | bytes, path: str | Path) -> Path:
    """Write text (or bytes) atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if isinstance(text, bytes):
            tmp.write_bytes(text)
        else:
            tmp.write_text(text, encoding="utf-8")
    return path


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a Parquet or CSV table written by riskml (typed columns, no validation)."""
    path = Path(path)
    if not path.exists():
        raise RiskmlError(f"{path}: file not found")
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path)
    raise RiskmlError(f"{path}: expected a .parquet or .csv file; got {path.suffix or 'no suffix'!r}")
