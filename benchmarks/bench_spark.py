"""Spark engine benchmark (issue 7): the Spark path on ``local[2]`` against the pandas path, for growing
generated ledgers (customers x 36 months), each run in a fresh process
(:mod:`benchmarks.spark_measure`): validate, build the features and write them, score them with the same
model and write the scores.

From the Spark runs' task run times (core-seconds of work, Spark's event log) it extrapolates how the
Spark job would scale with executors: ``T(P cores) = S + W / P``, W the measured work and S the part
that did not shrink with two cores (stage scheduling, driver work: ``T(2) - W / 2``). That is an
extrapolation, not a measurement, and is labelled so in the output.

Sizes: ``RISKML_BENCH_SPARK_SIZES`` (comma-separated customer counts, default 2000,10000,30000),
repeats ``RISKML_BENCH_SPARK_REPEATS`` (default 3), contributions back ends ``RISKML_BENCH_SPARK_EXPLAINERS``
(default ``fast,pred_contrib``: both engines run with each, side by side; the extrapolation uses the first). Check it at a tiny size with
``RISKML_BENCH_SPARK_SIZES=200 RISKML_BENCH_SPARK_REPEATS=1``."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from benchmarks.bench_scoring import _load, _load_note
from benchmarks.common import CACHE, ledger_dir, measure, median_of
from benchmarks.spark_measure import DRIVER_MEMORY

AS_OF = "2026-06-30"
MODEL_CUSTOMERS = 2_000
EXECUTOR_CORES = 4
EXECUTORS = (1, 4, 16, 64)


def _env_ints(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    try:
        return tuple(int(x.replace("_", "")) for x in raw.split(",") if x.strip())
    except ValueError:
        raise SystemExit(f"{name} must be comma-separated whole numbers; got {raw!r}") from None


def model_dir() -> Path:
    """An MLflow pyfunc model directory (what ``spark_udf`` loads; the pandas path reads the same one),
    trained by riskml's training step on a generated ledger of 2,000 customers x 36 months; cached."""
    out = CACHE / f"spark_pyfunc_{MODEL_CUSTOMERS}x36"
    if (out / "MLmodel").exists():
        return out
    import mlflow.pyfunc
    from mlflow.models import infer_signature

    from riskml.config import ScoringConfig, TrainConfig
    from riskml.data.validate import load_ledger
    from riskml.modeling.train import assemble, fit_and_evaluate
    from riskml.serving.pyfunc import ARTIFACT_KEY, ENTRY, predict_frame, signature_frame

    ledger, _ = load_ledger(ledger_dir(MODEL_CUSTOMERS, 36))
    config = TrainConfig()
    result = fit_and_evaluate(assemble(ledger, config), config)
    cfg = ScoringConfig()
    model = result.model.with_metadata(master_scale=cfg.master_scale, n_reasons=cfg.n_reasons)
    with tempfile.TemporaryDirectory(prefix="riskml-bench-model-") as tmp:
        raw = Path(tmp) / ARTIFACT_KEY
        model.save(raw)
        example = signature_frame(model, result.data.frame[model.feature_names_].head(5))
        staging = Path(tmp) / "pyfunc"
        mlflow.pyfunc.save_model(str(staging), python_model=str(ENTRY),
                                 artifacts={ARTIFACT_KEY: str(raw)},
                                 signature=infer_signature(example, predict_frame(model, example)))
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(staging, out)
    return out


def _extrapolate(spark_runs: list[dict]) -> tuple[float, float]:
    """(S, W): the serial seconds and the work in core-seconds of the median Spark run."""
    total = median_of(spark_runs, "total_s")
    work = median_of(spark_runs, "task_s")
    cores = spark_runs[0]["cores"]
    return max(0.0, total - work / cores), work


def _explainers() -> tuple[str, ...]:
    raw = os.environ.get("RISKML_BENCH_SPARK_EXPLAINERS", "fast,pred_contrib")
    kinds = tuple(k.strip() for k in raw.split(",") if k.strip())
    bad = [k for k in kinds if k not in ("fast", "pred_contrib", "auto")]
    if bad or not kinds:
        raise SystemExit(f"RISKML_BENCH_SPARK_EXPLAINERS: fast, pred_contrib or auto, comma-separated; got {raw!r}")
    return kinds


