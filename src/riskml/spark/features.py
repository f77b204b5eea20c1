"""Features on Spark: the pandas feature code applied to groups of whole customers.

How it works (no second implementation of any feature):

1. The ledger tables are read, typed and validated on Spark (:mod:`riskml.spark.tables`); rows dated
   after the as-of date are dropped there (the feature code ignores them anyway).
2. They are stacked into one long DataFrame: one row per ledger row, a ``_table`` tag, the shared
   ``customer_id`` and every other column prefixed with its table (``invoices__amount``). A union
   works for any number of tables (``cogroup`` pairs only two) and keeps each row typed.
3. ``groupBy(bucket).applyInPandas``, where the bucket is a hash of ``customer_id``: all rows of a
   customer land in the same group; each group reaches a Python worker as one pandas frame, which
   rebuilds a small typed :class:`~riskml.data.ledger.Ledger` (the dtypes of :mod:`riskml.data.ledger`)
   and calls :func:`riskml.features.build_features` on it.

Customers are independent in the feature engine, so the features of a group of customers equal those
computed on the whole ledger (``tests/spark`` checks it). A group holds many customers rather than one
because a call of ``build_features`` costs about 40 ms whatever its size (0.1-0.2 ms per customer on
top): ``groupBy("customer_id")`` would spend nearly all the time on that fixed cost.
``customers_per_group`` sets the size; the memory a worker needs grows with it (a group is held in
memory whole, whatever ``spark.sql.execution.arrow.maxRecordsPerBatch`` says).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from riskml.config import DataConfig, ExtraAttribute, FeatureConfig
from riskml.data.contract import EVENT_DATE, TABLES
from riskml.data.ledger import Ledger, empty_table
from riskml.features import build_features, feature_specs
from riskml.spark.output import SparkRun, check_parquet_target, session_for_run, write_parquet, write_rejects
from riskml.spark.tables import SparkLedger, TableSource, load_spark_ledger

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

TABLE_TAG = "_table"
GROUP_COL = "_group"
SEP = "__"
DEFAULT_CUSTOMERS_PER_GROUP = 2_000


def long_column(table: str, column: str) -> str:
    """The column of the long frame that holds ``table.column`` (``customer_id`` is shared)."""
    return "customer_id" if column == "customer_id" else f"{table}{SEP}{column}"


def feature_columns(extra: Mapping[str, ExtraAttribute] | None = None) -> list[tuple[str, str]]:
    """(name, Spark type) of every column ``build_features`` returns, in its order: the keys, the
    registry's features (double; categoricals string), then the declared customer attributes."""
    cols = [("customer_id", "string"), ("as_of", "timestamp_ntz")]
    for name, spec in feature_specs(dict(extra or {})).items():
        cols.append((name, "string" if spec.kind == "categorical" else "double"))
    return cols


def feature_schema(extra: Mapping[str, ExtraAttribute] | None = None) -> StructType:
    """The Spark schema of the feature table (see :func:`feature_columns`)."""
    from pyspark.sql import types as T

    types = {"string": T.StringType(), "double": T.DoubleType(), "timestamp_ntz": T.TimestampNTZType()}
    return T.StructType([T.StructField(n, types[t], nullable=n != "customer_id") for n, t in feature_columns(extra)])


# ------------------------------------------------------------------------------------- the long frame
def long_frame(ledger: SparkLedger, n_groups: int, as_of: pd.Timestamp | None = None) -> DataFrame:
    """All tables of ``ledger`` stacked into one frame tagged by table, with a customer group number;
    with ``as_of``, without the rows dated after it (as :meth:`Ledger.until`)."""
    from pyspark.sql import functions as F

    parts = []
    for name, df in ledger.tables.items():
        if as_of is not None and name in EVENT_DATE:
            df = df.where(F.col(EVENT_DATE[name]) <= F.lit(str(as_of.date())).cast("date"))
        types = dict(df.dtypes)
        cols = [F.col("customer_id"), F.lit(name).alias(TABLE_TAG)]
        # dates as timestamps: they reach pandas as datetime64, not as Python date objects (slow)
        cols += [(F.col(f"`{c}`").cast("timestamp_ntz") if types[c] == "date" else F.col(f"`{c}`")).alias(
            long_column(name, c)) for c in df.columns if c != "customer_id"]
        parts.append(df.select(*cols))
    out = functools.reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), parts)
    return out.withColumn(GROUP_COL, F.pmod(F.xxhash64("customer_id"), F.lit(n_groups)).cast("int"))


def _as_dtype(values: pd.Series, dtype: Any) -> pd.Series:
    """A long-frame column as the canonical ledger dtype ``dtype``."""
    kind = str(dtype)
    if kind.startswith("datetime64"):
        return pd.to_datetime(values).astype("datetime64[ns]")
    if kind == "bool":
        return values.astype("boolean").fillna(False).astype(bool)
    if kind in ("float64", "int64"):
        return values.astype(kind)
    return values.astype("str")


