"""Batch-scoring benchmark (issue 5): a prepared feature table of RISKML_BENCH_SCORING_ROWS customers
(default 1,000,000) scored with reason codes, against LightGBM's bare ``predict`` and ``pred_contrib`` on the
same rows and threads. Target: the scoring step within 1.5x of bare ``pred_contrib``; peak memory under 8 GB.

The model is trained by riskml's own training step (default configs) on a generated ledger of
RISKML_BENCH_SCORING_LEDGER customers x 36 months (default 10,000, the ledger the feature benchmark uses);
the feature table is that ledger's features at one as-of date, repeated with fresh customer ids up to the
row count (a feature table as `riskml features` writes it). Both are cached under ``.bench/``. Every
measurement runs in a fresh process (:mod:`benchmarks.scoring_measure`), so peak memory is its own.

Check it at a small size with ``RISKML_BENCH_SCORING_ROWS=20000 RISKML_BENCH_SCORING_LEDGER=2000``."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from benchmarks.common import CACHE, ledger_dir, measure, median_of

AS_OF = "2026-06-30"
THREADS = 2


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        return int(raw.replace("_", "").replace(",", "")) if raw else default
    except ValueError:
        raise SystemExit(f"{name} must be a whole number of rows; got {raw!r}") from None


def prepare(rows: int, customers: int) -> tuple[Path, Path]:
    """The cached model directory and feature table (``rows`` customers) for the benchmark."""
    import numpy as np
    import pandas as pd

    model_dir = CACHE / f"scoring_model_{customers}x36"
    feats_path = CACHE / f"scoring_features_{customers}x36_{rows}.parquet"
    if not (model_dir / "model.json").exists() or not feats_path.exists():
        from riskml.config import TrainConfig
        from riskml.data.validate import load_ledger
        from riskml.features import build_features, feature_specs
        from riskml.modeling.train import assemble, fit_and_evaluate

        ledger, _ = load_ledger(ledger_dir(customers, 36))
        if not (model_dir / "model.json").exists():
            config = TrainConfig()
            fit_and_evaluate(assemble(ledger, config), config).model.save(model_dir)
        base = build_features(ledger, pd.Timestamp(AS_OF))
        reps = -(-rows // len(base))
        table = pd.concat([base] * reps, ignore_index=True).iloc[:rows].copy()
        table["customer_id"] = pd.Series(np.char.add("B", np.arange(rows).astype(str)), dtype="str")
        # the copies get their own amounts (x0.9..1.1, limits still in thousands), so that no two customers
        # share their figures: formatting and model work are those of a real book, not of a few repeated rows
        rng = np.random.default_rng(5)
        factor = np.where(np.arange(rows) < len(base), 1.0, rng.uniform(0.9, 1.1, rows))
        for col, spec in feature_specs().items():
            if col in table and spec.unit in ("amount", "amount per month"):
                table[col] = table[col].to_numpy("float64") * factor
        table["credit_limit"] = (table["credit_limit"] / 1000.0).round() * 1000.0
        tmp = feats_path.with_suffix(".tmp.parquet")
        table.to_parquet(tmp, index=False)
        tmp.replace(feats_path)
    return model_dir, feats_path


def run(repeats: int = 3) -> str:
    rows = _env_int("RISKML_BENCH_SCORING_ROWS", 1_000_000)
    customers = _env_int("RISKML_BENCH_SCORING_LEDGER", 10_000)
    model_dir, feats = prepare(rows, customers)
    bare = [measure("scoring_measure", str(feats), str(model_dir), "bare", str(THREADS)) for _ in range(repeats)]
    scored = []
    for _ in range(repeats):
        out = Path(tempfile.mkdtemp(prefix="riskml-bench-"))
        try:
            scored.append(measure("scoring_measure", str(feats), str(model_dir), "score", str(THREADS), str(out)))
        finally:
            shutil.rmtree(out, ignore_errors=True)
    predict, contrib = median_of(bare, "predict_s"), median_of(bare, "contrib_s")
    score, write = median_of(scored, "score_s"), median_of(scored, "write_s")
    b0, s0 = bare[0], scored[0]
    return "\n".join([
        "## Batch scoring (issue 5)", "",
        f"{rows:,} customers from a prepared feature table, scored with reason codes on {THREADS} threads "
        f"(`score_customers`: PD, grade, limit, action, hold, review, persona, reasons, and the long "
        f"contributions table of {s0['contribution_rows']:,} rows). Model: riskml's training step on a generated "
        f"ledger of {customers:,} customers x 36 months, {b0['trees']} trees, {b0['features']} features. "
        f"Median of {repeats} runs, each in a fresh process.", "",
        "| step | median seconds | ratio to bare predict | ratio to bare pred_contrib |", "|---|---|---|---|",
        f"| LightGBM bare `predict` (raw score) | {predict:.2f} | 1.0 | {predict / contrib:.2f} |",
        f"| LightGBM bare `predict(pred_contrib=True)` | {contrib:.2f} | {contrib / predict:.1f} | 1.0 |",
        f"| whole scoring step (`score_customers`) | {score:.2f} | {score / predict:.1f} | **{score / contrib:.2f}** |",
        f"| writing the scores and contributions Parquet files | {write:.2f} | | |",
        f"| scoring step + writing | {score + write:.2f} | {(score + write) / predict:.1f} | "
        f"{(score + write) / contrib:.2f} |", "",
        f"CPU seconds (both cores, less sensitive to other load on the machine): bare `pred_contrib` "
        f"{median_of(bare, 'contrib_cpu_s'):.2f}, scoring step {median_of(scored, 'score_cpu_s'):.2f} "
        f"({median_of(scored, 'score_cpu_s') / median_of(bare, 'contrib_cpu_s'):.2f}x).", "",
        f"Peak memory: scoring process {median_of(scored, 'peak_rss_gb'):.2f} GB (incl. writing), bare LightGBM "
        f"process {median_of(bare, 'peak_rss_gb'):.2f} GB. Targets: scoring step within 1.5x of bare "
        "`pred_contrib`, peak memory under 8 GB.", "",
    ])
