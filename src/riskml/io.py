"""File input/output: one place for reading and atomically writing tables and text.

Two rules hold for every table riskml writes or reads back here:

* **ids are text**: every id column (:data:`ID_COLUMNS`) of a CSV is read as ``str`` with only the
  empty cell missing, so ``00000000123`` keeps its zeros and ``NA`` or ``nan`` stay ids;
* **CSV cells cannot run as spreadsheet formulas** (OWASP "CSV injection"): a text cell starting with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` (a cell starting with ``'``
  gets one more, so the rule can be undone exactly); a text cell that is a plain number (``-12.5``) and
  every numeric column are written as they are. :func:`read_table` undoes the prefix, so a riskml CSV
  reads back to the same values. Parquet is never changed.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from riskml.data.contract import TABLES
from riskml.errors import RiskmlError

TABLE_SUFFIXES = (".parquet", ".csv")
# every id column of the ledger contract, ``id`` (the key column of the rejects file) and ``override_ids`` (the
# overrides a scores row applied, "1; 4": ``riskml score --overrides-db``)
ID_COLUMNS: frozenset[str] = frozenset({c.name for t in TABLES.values() for c in t.columns if c.type == "id"}
                                       | {"id", "override_ids"})
# first characters that make a spreadsheet read a cell as a formula (OWASP), and the escape itself
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
# a temporary file of atomic_path whose process is gone, or (older name without a pid) this old, is stale
STALE_TMP_SECONDS = 86_400


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    A killed or failing run leaves either the old file or none, never a half-written one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; the output gets the usual permissions
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (an unknown answer counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process (or an odd number): not ours to judge
    return True


_TMP_NAME = re.compile(r"^\..+\.(?:(?P<pid>\d+)-[A-Za-z0-9_]+|[A-Za-z0-9_]{8})\.tmp$")
_SCANNED: set[str] = set()


def clean_stale_temporaries(path: str | Path, force: bool = False) -> list[Path]:
    """Remove the temporaries that killed runs of :func:`atomic_path` left in ``path``'s directory:
    ``.NAME.<pid>-XXXX.tmp`` whose process has ended, and ``.NAME.XXXXXXXX.tmp`` (the name before the pid
    was added) older than :data:`STALE_TMP_SECONDS`. A temporary of a run still going is left alone.
    Each directory is scanned once per process (``force`` scans again). Returns what was removed."""
    folder = Path(path).parent
    key = str(folder.resolve()) if folder.exists() else ""
    if not key or (key in _SCANNED and not force):
        return []
    _SCANNED.add(key)
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TMP_NAME.match(entry.name)
        if m is None:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            pid = m.group("pid")
            stale = (not pid_alive(int(pid))) if pid else now - entry.stat().st_mtime > STALE_TMP_SECONDS
            if stale:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:  # gone already, or not ours to remove
            continue
    return removed


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _text_columns(df: pd.DataFrame) -> list:
    return [c for c in df.columns
            if df[c].dtype == object or isinstance(df[c].dtype, pd.StringDtype | pd.CategoricalDtype)]


def _escape_mask(s: pd.Series, strip: bool = False) -> np.ndarray:
    """Cells of a text column that :func:`neutralise_formulas` escapes (``strip``: that it escaped)."""
    text = s.astype("str") if s.dtype != object else s.map(lambda v: v if isinstance(v, str) else None).astype("str")
    if strip:  # an escaped cell is ESCAPE + a cell that needed escaping
        esc = text.str[:1].eq(ESCAPE).fillna(False).to_numpy(bool).copy()
        if not esc.any():
            return esc
        out = np.zeros(len(s), dtype=bool)
        out[esc] = _escape_mask(text[esc].str[1:])
        return out
    first = text.str[:1]
    formula = first.isin(FORMULA_STARTS).fillna(False).to_numpy(bool).copy()
    if formula.any():
        plain = text[formula].str.fullmatch(_PLAIN_NUMBER.pattern).fillna(False).to_numpy(bool)
        formula[np.flatnonzero(formula)[plain]] = False
    return formula | first.eq(ESCAPE).fillna(False).to_numpy(bool)


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell a spreadsheet would run as a formula prefixed with ``'`` (see the module
    docstring); numeric columns and plain-number text untouched; ``df`` itself is not changed."""
    out = df
    for col in _text_columns(df):
        s = df[col]
        mask = _escape_mask(s)
        if mask.any():
            if out is df:
                out = df.copy()
            fixed = s.astype(object).to_numpy().copy()
            fixed[mask] = [ESCAPE + v for v in fixed[mask]]
            out[col] = pd.Series(fixed, index=s.index, dtype=object if s.dtype == object else "str")
    return out