def ledger_from_long(pdf: pd.DataFrame, extras: Mapping[str, ExtraAttribute] | None = None) -> Ledger:
    """Rebuild the typed :class:`Ledger` of the customers whose rows ``pdf`` (a part of the long frame)
    holds: each table's rows, its canonical columns and the dtypes of :func:`empty_table`."""
    extras = dict(extras or {})
    tag = pdf[TABLE_TAG].to_numpy()
    frames: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        base = empty_table(name)
        wanted = [long_column(name, c) for c in base.columns]
        if name == "customers":
            wanted += [long_column(name, x) for x in extras if x not in base.columns]
        rows = pdf.loc[tag == name, wanted]
        cols = {c: _as_dtype(rows[long_column(name, c)], base[c].dtype) for c in base.columns}
        if name == "customers":
            for x, attr in extras.items():
                if x in cols:
                    continue
                v = rows[long_column(name, x)]
                cols[x] = v.astype("str") if attr.kind == "categorical" else v.astype("float64")
        frames[name] = pd.DataFrame(cols).reset_index(drop=True)
    return Ledger(**frames, extra_attributes=tuple(extras), source="spark group")


def features_of_group(pdf: pd.DataFrame, as_of: pd.Timestamp, config: FeatureConfig,
                      extras: Mapping[str, ExtraAttribute], columns: list[str]) -> pd.DataFrame:
    """The pandas function each Spark group runs: rebuild the group's ledger, build its features."""
    out = build_features(ledger_from_long(pdf, extras), as_of, config)
    return out[columns]


# ------------------------------------------------------------------------------------------ public API
def default_groups(spark: SparkSession, n_customers: int, customers_per_group: int) -> int:
    """Enough groups for ``customers_per_group`` customers each, and at least one per shuffle partition."""
    partitions = int(spark.conf.get("spark.sql.shuffle.partitions", "200") or 200)
    return max(1, partitions, math.ceil(n_customers / max(1, customers_per_group)))


def spark_features(
    spark: SparkSession,
    tables: TableSource | SparkLedger,
    as_of: object,
    feature_config: FeatureConfig | None = None,
    *,
    data_config: DataConfig | None = None,
    customers_per_group: int = DEFAULT_CUSTOMERS_PER_GROUP,
    n_groups: int | None = None,
) -> DataFrame:
    """Features of every accepted customer of the master as of the end of day ``as_of``, on Spark.

    ``tables`` is a ledger directory (local path or URI), a mapping {table: DataFrame or catalog table
    name}, or a :class:`SparkLedger` from :func:`riskml.spark.tables.load_spark_ledger`. The result is
    a lazy DataFrame with the schema of :func:`feature_schema` and the same rows and values as
    :func:`riskml.features.build_features` on the same ledger, in no particular order.

    Example: ``spark_features(spark, "data/demo", "2026-09-30").write.parquet("out/features.parquet")``
    """
    if customers_per_group < 1:
        raise ValueError(f"customers_per_group must be >= 1; got {customers_per_group}")
    if n_groups is not None and n_groups < 1:
        raise ValueError(f"n_groups must be >= 1; got {n_groups}")
    as_of_ts = pd.Timestamp(as_of).normalize()
    config = feature_config or FeatureConfig()
    ledger = load_spark_ledger(spark, tables, data_config)
    extras = dict(ledger.extra_attributes)
    if n_groups is None:
        n_groups = default_groups(spark, ledger.row_counts()["customers"], customers_per_group)
    schema = feature_schema(extras)
    columns = schema.fieldNames()

    def fn(pdf: pd.DataFrame) -> pd.DataFrame:  # shipped to the workers (riskml must be installed there)
        return features_of_group(pdf, as_of_ts, config, extras, columns)

    # an explicit repartition: adaptive execution would merge the groups of a small ledger into one task
    grouped = long_frame(ledger, n_groups, as_of_ts).repartition(n_groups, GROUP_COL).groupBy(GROUP_COL)
    return grouped.applyInPandas(fn, schema=schema)


def run_features(
    data: TableSource,
    as_of: object,
    out: str | Path,
    *,
    data_config: DataConfig | None = None,
    feature_config: FeatureConfig | None = None,
    rejects_out: str | Path | None = None,
    spark: SparkSession | None = None,
    master: str | None = None,
    conf: Mapping[str, Any] | None = None,
    customers_per_group: int = DEFAULT_CUSTOMERS_PER_GROUP,
) -> SparkRun:
    """``riskml features --engine spark``: read and validate the ledger on Spark, build the features as
    of ``as_of`` and write them to ``out`` as Parquet (a directory of part files, replaced only once
    complete); ``rejects_out`` also writes the rejected ledger rows. Uses ``spark`` if given, else
    :func:`riskml.spark.engine.spark_session` (``master``, ``conf``).

    Example: ``run_features("data/demo", "2026-09-30", "out/features.parquet").rows``
    """
    target = check_parquet_target(out)
    with session_for_run(spark, master, conf) as session:
        ledger = load_spark_ledger(session, data, data_config)
        try:
            frame = spark_features(session, ledger, as_of, feature_config, customers_per_group=customers_per_group)
            written = write_parquet(frame, target)
            rows = session.read.parquet(written).count()
            rej_path = write_rejects(ledger.rejects, rejects_out) if rejects_out is not None else None
        finally:
            ledger.unpersist()
    return SparkRun(out=written, rows=rows, summary=ledger.summary, warnings=list(ledger.warnings),
                    rejects_out=rej_path)


__all__ = [
    "DEFAULT_CUSTOMERS_PER_GROUP",
    "feature_columns",
    "feature_schema",
    "features_of_group",
    "ledger_from_long",
    "long_frame",
    "run_features",
    "spark_features",
]
