"""Read and validate a ledger directory: every input row is either accepted or listed in the rejects.

``load_ledger(data_dir, config)`` finds one file per table (``NAME.csv`` or ``NAME.parquet``), maps the
user's column names to ours (:func:`riskml.data.rules.resolve_columns`), parses every cell (reporting the
ones it cannot parse), checks each typed table against its pandera schema (:mod:`riskml.data.schemas`,
compiled from the rule table of :mod:`riskml.data.rules`; ``lazy=True``: every failure at once), then
applies the cross-table rules in dependency order (customers, invoices, then payments, adjustments and
orders against the rows accepted so far). It returns the typed :class:`~riskml.data.ledger.Ledger` of
the accepted rows and a :class:`ValidationReport`.

Two kinds of problem:

* a **row** problem rejects that row, never the file: it is listed in ``report.rejects`` with its table,
  file, line, key, column, rule and value. For every table ``accepted + rejected = read``, and every
  rejected row has at least one line in the rejects.
* a **fatal** problem makes the ledger unusable (a missing file or required column, an unreadable file,
  several currencies without a base currency, a required table left without a usable row):
  :class:`~riskml.errors.DataError` with one line per problem. When the rows were read but none of a
  required table survived, the error is a :class:`LedgerUnusable` that carries the report, so that
  the rejects can still be written.

Line numbers are those of the CSV file, the header being line 1; a row whose quoted values hold line
breaks is numbered by its first line. Blank lines are not rows (a warning lists them). For Parquet the
line is the 1-based row.

Everything is vectorised (pyarrow compute and numpy); ids are matched across tables by hashing them
once per reference and comparing integer positions afterwards.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskml.config import DataConfig, load_config
from riskml.data.contract import EVENT_DATE, TABLES, Column
from riskml.data.keys import arrow_strings, positions
from riskml.data.ledger import Ledger
from riskml.data.mapping import apply_values, date_hint, split_flat
from riskml.data.rules import (
    DATE_MAX,
    DATE_MIN,
    FALSE_WORDS,
    PARSE_RULE,
    RULES,
    TABLE_ORDER,
    TRUE_WORDS,
    base_and_rates,
    data_as_of,
    ledger_verdict,
    overpaid,
    overpayment_cap,
    resolve_columns,
    rule_params,
    several_currencies,
    unusable_tables,
    why_text,
)
from riskml.data.schemas import schema_failures
from riskml.errors import DataError

REJECT_COLUMNS = ["table", "file", "line", "id", "customer_id", "column", "rule", "value", "message"]
# the header must end within this many bytes
_HEADER_BYTES = 1 << 20
_TYPED_DTYPES = {"id": "str", "string": "str", "number": "float64", "integer": "float64",
                 "date": "datetime64[ns]", "bool": "boolean"}


# ------------------------------------------------------------------------------------------ the report
@dataclass
class ValidationReport:
    """What validation found. ``summary``: rows read / accepted / rejected per table; ``rule_counts``:
    rows per (table, rule); ``rejects``: one row per failing (row, column, rule) with the columns
    :data:`REJECT_COLUMNS`; ``warnings``: problems that do not stop the ledger from being used."""

    summary: pd.DataFrame
    rule_counts: pd.DataFrame
    rejects: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def n_read(self) -> int:
        return int(self.summary["read"].sum()) if len(self.summary) else 0

    @property
    def n_rejected(self) -> int:
        return int(self.summary["rejected"].sum()) if len(self.summary) else 0


class LedgerUnusable(DataError):
    """Validation ran to the end but a required table has no usable row; ``report`` says why."""

    def __init__(self, problems: list[str] | str, report: ValidationReport):
        super().__init__(problems)
        self.report = report


def resolve_data_config(data_dir: str | Path, path: str | Path | None = None) -> DataConfig:
    """The data config for ``data_dir``: ``path`` if given, else ``data_dir/data.yaml`` when present
    (an export can carry its own mapping), else ``configs/data.yaml``, else the defaults."""
    if path is not None:
        return load_config("data", path)
    own = Path(data_dir) / "data.yaml"
    if own.exists():
        return load_config("data", own)
    return load_config("data")


# --------------------------------------------------------------------------------------------- reading
def _no_lines() -> pd.DataFrame:
    return pd.DataFrame({"line": pd.Series([], dtype="int64"), "value": pd.Series([], dtype="str")})


@dataclass
class _Raw:
    """One table as read: cells as text (CSV) or native Parquet values, with their line numbers.

    ``columns`` are all the columns of the file (a Parquet file is read only for the columns the
    contract and the config can use); ``blank_lines`` the CSV lines skipped as blank."""

    name: str
    path: Path
    frame: pd.DataFrame
    line: np.ndarray
    malformed: pd.DataFrame = field(default_factory=_no_lines)  # line, value (raw text of bad lines)
    columns: list[str] | None = None
    blank_lines: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    multiline_lines: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    notes: list[str] = field(default_factory=list)  # how the table was read (from a flat file, ...)

    def __post_init__(self) -> None:
        if self.columns is None:
            self.columns = [str(c) for c in self.frame.columns]

    @property
    def read(self) -> int:
        return len(self.frame) + len(self.malformed)


def _find_files(data_dir: Path, flat: set[str] | frozenset[str] = frozenset()) -> tuple[dict[str, Path], list[str]]:
    """The file of each table (``flat``: the tables read from the data config's flat file instead)."""
    found: dict[str, Path] = {}
    problems: list[str] = []
    for name, spec in TABLES.items():
        paths = [p for p in (data_dir / f"{name}.csv", data_dir / f"{name}.parquet") if p.is_file()]
        if name in flat:
            if paths:
                problems.append(f"{data_dir}: table {name} is read from the flat file of the data config "
                                f"(flat_file.tables) and {paths[0].name} exists too; keep one")
            continue
        if len(paths) > 1:
            problems.append(f"{data_dir}: both {name}.csv and {name}.parquet exist; keep one")
        elif paths:
            found[name] = paths[0]
        elif spec.required:
            problems.append(f"{data_dir}: required table {name} is missing (expected {name}.csv or {name}.parquet)")
    return found, problems


def _is_utf8(encoding: str) -> bool:
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8")


def _ascii_compatible(encoding: str) -> bool:
    return not encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32", "utf16", "utf32"))


def _csv_header(path: Path, cfg: DataConfig) -> list[str]:
    encoding = "utf-8-sig" if _is_utf8(cfg.encoding) else cfg.encoding
    try:
        if _ascii_compatible(encoding):  # decode the first line only, so a bad byte later is not blamed on it
            with open(path, "rb") as fb:
                chunk = fb.read(_HEADER_BYTES)
            # the header ends at the first line break: LF, CRLF or a lone CR (old Mac exports)
            ends = [i for i in (chunk.find(b"\n"), chunk.find(b"\r")) if i >= 0]
            first = chunk[:min(ends)].decode(encoding) if ends else chunk.decode(encoding)
        else:
            with open(path, encoding=encoding, newline="") as fh:  # newline="": a lone CR ends a line too
                first = fh.readline()
    except LookupError:
        raise DataError(f"{path}: encoding {cfg.encoding!r} in the data config is not a known text encoding "
                        "(e.g. utf-8, cp1252, latin-1)") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: line 1 is not valid {cfg.encoding} text ({exc.reason}); set encoding in the "
                        "data config (e.g. cp1252 for many Windows exports)") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not first.strip():
        raise DataError(f"{path}: the file is empty or its first line (the header) is blank")
    try:
        return next(csv.reader(io.StringIO(first.rstrip("\r\n"), newline=""), delimiter=cfg.delimiter))
    except csv.Error as exc:
        raise DataError(f"{path}: line 1 (the header) cannot be read as CSV ({exc})") from None


