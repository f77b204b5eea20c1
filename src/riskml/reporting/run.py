"""Writing the reports: one HTML page per customer and ``portfolio.html``, from a scoring run.

:class:`ReportData` gathers what the pages need (ledger, scores, contributions, the model summary, the
optional previous scoring); :func:`score_for_report` produces scores and contributions with the scoring
library when no scores file is given (and for the previous review date, always with the same model);
:func:`write_reports` draws, renders and writes the files atomically.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from riskml.config import FeatureConfig, ScoringConfig
from riskml.data.ledger import Ledger
from riskml.errors import RiskmlError
from riskml.features import build_features, feature_specs
from riskml.io import write_table, write_text
from riskml.reporting.customer import CustomerReport, add_figures, build_customer_report
from riskml.reporting.history import monthly_history
from riskml.reporting.html import DEFAULT_ECOA_AGENCY, render_customer, render_portfolio, safe_filename
from riskml.reporting.inputs import (
    Contributions,
    ModelSummary,
    prepare_contributions,
    prepare_scores,
)
from riskml.reporting.portfolio import build_portfolio_report

CUSTOMER_DIR = "customers"
# below this many customers, worker processes cost more to start than they save
MIN_PARALLEL = 40
PORTFOLIO_FILE = "portfolio.html"
HOLDS_FILE = "holds.csv"
REVIEWS_FILE = "reviews_due.csv"


@dataclass
class Previous:
    """The scoring of the previous review date (same model)."""

    as_of: pd.Timestamp
    scores: pd.DataFrame
    contributions: Contributions


@dataclass
class ReportData:
    """Everything the reports read. ``scores`` and ``contributions`` as prepared by
    :func:`~riskml.reporting.inputs.prepare_scores` / :func:`~riskml.reporting.inputs.prepare_contributions`."""

    ledger: Ledger
    as_of: pd.Timestamp
    scores: pd.DataFrame
    contributions: Contributions
    model: ModelSummary
    scoring_config: ScoringConfig = field(default_factory=ScoringConfig)
    feature_config: FeatureConfig | None = None
    previous: Previous | None = None
    source: str = ""
    extra_attributes: dict[str, Any] = field(default_factory=dict)
    creditor: str = ""  # signs the statements of reasons
    ecoa_agency: str | None = DEFAULT_ECOA_AGENCY  # completes their ECOA notice; None leaves it out

    @classmethod
    def from_frames(cls, ledger: Ledger, as_of: object, scores: pd.DataFrame, contributions: pd.DataFrame,
                    model: ModelSummary, previous: tuple[object, pd.DataFrame, pd.DataFrame] | None = None,
                    **kwargs: Any) -> ReportData:
        """Check and prepare raw scoring frames (as written by ``riskml score``)."""
        prev = None
        if previous is not None:
            p_as_of, p_scores, p_contrib = previous
            prev = Previous(pd.Timestamp(p_as_of).normalize(), prepare_scores(p_scores, "previous scores"),
                            prepare_contributions(p_contrib, "previous contributions"))
        return cls(ledger=ledger, as_of=pd.Timestamp(as_of).normalize(), scores=prepare_scores(scores),
                   contributions=prepare_contributions(contributions), model=model, previous=prev, **kwargs)


@dataclass
class _Task:
    """One customer page to draw and render (picklable, for worker processes)."""

    report: CustomerReport
    contrib: pd.DataFrame
    history: pd.DataFrame | None
    model_uri: str
    source: str
    extra: dict[str, Any]
    creditor: str = ""
    ecoa_agency: str | None = DEFAULT_ECOA_AGENCY


def _draw_and_render(task: _Task) -> tuple[str, str]:
    add_figures(task.report, task.contrib, feature_specs(task.extra), task.history)
    html = render_customer(task.report, model_uri=task.model_uri, generated_from=task.source,
                           creditor=task.creditor, ecoa_agency=task.ecoa_agency)
    return str(task.report.row["customer_id"]), html


def _render_all(tasks: Iterator[_Task], jobs: int) -> Iterator[tuple[str, str]]:
    """(customer id, HTML) per task, in task order; ``jobs`` > 1 uses spawned worker processes (no
    fork: the parent may hold OpenMP threads from LightGBM)."""
    if jobs <= 1:
        for task in tasks:
            yield _draw_and_render(task)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
        yield from pool.map(_draw_and_render, tasks, chunksize=8)


@dataclass
class ReportFiles:
    """The files written."""

    portfolio: Path
    customers: dict[str, Path]
    pdfs: list[Path] = field(default_factory=list)
    lists: list[Path] = field(default_factory=list)  # holds.csv and reviews_due.csv


def score_for_report(ledger: Ledger, as_of: object, model: Any, info: dict[str, Any] | None = None,
                     config: ScoringConfig | None = None, feature_config: FeatureConfig | None = None,
                     previous_scores: pd.DataFrame | None = None,
                     extra: dict[str, Any] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores and contributions of every customer as of ``as_of`` with the scoring library, the way
    ``riskml score`` does it (same features, fingerprint and model info). ``previous_scores`` (columns
    ``customer_id``, ``grade``, optionally ``as_of`` and ``dbt_avg_3m``) feeds the review triggers."""
    from riskml.scoring.score import score_customers

    as_of_ts = pd.Timestamp(as_of).normalize()
    features = build_features(ledger, as_of_ts, feature_config)
    result = score_customers(features, model, config, model_info=dict(info or {}), previous=previous_scores,
                             data_fingerprint=ledger.until(as_of_ts).fingerprint(), specs=feature_specs(extra))
    if result.contributions is None:
        raise RiskmlError("scoring returned no contributions; the reports need them")
    return result.scores, result.contributions


