"""Read and validate a ledger directory: every input row is either accepted or listed in the rejects.

``load_ledger(data_dir, config)`` finds one file per table (``NAME.csv`` or ``NAME.parquet``), maps the
user's column names to ours, parses every cell (reporting the ones it cannot parse), checks each typed
table against its pandera schema (:mod:`riskml.data.schemas`, ``lazy=True``: every failure at once), then
applies the cross-table rules in dependency order (customers, invoices, then payments, adjustments and
orders against the rows accepted so far). It returns the typed :class:`~riskml.data.ledger.Ledger` of
the accepted rows and a :class:`ValidationReport`.

Two kinds of problem:

* a **row** problem rejects that row, never the file: it is listed in ``report.rejects`` with its table,
  file, line, key, column, rule and value. For every table ``accepted + rejected = read``.
* a **fatal** problem makes the ledger unusable (a missing file or required column, an unreadable file,
  nothing usable left): :class:`~riskml.errors.DataError` with one line per problem.

Line numbers are those of the CSV file, the header being line 1 (for Parquet: the 1-based row).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from riskml.config import DataConfig, load_config
from riskml.data.contract import EVENT_DATE, TABLES, Column
from riskml.data.ledger import Ledger
from riskml.data.schemas import RULES, schema_failures
from riskml.errors import DataError

REJECT_COLUMNS = ["table", "file", "line", "id", "customer_id", "column", "rule", "value", "message"]
# the order in which tables are validated: references point only to tables validated before
TABLE_ORDER = ("customers", "invoices", "payments", "adjustments", "orders")
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "1.0"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "0.0"})
# dates outside this range are reported as unparseable (typing errors such as 0202-01-05 or 20240-01-05)
DATE_MIN, DATE_MAX = pd.Timestamp("1900-01-01"), pd.Timestamp("2199-12-31")
# date columns not checked against the data's as-of (they lie in the future by nature)
NOT_AS_OF_CHECKED = {"due_date"}


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
    def n_rejected(self) -> int:
        return int(self.summary["rejected"].sum()) if len(self.summary) else 0


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
@dataclass
class _Raw:
    """One table as read: cells as text (CSV) or native Parquet values, with their line numbers."""

    name: str
    path: Path
    frame: pd.DataFrame
    line: np.ndarray
    malformed: pd.DataFrame  # line, value (the raw text of lines with the wrong number of fields)

    @property
    def read(self) -> int:
        return len(self.frame) + len(self.malformed)


def _find_files(data_dir: Path) -> tuple[dict[str, Path], list[str]]:
    found: dict[str, Path] = {}
    problems: list[str] = []
    for name, spec in TABLES.items():
        paths = [p for p in (data_dir / f"{name}.csv", data_dir / f"{name}.parquet") if p.is_file()]
        if len(paths) > 1:
            problems.append(f"{data_dir}: both {name}.csv and {name}.parquet exist; keep one")
        elif paths:
            found[name] = paths[0]
        elif spec.required:
            problems.append(f"{data_dir}: required table {name} is missing (expected {name}.csv or {name}.parquet)")
    return found, problems


def _csv_header(path: Path, cfg: DataConfig) -> list[str]:
    encoding = "utf-8-sig" if cfg.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else cfg.encoding
    with open(path, encoding=encoding, newline="") as fh:
        first = fh.readline()
    if not first.strip():
        raise DataError(f"{path}: the file is empty or its first line (the header) is blank")
    return next(csv.reader(io.StringIO(first), delimiter=cfg.delimiter))


def _read_csv(path: Path, cfg: DataConfig) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    header = [h.strip() for h in _csv_header(path, cfg)]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise DataError(f"{path}: line 1: column names appear more than once: {dupes}")

    def read(threads: bool) -> tuple[pa.Table, list[tuple[int | None, str]]]:
        bad: list[tuple[int | None, str]] = []

        def handler(row: pacsv.InvalidRow) -> str:
            bad.append((row.number, row.text))
            return "skip"

        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=threads, encoding=cfg.encoding, skip_rows=1,
                                           column_names=header),
            # blank lines stay rows (of empty fields), so that every row keeps its line number
            parse_options=pacsv.ParseOptions(delimiter=cfg.delimiter, invalid_row_handler=handler,
                                             newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        return table, bad

    try:
        table, bad = read(threads=True)
        if any(n is None for n, _ in bad):
            table, bad = read(threads=False)  # line numbers of skipped lines are known single-threaded
    except (pa.ArrowInvalid, UnicodeDecodeError, LookupError) as exc:
        raise DataError(f"{path}: cannot be read as CSV with encoding {cfg.encoding!r} and delimiter "
                        f"{cfg.delimiter!r} ({exc})") from None
    frame = table.to_pandas()
    bad_lines = np.array([n for n, _ in bad], dtype=np.int64)  # pyarrow numbers physical lines, header = 1
    lines = np.arange(2, len(frame) + len(bad) + 2, dtype=np.int64)
    if len(bad):
        lines = lines[~np.isin(lines, bad_lines)]
    # a blank line holds no row: not read, not reported
    if len(frame):
        blank = np.ones(len(frame), dtype=bool)
        for c in frame.columns:
            blank &= frame[c].str.strip().eq("").to_numpy(bool)
        if blank.any():
            frame, lines = frame.loc[~blank].reset_index(drop=True), lines[~blank]
    malformed = pd.DataFrame({"line": bad_lines, "value": pd.Series([t for _, t in bad], dtype="str")})
    return frame, lines, malformed


def _read_parquet(path: Path) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt or foreign file
        raise DataError(f"{path}: cannot be read as Parquet ({type(exc).__name__}: {exc})") from None
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c).strip() for c in frame.columns]
    empty = pd.DataFrame({"line": pd.Series([], dtype="int64"), "value": pd.Series([], dtype="str")})
    return frame, np.arange(1, len(frame) + 1, dtype=np.int64), empty


def _read_table(name: str, path: Path, cfg: DataConfig) -> _Raw:
    if path.suffix == ".csv":
        frame, lines, malformed = _read_csv(path, cfg)
    else:
        frame, lines, malformed = _read_parquet(path)
    return _Raw(name, path, frame, lines, malformed)


# ------------------------------------------------------------------------------------------- parsing
def _is_blank(s: pd.Series) -> pd.Series:
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        return s.isna() | s.astype("str").str.strip().eq("")
    return s.isna()


def _as_text(s: pd.Series) -> pd.Series:
    """Cells as stripped text, missing where blank (numbers in Parquet id columns become text)."""
    if pd.api.types.is_float_dtype(s):
        whole = s.notna() & np.isfinite(s.to_numpy(dtype="float64", na_value=np.nan))
        whole &= s.fillna(0).mod(1).eq(0)
        text = s.astype("str").where(~whole, s.fillna(0).astype("int64").astype("str"))
        return text.where(s.notna()).astype("str")
    text = s.astype("str").str.strip()
    return text.where(~_is_blank(s))


def _parse_number(s: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        out = s.astype("float64")
    else:
        out = pd.to_numeric(_as_text(s), errors="coerce").astype("float64")
    return out.where(np.isfinite(out.to_numpy(dtype="float64", na_value=np.nan)))


def _parse_date(s: pd.Series, fmt: str | None) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        out = pd.Series(out.to_numpy(), index=s.index)
    else:
        text = _as_text(s)
        out = pd.to_datetime(text, format=fmt or "%Y-%m-%d", errors="coerce")
        retry = out.isna() & text.notna()
        if fmt is None and retry.any():  # ISO 8601 with a time or another ISO layout
            out = out.astype("datetime64[us]")
            out.loc[retry] = pd.to_datetime(text[retry], format="ISO8601", errors="coerce", utc=True).dt.tz_localize(None)
    out = out.where((out >= DATE_MIN) & (out <= DATE_MAX))
    return out.dt.normalize().astype("datetime64[ns]")


def _parse_bool(s: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean")
    low = _as_text(s).str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[low.isin(TRUE_WORDS).fillna(False).to_numpy(bool)] = True
    out[low.isin(FALSE_WORDS).fillna(False).to_numpy(bool)] = False
    return out


_PARSE_RULE = {"number": "not_a_number", "integer": "not_a_number", "date": "unparseable_date",
               "bool": "not_a_boolean"}


def _typed_column(col: Column, raw: pd.Series, fmt: str | None) -> tuple[pd.Series, pd.Series]:
    """(typed values, mask of cells present but not parseable) of one contract column."""
    if col.type in ("id", "string"):
        typed = _as_text(raw)
        return typed, pd.Series(False, index=raw.index)
    if col.type in ("number", "integer"):
        typed = _parse_number(raw)
    elif col.type == "date":
        typed = _parse_date(raw, fmt)
    else:
        typed = _parse_bool(raw)
    bad = typed.isna() & ~_is_blank(raw)
    return typed, bad


def _empty_like(col: Column, n: int) -> pd.Series:
    dtype = {"id": "str", "string": "str", "number": "float64", "integer": "float64",
             "date": "datetime64[ns]", "bool": "boolean"}[col.type]
    return pd.Series(pd.array([None] * n, dtype=dtype) if dtype in ("str", "boolean") else
                     np.full(n, np.nan if dtype == "float64" else np.datetime64("NaT"), dtype=dtype))


# ----------------------------------------------------------------------------------------- validation
class _Table:
    """One table during validation: typed columns, line numbers and the failures found so far."""

    def __init__(self, raw: _Raw, typed: pd.DataFrame, text: pd.DataFrame):
        self.raw, self.typed, self.text = raw, typed, text
        self.name = raw.name
        self.failures: list[pd.DataFrame] = []  # pos, column, rule

    def fail(self, mask: np.ndarray | pd.Series, column: str, rule: str) -> None:
        pos = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(pos):
            self.failures.append(pd.DataFrame({"pos": pos, "column": column, "rule": rule}))

    def failed(self) -> pd.DataFrame:
        if not self.failures:
            return pd.DataFrame({"pos": pd.Series([], dtype="int64"), "column": pd.Series([], dtype="str"),
                                 "rule": pd.Series([], dtype="str")})
        return pd.concat(self.failures, ignore_index=True)

    def ok(self) -> np.ndarray:
        """Rows with no failure so far."""
        mask = np.ones(len(self.typed), dtype=bool)
        f = self.failed()
        mask[f["pos"].to_numpy(dtype=np.int64)] = False
        return mask


def _conform(raw: _Raw, cfg: DataConfig) -> tuple[_Table | None, list[str], list[str]]:
    """Map column names, check required columns, parse every cell; (table, fatal problems, warnings)."""
    spec = TABLES[raw.name]
    mapping = cfg.column_map.get(raw.name, {})
    frame = raw.frame
    problems: list[str] = []
    warnings: list[str] = []
    theirs_to_ours = {theirs: ours for ours, theirs in mapping.items()}
    for ours, theirs in mapping.items():
        if theirs not in frame.columns and ours not in frame.columns:
            problems.append(f"{raw.path}: column_map.{raw.name}.{ours} names column {theirs!r}, which is not in "
                            f"the file (its columns: {list(frame.columns)})")
    frame = frame.rename(columns=theirs_to_ours)
    extras = dict(cfg.extra_attributes) if raw.name == "customers" else {}
    for colname in spec.required_columns:
        if colname not in frame.columns:
            hint = f" (mapped from {mapping[colname]!r})" if colname in mapping else ""
            problems.append(f"{raw.path}: required column {colname!r}{hint} is missing; the file has {list(frame.columns)}")
    for name in extras:
        if name not in frame.columns:
            problems.append(f"{raw.path}: extra attribute {name!r} declared in the data config is not a column "
                            f"of the customer master")
    if problems:
        return None, problems, warnings
    known = set(spec.column_names) | set(extras)
    ignored = [c for c in frame.columns if c not in known]
    if ignored:
        warnings.append(f"{raw.path}: columns ignored (not in the contract, not declared as extra attributes): "
                        f"{', '.join(map(str, ignored))}")

    fmt = cfg.date_format.get(raw.name) or cfg.date_format.get("*")
    n = len(frame)
    typed_cols: dict[str, pd.Series] = {}
    text_cols: dict[str, pd.Series] = {}
    table = _Table(raw, pd.DataFrame(index=pd.RangeIndex(n)), pd.DataFrame(index=pd.RangeIndex(n)))
    for col in spec.columns:
        if col.name not in frame.columns:
            typed_cols[col.name] = _empty_like(col, n)
            continue
        src = frame[col.name].reset_index(drop=True)
        typed, bad = _typed_column(col, src, fmt)
        typed_cols[col.name] = typed
        text_cols[col.name] = src
        table.fail(bad, col.name, _PARSE_RULE.get(col.type, "not_a_number"))
    for name, attr in extras.items():
        if name in typed_cols:
            continue
        src = frame[name].reset_index(drop=True)
        text_cols[name] = src
        if attr.kind == "numeric":
            typed = _parse_number(src)
            table.fail(typed.isna() & ~_is_blank(src), name, "not_a_number")
        else:
            typed = _as_text(src)
        typed_cols[name] = typed
    table.typed = pd.DataFrame(typed_cols)
    table.text = pd.DataFrame(text_cols)
    return table, problems, warnings


def _schema_checks(table: _Table, cfg: DataConfig) -> None:
    extras = tuple((k, v.kind) for k, v in cfg.extra_attributes.items()) if table.name == "customers" else ()
    found = schema_failures(table.name, table.typed, extras)
    if not len(found):
        return
    # an unparseable cell is already reported by its parse rule; pandera sees it as empty
    parsed = table.failed()
    if len(parsed):
        key = pd.MultiIndex.from_frame(parsed[["pos", "column"]])
        dup = pd.MultiIndex.from_frame(found[["pos", "column"]]).isin(key) & found["rule"].eq("missing_value").to_numpy()
        found = found.loc[~dup]
    table.failures.append(found)


def _currencies(tables: dict[str, _Table], cfg: DataConfig) -> tuple[str | None, list[str]]:
    seen: set[str] = set()
    for t in tables.values():
        if "currency" in t.typed:
            seen |= set(t.typed["currency"].dropna().unique())
    base = cfg.base_currency
    if base is None and len(seen) > 1:
        return None, [f"the ledger holds several currencies ({', '.join(sorted(seen))}) and no base_currency is "
                      "set: set base_currency and fx_rates (units of base currency per unit) in the data config"]
    return base if base is not None else (next(iter(seen)) if seen else None), []


def _row_rules(table: _Table, cfg: DataConfig, base: str | None) -> None:
    typed = table.typed
    if "currency" in typed and base is not None:
        cur = typed["currency"]
        allowed = {base, *cfg.fx_rates}
        table.fail(cur.notna() & ~cur.isin(allowed), "currency", "currency_without_rate")
    if cfg.as_of is not None:
        as_of = pd.Timestamp(cfg.as_of).normalize()
        for c in TABLES[table.name].date_columns:
            if c in NOT_AS_OF_CHECKED:
                continue
            table.fail(typed[c] > as_of, c, "future_date")


def _reference_customers(table: _Table, customers: _Table) -> None:
    ok = customers.ok()
    accepted = pd.Index(customers.typed["customer_id"][ok].dropna().unique())
    everything = pd.Index(customers.typed["customer_id"].dropna().unique())
    cid = table.typed["customer_id"]
    present = cid.notna()
    in_ok = cid.isin(accepted)
    table.fail(present & ~in_ok & ~cid.isin(everything), "customer_id", "unknown_customer")
    table.fail(present & ~in_ok & cid.isin(everything), "customer_id", "customer_rejected")


def _reference_invoices(table: _Table, invoices: _Table, date_col: str) -> None:
    inv = invoices.typed
    ok = invoices.ok()
    first = ~inv["invoice_id"].duplicated(keep="first") & inv["invoice_id"].notna()
    acc = inv.loc[ok & first.to_numpy(), ["invoice_id", "customer_id", "invoice_date"]].set_index("invoice_id")
    everything = pd.Index(inv["invoice_id"].dropna().unique())
    iid = table.typed["invoice_id"]
    present = iid.notna()
    in_ok = iid.isin(acc.index)
    table.fail(present & ~in_ok & ~iid.isin(everything), "invoice_id", "unknown_invoice")
    table.fail(present & ~in_ok & iid.isin(everything), "invoice_id", "invoice_rejected")
    inv_cust = pd.Series(acc["customer_id"].reindex(iid).to_numpy(), index=iid.index)
    inv_day = pd.Series(acc["invoice_date"].reindex(iid).to_numpy(), index=iid.index)
    table.fail(in_ok & table.typed["customer_id"].notna() & (inv_cust != table.typed["customer_id"]),
               "customer_id", "customer_mismatch")
    table.fail(in_ok & (table.typed[date_col] < inv_day), date_col, "payment_before_invoice")


def _overpayments(settlers: list[tuple[_Table, str]], invoices: _Table, cfg: DataConfig,
                  rates: dict[str, float], base: str | None) -> None:
    """Reject the payments and adjustments that take the amount applied to an invoice above its cap.

    Events are taken in date order (payments before adjustments on the same day, then file order); an
    event that would exceed the cap is rejected and not counted, so a later correct payment still fits."""
    inv = invoices.typed.loc[invoices.ok()]
    inv = inv.loc[~inv["invoice_id"].duplicated(keep="first")]
    amount = _converted(inv, rates, base).to_numpy()
    cap = pd.Series(amount * (1 + cfg.overpayment_tolerance_pct) + cfg.overpayment_tolerance_abs,
                    index=inv["invoice_id"].to_numpy())
    parts = []
    for order, (t, date_col) in enumerate(settlers):
        ok = t.ok() & t.typed["invoice_id"].notna().to_numpy()
        pos = np.flatnonzero(ok)
        if not len(pos):
            continue
        sub = t.typed.iloc[pos]
        parts.append(pd.DataFrame({"invoice_id": sub["invoice_id"].to_numpy(), "day": sub[date_col].to_numpy(),
                                   "src": order, "pos": pos, "amount": _converted(sub, rates, base).to_numpy()}))
    if not parts:
        return
    ev = pd.concat(parts, ignore_index=True).sort_values(["invoice_id", "day", "src", "pos"], kind="stable")
    ev["cap"] = ev["invoice_id"].map(cap).to_numpy()
    ev["cum"] = ev.groupby("invoice_id", sort=False)["amount"].cumsum()
    over_inv = ev.loc[ev["cum"] > ev["cap"] + 1e-9, "invoice_id"].unique()
    if not len(over_inv):
        return
    rejected: list[tuple[int, int]] = []
    for _, grp in ev.loc[ev["invoice_id"].isin(over_inv)].groupby("invoice_id", sort=False):
        total, cap_v = 0.0, float(grp["cap"].iloc[0])
        for src, p, amt in zip(grp["src"].to_numpy(), grp["pos"].to_numpy(), grp["amount"].to_numpy(), strict=True):
            if total + amt > cap_v + 1e-9:
                rejected.append((int(src), int(p)))
            else:
                total += amt
    for order, (t, _) in enumerate(settlers):
        pos = [p for s, p in rejected if s == order]
        mask = np.zeros(len(t.typed), dtype=bool)
        mask[pos] = True
        t.fail(mask, "amount", "overpayment")


def _converted(frame: pd.DataFrame, rates: dict[str, float], base: str | None) -> pd.Series:
    """Amounts in the base currency (rows without a currency, or in the base, unchanged)."""
    amount = frame["amount"].astype("float64")
    if not rates or "currency" not in frame:
        return amount
    rate = frame["currency"].map(lambda c: 1.0 if c is None or c == base else rates.get(c, 1.0))
    rate = pd.to_numeric(rate, errors="coerce").fillna(1.0)
    return amount * rate.to_numpy()


def _reject_frame(table: _Table) -> pd.DataFrame:
    f = table.failed().drop_duplicates().sort_values(["pos", "column"], kind="stable")
    pos = f["pos"].to_numpy(dtype=np.int64)
    key = TABLES[table.name].key
    values = []
    for col, p in zip(f["column"].to_numpy(), pos, strict=True):
        src = table.text.get(col)
        v = None if src is None else src.iloc[p]
        values.append(None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    return pd.DataFrame({
        "table": table.name,
        "file": table.raw.path.name,
        "line": table.raw.line[pos],
        "id": table.typed[key].iloc[pos].to_numpy(),
        "customer_id": (table.typed["customer_id"].iloc[pos].to_numpy() if "customer_id" in table.typed
                        else np.full(len(pos), None)),
        "column": f["column"].to_numpy(),
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
    df = table.typed.loc[table.ok()].reset_index(drop=True)
    if "amount" in df:
        df["amount"] = _converted(df, rates, base)
        if "currency" in df and base is not None:
            df["currency"] = pd.Series(base, index=df.index, dtype="str")
    if table.name == "customers":
        df["payment_terms_days"] = df["payment_terms_days"].astype("int64")
    if "disputed" in df:
        df["disputed"] = df["disputed"].fillna(False).astype(bool)
    return df


def validate_tables(raws: dict[str, _Raw], cfg: DataConfig) -> tuple[Ledger, ValidationReport]:
    """Validate tables already read (see :func:`load_ledger`)."""
    problems: list[str] = []
    warnings: list[str] = []
    tables: dict[str, _Table] = {}
    for name in TABLE_ORDER:
        if name not in raws:
            continue
        table, fatal, warn = _conform(raws[name], cfg)
        problems += fatal
        warnings += warn
        if table is not None:
            tables[name] = table
    if problems:
        raise DataError(problems)
    base, fatal = _currencies(tables, cfg)
    if fatal:
        raise DataError(fatal)
    rates = {k: float(v) for k, v in cfg.fx_rates.items()}
    for table in tables.values():
        _schema_checks(table, cfg)
        _row_rules(table, cfg, base)
    customers, invoices = tables["customers"], tables["invoices"]
    for name in ("invoices", "payments", "adjustments", "orders"):
        if name in tables:
            _reference_customers(tables[name], customers)
    settlers = []
    for name, date_col in (("payments", "payment_date"), ("adjustments", "date")):
        if name in tables:
            _reference_invoices(tables[name], invoices, date_col)
            settlers.append((tables[name], date_col))
    _overpayments(settlers, invoices, cfg, rates, base)

    frames = {name: _ledger_frame(t, rates, base) for name, t in tables.items()}
    rejects = [_malformed_frame(raws[n]) for n in tables if len(raws[n].malformed)]
    rejects += [_reject_frame(t) for t in tables.values() if t.failures]
    rejects = [r for r in rejects if len(r)]
    reject_df = (pd.concat(rejects, ignore_index=True) if rejects else
                 pd.DataFrame({c: pd.Series([], dtype="int64" if c == "line" else "str") for c in REJECT_COLUMNS}))
    reject_df["line"] = reject_df["line"].astype("int64")
    rows = []
    for name, t in tables.items():
        read = raws[name].read
        accepted = len(frames[name])
        rows.append({"table": name, "file": raws[name].path.name, "read": read, "accepted": accepted,
                     "rejected": read - accepted})
    summary = pd.DataFrame(rows, columns=["table", "file", "read", "accepted", "rejected"])
    rule_counts = (reject_df.drop_duplicates(["table", "line", "rule"]).groupby(["table", "rule"], sort=False)
                   .size().rename("rows").reset_index())

    for name, t in tables.items():
        read = raws[name].read
        if len(frames[name]) == 0 and read > 0 and not TABLES[name].required:
            warnings.append(f"{raws[name].path}: every row rejected; the ledger is used without {name}")
        elif len(frames[name]) == 0 and (read > 0 or name == "customers"):
            problems.append(f"{raws[name].path}: no usable rows ({read:,} read, "
                            + ("all rejected; see the rejects for why)" if read else "the file has a header only)"))
    if problems:
        raise DataError(problems)
    if raws["invoices"].read == 0:
        warnings.append("no invoices: every customer is scored on the customer master alone (thin file)")
    if "payments" in frames and len(frames["payments"]) == 0:
        warnings.append("no payments accepted: every invoice counts as unpaid")
    ledger = Ledger(
        customers=frames["customers"],
        invoices=frames["invoices"],
        payments=frames["payments"],
        **{n: frames[n] for n in ("adjustments", "orders") if n in frames},
        extra_attributes=tuple(cfg.extra_attributes),
        source=str(next(iter(raws.values())).path.parent),
    )
    report = ValidationReport(summary=summary, rule_counts=rule_counts, rejects=reject_df, warnings=warnings,
                              files={n: r.path for n, r in raws.items()})
    return ledger, report


def load_ledger(data_dir: str | Path, config: DataConfig | None = None) -> tuple[Ledger, ValidationReport]:
    """Read, validate and type the ledger in ``data_dir``; see the module docstring.

    Raises :class:`DataError` (one line per problem) when the ledger cannot be used."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"{data_dir}: not a directory (expected a folder holding customers, invoices and "
                        "payments as .csv or .parquet)")
    cfg = config if config is not None else resolve_data_config(data_dir)
    files, problems = _find_files(data_dir)
    if problems:
        raise DataError(problems)
    raws: dict[str, _Raw] = {}
    for name in TABLE_ORDER:
        if name in files:
            try:
                raws[name] = _read_table(name, files[name], cfg)
            except DataError as exc:
                problems += exc.problems
    if problems:
        raise DataError(problems)
    return validate_tables(raws, cfg)


def frames_to_raw(frames: dict[str, pd.DataFrame], root: str | Path = "<memory>") -> dict[str, _Raw]:
    """In-memory frames as read tables (line = 1-based row + 1, as if each were a CSV with a header),
    for validating data that is not on disk."""
    out = {}
    for name, df in frames.items():
        empty = pd.DataFrame({"line": pd.Series([], dtype="int64"), "value": pd.Series([], dtype="str")})
        out[name] = _Raw(name, Path(root) / f"{name}.csv", df.reset_index(drop=True),
                         np.arange(2, len(df) + 2, dtype=np.int64), empty)
    return out


__all__ = ["EVENT_DATE", "REJECT_COLUMNS", "ValidationReport", "frames_to_raw", "load_ledger",
           "resolve_data_config", "validate_tables"]
