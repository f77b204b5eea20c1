"""``riskml features --engine spark`` and ``riskml score --engine spark``: the command-line side of the
Spark engine (arguments as the pandas commands take them, the same terminal output). It lives with the
CLI so that :mod:`riskml.spark` never imports it (the Spark package sits beside scoring, below the CLI).

Importing this module does not import pyspark; each command first checks that the optional extra and
Java are there (:func:`riskml.spark.engine.require_spark`) and otherwise fails with the install hint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from riskml.cli.common import console, err_console, parse_date, warn
from riskml.errors import RiskmlError
from riskml.spark.output import as_location


def _require_spark() -> None:
    """Exit 1 with the install hint when pyspark or Java is missing. Printed here, escaped: the hint
    holds ``riskml[spark]``, which rich markup (riskml.cli.common.fail) would take for a style tag."""
    from rich.markup import escape

    from riskml.spark.engine import SparkUnavailable, require_spark

    try:
        require_spark()
    except SparkUnavailable as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True)
        raise typer.Exit(code=1) from None


def _print_ledger(data: str, run: Any) -> None:
    counts = ", ".join(f"{t} {a:,}" for t, a in zip(run.summary["table"], run.summary["accepted"], strict=True) if a)
    n_rej = run.n_rejected
    console.print(f"ledger {data}: {counts}; {n_rej:,} rows rejected"
                  + (" (run `riskml validate` for the list)" if n_rej else "") + " [Spark]")
    for w in run.warnings:
        warn(w)


def features_command(data: str | Path, as_of: str, out: str | Path, data_config: Path | None,
                     config: Path | None) -> None:
    """``riskml features --engine spark`` (arguments as ``riskml features`` takes them)."""
    _require_spark()
    from riskml.config import load_config
    from riskml.data.validate import resolve_data_config
    from riskml.spark.features import feature_columns, run_features
    from riskml.spark.output import check_parquet_target

    as_of_ts = parse_date(as_of)
    location, target = as_location(data), check_parquet_target(as_location(out))
    cfg = resolve_data_config(location, data_config)
    run = run_features(location, as_of_ts, target, data_config=cfg, feature_config=load_config("features", config))
    _print_ledger(location, run)
    n_features = len(feature_columns(cfg.extra_attributes)) - 2
    console.print(f"wrote {run.rows:,} customers x {n_features} features as of {as_of_ts.date()} to {run.out} "
                  "(Parquet, written by Spark)")


def score_command(data: str | Path, as_of: str, out: str | Path, model_uri: str, previous: Path | None,
                  contributions: Path | None, config: Path | None, data_config: Path | None,
                  features_config: Path | None) -> None:
    """``riskml score --engine spark`` (arguments as ``riskml score`` takes them; ``--contributions`` is
    refused: the served model returns PD, grade and reasons only)."""
    _require_spark()
    from riskml.config import load_config
    from riskml.data.validate import resolve_data_config
    from riskml.modeling.registry import load_model
    from riskml.scoring.score import load_previous, model_extra_attributes, model_feature_config
    from riskml.scoring.summary import scale_warning, summary_lines, summary_table
    from riskml.spark.output import check_parquet_target
    from riskml.spark.score import pyfunc_uri, run_score

    # every argument is checked before the expensive work
    as_of_ts = parse_date(as_of)
    location, target = as_location(data), check_parquet_target(as_location(out))
    if contributions is not None:
        raise RiskmlError("--contributions: not available with --engine spark (the served MLflow model returns PD, "
                          "grade and reasons, not per-feature contributions); use --engine pandas for them")
    scoring_config = load_config("scoring", config)
    prev = load_previous(previous) if previous is not None else None
    pyfunc_uri(model_uri)
    model, info = load_model(model_uri)
    console.print(f"model {info.get('uri', model_uri)} (version {info.get('model_version', '?')})")
    cfg = resolve_data_config(location, data_config)
    extra = model_extra_attributes(model, cfg.extra_attributes)
    if (warning := scale_warning(model, scoring_config)) is not None:
        err_console.print(f"warning: {warning}")
    run = run_score(location, as_of_ts, target, model, info, model_uri, config=scoring_config, data_config=cfg,
                    feature_config=model_feature_config(model, features_config), extra_attributes=extra, previous=prev)
    _print_ledger(location, run)
    summary = run.extra["summary"]
    console.print(summary_table(summary))
    for line in summary_lines(summary):
        console.print(line, markup=True)
    console.print(f"wrote {run.rows:,} customers as of {as_of_ts.date()} to {run.out} (Parquet, written by Spark; "
                  "no contributions file with --engine spark)")