def previous_for_reviews(scores: pd.DataFrame, contributions: pd.DataFrame) -> pd.DataFrame:
    """A previous scoring in the shape the review triggers read: ``customer_id``, ``grade``, ``as_of``
    and the 3-month DBT then (from the contributions' feature values)."""
    prev = scores[["customer_id", "grade", "as_of"]].copy()
    prev["customer_id"] = prev["customer_id"].astype("str")
    dbt = contributions.loc[contributions["feature"].astype("str") == "dbt_avg_3m", ["customer_id", "value"]]
    dbt = dbt.assign(customer_id=dbt["customer_id"].astype("str")).rename(columns={"value": "dbt_avg_3m"})
    return prev.merge(dbt.drop_duplicates("customer_id"), on="customer_id", how="left")


def select_customers(scores: pd.DataFrame, customer_ids: Sequence[str] | None) -> list[str]:
    """The customers to report on: all, or those asked for (each must be in the scores)."""
    if not customer_ids:
        return scores["customer_id"].tolist()
    known = set(scores["customer_id"])
    wanted = list(dict.fromkeys(str(c) for c in customer_ids))
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise RiskmlError(f"--customer: not in the scores: {', '.join(unknown[:10])}"
                          + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""))
    return wanted


def write_reports(
    data: ReportData,
    out_dir: str | Path,
    customer_ids: Sequence[str] | None = None,
    pdf: bool = False,
    progress: Callable[[int, int], None] | None = None,
    history_months: int = 24,
    jobs: int = 1,
    worklist_dir: str | Path | None = None,
) -> ReportFiles:
    """Write one HTML report per customer (``customers/<id>.html``) and ``portfolio.html`` to ``out_dir``;
    with ``pdf``, a PDF beside each page (needs Chromium, see :mod:`riskml.reporting.browser`).

    Drawing the figures dominates the cost (about half a second per customer): ``jobs`` > 1 draws them in
    that many worker processes. The pages are the same whatever ``jobs`` is. ``worklist_dir`` (the output of
    ``riskml worklist``) is linked from the portfolio page when given."""
    from riskml.scoring.grades import grade_bands

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise RiskmlError(f"--out {out}: exists and is not a directory")
    if pdf:
        from riskml.reporting.browser import find_chromium

        if find_chromium() is None:
            raise RiskmlError("--pdf needs a Chromium binary (Debian package `chromium`); none found. "
                              "The HTML reports print to PDF from any browser.")
    ids = select_customers(data.scores, customer_ids)
    specs = feature_specs(data.extra_attributes)
    bands = grade_bands(data.scoring_config.master_scale)
    ledger = data.ledger.until(data.as_of)
    master = ledger.customers.assign(customer_id=ledger.customers["customer_id"].astype("str")).set_index("customer_id")
    history = monthly_history(ledger, data.as_of, ids, n_months=history_months, config=data.feature_config)
    hist_by = {cid: g for cid, g in history.groupby("customer_id", sort=False)}
    scores_by = data.scores.set_index("customer_id", drop=False)
    model_features = list(data.model.feature_names) or data.contributions.features
    previous = None
    if data.previous is not None:
        previous = (data.previous.scores, data.previous.contributions, data.previous.as_of)
    # the portfolio first: its population stability flags customer statements citing a drifted feature
    features = build_features(ledger, data.as_of, data.feature_config)
    prev = (data.previous.scores, data.previous.as_of) if data.previous is not None else None
    portfolio = build_portfolio_report(data.scores, bands, data.model, features, ledger.customers, prev, specs=specs)
    st = portfolio.stability
    drifted = dict(zip(st.loc[st["status"] == "drifted", "variable"], st.loc[st["status"] == "drifted", "psi"],
                       strict=True))

    def tasks() -> Iterator[_Task]:
        for cid in ids:
            row = scores_by.loc[cid].to_dict()
            cust = master.loc[cid].to_dict() if cid in master.index else {}
            h = hist_by.get(cid)
            report = build_customer_report(row, cust, data.contributions, specs, bands, h, previous, model_features,
                                           drifted=drifted)
            yield _Task(report, data.contributions.of(cid), h, data.model.uri, data.source, data.extra_attributes,
                        data.creditor, data.ecoa_agency)

    written: dict[str, Path] = {}
    for i, (cid, html) in enumerate(_render_all(tasks(), jobs if len(ids) >= MIN_PARALLEL else 1)):
        written[cid] = write_text(html, out / CUSTOMER_DIR / safe_filename(cid))
        if progress is not None:
            progress(i + 1, len(ids))

    links = {cid: f"{CUSTOMER_DIR}/{p.name}" for cid, p in written.items()}
    # the full lists behind the portfolio page's tables, for filtering and work queues
    lists = {name: write_table(table, out / name) for name, table in
             ((HOLDS_FILE, portfolio.holds), (REVIEWS_FILE, portfolio.reviews))}
    list_files = {k: v.name for k, v in lists.items()}
    if worklist_dir is not None:
        list_files["worklist"] = Path(os.path.relpath(Path(worklist_dir) / "index.html", out)).as_posix()
    ppath = write_text(render_portfolio(portfolio, links, generated_from=data.source, list_files=list_files),
                       out / PORTFOLIO_FILE)
    files = ReportFiles(portfolio=ppath, customers=written, lists=list(lists.values()))
    if pdf:
        from riskml.reporting.browser import print_pdf

        for path in [ppath, *written.values()]:
            files.pdfs.append(print_pdf(path, path.with_suffix(".pdf")))
    return files