def run(sizes: tuple[int, ...] | None = None, repeats: int | None = None) -> str:
    sizes = sizes or _env_ints("RISKML_BENCH_SPARK_SIZES", (2_000, 10_000, 30_000))
    repeats = repeats or _env_ints("RISKML_BENCH_SPARK_REPEATS", (3,))[0]
    kinds = _explainers()
    model = model_dir()
    load_start = _load()
    lines = [
        "## Spark engine (issue 7)", "",
        "The whole scoring job, validate -> features (written) -> scores (written), on the pandas engine and on "
        f"Spark `local[2]` (2 cores, {DRIVER_MEMORY} for the JVM, 4 shuffle partitions, Arrow on), for generated "
        "ledgers of N customers x 36 "
        f"months, as of {AS_OF}. Same ledger, same model (riskml's training step on {MODEL_CUSTOMERS:,} "
        f"customers, as an MLflow pyfunc directory). Medians of {repeats} runs, each in a fresh process; Spark's "
        "JVM start-up is measured apart (paid once per job). Each engine runs with each contributions back end "
        "(`explainer`: riskml's fast exact TreeSHAP or LightGBM's `pred_contrib`; on Spark the served model's, "
        "set by `RISKML_EXPLAINER` in the workers).", "",
        "| customers | ledger rows | engine | explainer | validate s | features s | score s | total s | Spark / pandas |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    extrap = []
    for n in sizes:
        d = ledger_dir(n, 36)
        results = {}
        with tempfile.TemporaryDirectory(prefix="riskml-bench-spark-") as tmp:
            for kind in kinds:
                for engine in ("pandas", "spark"):
                    results[engine, kind] = [
                        measure("spark_measure", engine, str(d), str(model), AS_OF, f"{tmp}/{engine}{kind}{i}", kind)
                        for i in range(repeats)]
        rows = sum(results["pandas", kinds[0]][0]["rows"].values())
        for kind in kinds:
            pandas_total = median_of(results["pandas", kind], "total_s")
            for engine in ("pandas", "spark"):
                runs = results[engine, kind]
                total = median_of(runs, "total_s")
                ratio = f"{total / pandas_total:.1f}x" if engine == "spark" else ""
                lines.append(f"| {n:,} | {rows:,} | {engine} | {kind} | {median_of(runs, 'validate_s'):.1f} | "
                             f"{median_of(runs, 'features_s'):.1f} | {median_of(runs, 'score_s'):.1f} | {total:.1f} | "
                             f"{ratio} |")
        first = kinds[0]
        pandas_total = median_of(results["pandas", first], "total_s")
        serial, work = _extrapolate(results["spark", first])
        extrap.append((n, rows, pandas_total, serial, work, median_of(results["spark", first], "session_s"),
                       median_of(results["spark", first], "stages"), median_of(results["pandas", first], "peak_rss_gb")))

    lines += ["", f"Spark's work and its serial part (measured, `explainer: {kinds[0]}`): W = summed task run time "
              "(core-seconds), S = total - W / 2 (what two cores did not shorten: scheduling of the stages, driver "
              "work).", "",
              "| customers | stages | W core-s | customers per core-s | S s | JVM start s | pandas peak GB |",
              "|---|---|---|---|---|---|---|"]
    for n, _rows, _pt, serial, work, session, stages, rss in extrap:
        lines.append(f"| {n:,} | {stages:.0f} | {work:.1f} | {n / work:,.0f} | {serial:.1f} | {session:.1f} | "
                     f"{rss:.2f} |")
    header = " | ".join(f"{e} x {EXECUTOR_CORES} cores" for e in EXECUTORS)
    lines += ["", f"**Extrapolation, not a measurement**: T = S + W / P for P = executors x {EXECUTOR_CORES} cores, "
              "from the figures above. It assumes work spreads evenly over the cores (no skew: groups are whole "
              "customers, hashed), shuffles and reads scale with them, and the serial part stays as measured; on a "
              "real cluster S grows (network, executor start-up, object-store listing), so read these as lower "
              "bounds.", "",
              f"| customers | pandas s (measured) | {header} |", "|---|---|" + "---|" * len(EXECUTORS)]
    for n, _rows, pandas_total, serial, work, *_ in extrap:
        cells = []
        for e in EXECUTORS:
            t = serial + work / (e * EXECUTOR_CORES)
            cells.append(f"{t:.1f}" + (" (faster)" if t < pandas_total else ""))
        lines.append(f"| {n:,} | {pandas_total:.1f} | " + " | ".join(cells) + " |")
    lines += ["", _verdict(extrap), "", _load_note(load_start), ""]
    return "\n".join(lines)


def _verdict(extrap: list[tuple]) -> str:
    """Where Spark starts to pay off, in words, from the measured and extrapolated figures."""
    parts = []
    for n, _rows, pandas_total, serial, work, *_ in extrap:
        if serial >= pandas_total:
            parts.append(f"{n:,} customers: never (its serial part alone, {serial:.0f} s, exceeds pandas' "
                         f"{pandas_total:.0f} s)")
            continue
        cores = work / (pandas_total - serial)
        parts.append(f"{n:,} customers: from about {cores:.0f} cores ({cores / EXECUTOR_CORES:.1f} executors of "
                     f"{EXECUTOR_CORES})")
    return ("Where Spark starts to pay off (extrapolated cores at which T drops below the measured pandas time): "
            + "; ".join(parts) + ". On this one machine (2 cores) it does not: the pandas engine is vectorised and "
            "holds the ledger in memory, while Spark pays a fixed cost per stage and Arrow transfers to Python "
            "workers. Spark is for ledgers beyond one machine's memory (compare pandas' peak above with the "
            "machine) and for data already in a lake, where it reads in place and scales out; the work per "
            "customer is constant, so the work grows linearly with the ledger.")