def restore_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`neutralise_formulas` on the text columns of a CSV riskml wrote (in place)."""
    for col in _text_columns(df):
        s = df[col]
        mask = _escape_mask(s, strip=True)
        if mask.any():
            fixed = s.astype(object).to_numpy().copy()
            fixed[mask] = [v[1:] for v in fixed[mask]]
            df[col] = pd.Series(fixed, index=s.index, dtype=object if s.dtype == object else "str")
    return df


def write_csv(df: pd.DataFrame, path: str | Path, **kwargs) -> None:
    """Write ``df`` as CSV with formula-like text cells neutralised (not atomic: give it a temporary)."""
    neutralise_formulas(df).to_csv(path, **{"index": False, **kwargs})


def write_frame(df: pd.DataFrame, path: str | Path, suffix: str, neutralise: bool = True) -> None:
    """Write ``df`` to ``path`` as Parquet or CSV by ``suffix`` (not atomic: give it the temporary of
    :func:`atomic_path`, or use :func:`write_table`)."""
    if suffix.lower() == ".parquet":
        df.to_parquet(path, index=False)
    elif neutralise:
        write_csv(df, path)
    else:
        df.to_csv(path, index=False)


def write_table(df: pd.DataFrame, path: str | Path, neutralise: bool = True) -> Path:
    """Write ``df`` as Parquet or CSV (chosen by the suffix), atomically. CSV text cells that a
    spreadsheet would run as formulas are neutralised unless ``neutralise`` is off (ledger directories,
    which riskml reads back verbatim as input)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise RiskmlError(f"{path}: output must end in .parquet or .csv; got {suffix or 'no suffix'!r}")
    with atomic_path(path) as tmp:
        write_frame(df, tmp, suffix, neutralise)
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


def read_csv_ids_as_text(path: str | Path) -> pd.DataFrame:
    """A CSV with every id column (:data:`ID_COLUMNS`) as ``str`` (only an empty cell is missing), the
    other columns typed by pandas as usual, and riskml's formula escape undone."""
    from pandas._libs.parsers import STR_NA_VALUES

    header = pd.read_csv(path, nrows=0).columns
    ids = [c for c in header if c in ID_COLUMNS]
    default_na = sorted(STR_NA_VALUES)
    df = pd.read_csv(path, dtype={c: "str" for c in ids}, keep_default_na=False,
                     na_values={c: ([""] if c in ids else default_na) for c in header})
    return restore_formulas(df)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a Parquet or CSV table written by riskml (typed columns, ids as text, no validation)."""
    path = Path(path)
    if not path.exists():
        raise RiskmlError(f"{path}: file not found")
    if path.suffix.lower() == ".parquet":
        df = pd.read_parquet(path)
        for c in df.columns:  # ids written as numbers by another tool are still ids
            if c in ID_COLUMNS and df[c].dtype.kind in "iuf":
                df[c] = df[c].astype("str").where(df[c].notna())
        return df
    if path.suffix.lower() == ".csv":
        try:
            return read_csv_ids_as_text(path)
        except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise RiskmlError(f"{path}: cannot be read as CSV ({str(exc).splitlines()[0][:200]})") from None
    raise RiskmlError(f"{path}: expected a .parquet or .csv file; got {path.suffix or 'no suffix'!r}")


# names in a ledger directory that riskml reads (besides the tables): never an output
LEDGER_SIDE_FILES = frozenset({"data.yaml", "labels.csv", "labels.parquet", "import.json"})


def _is_ledger_file(name: str) -> bool:
    stem, dot, suffix = name.rpartition(".")
    return name.lower() in LEDGER_SIDE_FILES or (bool(dot) and stem in TABLES and f".{suffix.lower()}" in TABLE_SUFFIXES)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):
        return False


def guard_output(path: str | Path, option: str, inputs: dict[str, str | Path | None] | None = None,
                 data_dirs: tuple[str | Path | None, ...] = (), writes: tuple[str, ...] = ()) -> Path:
    """Refuse an output that would overwrite an input, before any work is done.

    ``path`` (given with ``option``) must not be one of ``inputs`` (option -> path, files or
    directories), and must not name a table of a ledger directory in ``data_dirs`` (``customers.csv``,
    ``invoices.parquet``, ... whatever suffix the table has there, and ``data.yaml``/``labels.csv``).
    For an output directory, ``writes`` lists the names it will write inside; each is checked the same
    way. Returns ``path``; raises :class:`RiskmlError` naming both options otherwise."""
    path = Path(path)
    given = {k: Path(v) for k, v in (inputs or {}).items() if v is not None and str(v) != ""}
    dirs = [Path(d) for d in data_dirs if d is not None and str(d) != ""]
    targets = [(path, str(path))] + [(path / w, str(path / w)) for w in writes]
    for target, shown in targets:
        for opt, inp in given.items():
            if _same(target, inp):
                what = "is" if target is path else f"would write {shown}, which is"
                raise RiskmlError(f"{option} {path}: {what} the input given with {opt}; choose another output path")
        for d in dirs:
            if _same(target.parent, d) and _is_ledger_file(target.name):
                raise RiskmlError(f"{option} {path}: would overwrite {target.name} of the ledger directory {d}; "
                                  "write outputs outside the data directory or under another name")
    return path
