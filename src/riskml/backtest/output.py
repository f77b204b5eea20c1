"""Writing a backtest: ``backtest.parquet`` (policy x date), ``summary.csv`` (one row per policy),
``report.html``, written atomically; and the MLflow run (metrics per policy, the files as artifacts)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from riskml.backtest.replay import BacktestResult
from riskml.backtest.report import render_report
from riskml.io import atomic_path, write_table, write_text

EXPERIMENT = "riskml-backtest"
# the summary figures logged to MLflow, per policy
LOGGED = ("bad_exposure_caught_share", "bad_customers_caught_share", "bad_debt_avoided", "bad_debt_realised",
          "bad_debt_avoided_share", "sales_lost", "sales_lost_share", "margin_lost", "margin_kept", "expected_loss",
          "net", "net_expected", "holds_per_date", "reviews_due_per_date", "approvals_per_date",
          "approvals_new_per_date", "strong_late_payers_restricted_per_date", "strong_late_payer_sales_lost")


def write_outputs(result: BacktestResult, out: Path, context: dict[str, str] | None = None) -> dict[str, Path]:
    """The three files under ``out`` (created if needed)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"backtest": out / "backtest.parquet", "summary": out / "summary.csv", "report": out / "report.html"}
    write_table(result.frame, paths["backtest"])
    with atomic_path(paths["summary"]) as tmp:
        result.summary.to_csv(tmp, index=False)
    write_text(render_report(result, context=context), paths["report"])
    return paths


def metric_key(policy: str, figure: str) -> str:
    """An MLflow metric name for a policy's figure (characters MLflow refuses become ``_``)."""
    safe = re.sub(r"[^A-Za-z0-9_\-. /]", "_", policy)
    return f"{safe}/{figure}"


def log_run(result: BacktestResult, paths: dict[str, Path], params: dict[str, Any]) -> tuple[str, str]:
    """One MLflow run in the ``riskml-backtest`` experiment; returns (run id, tracking URI)."""
    import mlflow

    from riskml.modeling.tracking import configure, use_experiment

    uri = configure()
    use_experiment(EXPERIMENT)
    with mlflow.start_run(run_name=f"backtest {result.dates[0].date()}..{result.dates[-1].date()}") as run:
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        metrics = {}
        for row in result.summary.to_dict("records"):
            for fig in LOGGED:
                v = row.get(fig)
                if isinstance(v, int | float) and v == v:
                    metrics[metric_key(row["policy"], fig)] = float(v)
            metrics[metric_key(row["policy"], "on_frontier")] = float(bool(row["on_frontier"]))
        mlflow.log_metrics(metrics)
        for p in paths.values():
            mlflow.log_artifact(str(p))
        mlflow.log_text(json.dumps([m.describe() for m in result.models], indent=2, default=str), "models.json")
        mlflow.log_text("\n".join(result.assumptions), "assumptions.txt")
        return run.info.run_id, uri
