"""One Spark-engine or pandas-engine measurement in a fresh process: validate the ledger, build the
features as of a date and write them, score them with the model and write the scores.

python -m benchmarks.spark_measure pandas|spark LEDGER_DIR MODEL_DIR AS_OF OUT_DIR [EXPLAINER]

EXPLAINER (``fast``, ``pred_contrib`` or ``auto``, the default) is the contributions back end: the scoring
config's ``explainer`` on the pandas engine, ``RISKML_EXPLAINER`` for the served model on Spark (set before
the session starts, so the Python workers inherit it).

Prints one JSON line: seconds per step, the ledger's row counts and, for Spark, the JVM start-up and
the tasks' summed run time (core-seconds, from Spark's event log) with the number of stages."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

DRIVER_MEMORY = "6g"


def _pandas(ledger_dir: Path, model_dir: Path, as_of: pd.Timestamp, out: Path, explainer: str) -> dict:
    from benchmarks.common import peak_rss_gb
    from riskml.config import ScoringConfig
    from riskml.data.validate import load_ledger
    from riskml.features import build_features
    from riskml.io import write_table
    from riskml.modeling.registry import load_model
    from riskml.scoring.score import score_customers, write_outputs

    t0 = time.perf_counter()
    ledger, _ = load_ledger(ledger_dir)
    t1 = time.perf_counter()
    feats = build_features(ledger, as_of)
    write_table(feats, out / "features.parquet")
    t2 = time.perf_counter()
    model, info = load_model(str(model_dir))
    result = score_customers(feats, model, ScoringConfig(explainer=explainer), info,
                             data_fingerprint=ledger.until(as_of).fingerprint())
    write_outputs(result, out / "scores.parquet")
    t3 = time.perf_counter()
    return {"validate_s": t1 - t0, "features_s": t2 - t1, "score_s": t3 - t2, "total_s": t3 - t0,
            "rows": ledger.row_counts(), "customers": len(feats), "peak_rss_gb": peak_rss_gb(),
            "explainer": result.explainer}


def _task_time(event_dir: Path) -> tuple[float, int]:
    """(summed task run time in seconds, stages) from an uncompressed Spark event log."""
    run_ms, stages = 0, 0
    for f in event_dir.rglob("*"):
        if not f.is_file() or f.name.startswith(".") or f.name.startswith("appstatus"):
            continue
        for line in f.read_text(encoding="utf-8", errors="replace").splitlines():
            if '"SparkListenerTaskEnd"' in line:
                metrics = json.loads(line).get("Task Metrics") or {}
                run_ms += int(metrics.get("Executor Run Time", 0))
            elif '"SparkListenerStageCompleted"' in line:
                stages += 1
    return run_ms / 1000, stages


def _spark(ledger_dir: Path, model_dir: Path, as_of: pd.Timestamp, out: Path, explainer: str) -> dict:
    import os

    os.environ["RISKML_EXPLAINER"] = explainer  # read by the served model in the Python workers
    from riskml.config import ScoringConfig
    from riskml.modeling.registry import load_model
    from riskml.spark.engine import spark_session
    from riskml.spark.features import spark_features
    from riskml.spark.output import write_parquet
    from riskml.spark.score import ledger_fingerprint, spark_scores
    from riskml.spark.tables import load_spark_ledger

    events = Path(tempfile.mkdtemp(prefix="riskml-spark-events-"))
    t0 = time.perf_counter()
    spark = spark_session("local[2]", app_name="riskml-bench", conf={
        "spark.driver.memory": DRIVER_MEMORY,  # in local mode the driver is the executor too
        "spark.eventLog.enabled": "true", "spark.eventLog.dir": events.as_uri(), "spark.eventLog.compress": "false"})
    spark.range(1).count()  # the JVM and its first job
    t1 = time.perf_counter()
    ledger = load_spark_ledger(spark, str(ledger_dir))
    t2 = time.perf_counter()
    written = write_parquet(spark_features(spark, ledger, as_of), out / "features.parquet")
    t3 = time.perf_counter()
    model, info = load_model(str(model_dir))
    fingerprint = ledger_fingerprint(ledger, as_of)
    scores = spark_scores(spark, spark.read.parquet(written), str(model_dir), model, info, ScoringConfig(),
                          data_fingerprint=fingerprint, extra_attributes={})
    write_parquet(scores, out / "scores.parquet")
    t4 = time.perf_counter()
    rows = ledger.row_counts()
    customers = spark.read.parquet(str(out / "scores.parquet")).count()
    ledger.unpersist()
    spark.stop()  # flushes the event log
    task_s, stages = _task_time(events)
    shutil.rmtree(events, ignore_errors=True)
    return {"session_s": t1 - t0, "validate_s": t2 - t1, "features_s": t3 - t2, "score_s": t4 - t3,
            "total_s": t4 - t1, "rows": rows, "customers": customers, "task_s": task_s, "stages": stages,
            "cores": 2, "explainer": explainer}


def main() -> None:
    engine, ledger_dir, model_dir, as_of, out = sys.argv[1:6]
    explainer = sys.argv[6] if len(sys.argv) > 6 else "auto"
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    run = _pandas if engine == "pandas" else _spark
    result = run(Path(ledger_dir), Path(model_dir), pd.Timestamp(as_of), out_dir, explainer)
    print(json.dumps({"engine": engine, **result}))


if __name__ == "__main__":
    main()
