"""``riskml features``: point-in-time features of every customer as of a date."""

from __future__ import annotations

from pathlib import Path

import typer

from riskml.cli.common import check_in_ledger, console, parse_date, user_errors
from riskml.cli.ledger import load_ledger_for_cli
from riskml.config import load_config
from riskml.errors import RiskmlError
from riskml.io import guard_output, write_table

ENGINES = ("pandas", "spark")


@user_errors
def features(
    data: Path = typer.Option(..., "--data", "-d", help="Ledger directory (customers, invoices, payments, ...)."),
    as_of: str = typer.Option(..., "--as-of", "-a", help="As-of date (YYYY-MM-DD); only rows dated on or before it are used."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file, .parquet or .csv."),
    data_config: Path | None = typer.Option(None, "--data-config", help="Data config (column mapping etc.)."),
    config: Path | None = typer.Option(None, "--config", "-c", help="Feature config (default configs/features.yaml)."),
    allow_future: bool = typer.Option(False, "--allow-future", help="Accept an --as-of after the ledger's export date."),
    engine: str = typer.Option(
        "pandas", "--engine",
        help="pandas (this machine) or spark (needs pip install 'riskml\\[spark]' and Java 17+; --data may then be "
             "a URI and --out is a Parquet directory; see docs/spark.md)."),
) -> None:
    """Build the features of every customer in the master as of a date.

    Example: riskml features --data data/demo --as-of 2026-09-30 --out out/features.parquet
    """
    if engine not in ENGINES:
        raise RiskmlError(f"--engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    guard_output(out, "--out", {"--data": data, "--data-config": data_config, "--config": config}, (data,))
    if engine == "spark":
        from riskml.cli.spark import features_command

        features_command(data, as_of, out, data_config, config)
        return
    from riskml.features import build_features

    as_of_ts = parse_date(as_of)
    ledger = load_ledger_for_cli(data, data_config)
    check_in_ledger(as_of_ts, ledger, data, data_config, allow_future=allow_future)
    frame = build_features(ledger, as_of_ts, load_config("features", config))
    write_table(frame, out)
    console.print(f"wrote {len(frame):,} customers x {frame.shape[1] - 2} features as of {as_of_ts.date()} to {out}")


def register(app: typer.Typer) -> None:
    app.command("features", no_args_is_help=True)(features)
