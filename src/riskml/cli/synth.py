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
    mix: str = typer.Option(
        "demo", "--mix", help="Persona mix: demo, harsh (more weak, distressed and disorganised customers, about "
        "10% defaulting in the year after --end), or shares like 'prompt=0.3,stretcher=0.2,downturn=0.3'."),
) -> None:
    """Generate a synthetic AR ledger (customers, invoices, payments, adjustments, orders) whose
    customers follow personas: prompt payers, strong customers stretching terms, deteriorating,
    distressed ones that default, disorganised disputers and new ones. The personas and default
    dates behind it go to DIR/_truth/personas.csv (the validator ignores that folder; riskml never reads it
    as input): each customer's persona, its default date up to --end, the scheduled one also after --end,
    and its stress level at --end.

    Example: riskml synth --out data/demo --customers 2000 --months 36 --seed 7 --end 2026-09-30

    Example: riskml synth --out data/harsh --customers 2000 --months 36 --seed 11 --mix harsh
    """
    import pandas as pd

    from riskml.data.synth import generate_ledger, resolve_mix, write_synthetic
    from riskml.data.writer import check_format

    end_ts = parse_date(end, "--end")
    ledger_format = check_format(fmt)
    resolve_mix(mix)  # a bad mix is a user error before anything is generated
    result = generate_ledger(n_customers=customers, months=months, seed=seed, end=end_ts, mix=mix)
    write_synthetic(result, out, ledger_format)
    counts = result.ledger.row_counts()
    n_default = int(result.truth["default_date"].notna().sum())
    ahead = result.truth["scheduled_default_date"]
    n_next = int(((ahead > end_ts) & (ahead <= end_ts + pd.DateOffset(months=12))).sum())
    console.print(
        f"wrote {sum(1 for v in counts.values() if v)} tables to {out} ({fmt}): "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items() if v)
        + f"; {n_default:,} customers ({n_default / max(customers, 1):.1%}) default by {end_ts.date()}, "
        f"{n_next:,} ({n_next / max(customers, 1):.1%}) in the 12 months after"
    )


def register(app: typer.Typer) -> None:
    app.command("synth", no_args_is_help=True)(synth)
