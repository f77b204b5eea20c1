"""``riskml report``: one HTML report per customer (for limit revisions and the customer who asks why)
and the portfolio report, from a scoring run (or scoring first when no scores file is given)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from riskml.cli.common import check_in_ledger, console, err_console, parse_date, user_errors
from riskml.commands import command

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_MODEL = "models:/riskml-delinquency@champion"


INPUT, WHO, OUTPUT, STATEMENT, CONFIGS = "Input", "Which customers", "Output", "Statements of reasons", "Configs"


class _LogProgress:
    """Progress as plain log lines when stdout is not a terminal: about every tenth of the pages."""

    def __init__(self, total: int) -> None:
        import time

        self.total, self.next, self.start, self._time = total, max(total // 10, 1), time.monotonic(), time.monotonic

    def __call__(self, done: int, total: int) -> None:
        if done >= self.next or done == total:
            console.print(f"customer reports: {done:,}/{total:,} ({100 * done / max(total, 1):.0f}%) "
                          f"in {self._time() - self.start:.0f} s")
            self.next = done + max(total // 10, 1)


@user_errors
def report(
    data: Path = typer.Option(..., "--data", "-d", metavar="DIR", rich_help_panel=INPUT,
                              help="Ledger directory (customers, invoices, payments, ...)."),
    as_of: str = typer.Option(..., "--as-of", "-a", metavar="DATE", rich_help_panel=INPUT,
                              help="As-of date of the scores, YYYY-MM-DD."),
    scores: Path | None = typer.Option(
        None, "--scores", "-s", metavar="FILE", rich_help_panel=INPUT,
        help="Scores file of `riskml score`; without it the customers are scored first."),
    contributions: Path | None = typer.Option(
        None, "--contributions", metavar="FILE", rich_help_panel=INPUT,
        help="Contributions of --scores (default: NAME.contributions.parquet beside it)."),
    previous: str | None = typer.Option(
        None, "--previous", "-p", metavar="DATE", rich_help_panel=INPUT,
        help="Previous review date: the pages show what changed since (same model)."),
    model_uri: str = typer.Option(
        DEFAULT_MODEL, "--model", "-m", metavar="URI", rich_help_panel=INPUT, show_default=False,
        help=f"MLflow model URI or a local model directory (default {DEFAULT_MODEL})."),
    allow_future: bool = typer.Option(False, "--allow-future", rich_help_panel=INPUT,
                                      help="Accept an --as-of after the ledger's export date."),
    customer: list[str] | None = typer.Option(
        None, "--customer", metavar="ID", rich_help_panel=WHO,
        help="Report only this customer; repeat the option for more (ids may hold commas)."),
    top: int | None = typer.Option(
        None, "--top", metavar="N", min=0, rich_help_panel=WHO,
        help="Only the N customers with a review due, most urgent then largest exposure first."),
    out: Path = typer.Option(..., "--out", "-o", metavar="DIR", rich_help_panel=OUTPUT,
                             help="Output directory (replaced as a whole): portfolio.html, customers/."),
    pdf: bool = typer.Option(False, "--pdf", rich_help_panel=OUTPUT,
                             help="Also print every page to PDF (needs Chromium)."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, metavar="N", rich_help_panel=OUTPUT,
                             help="Worker processes building the pages; 0 = one per CPU."),
    creditor: str = typer.Option(
        "", "--creditor", metavar="NAME", rich_help_panel=STATEMENT,
        help="Your company's name: signs the statements of specific reasons."),
    ecoa_agency: str = typer.Option(
        "", "--ecoa-agency", metavar="TEXT", rich_help_panel=STATEMENT,
        help="Agency named in the ECOA notice (default: the Federal Trade Commission)."),
    no_ecoa_notice: bool = typer.Option(
        False, "--no-ecoa-notice", rich_help_panel=STATEMENT,
        help="Leave out the US ECOA notice under each statement."),
    worklist: Path | None = typer.Option(
        None, "--worklist", metavar="DIR", rich_help_panel=OUTPUT,
        help="Output directory of `riskml worklist`: the portfolio report links its index."),
    config: Path | None = typer.Option(None, "--config", "-c", metavar="FILE", rich_help_panel=CONFIGS,
                                       help="Scoring config (default configs/scoring.yaml)."),
    data_config: Path | None = typer.Option(None, "--data-config", metavar="FILE", rich_help_panel=CONFIGS,
                                            help="Data config (column mapping etc.)."),
    features_config: Path | None = typer.Option(
        None, "--features-config", metavar="FILE", rich_help_panel=CONFIGS,
        help="Feature config (default: the model's, else configs/features.yaml)."),
) -> None:
    """Write a self-contained HTML report per customer (grade, PD band, limit and rationale, actions,
    reasons, waterfall of the score, payment history, what changed, statement of specific reasons) and
    the portfolio report (grades, exposure, limit changes, holds, reviews, personas, model, PSI).

    Example: riskml report --data data/demo --as-of 2026-09-30 --scores out/scores.parquet --out out/reports
    """
    import sys

    from riskml.config import load_config
    from riskml.errors import ModelError, RiskmlError
    from riskml.io import read_table
    from riskml.modeling.registry import load_model
    from riskml.reporting.html import DEFAULT_ECOA_AGENCY
    from riskml.reporting.inputs import model_summary
    from riskml.reporting.run import (
        ReportData,
        check_output_dir,
        score_for_report,
        select_customers,
        write_reports,
    )
    from riskml.scoring.score import (
        contributions_path,
        model_extra_attributes,
        model_feature_config,
        previous_scores,
    )

    # every argument is checked before the expensive work
    as_of_ts = parse_date(as_of)
    prev_ts = parse_date(previous, "--previous") if previous is not None else None
    if prev_ts is not None and prev_ts >= as_of_ts:
        raise RiskmlError(f"--previous must be before --as-of {as_of_ts.date()}; got {prev_ts.date()}")
    from riskml.io import guard_output
    from riskml.reporting.run import CUSTOMER_DIR, HOLDS_FILE, PORTFOLIO_FILE, REVIEWS_FILE

    guard_output(out, "--out", {"--data": data, "--scores": scores, "--contributions": contributions,
                                "--config": config, "--data-config": data_config,
                                "--features-config": features_config,
                                "--model": model_uri if "://" not in model_uri
                                and not model_uri.startswith(("models:/", "runs:/")) else None,
                                **({"--scores' contributions": contributions_path(scores)} if scores else {})},
                 (data,), writes=(CUSTOMER_DIR, HOLDS_FILE, REVIEWS_FILE, PORTFOLIO_FILE))
    check_output_dir(out)
    cpath = None
    if scores is not None:
        if not scores.exists():
            raise RiskmlError(f"--scores {scores}: file not found (run `{command()} score` first, or omit --scores)")
        cpath = contributions if contributions is not None else contributions_path(scores)
        if not cpath.exists():
            raise RiskmlError(f"--contributions {cpath}: file not found; `riskml score` writes it beside the scores "
                              "file (give its path with --contributions)")
    elif contributions is not None:
        raise RiskmlError("--contributions needs --scores")
    if worklist is not None and not (worklist / "index.html").exists():
        raise RiskmlError(f"--worklist {worklist}: no index.html there (run `riskml worklist --out {worklist}` first)")
    scoring_config = load_config("scoring", config)
    wanted = [str(c) for c in customer or []]
    now_scores = read_table(scores) if scores is not None else None
    if now_scores is not None and wanted and "customer_id" in now_scores:
        select_customers(now_scores.assign(customer_id=now_scores["customer_id"].astype("str")), wanted)

    from riskml.cli.ledger import load_ledger_for_cli
    from riskml.data.validate import resolve_data_config

    ledger = load_ledger_for_cli(data, data_config)
    check_in_ledger(as_of_ts, ledger, data, data_config, allow_future=allow_future)
    if prev_ts is not None:
        check_in_ledger(prev_ts, ledger, data, data_config, option="--previous")
    if wanted and now_scores is None:  # before scoring: the customers must be in the ledger
        select_customers(ledger.customers.assign(customer_id=ledger.customers["customer_id"].astype("str")), wanted)
    extra = resolve_data_config(data, data_config).extra_attributes
    model, problem = None, ""
    info: dict[str, Any] = {}
    try:
        model, info = load_model(model_uri)
        console.print(f"model {info.get('uri', model_uri)} (version {info.get('model_version', '?')})")
    except ModelError as exc:
        if scores is None or prev_ts is not None:
            raise
        problem = f"model {model_uri} could not be loaded ({exc}); test metrics and population stability are not shown"
        err_console.print(f"warning: {problem}")
    fconf = model_feature_config(model, features_config) if model is not None else load_config("features", features_config)
    extra = model_extra_attributes(model, extra) if model is not None else dict(extra)  # as the model was trained, like `riskml score`

    prev_frames = None
    if prev_ts is not None:
        console.print(f"scoring the previous review date {prev_ts.date()} with the same model")
        prev_frames = score_for_report(ledger, prev_ts, model, info, scoring_config, fconf, extra=extra)
    if scores is None:
        console.print(f"scoring {len(ledger.customers):,} customers as of {as_of_ts.date()}")
        prev_rev = previous_scores(prev_frames[0]) if prev_frames is not None else None
        now_scores, now_contrib = score_for_report(ledger, as_of_ts, model, info, scoring_config, fconf,
                                                   previous_scores=prev_rev, extra=extra)
        source = f"scored in this run as of {as_of_ts.date()}"
    else:
        assert cpath is not None  # set with --scores
        now_contrib = read_table(cpath)
        source = f"{scores}"
        _check_scores(now_scores, scores, as_of_ts, info if model is not None else None, prev_ts is not None)

    report_data = ReportData.from_frames(
        ledger, as_of_ts, now_scores, now_contrib, model_summary(model, info, model_uri, problem),
        previous=(prev_ts, *prev_frames) if prev_frames is not None else None,
        scoring_config=scoring_config, feature_config=fconf, source=source, extra_attributes=dict(extra),
        creditor=creditor.strip(),
        ecoa_agency=None if no_ecoa_notice else (ecoa_agency.strip() or DEFAULT_ECOA_AGENCY),
        predict_pd=getattr(model, "predict_pd", None),
    )
    n = len(wanted) if wanted else len(report_data.scores)
    if top is not None:
        n = min(n, top)
    workers = jobs or (os.cpu_count() or 1)
    console.print(f"writing up to {n:,} customer reports with {workers} worker process(es) into {out}")
    if sys.stdout.isatty():
        with Progress(TextColumn("customer reports"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True, disable=n < 20) as bar:
            task = bar.add_task("reports", total=n)
            files = write_reports(report_data, out, wanted or None, pdf=pdf, jobs=workers, top=top, worklist_dir=worklist,
                                  progress=lambda done, total: bar.update(task, completed=done, total=total))
    else:
        files = write_reports(report_data, out, wanted or None, pdf=pdf, jobs=workers, top=top, worklist_dir=worklist,
                              progress=_LogProgress(n))
    console.print(f"wrote {len(files.customers):,} customer reports to {out / 'customers'}, the portfolio report "
                  f"to {files.portfolio} and its full lists ({', '.join(p.name for p in files.lists)})"
                  + (f"; {len(files.pdfs):,} PDFs" if files.pdfs else ""))
    if files.failed:
        for cid, why in list(files.failed.items())[:20]:
            err_console.print(f"warning: customer {cid!r}: no report written ({why})", markup=False)
        raise RiskmlError(f"{len(files.failed):,} customer report(s) could not be written (listed above); "
                          "the others were written")


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
