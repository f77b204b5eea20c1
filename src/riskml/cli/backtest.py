"""``riskml backtest``: replay the decision policy at past dates, point in time, champion against
challengers and sweeps; bad debt caught and missed, sales and margin lost, workload, the frontier."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from riskml.cli.common import console, err_console, parse_date, user_errors


def _summary_table(summary) -> Table:  # noqa: ANN001
    table = Table(title="Backtest summary", header_style="bold")
    for col in ("policy", "bad debt caught", "bad debt avoided", "sales lost", "margin lost", "net",
                "holds/date", "reviews/date", "frontier"):
        table.add_column(col, justify="left" if col == "policy" else "right")
    for r in summary.to_dict("records"):
        table.add_row(r["policy"], f"{r['bad_exposure_caught_share']:.1%}", f"{r['bad_debt_avoided']:,.0f}",
                      f"{r['sales_lost']:,.0f}", f"{r['margin_lost']:,.0f}", f"{r['net']:,.0f}",
                      f"{r['holds_per_date']:,.0f}", f"{r['reviews_due_per_date']:,.0f}",
                      "yes" if r["on_frontier"] else "")
    return table


@user_errors
def backtest(
    data: Path = typer.Option(..., "--data", "-d", help="Ledger directory (customers, invoices, payments, ...)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output directory: backtest.parquet, summary.csv, report.html."),
    start: str | None = typer.Option(None, "--from", help="First replay date (default: the first month end a "
                                     "walk-forward model can be trained at)."),
    end: str | None = typer.Option(None, "--to", help="Last replay date (default: the last month end a full "
                                   "replay step before the ledger's end)."),
    every: str | None = typer.Option(None, "--every", help="Months between replay dates, e.g. 1m (default "
                                     "backtest.every_months)."),
    policy: list[Path] | None = typer.Option(
        None, "--policy", "-p", help="Scoring config of a policy; the first is the champion (default "
        "configs/scoring.yaml), later ones may hold only the settings they change. Repeatable."),
    sweep: list[str] | None = typer.Option(
        None, "--sweep", "-s", help="One policy per value of a champion setting, e.g. "
        "actions.hold_past_due_days=15,30,45,60. Repeatable."),
    model_uri: str | None = typer.Option(
        None, "--model", "-m", help="Score with this model (MLflow URI or directory) instead of walk-forward models; "
        "refused at replay dates within its training window."),
    retrain_every: str | None = typer.Option(None, "--retrain-every", help="Months between walk-forward "
                                             "retrainings, e.g. 6m (default backtest.retrain_months)."),
    hold_days: int | None = typer.Option(None, "--hold-days", min=1, help="Days an order hold blocks invoices "
                                         "(default backtest.hold_days: until the next replay date)."),
    config: Path | None = typer.Option(None, "--config", "-c", help="Backtest config (default configs/backtest.yaml)."),
    train_config: Path | None = typer.Option(None, "--train-config", help="Training config of the walk-forward "
                                             "models and the label definition (default configs/train.yaml)."),
    data_config: Path | None = typer.Option(None, "--data-config", help="Data config (column mapping etc.)."),
    features_config: Path | None = typer.Option(None, "--features-config",
                                                help="Feature config (default configs/features.yaml)."),
    mlflow_log: bool = typer.Option(True, "--mlflow/--no-mlflow", help="Log the run to MLflow (MLFLOW_TRACKING_URI)."),
) -> None:
    """Replay the decision policy at past dates: at each date only rows dated on or before it are seen,
    every policy is applied to the same scores, and what happened next is read from the ledger.

    Example: riskml backtest --data data/demo --out out/backtest --sweep actions.hold_past_due_days=15,30,45,60
    """
    from riskml.backtest.dates import parse_every
    from riskml.backtest.output import log_run, write_outputs
    from riskml.backtest.policies import load_policies
    from riskml.backtest.replay import run_backtest
    from riskml.config import load_config

    # every argument is checked before the expensive work
    t_from = parse_date(start, "--from") if start else None
    t_to = parse_date(end, "--to") if end else None
    every_m = parse_every(every) if every else None
    retrain_m = parse_every(retrain_every, "--retrain-every") if retrain_every else None
    policies = load_policies(policy, sweep)
    bt = load_config("backtest", config)
    if hold_days is not None:
        bt = bt.model_copy(update={"hold_days": hold_days})
    tc = load_config("train", train_config)
    fc = load_config("features", features_config)

    from riskml.cli.ledger import load_ledger_for_cli
    from riskml.data.validate import resolve_data_config

    ledger = load_ledger_for_cli(data, data_config)
    extra = resolve_data_config(data, data_config).extra_attributes
    model = None
    if model_uri:
        from riskml.modeling.registry import load_model
        from riskml.scoring.score import model_extra_attributes, model_feature_config

        model, _ = load_model(model_uri)
        fc = model_feature_config(model, features_config)
        extra = model_extra_attributes(model, extra)
    result = run_backtest(ledger, policies, tc, fc, bt, t_from, t_to, every_m, retrain_m, model, model_uri or "",
                          extra, echo=lambda s: console.print(s))
    context = {"data": str(data), "model": model_uri or f"walk-forward, retrained every "
               f"{retrain_m or bt.retrain_months} months",
               "order holds last": f"{bt.hold_days} days" if bt.hold_days else "until the next replay date"}
    paths = write_outputs(result, out, context)
    console.print(_summary_table(result.summary))
    for note in result.notes:
        err_console.print(f"note: {note}")
    if mlflow_log:
        params = {"data": str(data), "from": str(result.dates[0].date()), "to": str(result.dates[-1].date()),
                  "replay_dates": len(result.dates), "every_months": every_m or bt.every_months,
                  "policies": ", ".join(p.name for p in policies), "model": context["model"],
                  "hold_days": bt.hold_days or "next replay date", "data_fingerprint": ledger.fingerprint()}
        run_id, uri = log_run(result, paths, params)
        console.print(f"logged to MLflow at {uri} (experiment riskml-backtest, run {run_id})")
    console.print(f"wrote {paths['backtest']}, {paths['summary']} and {paths['report']}")


def register(app: typer.Typer) -> None:
    app.command("backtest", no_args_is_help=True)(backtest)
