"""Report benchmark (issue 18): ``riskml report`` writing every customer page and the portfolio page of a
generated ledger, from a scores file, with 2 worker processes. Target: the 2,000 demo customers in under
60 s on 2 cores, and time growing linearly with the number of customers.

The model is riskml's training step (default configs) on a generated ledger of
RISKML_BENCH_REPORT_CUSTOMERS customers x 36 months (default 2,000, the size of the demo ledger); the
ledger is scored once (`score_customers`, as `riskml score` does) and cached under ``.bench/``. Each
report run is the CLI in a fresh process (:mod:`benchmarks.reports_measure`): wall time, CPU seconds of
the command and its worker processes, the largest process's peak memory and the size of the output.
Linearity: the same ledger's first half of the customers (``--customer`` repeated) against all of them.

Check it at a small size with ``RISKML_BENCH_REPORT_CUSTOMERS=300``."""

from __future__ import annotations

import os
from pathlib import Path

from benchmarks.common import CACHE, ledger_dir, measure, median_of

MONTHS = 36
AS_OF = "2026-06-30"
JOBS = 2


def prepare(customers: int) -> tuple[Path, Path, Path]:
    """(ledger directory, model directory, scores file) for the benchmark, cached."""
    import pandas as pd

    ledger = ledger_dir(customers, MONTHS)
    model_dir = CACHE / f"reports_model_{customers}x{MONTHS}"
    scores = CACHE / f"reports_scores_{customers}x{MONTHS}.parquet"
    if not (model_dir / "model.json").exists() or not scores.exists():
        from riskml.config import TrainConfig
        from riskml.data.validate import load_ledger
        from riskml.features import build_features
        from riskml.modeling.model import RiskModel
        from riskml.modeling.train import assemble, fit_and_evaluate
        from riskml.scoring.score import contributions_path, score_customers, write_outputs

        data, _ = load_ledger(ledger)
        if not (model_dir / "model.json").exists():
            config = TrainConfig()
            fit_and_evaluate(assemble(data, config), config).model.save(model_dir)
        model = RiskModel.load(model_dir)
        as_of = pd.Timestamp(AS_OF)
        result = score_customers(build_features(data, as_of), model,
                                 data_fingerprint=data.until(as_of).fingerprint())
        write_outputs(result, scores, contributions_path(scores))
    return ledger, model_dir, scores


def run(repeats: int = 3) -> str:
    raw = os.environ.get("RISKML_BENCH_REPORT_CUSTOMERS", "")
    customers = int(raw.replace("_", "").replace(",", "")) if raw else 2000
    ledger, model_dir, scores = prepare(customers)
    args = [str(ledger), str(model_dir), str(scores), AS_OF, str(JOBS)]
    full = [measure("reports_measure", *args, "all") for _ in range(repeats)]
    half = [measure("reports_measure", *args, "half") for _ in range(repeats)]
    n_full, n_half = full[0]["pages"], half[0]["pages"]
    wall, wall_half = median_of(full, "wall_s"), median_of(half, "wall_s")
    per_page = (wall - wall_half) / max(n_full - n_half, 1)
    cpu, cpu_half = median_of(full, "cpu_s"), median_of(half, "cpu_s")
    cpu_page = (cpu - cpu_half) / max(n_full - n_half, 1)
    load = median_of(full + half, "load")
    fixed = max(cpu - cpu_page * n_full, 0)
    cores = os.cpu_count() or 1
    return "\n".join([
        "## Customer and portfolio reports (issue 18)", "",
        f"`riskml report` from a scores file on a generated ledger of {customers:,} customers x {MONTHS} months "
        f"(as of {AS_OF}), `--jobs {JOBS}`: every customer page (inline SVG charts) and the portfolio page with "
        f"its lists. Each run is the CLI in a fresh process; median of {repeats} runs.", "",
        "| customer pages | wall seconds | CPU seconds (all processes) | largest process peak memory | output |",
        "|---|---|---|---|---|",
        f"| {n_half:,} | {wall_half:.1f} | {median_of(half, 'cpu_s'):.1f} | {median_of(half, 'peak_rss_mb'):.0f} MB "
        f"| {median_of(half, 'out_mb'):.1f} MB |",
        f"| {n_full:,} | {wall:.1f} | {median_of(full, 'cpu_s'):.1f} | {median_of(full, 'peak_rss_mb'):.0f} MB "
        f"| {median_of(full, 'out_mb'):.1f} MB |", "",
        f"Each further page costs {1000 * per_page:.1f} ms of wall time and {1000 * cpu_page:.1f} ms of CPU (the "
        f"difference of the two rows over {n_full - n_half:,} pages), above a fixed part of "
        f"{fixed:.1f} CPU seconds (reading the ledger, features, history, portfolio "
        "and its stability reference, starting the workers): the cost grows linearly with the pages.", "",
        f"The machine's 1-minute load average during the runs was {load:.1f} on {cores} cores (it is shared with "
        f"other jobs), so the wall times above include waiting for a core. The CPU seconds do not: the fixed "
        f"part run once plus {n_full:,} pages shared by {JOBS} workers is about "
        f"{fixed + cpu_page * n_full / min(JOBS, cores):.1f} s of wall on {min(JOBS, cores)} idle cores "
        "(derived, not measured). Target: the 2,000 demo pages in under 60 s on "
        "2 cores. Before the SVG charts (matplotlib PNG per page) the demo's 2,000 pages took 29 minutes "
        "(1,357 CPU seconds, 356 MB; issue 18); 200 of them took 135 s with one process (`--jobs 1`).", "",
    ])
