"""Ledger tables on Spark: read them (a ledger directory of CSV or Parquet, catalog tables or
DataFrames), give them the contract's names and types, and validate them on the cluster.

The rules are those of the pandas validator :mod:`riskml.data.validate`, declared once in
:mod:`riskml.data.rules`: the value rules (:data:`~riskml.data.rules.CHECKS`) are compiled here to
Spark column expressions (:data:`SPARK_OPS`), the column mapping is
:func:`~riskml.data.rules.resolve_columns`, the overpayment cap :func:`~riskml.data.rules.overpaid`
(applied with ``applyInPandas`` to the few invoices paid above their cap) and the verdict
:func:`~riskml.data.rules.ledger_verdict`. Both engines accept the same rows of the same data and list
the same (row, column, rule) rejects with the same messages; ``tests/spark/test_tables.py`` checks
this on ledgers with every kind of error. What is checked across rows is done with a window (duplicate
ids) and joins (references).

Where the Spark engine differs from ``riskml validate`` (``docs/spark.md`` says the same):

* rejects carry the file (the part file for a dataset) but no line number: Spark does not number the
  lines of a file. The CSV reader does not accept line breaks inside quoted values (that would make a
  file unsplittable: one task per file); such a row is rejected as malformed. Blank lines are skipped
  without a warning.
* "first" (for ``duplicate_id``, and for the order of same-day payments in ``overpayment``) is the
  order in which Spark reads the rows: file order for one file, as in pandas; for a dataset of part
  files or a catalog table it is the order of the parts, which is not meaningful.
* a timezone-aware Parquet timestamp is taken as its UTC date (pandas keeps the wall-clock date).

The result, a :class:`SparkLedger`, holds the accepted rows per contract table (canonical columns, the
meaning of :class:`riskml.data.ledger.Ledger`), the rejects, the per-table summary and the warnings.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import pandas as pd

from riskml.config import DataConfig, ExtraAttribute
from riskml.data.contract import TABLES
from riskml.data.mapping import value_text
from riskml.data.rules import (
    DATE_MAX,
    DATE_MIN,
    EPS,
    FALSE_WORDS,
    PARSE_RULE,
    RULES,
    TABLE_ORDER,
    TRUE_WORDS,
    Check,
    base_and_rates,
    checks_of,
    ledger_verdict,
    overpaid,
    overpayment_cap,
    resolve_columns,
    rule_params,
    several_currencies,
    unusable_tables,
    why_text,
)
from riskml.errors import ConfigError, DataError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import Column as SparkColumn
    from pyspark.sql import DataFrame, SparkSession

# a ledger directory (local path or URI), or {table: DataFrame or catalog table name}
TableSource: TypeAlias = "str | Path | Mapping[str, DataFrame | str]"

REJECT_COLUMNS = ("table", "file", "id", "customer_id", "column", "rule", "value", "message")
SUMMARY_COLUMNS = ("table", "file", "read", "accepted", "rejected")
_FAILS = "_fails"
_FAIL_TYPE = "array<struct<column:string,rule:string,value:string>>"
_CORRUPT = "_corrupt_record"
# strftime directive -> Java DateTimeFormatter letters (one letter: 1 or 2 digits, as strptime accepts)
_STRFTIME = {"%Y": "yyyy", "%y": "yy", "%m": "M", "%d": "d", "%b": "MMM", "%B": "MMMM", "%H": "H",
             "%M": "m", "%S": "s", "%j": "D", "%%": "%"}
# up to this many customers the (id, accepted) list is broadcast to the tasks rather than joined by shuffle
BROADCAST_CUSTOMERS = 1_000_000
_FIXED = {"%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss", "%j": "DDD"}
# a UTC offset at the end of an ISO date-time: dropped, the date is the one written (as in pandas)
_TZ_SUFFIX = r"(Z|[+-]\d\d(:?\d\d)?)$"


@dataclass
class SparkLedger:
    """Typed, validated ledger tables as Spark DataFrames (see the module docstring).

    ``tables``: every contract table (accepted rows, contract columns in contract order; customers also
    carry the declared extra attributes; optional tables not supplied are empty). ``rejects``: one row
    per failing (row, column, rule), columns :data:`REJECT_COLUMNS`. ``summary``: rows read, accepted and
    rejected per table (pandas, computed once). The checked tables are persisted; :meth:`unpersist`
    frees them."""

    tables: dict[str, DataFrame]
    rejects: DataFrame
    summary: pd.DataFrame
    extra_attributes: dict[str, ExtraAttribute] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    source: str = ""
    _persisted: list[DataFrame] = field(default_factory=list, repr=False)

    @property
    def n_rejected(self) -> int:
        return int(self.summary["rejected"].sum()) if len(self.summary) else 0

    def row_counts(self) -> dict[str, int]:
        """Accepted rows per table (from the summary; optional tables not supplied count 0)."""
        got = dict(zip(self.summary["table"], self.summary["accepted"], strict=True))
        return {name: int(got.get(name, 0)) for name in TABLES}

    def reject_counts(self) -> dict[tuple[str, str], int]:
        """{(table, rule): rows rejected} (one Spark job)."""
        rows = self.rejects.groupBy("table", "rule").count().collect()
        return {(r["table"], r["rule"]): int(r["count"]) for r in rows}

    def unpersist(self) -> None:
        for df in self._persisted:
            df.unpersist()
        self._persisted.clear()


# ------------------------------------------------------------------------------------------- reading
def strftime_to_java(fmt: str) -> str:
    """A strftime date format (as ``DataConfig.date_format`` holds) as a Spark/Java pattern.

    ``'%d/%m/%Y'`` -> ``'d/M/yyyy'`` (one letter: 1 or 2 digits, as strptime reads them);
    ``'%Y%m%d'`` -> ``'yyyyMMdd'`` (fields that touch need fixed widths). Literal letters are quoted;
    unsupported directives raise."""
    tokens, i = [], 0
    while i < len(fmt):
        if fmt[i] == "%":
            tok = fmt[i:i + 2]
            if tok not in _STRFTIME:
                raise ConfigError(f"date_format {fmt!r}: the Spark engine does not support {tok!r}; "
                                  f"use one of {' '.join(sorted(_STRFTIME))}")
            tokens.append(tok)
            i += 2
        else:
            tokens.append(fmt[i])
            i += 1
    out = []
    for k, tok in enumerate(tokens):
        if tok.startswith("%") and tok != "%%":
            touching = any(0 <= j < len(tokens) and tokens[j].startswith("%") and tokens[j] != "%%" for j in (k - 1, k + 1))
            out.append(_FIXED.get(tok, _STRFTIME[tok]) if touching else _STRFTIME[tok])
        elif tok == "%%":
            out.append("%")
        else:
            out.append(f"'{tok}'" if tok.isalpha() else ("''" if tok == "'" else tok))
    return "".join(out)


def has_scheme(path: str) -> bool:
    """Whether ``path`` is a URI (s3a://, dbfs:/, file:/ ...) rather than a local path (C:\\ is local)."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:/", path) is not None and not re.match(r"^[A-Za-z]:[\\/]", path)


def _clean_name(name: object) -> str:
    return str(name).replace("\ufeff", "").strip()


def _check_header(where: str, names: list[str]) -> None:
    dupes = sorted({h for h in names if names.count(h) > 1})
    if dupes:
        raise DataError(f"{where}: column names appear more than once: {dupes}")


def _read_csv(spark: SparkSession, path: str, cfg: DataConfig) -> DataFrame:
    """All columns as text, plus the raw line of rows with the wrong number of fields (``_CORRUPT``)."""
    opts = {"sep": cfg.delimiter, "encoding": cfg.encoding, "quote": '"', "escape": '"', "multiLine": "false"}
    first = spark.read.options(header="false", **opts).csv(path).first()
    if first is None or not any(v and v.strip() for v in first):
        raise DataError(f"{path}: the file is empty or its first line (the header) is blank")
    header = [_clean_name(v) for v in first]
    _check_header(f"{path}: line 1", header)
    from pyspark.sql import types as T

    schema = T.StructType([T.StructField(h, T.StringType()) for h in header] + [T.StructField(_CORRUPT, T.StringType())])
    return (spark.read.options(header="true", mode="PERMISSIVE", columnNameOfCorruptRecord=_CORRUPT, **opts)
            .schema(schema).csv(path))


def _load(spark: SparkSession, path: str, fmt: str, cfg: DataConfig) -> DataFrame | None:
    """``path`` read as ``fmt``; None when it does not exist (asked of Spark: works for any URI)."""
    from pyspark.errors import AnalysisException

    if not has_scheme(path) and not Path(path).exists():
        return None
    try:
        if fmt == "csv":
            return _read_csv(spark, path, cfg)
        df = spark.read.parquet(path)
    except AnalysisException as exc:
        if exc.getCondition() == "PATH_NOT_FOUND":
            return None
        raise DataError(f"{path}: cannot be read as {fmt} ({str(exc).splitlines()[0]})") from None
    names = [_clean_name(c) for c in df.columns]
    _check_header(path, names)
    return df.toDF(*names)


def read_raw_tables(spark: SparkSession, source: TableSource, cfg: DataConfig | None = None
                    ) -> dict[str, tuple[DataFrame, str]]:
    """{table: (DataFrame as stored, label for messages)} for every table present in ``source``.

    ``source`` is a ledger directory (local path or URI) holding per table ``NAME.csv`` or
    ``NAME.parquet`` (a file or a directory of part files) or ``NAME/`` (a Parquet dataset), or a
    mapping {table: DataFrame or catalog table name}. A missing required table, or a table present in
    two forms, raises :class:`DataError`."""
    cfg = cfg or DataConfig()
    out: dict[str, tuple[DataFrame, str]] = {}
    if isinstance(source, Mapping):
        unknown = sorted(set(source) - set(TABLES))
        if unknown:
            raise DataError(f"unknown ledger tables {unknown}; expected among {sorted(TABLES)}")
        for name, value in source.items():
            if isinstance(value, str):
                if not spark.catalog.tableExists(value):
                    raise DataError(f"{name}: catalog table {value!r} not found")
                df, label = spark.table(value), f"table {value}"
            else:
                df, label = value, f"{name} (DataFrame)"
            names = [_clean_name(c) for c in df.columns]
            _check_header(label, names)
            out[name] = (df.toDF(*names), label)
        missing = [t.name for t in TABLES.values() if t.required and t.name not in out]
        if missing:
            raise DataError([f"required table {m!r} not given" for m in missing])
        return out
    root = str(source).rstrip("/")
    if not has_scheme(root) and not Path(root).is_dir():
        raise DataError(f"{root}: not a directory (expected a folder holding customers, invoices and payments "
                        "as .csv or .parquet)")
    problems = []
    for name, table in TABLES.items():
        found = []
        for suffix, fmt in ((".csv", "csv"), (".parquet", "parquet"), ("", "parquet")):
            df = _load(spark, f"{root}/{name}{suffix}", fmt, cfg)
            if df is not None:
                found.append((df, f"{root}/{name}{suffix}"))
        if len(found) > 1:
            problems.append(f"{root}: {name} exists as {' and '.join(p.rsplit('/', 1)[-1] for _, p in found)}; keep one")
        elif found:
            out[name] = found[0]
        elif table.required:
            problems.append(f"{root}: required table {name} is missing (expected {name}.csv, {name}.parquet "
                            f"or a Parquet dataset {name}/)")
    if problems:
        raise DataError(problems)
    return out


# ------------------------------------------------------------------------------------------- typing
# Unicode White_Space, which pandas (pyarrow's utf8_trim_whitespace) strips from cells
_WHITESPACE = "".join(map(chr, [*range(9, 14), 32, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029,
                                 0x202F, 0x205F, 0x3000]))


def _strip(text: SparkColumn) -> SparkColumn:
    """Text without leading/trailing (Unicode) whitespace; blank as null."""
    from pyspark.sql import functions as F

    s = F.trim(text, F.lit(_WHITESPACE))
    return F.when(s != "", s)


def _text(raw: SparkColumn, src: Any) -> SparkColumn:
    """Cells as stripped text, null where blank; whole floats without their ``.0`` (as pandas)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if isinstance(src, T.FloatType | T.DoubleType):
        whole = (F.abs(raw) < F.lit(9.2e18)) & (raw == F.floor(raw))
        text = F.when(whole, raw.cast("long").cast("string")).otherwise(raw.cast("string"))
        return F.when(~F.isnan(raw), text)  # NaN is a missing value
    if isinstance(src, T.StringType):
        return _strip(raw)
    return _strip(raw.cast("string"))


def _finite(num: SparkColumn) -> SparkColumn:
    from pyspark.sql import functions as F

    return F.when(~F.isnan(num) & (F.abs(num) != F.lit(float("inf"))), num)


# The parsers take the cell as stored (``raw``) and as text (``text``, from :func:`_text`, computed once).
def _number(raw: SparkColumn, text: SparkColumn, src: Any) -> SparkColumn:
    from pyspark.sql import types as T

    if isinstance(src, T.NumericType):
        return _finite(raw.cast("double"))
    return _finite(text.try_cast("double"))


def _in_range(day: SparkColumn) -> SparkColumn:
    from pyspark.sql import functions as F

    lo, hi = F.lit(str(DATE_MIN.date())).cast("date"), F.lit(str(DATE_MAX.date())).cast("date")
    return F.when((day >= lo) & (day <= hi), day)


def _date(raw: SparkColumn, text: SparkColumn, src: Any, java_fmt: str | None) -> SparkColumn:
    """Dates at day precision: native dates/timestamps as they are; Parquet nanosecond timestamps (read
    as int64, see :func:`riskml.spark.engine.required_conf`); text in ``java_fmt``, else as pandas
    does: ``YYYY-MM-DD``, else ISO 8601 without a trailing UTC offset, else ``YYYYMMDD``."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if isinstance(src, T.DateType):
        return _in_range(raw)
    if isinstance(src, T.TimestampType | T.TimestampNTZType):
        return _in_range(F.to_date(raw))
    if java_fmt:
        parsed = F.to_date(F.try_to_timestamp(text, F.lit(java_fmt)))
    else:
        parsed = F.coalesce(F.to_date(F.try_to_timestamp(text, F.lit("yyyy-M-d"))),
                            F.to_date(F.try_to_timestamp(F.regexp_replace(text, _TZ_SUFFIX, ""))),
                            F.to_date(F.try_to_timestamp(text, F.lit("yyyyMMdd"))))
    if isinstance(src, T.LongType | T.IntegerType):
        nanos = F.to_date(F.timestamp_micros(F.floor(raw / 1000)))
        parsed = F.when(F.abs(raw) > F.lit(10**12), nanos).otherwise(parsed)
    return _in_range(parsed)


def _bool(raw: SparkColumn, text: SparkColumn, src: Any) -> SparkColumn:
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if isinstance(src, T.BooleanType):
        return raw
    low = F.lower(text)
    return F.when(low.isin(*sorted(TRUE_WORDS)), F.lit(True)).when(low.isin(*sorted(FALSE_WORDS)), F.lit(False))


_SPARK_TYPE = {"date": "date", "number": "double", "integer": "double", "bool": "boolean"}


def _fail(cond: SparkColumn, column: str, rule: str, value: SparkColumn | None) -> SparkColumn:
    """A failure struct where ``cond`` holds (null elsewhere)."""
    from pyspark.sql import functions as F

    v = value.cast("string") if value is not None else F.lit(None).cast("string")
    return F.when(cond, F.struct(F.lit(column).alias("column"), F.lit(rule).alias("rule"), v.alias("value")))


def _with_fails(df: DataFrame, fails: list[SparkColumn]) -> DataFrame:
    """``df`` with ``fails`` (from :func:`_fail`) appended to its failure list."""
    from pyspark.sql import functions as F

    if not fails:
        return df
    new = F.filter(F.array(*fails), lambda x: x.isNotNull())
    return df.withColumn(_FAILS, F.concat(F.col(_FAILS), new))


def _ok() -> SparkColumn:
    from pyspark.sql import functions as F

    return F.size(F.col(_FAILS)) == 0


@dataclass
class _Checked:
    name: str
    df: DataFrame  # typed contract columns (+ extras), _pos, _file, _fails
    label: str


def _conform(name: str, raw: DataFrame, label: str, is_file: bool, cfg: DataConfig, params: dict[str, Any],
             problems: list[str], warnings: list[str]) -> _Checked | None:
    """Names mapped and checked (:func:`riskml.data.rules.resolve_columns`), every cell typed, the
    rules of one row applied (the value rules of :data:`riskml.data.rules.CHECKS` but ``unique``)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    spec = TABLES[name]
    have = [c for c in raw.columns if c != _CORRUPT]
    constants, defaults = cfg.constants.get(name, {}), cfg.defaults.get(name, {})
    extras = dict(cfg.extra_attributes) if name == "customers" else {}
    found = resolve_columns(have, cfg.column_map.get(name, {}), table=name, where=label, extras=extras,
                            provided=[*constants, *defaults],
                            delimiter=cfg.delimiter if label.endswith(".csv") else None)
    warnings += found.warnings
    if found.problems:
        problems += found.problems
        return None

    fmt = cfg.date_format.get(name) or cfg.date_format.get("*")
    java_fmt = strftime_to_java(fmt) if fmt else None
    fields = {f.name: f.dataType for f in raw.schema.fields}
    corrupt = F.col(_CORRUPT) if _CORRUPT in raw.columns else None

    def kept(col: SparkColumn) -> SparkColumn:  # a CSV line with the wrong number of fields has no value
        return col if corrupt is None else F.when(corrupt.isNull(), col)

    # our column -> (the cell as stored, its Spark type); constants and defaults as the text of a cell
    stored: dict[str, tuple[SparkColumn, Any]] = {}
    for ours in [*spec.column_names, *extras]:
        src = found.source.get(ours)
        if ours in constants:
            stored[ours] = (F.lit(value_text(constants[ours])).cast("string"), T.StringType())
        elif ours in defaults:
            fill = F.lit(value_text(defaults[ours])).cast("string")
            stored[ours] = (fill if src is None else F.coalesce(_text(F.col(f"`{src}`"), fields[src]), fill),
                            T.StringType())
        elif src is not None:
            stored[ours] = (F.col(f"`{src}`"), fields[src])

    kinds = {c.name: c.type for c in spec.columns}
    kinds.update({x: ("number" if a.kind == "numeric" else "categorical") for x, a in extras.items() if x not in kinds})

    def text_of(c: str) -> SparkColumn:
        """The cell as text where a rule or a parser needs it; for native numbers, dates and flags only
        whether it is present (text is slow and not needed)."""
        raw_col, kind = stored[c]
        ctype = kinds[c]
        native = ((ctype in ("number", "integer") and isinstance(kind, T.NumericType))
                  or (ctype == "date" and isinstance(kind, T.DateType | T.TimestampType | T.TimestampNTZType))
                  or (ctype == "bool" and isinstance(kind, T.BooleanType)))
        if not native:  # the parser reads text (a number as a date, 0/1 as a flag: as pandas does)
            return _text(raw_col, kind)
        present = raw_col.isNotNull()
        if isinstance(kind, T.FloatType | T.DoubleType):
            present = present & ~F.isnan(raw_col)
        return F.when(present, F.lit("."))

    # Three projections, each expression once (Spark's code generation fails on one projection that
    # repeats every parser). Stage 1: the cells as stored and as text, the reading order (taken before
    # any shuffle: "first" for duplicates and same-day payments) and the file.
    file_col = F.regexp_extract(F.input_file_name(), r"([^/]*)$", 1) if is_file else F.lit(label)
    stage1 = [kept(col).alias(f"_r__{c}") for c, (col, _) in stored.items()]
    stage1 += [kept(text_of(c)).alias(f"_t__{c}") for c in stored]
    stage1 += [F.monotonically_increasing_id().alias("_pos"), file_col.alias("_file")]
    stage1 += [corrupt.alias(_CORRUPT)] if corrupt is not None else []
    df = raw.select(*stage1)

    # stage 2: typed values
    def parsed(c: str, ctype: str) -> SparkColumn:
        r, t, kind = F.col(f"_r__{c}"), F.col(f"_t__{c}"), stored[c][1]
        if ctype in ("id", "string", "categorical"):
            return F.upper(t) if c == "currency" else t  # ISO 4217 codes: " eur" and "EUR" are one currency
        if ctype == "date":
            return _date(r, t, kind, java_fmt)
        return _bool(r, t, kind) if ctype == "bool" else _number(r, t, kind)

    typed = [(parsed(c, kinds[c]) if c in stored else F.lit(None).cast(_SPARK_TYPE.get(kinds[c], "string"))).alias(c)
             for c in kinds]
    df = df.select("*", *typed)

    # stage 3: the rules of one row
    def col(c: str) -> SparkColumn:
        return F.col(f"`{c}`")

    fails: list[SparkColumn] = []
    for c in spec.columns:
        if c.name not in stored:
            continue
        present = F.col(f"_t__{c.name}").isNotNull()
        if c.type not in ("id", "string"):
            fails.append(_fail(present & col(c.name).isNull(), c.name, PARSE_RULE[c.type], F.col(f"_r__{c.name}")))
        if c.required and not c.nullable:  # an unparseable cell is reported by its parse rule only
            fails.append(_fail(~present, c.name, "missing_value", F.col(f"_r__{c.name}")))
    for x, attr in extras.items():
        if attr.kind == "numeric" and x not in TABLES[name].column_names:
            fails.append(_fail(F.col(f"_t__{x}").isNotNull() & col(x).isNull(), x, "not_a_number", F.col(f"_r__{x}")))
    for check, arg in checks_of(name, params):
        if check.op != "unique":  # unique needs a window: see _duplicates; the value reported as read
            value = F.col(f"_r__{check.column}") if check.column in stored else col(check.column)
            fails.append(_fail(spark_fails(check, arg), check.column, check.rule, value))
    row_fails = F.filter(F.array(*fails), lambda x: x.isNotNull())
    if corrupt is not None:  # pandas drops such a line before any rule
        row_fails = F.when(corrupt.isNull(), row_fails).otherwise(F.array(F.struct(
            F.lit(None).cast("string").alias("column"), F.lit("malformed_row").alias("rule"), corrupt.alias("value"))))
    df = df.select(*[col(c) for c in kinds], "_pos", "_file", row_fails.alias(_FAILS))
    return _Checked(name, df, label)


# operation of a value rule -> the Spark condition under which a value FAILS it (null: passes, as in pandas)
SPARK_OPS: dict[str, Any] = {
    "gt": lambda F, c, a: c <= a,
    "ge": lambda F, c, a: c < a,
    "le": lambda F, c, a: c > a,
    "whole_gt": lambda F, c, a: ~((c > a) & (F.floor(c) == c)),
    "isin": lambda F, c, a: ~c.isin(*a),
    "not_before": lambda F, c, a: c < F.col(f"`{a}`"),
    "not_after": lambda F, c, a: c > F.lit(str(pd.Timestamp(a).date())).cast("date"),
}


def spark_fails(check: Check, arg: Any) -> SparkColumn:
    """The Spark condition under which a row breaks ``check`` (with its resolved argument)."""
    from pyspark.sql import functions as F

    return SPARK_OPS[check.op](F, F.col(f"`{check.column}`"), arg)


# ------------------------------------------------------------------------------ rules across rows
@dataclass(frozen=True)
class _Context:
    base: str | None
    rates: dict[str, float]


def _rate(ctx: _Context, currency: SparkColumn) -> SparkColumn:
    """Units of base currency per unit of ``currency`` (1 without a currency or in the base)."""
    from pyspark.sql import functions as F

    if not ctx.rates or ctx.base is None:
        return F.lit(1.0)
    pairs = [x for k, v in ctx.rates.items() for x in (F.lit(k), F.lit(float(v)))]
    return F.when(currency.isNull() | (currency == ctx.base), F.lit(1.0)).otherwise(
        F.coalesce(F.element_at(F.create_map(*pairs), currency), F.lit(1.0)))


def _duplicates(df: DataFrame, name: str) -> DataFrame:
    """The ``unique`` rules of table ``name``: every copy of a value after the first (in reading order) fails."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    fails = []
    for check, _ in checks_of(name):
        if check.op == "unique":
            key = F.col(check.column)
            nth = F.row_number().over(Window.partitionBy(key).orderBy("_pos"))
            fails.append(_fail(key.isNotNull() & (nth > 1), check.column, check.rule, key))
    return _with_fails(df, fails)


def _status(df: DataFrame, key: str, prefix: str, keep: dict[str, SparkColumn]) -> DataFrame:
    """One row per id of ``df``: ``{prefix}ok`` (its first copy, the only one that can pass, passed) and
    the ``keep`` values of the accepted copy."""
    from pyspark.sql import functions as F

    ok = _ok()
    aggs = [F.max(ok).alias(f"{prefix}ok")] + [F.max(F.when(ok, v)).alias(f"{prefix}{k}") for k, v in keep.items()]
    return df.where(F.col(key).isNotNull()).groupBy(F.col(key).alias(f"{prefix}id")).agg(*aggs)


def _check_customers(df: DataFrame, status: DataFrame) -> DataFrame:
    """Rows whose customer is not in the master, or whose master row was rejected (``status`` from
    :func:`_status` of the customers)."""
    from pyspark.sql import functions as F

    out = df.join(status, df["customer_id"] == status["_c_id"], "left")
    cid = F.col("customer_id")
    out = _with_fails(out, [
        _fail(cid.isNotNull() & F.col("_c_ok").isNull(), "customer_id", "unknown_customer", cid),
        _fail(~F.col("_c_ok"), "customer_id", "customer_rejected", cid),
    ])
    return out.drop("_c_id", "_c_ok")


def _invoice_status(invoices: DataFrame, ctx: _Context) -> DataFrame:
    from pyspark.sql import functions as F

    return _status(invoices, "invoice_id", "_i_", {
        "customer": F.col("customer_id"), "date": F.col("invoice_date"),
        "amount": F.col("amount") * _rate(ctx, F.col("currency")),
    })


def _check_invoices(df: DataFrame, status: DataFrame, date_col: str) -> DataFrame:
    from pyspark.sql import functions as F

    out = df.join(status, df["invoice_id"] == status["_i_id"], "left")
    iid, ok = F.col("invoice_id"), F.coalesce(F.col("_i_ok"), F.lit(False))
    return _with_fails(out, [
        _fail(iid.isNotNull() & F.col("_i_ok").isNull(), "invoice_id", "unknown_invoice", iid),
        _fail(~F.col("_i_ok"), "invoice_id", "invoice_rejected", iid),
        _fail(ok & F.col("customer_id").isNotNull() & (F.col("customer_id") != F.col("_i_customer")),
              "customer_id", "customer_mismatch", F.col("customer_id")),
        _fail(ok & (F.col(date_col) < F.col("_i_date")), date_col, "payment_before_invoice", F.col(date_col)),
    ])


def _greedy_cap(pdf: pd.DataFrame) -> pd.DataFrame:
    """(src, _pos) of the events of one invoice that break ``overpayment`` (:func:`riskml.data.rules.overpaid`)."""
    rejected = overpaid(np.zeros(len(pdf), dtype=np.int64), pdf["day"].to_numpy(), pdf["src"].to_numpy(),
                        pdf["_pos"].to_numpy(), pdf["amount"].to_numpy(), pdf["cap"].to_numpy())
    return pdf.loc[rejected, ["src", "_pos"]].astype({"src": "int32", "_pos": "int64"})


def _overpaid(settlers: list[tuple[DataFrame, str]], status: DataFrame, cfg: DataConfig, ctx: _Context
              ) -> DataFrame:
    """(src, _pos) of the payments (src 0) and adjustments (src 1) that take the amount applied to an
    accepted invoice above ``amount x (1 + pct) + abs``, in date order, payments first on the same
    day. Only the events of invoices over their cap go through the sequential pandas step."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    events = None
    for src, (df, date_col) in enumerate(settlers):
        part = df.where(_ok() & F.col("invoice_id").isNotNull()).select(
            "invoice_id", F.unix_date(F.col(date_col)).alias("day"), F.lit(src).cast("int").alias("src"), "_pos",
            (F.col("amount") * _rate(ctx, F.col("currency"))).alias("amount"))
        events = part if events is None else events.unionByName(part)
    cap = status.where(F.col("_i_ok")).select(
        F.col("_i_id").alias("invoice_id"),
        overpayment_cap(F.col("_i_amount"), cfg).alias("cap"))
    # joined on invoice_id, the window and the grouping reuse that partitioning (one shuffle of the events)
    events = events.join(cap, "invoice_id")
    events = events.withColumn("_total", F.sum("amount").over(Window.partitionBy("invoice_id")))
    over = events.where(F.col("_total") > F.col("cap") + EPS).drop("_total")  # only these can break the rule
    return over.groupBy("invoice_id").applyInPandas(_greedy_cap, "src int, _pos long")


def _mark_overpaid(df: DataFrame, src: int, overpaid: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    mine = overpaid.where(F.col("src") == src).select("_pos", F.lit(True).alias("_over"))
    out = _with_fails(df.join(F.broadcast(mine), "_pos", "left"),
                      [_fail(F.col("_over").isNotNull(), "amount", "overpayment", F.col("amount"))])
    return out.drop("_over")


# ------------------------------------------------------------------------------------------ the ledger
def _empty(spark: SparkSession, name: str) -> DataFrame:
    ddl = ", ".join(f"`{c.name}` {_SPARK_TYPE.get(c.type, 'string')}" for c in TABLES[name].columns)
    return spark.createDataFrame([], f"{ddl}, `_pos` long, `_file` string, `{_FAILS}` {_FAIL_TYPE}")


def _accepted(name: str, df: DataFrame, ctx: _Context, extras: list[str]) -> DataFrame:
    """The accepted rows with the ledger's types: amounts in the base currency, terms as whole days,
    ``disputed`` false when empty."""
    from pyspark.sql import functions as F

    cols = []
    for c in TABLES[name].columns:
        col = F.col(c.name)
        if c.name == "amount":
            col = col * _rate(ctx, F.col("currency")) if "currency" in df.columns else col
        elif c.name == "currency" and ctx.base is not None:
            col = F.lit(ctx.base)
        elif c.name == "payment_terms_days":
            col = col.cast("long")
        elif c.name == "disputed":
            col = F.coalesce(col, F.lit(False))
        cols.append(col.alias(c.name))
    cols += [F.col(f"`{x}`") for x in extras]
    return df.where(_ok()).select(*cols)


def _rejects(name: str, df: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    messages = F.create_map(*[F.lit(x) for kv in RULES.items() for x in kv])
    return (df.where(~_ok()).select(F.lit(name).alias("table"), F.col("_file").alias("file"),
                                    F.col(TABLES[name].key).alias("id"), "customer_id",
                                    F.explode(_FAILS).alias("f"))
            .select("table", "file", "id", "customer_id", F.col("f.column").alias("column"),
                    F.col("f.rule").alias("rule"), F.col("f.value").alias("value"),
                    F.element_at(messages, F.col("f.rule")).alias("message")))


def load_spark_ledger(spark: SparkSession, source: TableSource | SparkLedger, data_config: DataConfig | None = None
                      ) -> SparkLedger:
    """Read, type and validate the ledger tables in ``source`` (see the module docstring).

    The checked tables are persisted (memory and disk) and counted once here (a few Spark jobs), so
    that the features, the rejects and the summary do not repeat the validation; call
    :meth:`SparkLedger.unpersist` when done. Raises :class:`DataError` for what makes the ledger
    unusable, as ``riskml validate`` does (missing tables or columns, several currencies without a base
    currency, a required table without a usable row)."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    if isinstance(source, SparkLedger):
        return source
    cfg = data_config or DataConfig()
    if cfg.flat_file is not None:
        raise DataError("the data config reads a flat file (flat_file), which the Spark engine does not split into "
                        "tables: run `riskml validate` on it, or export one file per table")
    raw = read_raw_tables(spark, source, cfg)
    is_file = not isinstance(source, Mapping)
    params = rule_params(cfg)
    problems: list[str] = []
    warnings: list[str] = []
    checked: dict[str, _Checked] = {}
    for name in TABLE_ORDER:
        if name in raw:
            t = _conform(name, *raw[name], is_file, cfg, params, problems, warnings)
            if t is not None:
                checked[name] = t
    if problems:
        raise DataError(problems)
    base, rates = base_and_rates(cfg)
    ctx = _Context(base, rates if base is not None else {})

    frames = {n: _duplicates(t.df, n) for n, t in checked.items()}
    for name in TABLES:
        if name not in frames:
            frames[name] = _empty(spark, name)
    # each step is persisted once, in dependency order, so that no rule is evaluated twice
    persisted: list[DataFrame] = []

    def keep(df: DataFrame) -> DataFrame:
        persisted.append(df.persist(StorageLevel.MEMORY_AND_DISK))
        return persisted[-1]

    customers = keep(frames["customers"])
    known = keep(_status(customers, "customer_id", "_c_", {}))
    if known.count() <= BROADCAST_CUSTOMERS:  # sent to every task: no shuffle of the ledger by customer
        known = F.broadcast(known)
    invoices = keep(_check_customers(frames["invoices"], known))
    status = keep(_invoice_status(invoices, ctx))
    settlers = [(keep(_check_invoices(_check_customers(frames[n], known), status, d)), d)
                for n, d in (("payments", "payment_date"), ("adjustments", "date"))]
    over = keep(_overpaid(settlers, status, cfg, ctx))
    checked_frames = {
        "customers": customers, "invoices": invoices,
        "payments": _mark_overpaid(settlers[0][0], 0, over),
        "adjustments": _mark_overpaid(settlers[1][0], 1, over),
        "orders": keep(_check_customers(frames["orders"], known)),
    }
    try:
        summary, currencies = _summarise(checked_frames, checked)
        if base is None:  # as riskml validate: the one currency seen is the base; several are fatal
            if len(currencies) > 1:
                raise DataError(several_currencies(currencies))
            ctx = _Context(currencies[0] if currencies else None, {})
    except DataError:
        for df in persisted:
            df.unpersist()
        raise
    rejects = functools.reduce(lambda a, b: a.unionByName(b),
                               [_rejects(name, checked_frames[name]) for name in TABLE_ORDER])
    why = {}
    for name in unusable_tables(summary):  # rare: one small job for each table whose every row was rejected
        counts = rejects.where(F.col("table") == name).groupBy("rule", "column").count().collect()
        why[name] = why_text((r["rule"], r["column"], int(r["count"])) for r in counts)
    fatal, verdict = ledger_verdict(summary, why=why)
    extras = list(cfg.extra_attributes)
    tables = {n: _accepted(n, checked_frames[n], ctx, extras if n == "customers" else []) for n in TABLES}
    ledger = SparkLedger(tables=tables, rejects=rejects, summary=summary, extra_attributes=dict(cfg.extra_attributes),
                         warnings=list(dict.fromkeys(warnings + verdict)), source=_label(source),
                         _persisted=persisted)
    if fatal:
        ledger.unpersist()
        raise DataError(fatal)
    return ledger


def _label(source: TableSource) -> str:
    if isinstance(source, Mapping):
        return ", ".join(f"{k}={v if isinstance(v, str) else 'DataFrame'}" for k, v in source.items())
    return str(source)


def _summarise(frames: dict[str, DataFrame], checked: dict[str, _Checked]
               ) -> tuple[pd.DataFrame, list[str]]:
    """Rows read, accepted and rejected per supplied table, and the currencies of the rows
    (accepted or not, as riskml validate counts them; up to 10), in one aggregation over the checked
    tables."""
    from pyspark.sql import functions as F

    names = [n for n in TABLE_ORDER if n in checked]
    parts = [frames[n].select(F.lit(n).alias("table"), _ok().alias("ok"),
                              (F.col("currency") if "currency" in frames[n].columns
                               else F.lit(None).cast("string")).alias("currency"))
             for n in names]
    got = (functools.reduce(lambda a, b: a.unionByName(b), parts).groupBy("table")
           .agg(F.count(F.lit(1)).alias("n"), F.count_if("ok").alias("ok"),
                F.slice(F.array_sort(F.collect_set("currency")), 1, 10).alias("currencies"))
           .collect())
    got = {r["table"]: r for r in got}
    rows, currencies = [], set()
    for name in names:
        read, accepted = int(got[name]["n"]), int(got[name]["ok"])
        currencies |= set(got[name]["currencies"] or [])
        rows.append({"table": name, "file": checked[name].label, "read": read, "accepted": accepted,
                     "rejected": read - accepted})
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)), sorted(currencies)


__all__ = [
    "REJECT_COLUMNS",
    "SUMMARY_COLUMNS",
    "SparkLedger",
    "TableSource",
    "load_spark_ledger",
    "read_raw_tables",
    "strftime_to_java",
]
