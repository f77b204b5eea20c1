"""``riskml worklist``: the collectors' worklists ranked by money at stake (amount to ask for, channel,
script per persona, usual payment pattern), their assignment to collectors, the escalations to an agency or
legal, and the paperwork queue for billing and sales."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from riskml.cli.common import console, err_console, parse_date, user_errors

DEFAULT_MODEL = "models:/riskml-delinquency@champion"


def _summary(result) -> Table:  # type: ignore[no-untyped-def]
    t = Table(title=f"Collectors as of {result.as_of.date()}", header_style="bold")
    for col, just in (("collector", "left"), ("portfolio", "left"), ("accounts", "right"), ("to collect", "right"),
                      ("expected loss", "right"), ("balance", "left"), ("kept/new/moved", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in result.collectors.to_dict("records"):
        bal = Text(f"{100 * r['amount_deviation']:+.0f}% money, {100 * r['accounts_deviation']:+.0f}% accounts")
        if not r["within_tolerance"]:
            bal.append(" (outside tolerance)", style="yellow")
        t.add_row(r["collector"], r["portfolio"] or "all", f"{r['accounts']:,}", f"{r['amount_to_collect']:,.0f}",
                  f"{r['expected_loss']:,.0f}", bal, f"{r['kept']}/{r['new']}/{r['reassigned']}")
    return t


@user_errors
def worklist(
    data: Path = typer.Option(..., "--data", "-d", help="Ledger directory (customers, invoices, payments, ...)."),
    as_of: str = typer.Option(..., "--as-of", "-a", help="As-of date (YYYY-MM-DD); only rows dated on or before it are used."),
    out: Path = typer.Option(..., "--out", "-o", help="Output directory: worklist, escalations, paperwork, assignment, "
                             "collectors (.csv and .parquet), index.html and collectors/<name>.html."),
    scores: Path | None = typer.Option(
        None, "--scores", "-s", help="Scores file of `riskml score` as of the same date; without it the customers are scored first."),
    collectors: int | None = typer.Option(None, "--collectors", "-n", help="Number of collectors (equal capacity); default 1."),
    collectors_file: Path | None = typer.Option(
        None, "--collectors-file", help="CSV of collectors: name, capacity (accounts; empty = no cap), optional portfolio."),
    previous_assignment: Path | None = typer.Option(
        None, "--previous-assignment", "-p", help="assignment.csv of the previous run: customers keep their collector."),
    promises: Path | None = typer.Option(
        None, "--promises", help="Promises to pay and payment-plan instalments: customer_id, made_date, promised_date, "
        "amount, optional kind (promise/plan) and plan_id."),
    model_uri: str = typer.Option(DEFAULT_MODEL, "--model", "-m", help="Model used when --scores is not given."),
    config: Path | None = typer.Option(None, "--config", "-c", help="Scoring config with its collections section "
                                       "(default configs/scoring.yaml)."),
    data_config: Path | None = typer.Option(None, "--data-config", help="Data config (column mapping etc.)."),
    features_config: Path | None = typer.Option(None, "--features-config", help="Feature config (default configs/features.yaml)."),
) -> None:
    """Write the collectors' worklists (ranked by expected loss x urgency, with the amount to ask for, the amount
    that releases held orders, phone or e-mail, a script per persona, the usual payment pattern, the last payment
    and the oldest open item), their assignment to collectors (balanced by money and accounts, stable across
    runs), the escalations (reason and amount) and the paperwork queue for billing and sales.

    Example: riskml worklist --data data/demo --as-of 2026-09-30 --scores out/scores.parquet --out out/worklist --collectors 4
    """
    import pandas as pd

    from riskml.collect.inputs import (
        collectors_from_count,
        prepare_scores,
        read_collectors,
        read_previous_assignment,
        read_promises,
    )
    from riskml.collect.run import INDEX_FILE, build_worklist, write_worklist
    from riskml.config import load_config
    from riskml.errors import RiskmlError
    from riskml.io import read_table

    # every argument is checked before the expensive work
    as_of_ts = parse_date(as_of)
    if out.exists() and not out.is_dir():
        raise RiskmlError(f"--out {out}: exists and is not a directory")
    if collectors is not None and collectors_file is not None:
        raise RiskmlError("give either --collectors or --collectors-file, not both")
    team = read_collectors(collectors_file) if collectors_file is not None else collectors_from_count(collectors if collectors is not None else 1)
    previous = read_previous_assignment(previous_assignment) if previous_assignment is not None else None
    prom = read_promises(promises) if promises is not None else None
    if scores is not None and not scores.exists():
        raise RiskmlError(f"--scores {scores}: file not found (run `riskml score` first, or omit --scores)")
    scoring_config = load_config("scoring", config)
    raw_scores = None
    if scores is not None:  # ids stay text (a CSV would read 0042 as the number 42)
        raw_scores = (pd.read_csv(scores, dtype={"customer_id": "str"}) if scores.suffix.lower() == ".csv"
                      else read_table(scores))
        prepare_scores(raw_scores, scores, as_of_ts)  # checked before the ledger is read

    from riskml.cli.ledger import load_ledger_for_cli
    from riskml.features import build_features

    ledger = load_ledger_for_cli(data, data_config)
    if raw_scores is None:
        from riskml.data.validate import resolve_data_config
        from riskml.features import feature_specs
        from riskml.modeling.registry import load_model
        from riskml.scoring.score import model_extra_attributes, model_feature_config, score_customers

        model, info = load_model(model_uri)
        console.print(f"no --scores: scoring with {info.get('uri', model_uri)} (version {info.get('model_version', '?')})")
        fconf = model_feature_config(model, features_config)
        extra = model_extra_attributes(model, resolve_data_config(data, data_config).extra_attributes)
        feats = build_features(ledger, as_of_ts, fconf)
        raw_scores = score_customers(feats, model, scoring_config, info, specs=feature_specs(extra),
                                     data_fingerprint=ledger.until(as_of_ts).fingerprint()).scores
        source = f"{data} scored with {info.get('uri', model_uri)}"
    else:
        fconf = load_config("features", features_config)
        feats = build_features(ledger, as_of_ts, fconf)
        source = f"{data} and {scores}"
    ready = prepare_scores(raw_scores, scores if scores is not None else "scores", as_of_ts)
    result = build_worklist(ledger, as_of_ts, ready, team, scoring_config, fconf, previous=previous, promises=prom,
                            features=feats)
    result.source = source
    write_worklist(result, out)

    lines = result.lines
    console.print(_summary(result))
    console.print(f"{len(lines):,} accounts to work, {lines['amount_to_collect'].sum():,.0f} past due "
                  f"({(lines['channel'] == 'phone').sum():,} by phone); expected loss {lines['expected_loss'].sum():,.0f}")
    console.print(f"escalations: {len(result.escalations):,} ({result.escalations['escalation_amount'].sum():,.0f}); "
                  f"paperwork queue: {len(result.paperwork):,} items, "
                  f"{int(result.paperwork['releases_hold'].astype(bool).sum()) if len(result.paperwork) else 0:,} "
                  "held accounts released by applying their own unapplied cash")
    unassigned = int((lines["collector"] == "").sum())
    if unassigned:
        err_console.print(f"warning: {unassigned:,} accounts not assigned (beyond capacity or outside every portfolio)")
    for note in result.notes:
        err_console.print(f"note: {note}")
    console.print(f"wrote {out / INDEX_FILE} and the worklist files to {out}")


def register(app: typer.Typer) -> None:
    app.command("worklist", no_args_is_help=True)(worklist)
