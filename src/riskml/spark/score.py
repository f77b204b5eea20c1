"""Scoring on Spark: the registered MLflow model as a Spark UDF, then the scoring policies of
:mod:`riskml.scoring` on each batch of customers.

1. Features: :func:`riskml.spark.features.spark_features` (the pandas feature code per group).
2. PD and reason codes: ``mlflow.pyfunc.spark_udf`` of the registered model, its result type taken
   from the model's signature (``pd``, ``grade``, ``reason_1..n``, ``reason_codes``), in the current
   Python environment of the workers (``env_manager="local"``: riskml must be installed there).
3. Every decision (grade, limit, action, approval level, hold, release amount, collections track,
   review and next review, money, notice, persona): the pure
   :func:`riskml.scoring.policy.apply_policy` itself on each Arrow batch (``mapInPandas``), fed the
   served PD; the output columns are built by :func:`riskml.scoring.score.scores_frame`, as in the pandas
   engine; the reason texts are the served model's. Customers are independent in every policy, so a
   batch gives the rows the whole table would (:func:`score_batch` is the pandas function of a batch).

So the numbers equal those of ``riskml score`` on the same ledger (``tests/spark`` checks it), with
these differences (``docs/spark.md``): no per-feature contributions file (the served model returns
PD, grade and reasons only); ``data_fingerprint`` is a Spark fingerprint (``spark-...``, an
order-independent hash of the accepted rows up to the as-of date; the pandas one needs every row on one
machine); a model that fails on a batch fails the job (the pandas path isolates the failing rows).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from riskml.config import DataConfig, FeatureConfig, ScoringConfig
from riskml.data.contract import EVENT_DATE
from riskml.errors import ConfigError, ModelError, RiskmlError
from riskml.features import feature_specs
from riskml.spark.features import DEFAULT_CUSTOMERS_PER_GROUP, spark_features
from riskml.spark.output import SparkRun, check_parquet_target, session_for_run, write_parquet
from riskml.spark.tables import SparkLedger, TableSource, has_scheme, load_spark_ledger

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

SERVED = "_served_"  # prefix of the served model's outputs in the scored frame
PREVIOUS = "_previous_"  # prefix of the previous scores joined onto the features


def score_batch(pdf: pd.DataFrame, *, feature_cols: list[str], names: list[str], categories: Mapping[str, Any],
                config: ScoringConfig, model_info: Mapping[str, Any], fingerprint: str,
                previous_as_of: pd.Timestamp | None, reason_cols: list[str]) -> pd.DataFrame:
    """The scores of one batch: the features and the served model's outputs (``_served_pd``,
    ``_served_reason_*``) of each row, plus the previous scores joined on (``_previous_grade``, ...), in;
    the scores output (:func:`riskml.scoring.score.output_columns`) out. Decisions are
    :func:`~riskml.scoring.policy.apply_policy`'s; a row with a feature that is not a number or an invalid
    served PD is not scored (``scored`` False, the reason in ``score_error``), as in the pandas engine."""
    from riskml.scoring.policy import DECISION_COLUMNS, PREVIOUS_FEATURES, apply_policy
    from riskml.scoring.score import row_problems, scores_frame

    pdf = pdf.reset_index(drop=True)
    feats = pdf[feature_cols]
    previous = None
    if f"{PREVIOUS}grade" in pdf:
        has = pdf[f"{PREVIOUS}grade"].notna().to_numpy()
        previous = pd.DataFrame({"customer_id": pdf.loc[has, "customer_id"].astype("str"),
                                 "grade": pdf.loc[has, f"{PREVIOUS}grade"].astype("str"),
                                 "as_of": previous_as_of})
        for col in PREVIOUS_FEATURES:
            if f"{PREVIOUS}{col}" in pdf:
                previous[col] = pdf.loc[has, f"{PREVIOUS}{col}"].astype("float64")
    errors = row_problems(feats[names], set(categories))
    p = pdf[f"{SERVED}pd"].to_numpy("float64")
    bad = (errors == "") & ~(np.isfinite(p) & (p >= 0) & (p <= 1))
    errors = np.where(bad, "model returned no valid PD for this row", errors).astype(object)
    scored = errors == ""
    p = np.where(scored, p, np.nan)
    decisions = apply_policy(feats, p, config, previous, scored, errors)
    cols: dict[str, np.ndarray] = {c: decisions[c].to_numpy() for c in DECISION_COLUMNS}
    cols["pd"] = p
    for col in reason_cols:
        served = pdf[f"{SERVED}{col}"].astype("object").to_numpy()
        cols[col] = np.where(scored, served, "")
    cols["reason_1"] = np.where(scored, cols["reason_1"], np.array(["Not scored: " + str(e) for e in errors],
                                                                    dtype=object))
    return scores_frame(feats, cols, scored, errors, config, model_info, fingerprint)


def scores_schema(features: StructType, model: Any, config: ScoringConfig, specs: Mapping[str, Any]) -> StructType:
    """The Spark schema of the scores: the columns and types :func:`score_batch` returns, read off its output
    for one made-up row of ``features`` (so the schema follows the scoring code). The grade, an ordered
    categorical in pandas, is a string column."""
    import pyarrow as pa
    from pyspark.sql import types as T
    from pyspark.sql.pandas.types import from_arrow_type

    row = {}
    for f in features.fields:
        if isinstance(f.dataType, T.StringType):
            row[f.name] = pd.Series(["x"], dtype="str")
        elif isinstance(f.dataType, T.TimestampNTZType | T.TimestampType):
            row[f.name] = pd.Series([pd.Timestamp("2000-01-31")], dtype="datetime64[ns]")
        else:
            row[f.name] = pd.Series([np.nan], dtype="float64")
    reason_cols = [*(f"reason_{j + 1}" for j in range(config.n_reasons)), "reason_codes"]
    row[f"{SERVED}pd"] = pd.Series([0.5])
    for col in reason_cols:
        row[f"{SERVED}{col}"] = pd.Series([""], dtype="str")
    names = [str(f) for f in model.feature_names_]
    out = score_batch(pd.DataFrame(row), feature_cols=[f.name for f in features.fields], names=names,
                      categories=getattr(model, "categories_", {}) or {}, config=config, model_info={},
                      fingerprint="", previous_as_of=None, reason_cols=reason_cols)
    out["grade"] = out["grade"].astype("str")
    fields = []
    for f in pa.Schema.from_pandas(out, preserve_index=False):
        dtype = T.TimestampNTZType() if pa.types.is_timestamp(f.type) else from_arrow_type(f.type)
        fields.append(T.StructField(f.name, dtype))
    return T.StructType(fields)


def pyfunc_uri(model_uri: str) -> str:
    """The URI ``spark_udf`` loads: a registry or run URI as given; a local directory only when it is an
    MLflow model (holds ``MLmodel``), not a bare riskml model directory."""
    if model_uri.startswith(("models:/", "runs:/")) or has_scheme(model_uri):
        return model_uri
    path = Path(model_uri)
    if (path / "MLmodel").exists():
        return str(path.resolve())
    raise ModelError(f"{model_uri}: the Spark engine scores with an MLflow model (models:/NAME@alias, "
                     "runs:/RUN/model, or a directory holding an MLmodel file); this is a riskml model "
                     "directory: register it (riskml train does) or use --engine pandas")


def served_udf(spark: SparkSession, model_uri: str, n_reasons: int) -> Any:
    """``mlflow.pyfunc.spark_udf`` of the model, with the result type of its signature; checked to
    return the PD and ``n_reasons`` reasons."""
    import mlflow.pyfunc

    udf = mlflow.pyfunc.spark_udf(spark, pyfunc_uri(model_uri), env_manager="local")
    fields = set(getattr(udf.returnType, "fieldNames", lambda: [])())
    wanted = {"pd", "reason_codes", *(f"reason_{j + 1}" for j in range(n_reasons))}
    if not wanted <= fields:
        raise ModelError(f"{model_uri}: the model's signature returns {sorted(fields) or udf.returnType}; the "
                         f"Spark engine needs {sorted(wanted)} (a riskml pyfunc model)")
    return udf


def _policy(batches: Iterator[pd.DataFrame], **kw: Any) -> Iterator[pd.DataFrame]:
    """The pandas function of each batch: :func:`score_batch` (the grade as text for Arrow)."""
    for pdf in batches:
        out = score_batch(pdf, **kw)
        out["grade"] = out["grade"].astype("str")
        yield out


def spark_scores(
    spark: SparkSession,
    features: DataFrame,
    model_uri: str,
    model: Any,
    model_info: Mapping[str, Any],
    config: ScoringConfig | None = None,
    *,
    previous: pd.DataFrame | None = None,
    data_fingerprint: str = "",
    extra_attributes: Mapping[str, Any] | None = None,
) -> DataFrame:
    """Scores of every row of ``features`` (a DataFrame of :func:`riskml.spark.features.spark_features`)
    with the MLflow model at ``model_uri``; ``model`` is the same model loaded on the driver
    (:func:`riskml.modeling.registry.load_model`: its feature names, categories and medians) and
    ``previous`` the previous scores as :func:`riskml.scoring.score.load_previous` reads them.
    A lazy DataFrame with :func:`scores_schema`."""
    from pyspark.sql import functions as F

    config = config or ScoringConfig()
    n_model = model.metadata_.n_reasons
    if n_model != config.n_reasons:
        raise ConfigError(f"scoring config n_reasons is {config.n_reasons}, but the model was registered with "
                          f"{n_model} reasons: with --engine spark the reasons come from the served model; set "
                          f"n_reasons: {n_model} or use --engine pandas")
    names = [str(f) for f in model.feature_names_]
    missing = [f for f in names if f not in features.columns]
    if missing:
        raise ModelError(f"the features lack the model's features {missing[:5]}: the model was trained on features "
                         "this riskml version does not build")
    udf = served_udf(spark, model_uri, config.n_reasons)
    reason_cols = [*(f"reason_{j + 1}" for j in range(config.n_reasons)), "reason_codes"]
    feature_cols = list(features.columns)
    served = udf(F.struct(*[F.col(f"`{c}`") for c in names]))
    frame = features.withColumn("_served", served).select(
        *[F.col(f"`{c}`") for c in feature_cols],
        *[F.col(f"_served.{c}").alias(f"{SERVED}{c}") for c in ["pd", *reason_cols]])
    previous_as_of = None
    if previous is not None and len(previous):
        from riskml.scoring.policy import PREVIOUS_FEATURES

        keep = [c for c in ("customer_id", "grade", *PREVIOUS_FEATURES) if c in previous.columns]
        prev = previous[keep].drop_duplicates("customer_id", keep="last")
        prev = prev.assign(customer_id=prev["customer_id"].astype("str"), grade=prev["grade"].astype("str"))
        prev_sdf = spark.createDataFrame(prev.rename(columns={c: f"{PREVIOUS}{c}" for c in keep if c != "customer_id"}))
        frame = frame.join(prev_sdf, "customer_id", "left")
        if "as_of" in previous.columns and previous["as_of"].notna().any():
            previous_as_of = pd.Timestamp(previous["as_of"].dropna().max())
    specs = feature_specs(dict(extra_attributes or {}))
    info = {k: v for k, v in dict(model_info).items() if isinstance(v, str | int | float | bool)}
    categories = dict(getattr(model, "categories_", {}) or {})

    def fn(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        return _policy(batches, feature_cols=feature_cols, model_info=info, names=names, categories=categories,
                       config=config, fingerprint=data_fingerprint, previous_as_of=previous_as_of,
                       reason_cols=reason_cols)

    return frame.mapInPandas(fn, schema=scores_schema(features.schema, model, config, specs))


def ledger_fingerprint(ledger: SparkLedger, as_of: object) -> str:
    """A content hash of the accepted ledger rows dated up to ``as_of`` (what the scores used), as
    ``spark-`` + 16 hex digits: per table the row count and the sum of the rows' 64-bit hashes, which
    no row order changes. Not equal to the pandas engine's fingerprint (that one sorts every row hash
    on one machine)."""
    from pyspark.sql import functions as F

    day = F.lit(str(pd.Timestamp(as_of).date())).cast("date")
    parts = []
    for name, df in ledger.tables.items():
        if name in EVENT_DATE:
            df = df.where(F.col(EVENT_DATE[name]) <= day)
        h = F.xxhash64(*[F.col(f"`{c}`") for c in df.columns]).cast("decimal(20,0)")
        parts.append(df.select(F.lit(name).alias("table"), h.alias("h")))
    rows = functools.reduce(lambda a, b: a.unionByName(b), parts).groupBy("table").agg(
        F.count(F.lit(1)).alias("n"), F.sum("h").cast("string").alias("h"))
    digest = hashlib.sha256()
    for r in sorted(rows.collect(), key=lambda r: r["table"]):
        digest.update(f"{r['table']}:{r['n']}:{r['h']}|".encode())
    return "spark-" + digest.hexdigest()[:16]


# long texts and keys the run summary does not use: not collected to the driver
_NOT_SUMMARISED = ("customer_id", "as_of", "hold_reason", "review_reason", "reason_codes", "model_version",
                   "data_fingerprint", "limit_rationale", "score_error")


def summarise_scores(scores: DataFrame, master_scale: Any = None) -> dict[str, Any]:
    """The run summary of :func:`riskml.scoring.score.summarise`, computed by it: the scores' columns
    other than the long texts are collected to the driver (Arrow; about 100 bytes per customer)."""
    from riskml.scoring.score import summarise

    keep = [c for c in scores.columns if c not in _NOT_SUMMARISED and not c.startswith("reason_")]
    return summarise(scores.select(*keep).toPandas(), master_scale)


def run_score(
    data: TableSource,
    as_of: object,
    out: str | Path,
    model: Any,
    model_info: Mapping[str, Any],
    model_uri: str,
    *,
    config: ScoringConfig | None = None,
    data_config: DataConfig | None = None,
    feature_config: FeatureConfig | None = None,
    extra_attributes: Mapping[str, Any] | None = None,
    previous: pd.DataFrame | None = None,
    spark: SparkSession | None = None,
    master: str | None = None,
    conf: Mapping[str, Any] | None = None,
    customers_per_group: int = DEFAULT_CUSTOMERS_PER_GROUP,
) -> SparkRun:
    """``riskml score --engine spark``: validate the ledger and build the features on Spark, score them
    with the MLflow model at ``model_uri`` (loaded on the driver as ``model``, ``model_info``) and
    write the scores to ``out`` as Parquet (a directory of part files, replaced only once complete).
    ``SparkRun.extra["summary"]`` is the run summary (:func:`summarise_scores`).

    Example: ``model, info = load_model(uri); run_score("data/demo", "2026-09-30", "out/scores.parquet",
    model, info, uri)``
    """
    target = check_parquet_target(out)
    config = config or ScoringConfig()
    pyfunc_uri(model_uri)  # before any Spark work
    with session_for_run(spark, master, conf) as session:
        ledger = load_spark_ledger(session, data, data_config)
        try:
            feats = spark_features(session, ledger, as_of, feature_config, customers_per_group=customers_per_group)
            fingerprint = ledger_fingerprint(ledger, as_of)
            scores = spark_scores(session, feats, model_uri, model, model_info, config, previous=previous,
                                  data_fingerprint=fingerprint, extra_attributes=extra_attributes)
            try:
                written = write_parquet(scores, target)
            except Exception as exc:
                raise _model_failure(exc, model_uri) from None
            summary = summarise_scores(session.read.parquet(written), config.master_scale)
        finally:
            ledger.unpersist()
    return SparkRun(out=written, rows=summary["customers"], summary=ledger.summary, warnings=list(ledger.warnings),
                    extra={"summary": summary, "data_fingerprint": fingerprint})


def _model_failure(exc: Exception, model_uri: str) -> Exception:
    """A failure inside the Python workers (the served model, the policies) as a user-facing error when it
    is a riskml error, else unchanged (a bug)."""
    text = str(exc)
    for cls in (ModelError, ConfigError, RiskmlError):
        marker = f"{cls.__module__}.{cls.__name__}: "
        if marker in text:
            return cls(text.split(marker, 1)[1].splitlines()[0])
    if "MlflowException" in text:
        line = next((ln for ln in text.splitlines() if "MlflowException" in ln), text.splitlines()[0])
        return ModelError(f"{model_uri}: the served model failed on a batch: {line.strip()}")
    return exc


__all__ = ["ledger_fingerprint", "score_batch", "pyfunc_uri", "run_score", "scores_schema", "spark_scores",
           "summarise_scores"]
