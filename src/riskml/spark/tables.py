"""Ledger tables on Spark: read them (a Parquet/CSV directory, catalog tables or DataFrames), give them
the contract's names and types, and apply the validation rules that can run row by row on a cluster.

The result, a :class:`SparkLedger`, holds one typed DataFrame per contract table (canonical column
names, every contract column present, the same meaning as :class:`riskml.data.ledger.Ledger`) and a
``rejects`` DataFrame listing every row dropped, with its table, id, customer, column and rule.

Rules applied on Spark (``validate=True``), each row failing at most one (the first that fails):

* required value missing; a date, number or flag that cannot be parsed;
* amounts ``> 0``, credit limit ``>= 0``, payment terms a whole number ``> 0``, due date on or after
  the invoice date, adjustment kind among ``credit_note``, ``write_off``, ``deduction``;
* event dates after the data's own as-of (``DataConfig.as_of``), a currency other than
  ``DataConfig.base_currency`` when one is set;
* duplicate ids (every copy is rejected: Spark rows have no order to pick a "first" copy by);
* references, against the rows accepted so far: unknown customer, unknown invoice, an invoice that
  belongs to another customer, a payment dated before its invoice.

Not applied on Spark (they stay with ``riskml validate`` on the pandas path): the overpayment tolerance
across the payments of an invoice, and currency conversion with ``fx_rates`` (the Spark engine refuses
a config that sets rates rather than score unconverted amounts). ``docs/spark.md`` says the same.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from riskml.config import DataConfig
from riskml.data.contract import ADJUSTMENT_KINDS, EVENT_DATE, TABLES, Column
from riskml.errors import ConfigError, DataError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import Column as SparkColumn
    from pyspark.sql import DataFrame, SparkSession

# a ledger directory (local path or URI), or {table: DataFrame or catalog table name}
TableSource: TypeAlias = "str | Path | Mapping[str, DataFrame | str]"

REJECT_COLUMNS = ("table", "id", "customer_id", "column", "rule")

# strftime directive -> Java DateTimeFormatter pattern (the subset dates in ERP exports use)
_STRFTIME = {"%Y": "yyyy", "%y": "yy", "%m": "MM", "%d": "dd", "%b": "MMM", "%B": "MMMM", "%H": "HH",
             "%M": "mm", "%S": "ss", "%j": "DDD", "%%": "%"}


@dataclass
class SparkLedger:
    """Typed, validated ledger tables as Spark DataFrames (see the module docstring).

    ``tables`` maps every contract table name to a DataFrame with the contract's columns in contract
    order (customers also carry the declared extra attributes); optional tables that were not supplied
    are empty. ``rejects`` lists the rows dropped (columns ``REJECT_COLUMNS``)."""

    tables: dict[str, DataFrame]
    rejects: DataFrame
    extra_attributes: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    def row_counts(self) -> dict[str, int]:
        """Accepted rows per table (runs one Spark job per table)."""
        return {name: df.count() for name, df in self.tables.items()}

    def reject_counts(self) -> dict[tuple[str, str], int]:
        """{(table, rule): rows rejected} (one Spark job)."""
        rows = self.rejects.groupBy("table", "rule").count().collect()
        return {(r["table"], r["rule"]): int(r["count"]) for r in rows}


# ------------------------------------------------------------------------------------------- reading
def strftime_to_java(fmt: str) -> str:
    """A strftime date format (as ``DataConfig.date_format`` holds) as a Spark/Java pattern.

    ``'%d/%m/%Y'`` -> ``'dd/MM/yyyy'``. Literal letters are quoted; unsupported directives raise."""
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == "%":
            tok = fmt[i:i + 2]
            if tok not in _STRFTIME:
                raise ConfigError(f"date_format {fmt!r}: the Spark engine does not support {tok!r}; "
                                  f"use one of {' '.join(sorted(_STRFTIME))}")
            out.append(_STRFTIME[tok])
            i += 2
        else:
            ch = fmt[i]
            out.append(f"'{ch}'" if ch.isalpha() else ("''" if ch == "'" else ch))
            i += 1
    return "".join(out)


def has_scheme(path: str) -> bool:
    """Whether ``path`` is a URI (s3a://, dbfs:/, file:/ ...) rather than a local path (C:\\ is local)."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:/", path) is not None and not re.match(r"^[A-Za-z]:[\\/]", path)


def _exists(spark: SparkSession, path: str) -> bool:
    """Whether ``path`` (a local path or a URI such as s3a://, abfss://, dbfs:/) exists."""
    if not has_scheme(path) or path.startswith("file:"):
        return Path(path.removeprefix("file:")).exists()
    try:  # classic Spark: ask the Hadoop file system the path lives on
        jvm = spark._jvm  # type: ignore[attr-defined]
        hpath = jvm.org.apache.hadoop.fs.Path(path)
        return bool(hpath.getFileSystem(spark._jsc.hadoopConfiguration()).exists(hpath))  # type: ignore[attr-defined]
    except Exception:  # Spark Connect has no JVM handle: try to read it instead
        from pyspark.errors import AnalysisException

        try:
            spark.read.format("binaryFile").load(path).limit(0).collect()
            return True
        except AnalysisException:
            return False


def _find_table(spark: SparkSession, root: str, name: str) -> tuple[str, str] | None:
    """(path, format) of table ``name`` under ``root``: ``name.parquet``, ``name/`` (a Parquet dataset,
    as Spark writes) or ``name.csv`` (a file or a directory of part files); None when absent."""
    base = root.rstrip("/")
    for suffix, fmt in ((".parquet", "parquet"), ("", "parquet"), (".csv", "csv")):
        cand = f"{base}/{name}{suffix}"
        if _exists(spark, cand):
            return cand, fmt
    return None


def read_raw_tables(spark: SparkSession, source: TableSource) -> dict[str, tuple[DataFrame, str]]:
    """{table: (DataFrame as stored, label for messages)} for every table present in ``source``.

    ``source`` is a ledger directory (local path or URI) or a mapping {table: DataFrame or catalog
    table name}. A missing required table raises :class:`DataError` naming where it was looked for."""
    out: dict[str, tuple[DataFrame, str]] = {}
    if isinstance(source, Mapping):
        unknown = sorted(set(source) - set(TABLES))
        if unknown:
            raise DataError(f"unknown ledger tables {unknown}; expected among {sorted(TABLES)}")
        for name, value in source.items():
            if isinstance(value, str):
                if not spark.catalog.tableExists(value):
                    raise DataError(f"{name}: catalog table {value!r} not found")
                out[name] = (spark.table(value), f"table {value}")
            else:
                out[name] = (value, f"{name} (DataFrame)")
        missing = [t.name for t in TABLES.values() if t.required and t.name not in out]
        if missing:
            raise DataError([f"required table {m!r} not given" for m in missing])
        return out
    root = str(source)
    if not _exists(spark, root):
        raise DataError(f"{root}: ledger directory not found")
    problems = []
    for name, table in TABLES.items():
        found = _find_table(spark, root, name)
        if found is None:
            if table.required:
                problems.append(f"{root}: required table {name!r} missing (expected {name}.parquet, "
                                f"{name}/ or {name}.csv)")
            continue
        path, fmt = found
        reader = spark.read.option("header", "true") if fmt == "csv" else spark.read
        out[name] = (reader.format(fmt).load(path), path)
    if problems:
        raise DataError(problems)
    return out


# ------------------------------------------------------------------------------------------- typing
def _date_format(cfg: DataConfig, table: str) -> str | None:
    fmt = cfg.date_format.get(table) or cfg.date_format.get("*")
    return strftime_to_java(fmt) if fmt else None


def _typed(raw: SparkColumn, src_type: Any, ctype: str, date_fmt: str | None) -> SparkColumn:
    """``raw`` converted to the contract type; values that cannot be converted become null."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if ctype == "date":
        if isinstance(src_type, T.DateType):
            return raw
        if isinstance(src_type, T.TimestampType | T.TimestampNTZType):
            return F.to_date(raw)
        if isinstance(src_type, T.LongType):
            # Parquet TIMESTAMP(NANOS) as pandas writes it, read as nanoseconds since 1970-01-01 (see
            # riskml.spark.engine.default_conf); small integers are dates written as numbers (20260930)
            nanos = F.when(F.abs(raw) > F.lit(10**12), F.to_date(F.timestamp_micros(F.floor(raw / 1000))))
            text = raw.cast("string")
            as_text = F.try_to_timestamp(text, F.lit(date_fmt or "yyyyMMdd"))
            return F.coalesce(nanos, F.when(F.abs(raw) <= F.lit(10**12), F.to_date(as_text)))
        text = F.trim(raw.cast("string"))
        ts = F.try_to_timestamp(text, F.lit(date_fmt)) if date_fmt else F.try_to_timestamp(text)
        return F.to_date(ts)
    if ctype in ("number", "integer"):
        if isinstance(src_type, T.StringType):
            raw = F.trim(raw)
        num = raw.try_cast("double")
        num = F.when(~F.isnan(num) & (F.abs(num) != F.lit(float("inf"))), num)
        if ctype == "integer":
            return F.when(num == F.floor(num), num.cast("long"))
        return num
    if ctype == "bool":
        if isinstance(src_type, T.BooleanType):
            return raw
        return F.trim(raw.cast("string")).try_cast("boolean")
    return F.when(F.trim(raw.cast("string")) != "", raw.cast("string"))  # ids and strings: "" = missing


def _spark_type(ctype: str) -> str:
    return {"date": "date", "number": "double", "integer": "long", "bool": "boolean"}.get(ctype, "string")


@dataclass
class _Conformed:
    """A table with its typed columns (``c``) and the rule failing on each row (``_rule``), if any."""

    name: str
    df: DataFrame  # canonical typed columns + "_rule" (null = passes the row rules)
    label: str


def _row_rules(name: str, cols: dict[str, SparkColumn], raw_present: dict[str, SparkColumn],
               cfg: DataConfig) -> list[tuple[str, SparkColumn]]:
    """(``"column: rule"``, failing condition) pairs of the per-row rules of table ``name``."""
    from pyspark.sql import functions as F

    table = TABLES[name]
    rules: list[tuple[str, SparkColumn]] = []
    for c in table.columns:
        if c.name not in cols:
            continue
        if c.type in ("date", "number", "integer", "bool"):
            what = {"integer": "a whole number"}.get(c.type, f"a {c.type}")
            rules.append((f"{c.name}: not {what}", raw_present[c.name] & cols[c.name].isNull()))
        if not c.nullable and c.required:
            rules.append((f"{c.name}: missing", cols[c.name].isNull()))
    if "amount" in cols:
        rules.append(("amount: must be > 0", cols["amount"] <= 0))
    if name == "customers":
        rules.append(("credit_limit: must be >= 0", cols["credit_limit"] < 0))
        rules.append(("payment_terms_days: must be > 0", cols["payment_terms_days"] <= 0))
    if name == "invoices":
        rules.append(("due_date: before invoice_date", cols["due_date"] < cols["invoice_date"]))
    if name == "adjustments":
        rules.append((f"kind: not one of {', '.join(ADJUSTMENT_KINDS)}", ~cols["kind"].isin(*ADJUSTMENT_KINDS)))
    if cfg.as_of and name in EVENT_DATE:
        limit = F.lit(str(cfg.as_of)).cast("date")
        rules.append((f"{EVENT_DATE[name]}: after the data's as-of {cfg.as_of}", cols[EVENT_DATE[name]] > limit))
    if cfg.base_currency and "currency" in cols:
        rules.append((f"currency: not the base currency {cfg.base_currency}",
                      cols["currency"].isNotNull() & (cols["currency"] != F.lit(cfg.base_currency))))
    return rules


def _first_failing(rules: list[tuple[str, SparkColumn]]) -> SparkColumn:
    from pyspark.sql import functions as F

    if not rules:
        return F.lit(None).cast("string")
    return F.coalesce(*[F.when(cond, F.lit(label)) for label, cond in rules])


def conform_table(name: str, df: DataFrame, label: str, cfg: DataConfig, validate: bool = True) -> _Conformed:
    """Table ``name`` with the contract's column names and types (``cfg.column_map`` renames first).

    A missing required column raises :class:`DataError` naming the table's source and the column; a
    missing optional column is added empty (``disputed`` as false). Customers keep the declared extra
    attributes (numeric as double, categorical as string)."""
    from pyspark.sql import functions as F

    table = TABLES[name]
    mapping = cfg.column_map.get(name, {})
    have = set(df.columns)
    wanted: list[Column] = list(table.columns)
    extras = cfg.extra_attributes if name == "customers" else {}
    missing = [f"{label}: required column {c.name!r} missing"
               + (f" (mapped from {mapping[c.name]!r})" if c.name in mapping else "")
               for c in wanted if c.required and mapping.get(c.name, c.name) not in have]
    missing += [f"{label}: declared extra attribute {x!r} missing" for x in extras
                if mapping.get(x, x) not in have]
    if missing:
        raise DataError(missing)

    fields = {f.name: f.dataType for f in df.schema.fields}
    date_fmt = _date_format(cfg, name)
    typed: dict[str, SparkColumn] = {}
    present: dict[str, SparkColumn] = {}
    for c in wanted:
        src = mapping.get(c.name, c.name)
        if src in have:
            raw = F.col(f"`{src}`")
            typed[c.name] = _typed(raw, fields[src], c.type, date_fmt)
            present[c.name] = raw.isNotNull() & (F.trim(raw.cast("string")) != "")
        else:
            typed[c.name] = F.lit(False) if c.type == "bool" else F.lit(None).cast(_spark_type(c.type))
            present[c.name] = F.lit(False)
    if "disputed" in typed:
        typed["disputed"] = F.coalesce(typed["disputed"], F.lit(False))
    for x, attr in extras.items():
        raw = F.col(f"`{mapping.get(x, x)}`")
        typed[x] = raw.cast("string") if attr.kind == "categorical" else raw.try_cast("double")
    rule = _first_failing(_row_rules(name, typed, present, cfg)) if validate else F.lit(None).cast("string")
    out = df.select(*[v.alias(k) for k, v in typed.items()], rule.alias("_rule"))
    return _Conformed(name, out, label)


# ------------------------------------------------------------------------------------------ validation
def _flag_duplicates(t: _Conformed) -> DataFrame:
    from pyspark.sql import functions as F

    key = TABLES[t.name].key
    dups = (t.df.groupBy(key).count().where(F.col("count") > 1)
            .select(F.col(key).alias("_dup_key"), F.lit(True).alias("_dup")))
    joined = t.df.join(dups, t.df[key].eqNullSafe(dups["_dup_key"]), "left")
    rule = F.coalesce(F.col("_rule"), F.when(F.col("_dup"), F.lit(f"{key}: duplicate id")))
    return joined.select(*[c for c in t.df.columns if c != "_rule"], rule.alias("_rule"))


def _check_references(name: str, df: DataFrame, customers: DataFrame, invoices: DataFrame | None) -> DataFrame:
    """``df`` with reference rules added to ``_rule`` (against accepted customers and invoices)."""
    from pyspark.sql import functions as F

    cols = [c for c in df.columns if c != "_rule"]
    known = customers.select(F.col("customer_id").alias("_c_id"), F.lit(True).alias("_c_known"))
    out = df.join(known, df["customer_id"] == known["_c_id"], "left")
    rule = F.coalesce(F.col("_rule"), F.when(F.col("_c_known").isNull(), F.lit("customer_id: unknown customer")))
    if invoices is not None and name in ("payments", "adjustments"):
        inv = invoices.select(F.col("invoice_id").alias("_i_id"), F.col("customer_id").alias("_i_cust"),
                              F.col("invoice_date").alias("_i_date"))
        out = out.join(inv, out["invoice_id"] == inv["_i_id"], "left")
        applied = F.col("invoice_id").isNotNull()
        conds = [
            (applied & F.col("_i_id").isNull(), "invoice_id: unknown invoice"),
            (applied & (F.col("_i_cust") != F.col("customer_id")), "invoice_id: invoice of another customer"),
        ]
        if name == "payments":
            conds.append((applied & (F.col("payment_date") < F.col("_i_date")), "payment_date: before its invoice"))
        rule = F.coalesce(rule, *[F.when(c, F.lit(label)) for c, label in conds])
    return out.select(*cols, rule.alias("_rule"))


def _rejects_of(name: str, df: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    rule = F.col("_rule")
    return df.where(rule.isNotNull()).select(
        F.lit(name).alias("table"), F.col(TABLES[name].key).alias("id"), F.col("customer_id"),
        F.substring_index(rule, ":", 1).alias("column"),
        F.trim(F.expr("substr(_rule, instr(_rule, ':') + 1)")).alias("rule"),
    )


def _empty(spark: SparkSession, name: str) -> DataFrame:
    ddl = ", ".join(f"`{c.name}` {_spark_type(c.type)}" for c in TABLES[name].columns)
    return spark.createDataFrame([], f"{ddl}, `_rule` string")


def load_spark_ledger(spark: SparkSession, source: TableSource | SparkLedger, data_config: DataConfig | None = None,
                      validate: bool = True) -> SparkLedger:
    """Read, type and (``validate=True``) validate the ledger tables in ``source`` (see module docs).

    Nothing is computed yet: the result's DataFrames are lazy plans. With ``validate=False`` only the
    typing and the customer reference check run (rows of customers missing from the master would
    otherwise be grouped with no master row); use it for tables an upstream job already validated."""
    if isinstance(source, SparkLedger):
        return source
    cfg = data_config or DataConfig()
    if cfg.fx_rates:
        raise ConfigError("data config sets fx_rates: the Spark engine does not convert currencies; convert "
                          "amounts to the base currency upstream or use the pandas engine")
    raw = read_raw_tables(spark, source)
    conformed = {}
    for name in TABLES:
        if name in raw:
            df, label = raw[name]
            t = conform_table(name, df, label, cfg, validate)
            conformed[name] = _Conformed(name, _flag_duplicates(t) if validate else t.df, label)
        else:
            conformed[name] = _Conformed(name, _empty(spark, name), f"{name} (not supplied)")

    def accepted(df: DataFrame) -> DataFrame:
        return df.where(df["_rule"].isNull())

    checked = {"customers": conformed["customers"].df}
    customers_ok = accepted(checked["customers"])
    checked["invoices"] = _check_references("invoices", conformed["invoices"].df, customers_ok, None)
    invoices_ok = accepted(checked["invoices"])
    for name in ("payments", "adjustments", "orders"):
        checked[name] = _check_references(name, conformed[name].df, customers_ok,
                                          invoices_ok if validate else None)
    extras = list(cfg.extra_attributes)
    tables, rejects = {}, None
    for name, df in checked.items():
        keep = TABLES[name].column_names + (extras if name == "customers" else [])
        tables[name] = accepted(df).select(*keep)
        r = _rejects_of(name, df)
        rejects = r if rejects is None else rejects.unionByName(r)
    label = str(source) if not isinstance(source, Mapping) else ", ".join(
        f"{k}={v if isinstance(v, str) else 'DataFrame'}" for k, v in source.items())
    return SparkLedger(tables=tables, rejects=rejects, extra_attributes=dict(cfg.extra_attributes),
                       source=label)


__all__ = [
    "REJECT_COLUMNS",
    "SparkLedger",
    "TableSource",
    "conform_table",
    "load_spark_ledger",
    "read_raw_tables",
    "strftime_to_java",
]
