"""``riskml report``: one HTML report per customer (for limit revisions and the customer who asks why)
and the portfolio report, from a scoring run (or scoring first when no scores file is given)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from riskml.cli.common import console, err_console, parse_date, user_errors

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_MODEL = "models:/riskml-delinquency@champion"


def _customer_ids(values: list[str] | None) -> list[str]:
    """``--customer`` values, repeated and/or comma-separated."""
    out: list[str] = []
    for v in values or []:
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return out


@user_errors
def report(
    data: Path = typer.Option(..., "--data", "-d", help="Ledger directory (customers, invoices, payments, ...)."),
    as_of: str = typer.Option(..., "--as-of", "-a", help="As-of date of the scores (YYYY-MM-DD)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output directory: portfolio.html and customers/<id>.html."),
    scores: Path | None = typer.Option(
        None, "--scores", "-s", help="Scores file from `riskml score`; without it the customers are scored first."),
    contributions: Path | None = typer.Option(
        None, "--contributions", help="Contributions file of --scores (default beside it: NAME.contributions.parquet)."),
    customer: list[str] | None = typer.Option(
        None, "--customer", help="Report only these customers (repeat the option or separate ids with commas)."),
    previous: str | None = typer.Option(
        None, "--previous", "-p", help="Previous review date: shows what changed since (scored with the same model)."),
    model_uri: str = typer.Option(
        DEFAULT_MODEL, "--model", "-m", help="MLflow model URI (models:/NAME@alias, runs:/...) or a local model directory."),
    pdf: bool = typer.Option(False, "--pdf", help="Also print every page to PDF (needs a Chromium binary)."),
    creditor: str = typer.Option(
        "", "--creditor", help="Your company's name: signs the statements of specific reasons."),
    ecoa_agency: str = typer.Option(
        "", "--ecoa-agency", help="Agency named in the statements' ECOA notice (default: the Federal Trade Commission, "
        "for creditors no other agency supervises)."),
    ecoa_notice: bool = typer.Option(
        True, "--ecoa-notice/--no-ecoa-notice", help="Print the US ECOA notice under each statement of reasons."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, help="Worker processes drawing the figures; 0 = one per CPU."),
    worklist: Path | None = typer.Option(
        None, "--worklist", help="Output directory of `riskml worklist`: the portfolio report links its index."),
    config: Path | None = typer.Option(None, "--config", "-c", help="Scoring config (default configs/scoring.yaml)."),
    data_config: Path | None = typer.Option(None, "--data-config", help="Data config (column mapping etc.)."),
    features_config: Path | None = typer.Option(
        None, "--features-config", help="Feature config (default: the one stored with the model, else configs/features.yaml)."),
) -> None:
    """Write a self-contained HTML report per customer (grade, PD band, limit and rationale, actions,
    reasons, SHAP waterfall, payment history, what changed, statement of specific reasons) and the
    portfolio report (grades, exposure, limit changes, holds, reviews, personas, model metrics, PSI).

    Example: riskml report --data data/demo --as-of 2026-09-30 --scores out/scores.parquet --out out/reports
    """
    from riskml.config import load_config
    from riskml.errors import ModelError, RiskmlError
    from riskml.io import read_table
    from riskml.modeling.registry import load_model
    from riskml.reporting.html import DEFAULT_ECOA_AGENCY
    from riskml.reporting.inputs import model_summary
    from riskml.reporting.run import (
        ReportData,
        previous_for_reviews,
        score_for_report,
        write_reports,
    )
    from riskml.scoring.score import contributions_path, model_extra_attributes, model_feature_config

    # every argument is checked before the expensive work
    as_of_ts = parse_date(as_of)
    prev_ts = parse_date(previous, "--previous") if previous is not None else None
    if prev_ts is not None and prev_ts >= as_of_ts:
        raise RiskmlError(f"--previous must be before --as-of {as_of_ts.date()}; got {prev_ts.date()}")
    if out.exists() and not out.is_dir():
        raise RiskmlError(f"--out {out}: exists and is not a directory")
    from riskml.io import guard_output
    from riskml.reporting.run import CUSTOMER_DIR, HOLDS_FILE, PORTFOLIO_FILE, REVIEWS_FILE

    guard_output(out, "--out", {"--data": data, "--scores": scores, "--contributions": contributions,
                                "--config": config, "--data-config": data_config,
                                "--features-config": features_config,
                                "--model": model_uri if "://" not in model_uri
                                and not model_uri.startswith(("models:/", "runs:/")) else None,
                                **({"--scores' contributions": contributions_path(scores)} if scores else {})},
                 (data,), writes=(CUSTOMER_DIR, HOLDS_FILE, REVIEWS_FILE, PORTFOLIO_FILE))
    cpath = None
    if scores is not None:
        if not scores.exists():
            raise RiskmlError(f"--scores {scores}: file not found (run `riskml score` first, or omit --scores)")
        cpath = contributions if contributions is not None else contributions_path(scores)
        if not cpath.exists():
            raise RiskmlError(f"--contributions {cpath}: file not found; `riskml score` writes it beside the scores "
                              "file (give its path with --contributions)")
    elif contributions is not None:
        raise RiskmlError("--contributions needs --scores")
    if worklist is not None and not (worklist / "index.html").exists():
        raise RiskmlError(f"--worklist {worklist}: no index.html there (run `riskml worklist --out {worklist}` first)")
    scoring_config = load_config("scoring", config)
    wanted = _customer_ids(customer)

    from riskml.cli.ledger import load_ledger_for_cli
    from riskml.data.validate import resolve_data_config

    ledger = load_ledger_for_cli(data, data_config)
    extra = resolve_data_config(data, data_config).extra_attributes
    model, info, problem = None, {}, ""
    try:
        model, info = load_model(model_uri)
        console.print(f"model {info.get('uri', model_uri)} (version {info.get('model_version', '?')})")
    except ModelError as exc:
        if scores is None or prev_ts is not None:
            raise
        problem = f"model {model_uri} could not be loaded ({exc}); test metrics and population stability are not shown"
        err_console.print(f"warning: {problem}")
    fconf = model_feature_config(model, features_config) if model is not None else load_config("features", features_config)
    extra = model_extra_attributes(model, extra)  # as the model was trained, like `riskml score`

    prev_frames = None
    if prev_ts is not None:
        console.print(f"scoring the previous review date {prev_ts.date()} with the same model")
        prev_frames = score_for_report(ledger, prev_ts, model, info, scoring_config, fconf, extra=extra)
    if scores is None:
        console.print(f"scoring {len(ledger.customers):,} customers as of {as_of_ts.date()}")
        prev_rev = previous_for_reviews(*prev_frames) if prev_frames is not None else None
        now_scores, now_contrib = score_for_report(ledger, as_of_ts, model, info, scoring_config, fconf,
                                                   previous_scores=prev_rev, extra=extra)
        source = f"scored in this run as of {as_of_ts.date()}"
    else:
        now_scores, now_contrib = read_table(scores), read_table(cpath)
        source = f"{scores}"
        _check_scores(now_scores, scores, as_of_ts, info if model is not None else None, prev_ts is not None)

    report_data = ReportData.from_frames(
        ledger, as_of_ts, now_scores, now_contrib, model_summary(model, info, model_uri, problem),
        previous=(prev_ts, *prev_frames) if prev_frames is not None else None,
        scoring_config=scoring_config, feature_config=fconf, source=source, extra_attributes=dict(extra),
        creditor=creditor.strip(), ecoa_agency=(ecoa_agency.strip() or DEFAULT_ECOA_AGENCY) if ecoa_notice else None,
    )
    n = len(wanted) if wanted else len(report_data.scores)
    workers = jobs or (os.cpu_count() or 1)
    with Progress(TextColumn("customer reports"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=n < 20) as bar:
        task = bar.add_task("reports", total=n)
        files = write_reports(report_data, out, wanted or None, pdf=pdf, jobs=workers, worklist_dir=worklist,
                              progress=lambda done, total: bar.update(task, completed=done))
    console.print(f"wrote {len(files.customers):,} customer reports to {out / 'customers'}, the portfolio report "
                  f"to {files.portfolio} and its full lists ({', '.join(p.name for p in files.lists)})"
                  + (f"; {len(files.pdfs):,} PDFs" if files.pdfs else ""))


def _check_scores(scores: pd.DataFrame, path: Path, as_of: pd.Timestamp, info: dict | None, comparing: bool) -> None:
    """The scores file must be for --as-of; with --previous its model must be the loaded one."""
    import pandas as pd

    from riskml.errors import RiskmlError

    if "as_of" in scores.columns and len(scores):
        dates = pd.to_datetime(scores["as_of"], errors="coerce").dt.normalize().dropna().unique()
        if len(dates) and any(pd.Timestamp(d) != as_of for d in dates):
            raise RiskmlError(f"--scores {path}: column as_of holds {pd.Timestamp(dates[0]).date()}, not --as-of "
                              f"{as_of.date()}; give the date the scores were made for")
    if info is None or "model_version" not in scores.columns:
        return
    used = sorted({str(v) for v in scores["model_version"].dropna().astype("str")} - {""})
    loaded = str(info.get("model_version", "") or "")
    if used and loaded and used != [loaded]:
        msg = (f"--scores {path}: made with model version {', '.join(used)} but --model loads version {loaded}")
        if comparing:
            raise RiskmlError(msg + "; --previous compares two dates scored with the same model: pass that "
                              "model with --model")
        err_console.print(f"warning: {msg}; metrics and population stability describe the loaded model")


def register(app: typer.Typer) -> None:
    app.command("report", no_args_is_help=True)(report)
