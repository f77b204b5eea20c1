"""``riskml score``: batch scoring of the customer master as of a date (PD, grade, limit, action, hold,
review, persona and reason codes), written atomically with a run summary on the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from riskml.cli.common import check_in_ledger, console, err_console, parse_date, user_errors
from riskml.scoring.summary import scale_warning, summary_lines, summary_table

DEFAULT_MODEL = "models:/riskml-delinquency@champion"
# runs of at least this many customers show a progress bar
PROGRESS_MIN_ROWS = 20_000


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
    allow_future: bool = typer.Option(False, "--allow-future", help="Accept an --as-of after the ledger's export date."),
    engine: str = typer.Option(
        "pandas", "--engine",
        help="pandas (this machine) or spark (needs pip install 'riskml\\[spark]' and Java 17+; see docs/spark.md)."),
    overrides_db: str | None = typer.Option(
        None, "--overrides-db",
        help="riskml serve database (URL or SQLite file): overrides active on --as-of go into the policy, as in the "
             "service (override_* and policy_* columns)."),
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
    from riskml.io import guard_output
    from riskml.scoring.score import contributions_path as _cpath

    inputs = {"--data": data, "--previous": previous, "--config": config, "--data-config": data_config,
              "--features-config": features_config, "--model": model_uri if "://" not in model_uri
              and not model_uri.startswith(("models:/", "runs:/")) else None}
    if previous is not None:
        inputs["--previous's contributions"] = _cpath(previous)
    guard_output(out, "--out", inputs, (data,))
    guard_output(contributions if contributions is not None else _cpath(out), "--contributions", inputs, (data,))
    if engine == "spark":  # the Spark engine (riskml.cli.spark) takes the same arguments
        from riskml.cli.spark import score_command

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

    model, info = load_model(model_uri)  # a model that cannot be used stops the run before the ledger is read
    ledger = load_ledger_for_cli(data, data_config)
    check_in_ledger(as_of_ts, ledger, data, data_config, allow_future=allow_future)
    console.print(f"model {info.get('uri', model_uri)} (version {info.get('model_version', '?')})")
    extra = model_extra_attributes(model, resolve_data_config(data, data_config).extra_attributes)
    if (warning := scale_warning(model, scoring_config)) is not None:
        err_console.print(f"warning: {warning}")
    feats = build_features(ledger, as_of_ts, model_feature_config(model, features_config))
    fingerprint = ledger.until(as_of_ts).fingerprint()

    n = len(feats)
    active = _active_overrides(overrides_db, as_of_ts) if overrides_db is not None else None
    with _progress(n, show=n >= PROGRESS_MIN_ROWS) as bar:
        task = bar.add_task("scoring", total=n)
        result = score_customers(
            feats, model, scoring_config, info, previous=prev, data_fingerprint=fingerprint,
            specs=feature_specs(extra), progress=lambda done, total: bar.update(task, completed=done),
            overrides=active,
        )
    if active is not None:
        _print_overrides(result.scores)
    written = write_outputs(result, out, cpath)

    summary = summarise(result.scores, scoring_config.master_scale)
    console.print(summary_table(summary))
    for line in summary_lines(summary):
        console.print(line, markup=True)
    console.print(f"wrote {n:,} customers as of {as_of_ts.date()} to {written[0]} and contributions to {written[1]}")


def _active_overrides(db: str, as_of: Any) -> Any:
    """The overrides of the service's database active on ``as_of`` (with the orders released under each by then)."""
    from riskml.serving import require_extra

    require_extra()
    from riskml.serving.db import open_database
    from riskml.serving.repository import active_overrides_frame

    active = active_overrides_frame(open_database(db), as_of)
    console.print(f"{len(active):,} overrides active on {as_of.date()} from {db}")
    return active


def _print_overrides(scores: Any) -> None:
    """How many customers the overrides changed, and those that no longer apply."""
    ids = scores["override_ids"].astype(str)
    skipped = scores["override_skipped"].astype(str)
    console.print(f"overrides applied to {int((ids != '').sum()):,} customers (override_* columns)")
    for cid, text in zip(scores.loc[skipped != "", "customer_id"], skipped[skipped != ""], strict=True):
        err_console.print(f"warning: customer {cid}: {text}")


def register(app: typer.Typer) -> None:
    app.command("score", no_args_is_help=True)(score)