def _first_undecodable_line(path: Path, encoding: str) -> int | None:
    """The first physical line that is not valid ``encoding`` text (only called once reading failed)."""
    if not _ascii_compatible(encoding):
        return None
    try:
        with open(path, "rb") as fb:
            for number, raw in enumerate(fb, start=1):
                try:
                    raw.decode(encoding)
                except UnicodeDecodeError:
                    return number
    except (OSError, LookupError):
        return None
    return None


def _check_header(path: Path, header: list[str]) -> None:
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise DataError(f"{path}: line 1: column names appear more than once: {dupes}")


def _read_csv(path: Path, cfg: DataConfig) -> _Raw:
    import pyarrow.csv as pacsv

    # an empty header cell (a trailing delimiter, say) names a column nobody can map: give it a name
    header = [h.strip() or f"<unnamed {i}>" for i, h in enumerate(_csv_header(path, cfg), start=1)]
    _check_header(path, header)

    def read(threads: bool) -> tuple[pa.Table, list[tuple[int | None, str]]]:
        bad: list[tuple[int | None, str]] = []

        def handler(row: pacsv.InvalidRow) -> str:
            bad.append((row.number, row.text))
            return "skip"

        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=threads, encoding=cfg.encoding, skip_rows=1,
                                           column_names=header),
            # blank lines stay rows (of empty fields), so that every row keeps its number
            parse_options=pacsv.ParseOptions(delimiter=cfg.delimiter, invalid_row_handler=handler,
                                             newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        return table, bad

    try:
        table, bad = read(threads=True)
        if any(n is None for n, _ in bad):
            table, bad = read(threads=False)  # the numbers of skipped rows are known single-threaded
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        bad_line = _first_undecodable_line(path, "utf-8-sig" if _is_utf8(cfg.encoding) else cfg.encoding)
        if bad_line is not None:
            raise DataError(f"{path}: line {bad_line} is not valid {cfg.encoding} text; set encoding in the data "
                            "config (e.g. cp1252 for many Windows exports)") from None
        raise DataError(f"{path}: cannot be read as CSV with encoding {cfg.encoding!r} and delimiter "
                        f"{cfg.delimiter!r} ({exc})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None

    # pyarrow numbers rows (records), the header being 1; a quoted value may hold line breaks, so the
    # line of a row is 2 + the lines taken by the rows before it
    n_good, n_rec = table.num_rows, table.num_rows + len(bad)
    bad_rec = np.array([n for n, _ in bad], dtype=np.int64) - 2
    if len(bad_rec) and (bad_rec.min() < 0 or bad_rec.max() >= n_rec):
        raise RuntimeError(f"{path}: pyarrow reported invalid row numbers {bad_rec[:5] + 2}")  # a bug, not data
    is_good = np.ones(n_rec, dtype=bool)
    is_good[bad_rec] = False
    spans = np.ones(n_rec, dtype=np.int64)
    embedded = np.zeros(n_good, dtype=np.int64)
    blank = np.ones(n_good, dtype=bool)
    for col in table.columns:
        embedded += pc.count_substring(col, "\n").to_numpy(zero_copy_only=False).astype(np.int64)
        blank &= pc.equal(pc.utf8_trim_whitespace(col), "").to_numpy(zero_copy_only=False)
    spans[is_good] += embedded
    spans[bad_rec] += np.array([t.count("\n") for _, t in bad], dtype=np.int64)
    start = 2 + np.concatenate([[0], np.cumsum(spans)[:-1]]).astype(np.int64)
    lines, bad_lines = start[is_good], start[bad_rec]

    # a blank line (nothing but delimiters and spaces) holds no row: not read, not a reject, but listed
    bad_text = [t for _, t in bad]
    bad_blank = np.array([not t.strip() for t in bad_text], dtype=bool)
    blank_lines = np.sort(np.concatenate([lines[blank], bad_lines[bad_blank]]))
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    if blank.any():
        frame, lines = frame.loc[~blank].reset_index(drop=True), lines[~blank]
    malformed = pd.DataFrame({"line": bad_lines[~bad_blank],
                              "value": pd.Series([t for t, b in zip(bad_text, bad_blank, strict=True) if not b],
                                                 dtype="str")})
    raw = _Raw("", path, frame, lines, malformed.sort_values("line", kind="stable").reset_index(drop=True),
               list(header), blank_lines)
    multiline = lines[embedded[~blank] > 0] if blank.any() else lines[embedded > 0]
    raw.multiline_lines = multiline
    return raw


def _wanted_columns(name: str, cfg: DataConfig) -> set[str]:
    """Every column name of table ``name`` that the contract or the config can use (ours and theirs)."""
    mapping = cfg.column_map.get(name, {})
    ours = set(TABLES[name].column_names) | (set(cfg.extra_attributes) if name == "customers" else set())
    return ours | {mapping[c] for c in ours if c in mapping}


def _read_parquet(path: Path, wanted: set[str]) -> _Raw:
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
        _check_header(path, [str(c).strip() for c in names])
        keep = [c for c in names if str(c).strip() in wanted]
        table = pq.read_table(path, columns=keep)
        # decimals as floats: the object column of Decimals pandas would make is slow to parse
        for i, f in enumerate(table.schema):
            if pa.types.is_decimal(f.type):
                table = table.set_column(i, f.name, pc.cast(table.column(i), pa.float64()))
        # ignore_metadata: a column saved as the pandas index stays a column
        frame = table.to_pandas(ignore_metadata=True, date_as_object=False, split_blocks=True, self_destruct=True)
        del table
    except DataError:
        raise
    except Exception as exc:  # pyarrow raises several types for a corrupt or foreign file
        raise DataError(f"{path}: cannot be read as Parquet ({type(exc).__name__}: {exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return _Raw("", path, frame, np.arange(1, len(frame) + 1, dtype=np.int64), _no_lines(),
                [str(c).strip() for c in names])


def _read_flat(data_dir: Path, cfg: DataConfig) -> dict[str, _Raw]:
    """The tables of the data config's flat file (see :mod:`riskml.data.mapping`), each with the
    file's line numbers; lines that could not be read count once, in the first table."""
    assert cfg.flat_file is not None
    path = data_dir / cfg.flat_file.file
    if not path.is_file():
        raise DataError(f"{path}: the flat file named in the data config (flat_file.file) is not there")
    if path.suffix.lower() == ".parquet":
        wanted = set().union(*(_wanted_columns(n, cfg) for n in cfg.flat_file.tables))
        wanted |= {v for n in cfg.flat_file.tables for v in cfg.column_map.get(n, {}).values()}
        raw = _read_parquet(path, wanted)
    elif path.suffix.lower() == ".csv":
        raw = _read_csv(path, cfg)
    else:
        raise DataError(f"{path}: the flat file must be .csv or .parquet")
    out = {}
    parts = split_flat(raw.frame, raw.line, cfg.flat_file.tables, cfg.column_map)
    for i, (name, (frame, lines, note)) in enumerate(parts.items()):
        out[name] = _Raw(name, path, frame, lines, raw.malformed if i == 0 else _no_lines(), list(raw.columns or []),
                         raw.blank_lines if i == 0 else np.zeros(0, dtype=np.int64),
                         raw.multiline_lines if i == 0 else np.zeros(0, dtype=np.int64),
                         [f"{path}: {note}"] if note else [])
    return out


def _read_table(name: str, path: Path, cfg: DataConfig) -> _Raw:
    raw = _read_csv(path, cfg) if path.suffix == ".csv" else _read_parquet(path, _wanted_columns(name, cfg))
    raw.name = name
    return raw


# ------------------------------------------------------------------------------------------- parsing
def _clean_str(s: pd.Series) -> pd.Series:
    """A ``str`` Series stripped, blanks as missing; the original data when nothing changes."""
    arr = arrow_strings(s)
    trimmed = pc.utf8_trim_whitespace(arr)
    if pc.all(pc.equal(pc.binary_length(trimmed), pc.binary_length(arr))).as_py() is not False:
        trimmed = arr
    empty = pc.equal(pc.binary_length(trimmed), 0)
    if pc.any(empty).as_py():
        trimmed = pc.if_else(empty, pa.scalar(None, trimmed.type), trimmed)
    return pd.Series(pd.array(trimmed, dtype="str"), index=s.index)


def _as_text(s: pd.Series) -> pd.Series:
    """Cells as stripped ``str`` text, missing where blank (numbers in Parquet id columns become text,
    whole floats without their ``.0``)."""
    if pd.api.types.is_float_dtype(s):
        v = s.to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(v) & (np.abs(v) < 2.0**53)  # exactly representable whole numbers
        whole = finite & (np.mod(v, 1, where=finite, out=np.ones_like(v)) == 0)
        text = s.astype("str")
        if whole.any():
            text = text.where(~whole, pd.Series(np.where(whole, v, 0).astype("int64"), index=s.index).astype("str"))
        return text.where(s.notna())
    if isinstance(s.dtype, pd.StringDtype):
        return _clean_str(s)
    return _clean_str(s.astype("str"))


def _parse_number(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(float64 values, cells that hold something other than a finite number); a clean float64
    column is passed through without a copy."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        v = s.to_numpy(dtype="float64", na_value=np.nan)
        present = s.notna().to_numpy()
    else:
        text = _as_text(s)
        present = text.notna().to_numpy()
        try:  # fast path for clean data: Arrow's parser; anything it refuses goes through pandas
            v = pc.cast(arrow_strings(text), pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            v = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    if np.isinf(v).any():
        v = np.where(np.isfinite(v), v, np.nan)
    return pd.Series(v, index=s.index, copy=False), pd.Series(present & np.isnan(v), index=s.index)


# ISO 8601 dates with an optional time and UTC offset (the date written is kept; no reduced precision)
_ISO = (r"^(?:(?P<dashed>\d{4}-\d{1,2}-\d{1,2})|(?P<basic>\d{8}))"
        r"(?:[T ](?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?(?:\s?(?:Z|[+-]\d\d(?::?\d\d)?))?)?$")


def _parse_date(s: pd.Series, fmt: str | None) -> tuple[pd.Series, pd.Series]:
    """(datetime64[ns] dates at midnight, cells present but not a date in 1900-2199).

    Text: ``fmt`` when declared, else ISO 8601 (``YYYY-MM-DD``, also with a time; a UTC offset is
    dropped, so the date is the one written). Native datetimes keep their wall-clock date; a clean
    ``datetime64[ns]`` column of midnights is passed through without a copy."""
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        present = s.notna()
    else:
        text = _as_text(s)
        present = text.notna()
        try:
            out = pd.to_datetime(text, format=fmt or "%Y-%m-%d", errors="coerce")
        except ValueError as exc:  # a bad directive in the declared format, mixed UTC offsets with %z
            raise DataError(f"dates cannot be parsed with date_format {fmt!r} from the data config ({exc}); "
                            "a format looks like '%d.%m.%Y'") from None
        if out.dt.tz is not None:  # a format with %z: keep the date written
            out = out.dt.tz_localize(None)
        retry = out.isna() & present
        if fmt is None and retry.any():  # ISO 8601 with a time (and offset), or the basic YYYYMMDD
            parts = text[retry].str.extract(_ISO)
            again = pd.to_datetime(parts["dashed"], format="%Y-%m-%d", errors="coerce").fillna(
                pd.to_datetime(parts["basic"], format="%Y%m%d", errors="coerce"))
            out = out.astype("datetime64[us]")
            out.loc[retry] = again.astype("datetime64[us]")
    lo, hi = out.min(), out.max()
    if not (pd.isna(lo) or (lo >= DATE_MIN and hi <= DATE_MAX)):
        out = out.where((out >= DATE_MIN) & (out <= DATE_MAX))
    out = out.astype("datetime64[ns]")
    ns = out.to_numpy().view(np.int64)
    if (ns[out.notna().to_numpy()] % 86_400_000_000_000).any():
        out = out.dt.normalize()
    out.index = s.index
    return out, present & out.isna()


def _parse_bool(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(s):
        out = s.astype("boolean")
        return out, pd.Series(False, index=s.index)
    text = _as_text(s)
    low = text.str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[low.isin(TRUE_WORDS).fillna(False).to_numpy(bool)] = True
    out[low.isin(FALSE_WORDS).fillna(False).to_numpy(bool)] = False
    return out, text.notna() & out.isna()


def _typed_column(col: Column, raw: pd.Series, fmt: str | None) -> tuple[pd.Series, pd.Series]:
    """(typed values, mask of cells present but not parseable) of one contract column."""
    if col.type in ("id", "string"):
        typed = _as_text(raw)
        if col.name == "currency":  # ISO 4217 codes: " eur" and "EUR" are one currency
            arr = arrow_strings(typed)
            upper = pc.utf8_upper(arr)
            if pc.all(pc.equal(upper, arr)).as_py() is False:  # some codes are not upper case
                typed = pd.Series(pd.array(upper, dtype="str"), index=typed.index)
        return typed, pd.Series(False, index=raw.index)
    if col.type in ("number", "integer"):
        return _parse_number(raw)
    if col.type == "date":
        return _parse_date(raw, fmt)
    return _parse_bool(raw)


def _empty_like(col: Column, n: int) -> pd.Series:
    dtype = _TYPED_DTYPES[col.type]
    if dtype in ("str", "boolean"):
        return pd.Series(pd.array([None] * n, dtype=dtype))
    return pd.Series(np.full(n, np.nan if dtype == "float64" else np.datetime64("NaT"), dtype=dtype))


# ----------------------------------------------------------------------------------------- validation
class _Table:
    """One table during validation: typed columns, line numbers and the failures found so far."""

    def __init__(self, raw: _Raw, typed: pd.DataFrame, text: dict[str, pd.Series]):
        self.raw, self.typed, self.text = raw, typed, text
        self.name = raw.name
        self.failures: list[pd.DataFrame] = []  # pos, column, rule
        self.bad = np.zeros(len(typed), dtype=bool)
        self.unparsed: dict[str, np.ndarray] = {}  # column -> cells reported as unparseable
        self.cust_pos: np.ndarray | None = None  # row of each row's customer in the customer master
        self.hints: list[str] = []  # how to fix what was rejected (a date format to declare, ...)

    def fail(self, mask: np.ndarray | pd.Series, column: str, rule: str) -> None:
        pos = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(pos):
            self.failures.append(pd.DataFrame({"pos": pos, "column": column, "rule": rule}))
            self.bad[pos] = True

    def add(self, found: pd.DataFrame) -> None:
        """Failures as ``pos, column, rule`` rows (from the schema)."""
        if len(found):
            self.failures.append(found)
            self.bad[found["pos"].to_numpy(dtype=np.int64)] = True

    def failed(self) -> pd.DataFrame:
        if not self.failures:
            return pd.DataFrame({"pos": pd.Series([], dtype="int64"), "column": pd.Series([], dtype="str"),
                                 "rule": pd.Series([], dtype="str")})
        return pd.concat(self.failures, ignore_index=True)

    def ok(self) -> np.ndarray:
        """Rows with no failure so far."""
        return ~self.bad


def _conform(raw: _Raw, cfg: DataConfig) -> tuple[_Table | None, list[str], list[str]]:
    """Map column names, check required columns, parse every cell; (table, fatal problems, warnings)."""
    spec = TABLES[raw.name]
    constants, defaults = cfg.constants.get(raw.name, {}), cfg.defaults.get(raw.name, {})
    extras = dict(cfg.extra_attributes) if raw.name == "customers" else {}
    also_used = set()
    if cfg.flat_file is not None and raw.name in cfg.flat_file.tables:  # columns the other tables read
        also_used = {v for t in cfg.flat_file.tables for v in cfg.column_map.get(t, {}).values()}
    found = resolve_columns(list(raw.columns or raw.frame.columns), cfg.column_map.get(raw.name, {}),
                            table=raw.name, where=str(raw.path), extras=extras, provided=[*constants, *defaults],
                            also_used=also_used, delimiter=cfg.delimiter if raw.path.suffix == ".csv" else None)
    if found.problems:
        return None, found.problems, found.warnings
    frame = raw.frame[list(found.source.values())].set_axis(list(found.source), axis=1)
    frame = apply_values(frame, constants, defaults)

    fmt = cfg.date_format.get(raw.name) or cfg.date_format.get("*")
    n = len(frame)
    typed_cols: dict[str, pd.Series] = {}
    text_cols: dict[str, pd.Series] = {}
    table = _Table(raw, pd.DataFrame(index=pd.RangeIndex(n)), {})
    undated: dict[str, pd.Series] = {}  # date columns' cells that did not parse
    for col in spec.columns:
        if col.name not in frame.columns:
            typed_cols[col.name] = _empty_like(col, n)
            continue
        src = frame[col.name].reset_index(drop=True)
        typed, bad = _typed_column(col, src, fmt)
        typed_cols[col.name] = typed
        text_cols[col.name] = src
        if bad.any():
            table.fail(bad, col.name, PARSE_RULE[col.type])
            table.unparsed[col.name] = bad.to_numpy(bool)
            if col.type == "date":
                undated[col.name] = src[bad.to_numpy(bool)]
    if undated and (hint := date_hint(undated, raw.name, fmt)):
        table.hints.append(hint)
    for name, attr in extras.items():
        if name in typed_cols:
            continue
        src = frame[name].reset_index(drop=True)
        text_cols[name] = src
        if attr.kind == "numeric":
            typed, bad = _parse_number(src)
            if bad.any():
                table.fail(bad, name, "not_a_number")
                table.unparsed[name] = bad.to_numpy(bool)
        else:
            typed = _as_text(src)
        typed_cols[name] = typed
    table.typed = _frame_of(typed_cols, n)
    table.text = text_cols
    return table, [], found.warnings


def _filter(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The rows ``keep`` of ``frame`` (a new RangeIndex); Arrow strings are filtered by Arrow, which is
    several times faster than pandas' boolean indexing on them."""
    mask = pa.array(keep)
    cols = {}
    for name in frame.columns:
        s = frame[name]
        if isinstance(s.dtype, pd.StringDtype) and hasattr(s.array, "__arrow_array__"):
            cols[name] = pd.Series(pd.array(pc.filter(arrow_strings(s), mask), dtype=s.dtype))
        else:
            cols[name] = pd.Series(s.to_numpy()[keep] if s.dtype.kind in "fiubM" else s.array[keep], copy=False)
    return _frame_of(cols, int(keep.sum()))


def _frame_of(cols: dict[str, pd.Series], n: int) -> pd.DataFrame:
    """A frame of these columns without copying them into 2-D blocks (the DataFrame constructor would)."""
    if not cols:
        return pd.DataFrame(index=pd.RangeIndex(n))
    return pd.concat([s.rename(name) for name, s in cols.items()], axis=1)


def _schema_checks(table: _Table, cfg: DataConfig, params: dict) -> None:
    extras = tuple((k, v.kind) for k, v in cfg.extra_attributes.items()) if table.name == "customers" else ()
    found = schema_failures(table.name, table.typed, extras, tuple(sorted(params.items())))
    if not len(found):
        return
    # an unparseable cell is already reported by its parse rule; pandera sees it as empty
    if table.unparsed:
        dup = np.zeros(len(found), dtype=bool)
        is_missing = found["rule"].eq("missing_value").to_numpy()
        pos = found["pos"].to_numpy(dtype=np.int64)
        cols = found["column"].to_numpy()
        for col, mask in table.unparsed.items():
            sel = is_missing & (cols == col)
            dup[sel] = mask[pos[sel]]
        found = found.loc[~dup]
    table.add(found)


def _currencies(tables: dict[str, _Table], cfg: DataConfig) -> tuple[str | None, dict[str, float], list[str]]:
    """(base currency, fx rates keyed by upper-case code, fatal problems)."""
    seen: set[str] = set()
    for t in tables.values():
        if "currency" in t.typed:
            seen |= {c for c in pc.unique(arrow_strings(t.typed["currency"])).to_pylist() if c is not None}
    base, rates = base_and_rates(cfg)
    if base is None and len(seen) > 1:
        return None, {}, [several_currencies(seen)]
    if base is None:
        return (next(iter(seen)) if seen else None), {}, []
    return base, rates, []


def _at(values: np.ndarray, pos: np.ndarray, fill) -> np.ndarray:
    """``values[pos]``, with ``fill`` where ``pos`` is -1 (also when ``values`` is empty)."""
    return np.append(values, np.array([fill], dtype=values.dtype))[pos]


def _reference_customers(table: _Table, customers: _Table) -> None:
    """Rows whose customer is not in the master, or whose master row was rejected."""
    pos = positions(table.typed["customer_id"], customers.typed["customer_id"])
    table.cust_pos = pos
    present = table.typed["customer_id"].notna().to_numpy()
    known = pos >= 0
    table.fail(present & ~known, "customer_id", "unknown_customer")
    table.fail(known & _at(customers.bad, pos, False), "customer_id", "customer_rejected")


def _reference_invoices(table: _Table, invoices: _Table, date_col: str, pos: np.ndarray) -> None:
    """Reference rules of a payments or adjustments table whose rows point to invoice rows ``pos``."""
    present = table.typed["invoice_id"].notna().to_numpy()
    known = pos >= 0
    inv_ok = _at(invoices.ok(), pos, False)
    table.fail(present & ~known, "invoice_id", "unknown_invoice")
    table.fail(known & ~inv_ok, "invoice_id", "invoice_rejected")
    # an accepted invoice's customer is an accepted customer, so its cust_pos is >= 0
    own_cust = table.cust_pos if table.cust_pos is not None else np.full(len(pos), -1)
    cust_present = table.typed["customer_id"].notna().to_numpy()
    table.fail(inv_ok & cust_present & (_at(invoices.cust_pos, pos, -1) != own_cust), "customer_id",
               "customer_mismatch")
    day = table.typed[date_col].to_numpy()
    inv_day = _at(invoices.typed["invoice_date"].to_numpy(), pos, np.datetime64("NaT"))
    table.fail(inv_ok & (day < inv_day), date_col, "payment_before_invoice")


def _rate(frame: pd.DataFrame, rates: dict[str, float], base: str | None) -> np.ndarray | None:
    """Units of base currency per unit of each row's currency (1 without a currency or in the base);
    None when no row needs converting."""
    if not rates or "currency" not in frame or base is None or not len(frame):
        return None
    codes, uniques = pd.factorize(frame["currency"])
    per = np.array([1.0 if c == base else rates.get(c, 1.0) for c in uniques] + [1.0])
    if (per == 1.0).all():
        return None
    return per[codes]  # code -1 (missing) takes the trailing 1.0


def _in_base(frame: pd.DataFrame, rates: dict[str, float], base: str | None) -> np.ndarray:
    amount = frame["amount"].to_numpy()
    rate = _rate(frame, rates, base)
    return amount if rate is None else amount * rate


def _overpayments(settlers: list[tuple[_Table, str, np.ndarray]], invoices: _Table, cfg: DataConfig,
                  rates: dict[str, float], base: str | None) -> None:
    """Reject the payments and adjustments that take the amount applied to an accepted invoice above its
    cap (:func:`riskml.data.rules.overpaid`)."""
    cap = overpayment_cap(_in_base(invoices.typed, rates, base), cfg)
    inv_ok = invoices.ok()
    parts = []
    for src, (t, date_col, inv_pos) in enumerate(settlers):
        ok = t.ok() & (inv_pos >= 0)
        ok[ok] = inv_ok[inv_pos[ok]]
        rows = np.flatnonzero(ok)
        day = t.typed[date_col].to_numpy()[rows].astype("datetime64[ns]").astype(np.int64)
        parts.append((t, rows, inv_pos[rows], day, np.full(len(rows), src), _in_base(t.typed, rates, base)[rows]))
    if not parts:
        return
    ipos, day, src, rows, amount = (np.concatenate([p[k] for p in parts]) for k in (2, 3, 4, 1, 5))
    rejected = overpaid(ipos, day, src, rows, amount, cap[ipos])
    for k, (t, *_) in enumerate(parts):
        mask = np.zeros(len(t.typed), dtype=bool)
        mask[rows[rejected & (src == k)].astype(np.int64)] = True
        t.fail(mask, "amount", "overpayment")


def _cell_text(src: pd.Series, pos: np.ndarray) -> np.ndarray:
    """The cells at ``pos`` as text as read (missing stays missing)."""
    vals = src.iloc[pos]
    text = vals.astype("str").to_numpy(dtype=object)
    text[vals.isna().to_numpy()] = None
    return text


def _reject_frame(table: _Table) -> pd.DataFrame:
    f = table.failed().drop_duplicates().sort_values(["pos", "column"], kind="stable").reset_index(drop=True)
    pos = f["pos"].to_numpy(dtype=np.int64)
    cols = f["column"].to_numpy()
    values = np.full(len(f), None, dtype=object)
    for col in pd.unique(cols):
        sel = np.flatnonzero(cols == col)
        if col in table.text:
            values[sel] = _cell_text(table.text[col], pos[sel])
    key = TABLES[table.name].key
    return pd.DataFrame({
        "table": table.name,
        "file": table.raw.path.name,
        "line": table.raw.line[pos],
        "id": table.typed[key].iloc[pos].to_numpy(),
        "customer_id": (table.typed["customer_id"].iloc[pos].to_numpy() if "customer_id" in table.typed
                        else np.full(len(pos), None)),
        "column": cols,
        "rule": f["rule"].to_numpy(),
        "value": pd.Series(values, dtype="str").to_numpy(),
        "message": f["rule"].map(RULES).to_numpy(),
    })


def _malformed_frame(raw: _Raw) -> pd.DataFrame:
    m = raw.malformed
    return pd.DataFrame({
        "table": raw.name, "file": raw.path.name, "line": m["line"].to_numpy(dtype=np.int64),
        "id": None, "customer_id": None, "column": None, "rule": "malformed_row",
        "value": m["value"].to_numpy(), "message": RULES["malformed_row"],
    })


def _ledger_frame(table: _Table, rates: dict[str, float], base: str | None) -> pd.DataFrame:
    """The accepted rows with the Ledger's dtypes (amounts converted to the base currency)."""
    ok = table.ok()
    df = table.typed if ok.all() else _filter(table.typed, ok)
    if "amount" in df:
        rate = _rate(df, rates, base)
        if rate is not None:
            df["amount"] = df["amount"].to_numpy() * rate
    if "currency" in df and base is not None:
        cur = arrow_strings(df["currency"])
        if cur.null_count or not pc.all(pc.equal(cur, base)).as_py():
            df["currency"] = pd.Series(pd.array(pa.repeat(pa.scalar(base, pa.large_string()), len(df)),
                                                dtype="str"), index=df.index)
    if table.name == "customers":
        df["payment_terms_days"] = df["payment_terms_days"].astype("int64")
    if "disputed" in df:
        df["disputed"] = df["disputed"].fillna(False).astype(bool)
    return df


def _lines_text(lines: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(x)) for x in lines[:limit])
    return shown + (f" and {len(lines) - limit:,} more" if len(lines) > limit else "")


def _why(reject_df: pd.DataFrame, name: str) -> str:
    """The most frequent rules of a table's rejects, for a one-line message."""
    r = reject_df.loc[reject_df["table"] == name].drop_duplicates(["line", "rule", "column"])
    counts = r.groupby(["rule", "column"], dropna=False).size()
    return why_text((rule, col if isinstance(col, str) else None, int(n)) for (rule, col), n in counts.items())


def validate_tables(raws: dict[str, _Raw], cfg: DataConfig) -> tuple[Ledger, ValidationReport]:
    """Validate tables already read (see :func:`load_ledger`)."""
    problems: list[str] = []
    warnings: list[str] = []
    missing = [n for n, spec in TABLES.items() if spec.required and n not in raws]
    if missing:
        raise DataError([f"required table {n} is missing" for n in missing])
    params = rule_params(cfg)  # a bad as_of is reported before anything is read
    tables: dict[str, _Table] = {}
    for name in TABLE_ORDER:
        if name not in raws:
            continue
        raw = raws[name]
        warnings += raw.notes
        if len(raw.blank_lines):
            warnings.append(f"{raw.path}: {len(raw.blank_lines):,} blank lines skipped (lines "
                            f"{_lines_text(raw.blank_lines)})")
        if len(raw.multiline_lines):  # legitimate in quoted text, or a quote left open by the export
            warnings.append(f"{raw.path}: {len(raw.multiline_lines):,} rows hold line breaks inside quoted values "
                            f"(rows starting on lines {_lines_text(raw.multiline_lines)}); if that is not intended, "
                            "a quote is not closed")
        table, fatal, warn = _conform(raw, cfg)
        problems += fatal
        warnings += warn
        if table is not None:
            tables[name] = table
    if problems:
        raise DataError(problems)
    base, rates, fatal = _currencies(tables, cfg)
    if fatal:
        raise DataError(fatal)
    for table in tables.values():
        _schema_checks(table, cfg, params)
    customers, invoices = tables["customers"], tables["invoices"]
    for name in ("invoices", "payments", "adjustments", "orders"):
        if name in tables:
            _reference_customers(tables[name], customers)
    settling = [(tables[n], c) for n, c in (("payments", "payment_date"), ("adjustments", "date")) if n in tables]
    inv_pos = positions([t.typed["invoice_id"] for t, _ in settling], invoices.typed["invoice_id"])
    settlers = []
    for (t, date_col), pos in zip(settling, inv_pos, strict=True):
        _reference_invoices(t, invoices, date_col, pos)
        settlers.append((t, date_col, pos))
    _overpayments(settlers, invoices, cfg, rates, base)

    rejects = [_malformed_frame(raws[n]) for n in tables if len(raws[n].malformed)]
    rejects += [_reject_frame(t) for t in tables.values() if t.failures]
    rejects = [r for r in rejects if len(r)]
    reject_df = (pd.concat(rejects, ignore_index=True) if rejects else
                 pd.DataFrame({c: pd.Series([], dtype="int64" if c == "line" else "str") for c in REJECT_COLUMNS}))
    reject_df["line"] = reject_df["line"].astype("int64")
    table_rank = reject_df["table"].map({n: i for i, n in enumerate(TABLE_ORDER)})
    reject_df = (reject_df.assign(_t=table_rank.to_numpy()).sort_values(["_t", "line"], kind="stable")
                 .drop(columns="_t").reset_index(drop=True))
    rows = []
    for name, t in tables.items():
        read = raws[name].read
        accepted = int(t.ok().sum())
        rows.append({"table": name, "file": raws[name].path.name, "read": read, "accepted": accepted,
                     "rejected": read - accepted})
    summary = pd.DataFrame(rows, columns=["table", "file", "read", "accepted", "rejected"])
    rule_counts = (reject_df.drop_duplicates(["table", "line", "rule"]).groupby(["table", "rule"], sort=False)
                   .size().rename("rows").reset_index())
    files = {n: r.path for n, r in raws.items()}

    where = summary.assign(file=[str(raws[n].path) for n in summary["table"]])
    fatal, warn = ledger_verdict(where, why={n: _why(reject_df, n) for n in unusable_tables(summary)},
                                 hints={n: t.hints for n, t in tables.items()})
    problems += fatal
    warnings += warn
    warnings = list(dict.fromkeys(warnings))  # a flat file's tables share their file-level warnings
    report = ValidationReport(summary=summary, rule_counts=rule_counts, rejects=reject_df, warnings=warnings,
                              files=files)
    if problems:
        raise LedgerUnusable(problems, report)

    frames = {name: _ledger_frame(t, rates, base) for name, t in tables.items()}
    ledger = Ledger(
        customers=frames["customers"],
        invoices=frames["invoices"],
        payments=frames["payments"],
        **{n: frames[n] for n in ("adjustments", "orders") if n in frames},
        extra_attributes=tuple(cfg.extra_attributes),
        source=str(next(iter(raws.values())).path.parent),
    )
    return ledger, report


def load_ledger(data_dir: str | Path, config: DataConfig | None = None) -> tuple[Ledger, ValidationReport]:
    """Read, validate and type the ledger in ``data_dir``; see the module docstring.

    Raises :class:`DataError` (one line per problem) when the ledger cannot be used."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"{data_dir}: not a directory (expected a folder holding customers, invoices and "
                        "payments as .csv or .parquet)")
    cfg = config if config is not None else resolve_data_config(data_dir)
    flat = set(cfg.flat_file.tables) if cfg.flat_file is not None else set()
    files, problems = _find_files(data_dir, flat)
    raws: dict[str, _Raw] = {}
    if flat:
        try:
            raws.update(_read_flat(data_dir, cfg))
        except DataError as exc:
            problems += exc.problems
    for name in TABLE_ORDER:
        if name in files:
            try:
                raws[name] = _read_table(name, files[name], cfg)
            except DataError as exc:
                problems += exc.problems
    if problems:  # every fatal problem at once: also those of the tables that could be read
        for raw in raws.values():
            problems += _conform(raw, cfg)[1]
        raise DataError(problems)
    return validate_tables(raws, cfg)


def frames_to_raw(frames: dict[str, pd.DataFrame], root: str | Path = "<memory>") -> dict[str, _Raw]:
    """In-memory frames as read tables (line = 1-based row + 1, as if each were a CSV with a header),
    for validating data that is not on disk."""
    out = {}
    for name, df in frames.items():
        df = df.reset_index(drop=True)
        df.columns = [str(c).strip() for c in df.columns]
        out[name] = _Raw(name, Path(root) / f"{name}.csv", df, np.arange(2, len(df) + 2, dtype=np.int64))
    return out


__all__ = ["EVENT_DATE", "REJECT_COLUMNS", "LedgerUnusable", "ValidationReport", "data_as_of", "frames_to_raw", "load_ledger",
           "resolve_data_config", "validate_tables"]
