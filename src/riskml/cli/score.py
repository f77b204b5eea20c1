"""``riskml score``: batch scoring of the customer master as of a date (PD, grade, limit, action, hold,
review, persona and reason codes), written atomically with a run summary on the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from riskml.cli.common import console, err_console, parse_date, user_errors

DEFAULT_MODEL = "models:/riskml-delinquency@champion"
# runs of at least this many customers show a progress bar
PROGRESS_MIN_ROWS = 20_000


def _scale_warning(model: Any, scoring_config: Any) -> str | None:
    """A warning when the scoring config grades differently from the scale frozen with the model (the
    MLflow pyfunc grades with the model's)."""
    stored = (getattr(model, "metadata_", None) or {}).get("master_scale")
    if not stored:
        return None
    ours = [g.model_dump(mode="json") for g in scoring_config.master_scale]
    if [(str(g["grade"]), float(g["max_pd"])) for g in stored] == [(g["grade"], g["max_pd"]) for g in ours]:
        return None
    return ("the master scale of the scoring config differs from the one stored with the model at training; "
            "the scores use the config's, the served MLflow model grades with the model's")


def _summary_table(summary: dict[str, Any]) -> Table:
    table = Table(title="Run summary", show_header=True, header_style="bold")
    table.add_column("")
    table.add_column("customers", justify="right")
    for g, c in summary["by_grade"].items():
        table.add_row(f"grade {g}" if g else "not scored", f"{c:,}")
    table.add_section()
    for a, c in summary["by_action"].items():
        table.add_row(a, f"{c:,}")
    table.add_section()
    table.add_row("order hold", f"{summary['order_holds']:,}")
    for code, c in summary["holds_by_reason"].items():
        table.add_row(f"  {code}", f"{c:,}", style="dim")
    table.add_section()
    table.add_row("review due", f"{summary['reviews_due']:,}")
    for name, c in summary["reviews_by_priority"].items():
        table.add_row(f"  priority {name}", f"{c:,}")
    for code, c in summary["reviews_by_reason"].items():
        table.add_row(f"  {code}", f"{c:,}", style="dim")
    return table


def _progress(total: int, show: bool) -> Progress:
    return Progress(TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True, disable=not show)


@user_errors
def score(
    data: Path = typer.Option(..., "--data", "-d", help="Ledger directory (customers, invoices, payments, ...)."),
    as_of: str = typer.Option(..., "--as-of", "-a", help="As-of date (YYYY-MM-DD); only rows dated on or before it are used."),
    out: Path = typer.Option(..., "--out", "-o", help="Scores file, .parquet or .csv (one row per customer)."),
    model_uri: str = typer.Option(DEFAULT_MODEL, "--model", "-m",
                                  help="MLflow model URI (models:/NAME@alias, runs:/...) or a local model directory."),
    previous: Path | None = typer.Option(None, "--previous", "-p",
                                         help="Previous scores file: grade moves and DBT jumps since then trigger reviews."),
    contributions: Path | None = typer.Option(
        None, "--contributions",
        help="Per-feature contributions file (long format); default beside --out as NAME.contributions.parquet."),
    config: Path | None = typer.Option(None, "--config", "-c", help="Scoring config (default configs/scoring.yaml)."),
    data_config: Path | None = typer.Option(None, "--data-config", help="Data config (column mapping etc.)."),
    features_config: Path | None = typer.Option(
        None, "--features-config", help="Feature config (default: the one stored with the model, else configs/features.yaml)."),
    engine: str = typer.Option(
        "pandas", "--engine",
        help="pandas (this machine) or spark (needs pip install 'riskml\\[spark]' and Java 17+; see docs/spark.md)."),
    overrides_db: str | None = typer.Option(
        None, "--overrides-db",
        help="riskml serve database (URL or SQLite file): overrides active on --as-of win (override_* columns)."),
) -> None:
    """Score every customer of the master: PD, grade, suggested limit, action, order hold, review due,
    persona and reason codes.

    Example: riskml score --data data/demo --as-of 2026-09-30 --out out/scores.parquet
    """
    if overrides_db is not None and engine != "pandas":
        from riskml.errors import RiskmlError

        raise RiskmlError("--overrides-db works with --engine pandas")
    if engine not in ("pandas", "spark"):
        from riskml.errors import RiskmlError

        raise RiskmlError(f"--engine must be one of pandas, spark; got {engine!r}")
    if engine == "spark":  # the Spark engine (riskml.spark.cli) takes the same arguments
        from riskml.spark.cli import score_command

        score_command(data, as_of, out, model_uri, previous, contributions, config, data_config, features_config)
        return
    from riskml.config import load_config
    from riskml.features import build_features, feature_specs
    from riskml.modeling.registry import load_model
    from riskml.scoring.score import (
        check_output_path,
        contributions_path,
        load_previous,
        model_extra_attributes,
        model_feature_config,
        score_customers,
        summarise,
        write_outputs,
    )

    # every argument is checked before the expensive work
    as_of_ts = parse_date(as_of)
    out = check_output_path(out)
    cpath = check_output_path(contributions if contributions is not None else contributions_path(out), "--contributions")
    scoring_config = load_config("scoring", config)
    prev = load_previous(previous) if previous is not None else None
    if overrides_db is not None and "://" not in overrides_db and not Path(overrides_db).exists():
        from riskml.errors import RiskmlError

        raise RiskmlError(f"--overrides-db: file not found: {overrides_db}")

    from riskml.cli.ledger import load_ledger_for_cli
    from riskml.data.validate import resolve_data_config

    ledger = load_ledger_for_cli(data, data_config)
    model, info = load_model(model_uri)
    console.print(f"model {info.get('uri', model_uri)} (version {info.get('model_version', '?')})")
    extra = model_extra_attributes(model, resolve_data_config(data, data_config).extra_attributes)
    if (warning := _scale_warning(model, scoring_config)) is not None:
        err_console.print(f"warning: {warning}")
    feats = build_features(ledger, as_of_ts, model_feature_config(model, features_config))
    fingerprint = ledger.until(as_of_ts).fingerprint()

    n = len(feats)
    with _progress(n, show=n >= PROGRESS_MIN_ROWS) as bar:
        task = bar.add_task("scoring", total=n)
        result = score_customers(
            feats, model, scoring_config, info, previous=prev, data_fingerprint=fingerprint,
            specs=feature_specs(extra), progress=lambda done, total: bar.update(task, completed=done),
        )
    if overrides_db is not None:
        result = _with_overrides(result, overrides_db, as_of_ts)
    written = write_outputs(result, out, cpath)

    summary = summarise(result.scores, scoring_config.master_scale)
    console.print(_summary_table(summary))
    line = (f"limits: current {summary['total_current_limit']:,.0f} -> suggested {summary['total_suggested_limit']:,.0f} "
            f"(change {summary['total_limit_change']:+,.0f})")
    if summary["by_action"].get("set"):
        line += (f"; {summary['by_action']['set']:,} customers with no limit on file: set "
                 f"{summary['total_limit_set']:,.0f}")
    console.print(line)
    if summary["not_scored"]:
        console.print(f"[yellow]{summary['not_scored']:,} customers could not be scored[/] "
                      "(scored = false; the reason is in score_error)")
    console.print(f"wrote {n:,} customers as of {as_of_ts.date()} to {written[0]} and contributions to {written[1]}")


def _with_overrides(result: Any, db: str, as_of: Any) -> Any:
    """The scores with the overrides of the service's database that are active on ``as_of`` applied."""
    from dataclasses import replace

    from riskml.scoring.overrides import apply_overrides
    from riskml.serving import require_extra

    require_extra()
    from riskml.serving.db import open_database
    from riskml.serving.repository import active_overrides_frame

    active = active_overrides_frame(open_database(db), as_of)
    console.print(f"{len(active):,} overrides active on {as_of.date()} from {db}")
    return replace(result, scores=apply_overrides(result.scores, active))


def register(app: typer.Typer) -> None:
    app.command("score", no_args_is_help=True)(score)
