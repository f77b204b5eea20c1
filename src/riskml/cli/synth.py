"""``riskml synth``: generate the realistic, persona-driven demo ledger."""

from __future__ import annotations

from pathlib import Path

import typer

from riskml.cli.common import console, parse_date, user_errors


@user_errors
def synth(
    out: Path = typer.Option(..., "--out", "-o", help="Output directory for the ledger tables."),
    customers: int = typer.Option(2000, "--customers", "-n", help="Number of customers."),
    months: int = typer.Option(36, "--months", "-m", help="Months of history, ending with --end's month."),
    seed: int = typer.Option(7, "--seed", "-s", help="Random seed: the same seed gives the same ledger."),
    end: str = typer.Option("2026-09-30", "--end", "-e", help="Last date of the ledger (YYYY-MM-DD); nothing is dated after it."),
    fmt: str = typer.Option("csv", "--format", "-f", help="File format: csv or parquet."),
) -> None:
    """Generate a synthetic AR ledger (customers, invoices, payments, adjustments, orders) whose
    customers follow personas: prompt payers, strong customers stretching terms, deteriorating,
    distressed ones that default, disorganised disputers and new ones. The personas and default
    dates behind it go to DIR/_truth/personas.csv (the validator ignores that folder).

    Example: riskml synth --out data/demo --customers 2000 --months 36 --seed 7 --end 2026-09-30
    """
    from riskml.data.synth import generate_ledger, write_synthetic
    from riskml.data.writer import check_format

    end_ts = parse_date(end, "--end")
    ledger_format = check_format(fmt)
    result = generate_ledger(n_customers=customers, months=months, seed=seed, end=end_ts)
    write_synthetic(result, out, ledger_format)
    counts = result.ledger.row_counts()
    n_default = int(result.truth["default_date"].notna().sum())
    console.print(
        f"wrote {sum(1 for v in counts.values() if v)} tables to {out} ({fmt}): "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items() if v)
        + f"; {n_default:,} customers ({n_default / max(customers, 1):.1%}) default by {end_ts.date()}"
    )


def register(app: typer.Typer) -> None:
    app.command("synth", no_args_is_help=True)(synth)
