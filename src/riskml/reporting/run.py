"""Writing the reports: one HTML page per customer and ``portfolio.html``, from a scoring run.

:class:`ReportData` gathers what the pages need (ledger, scores, contributions, the model summary, the
optional previous scoring); :func:`score_for_report` produces scores and contributions with the scoring
library when no scores file is given (and for the previous review date, always with the same model);
:func:`write_reports` draws, renders and writes the files atomically.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskml.config import FeatureConfig, ScoringConfig
from riskml.data.ledger import Ledger
from riskml.errors import RiskmlError
from riskml.features import build_features, feature_specs
from riskml.io import write_table, write_text
from riskml.reporting.customer import add_figures, build_customer_report
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
    # the model's PD of a feature table (RiskModel.predict_pd): lets the population stability compare
    # with the model's out-of-time window when no previous scoring is given
    predict_pd: Callable[[pd.DataFrame], Any] | None = None

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
class _Chunk:
    """A run of customer pages to build, draw and render in one worker (picklable): everything the pages
    read, cut down to these customers, so a worker never sees the whole ledger."""

    rows: list[dict[str, Any]]
    customers: list[dict[str, Any]]
    contributions: Contributions
    history: pd.DataFrame
    bands: pd.DataFrame
    previous: tuple[pd.DataFrame, Contributions, pd.Timestamp] | None
    model_features: list[str]
    drifted: dict[str, float]
    model_uri: str
    source: str
    extra: dict[str, Any]
    creditor: str = ""
    ecoa_agency: str | None = DEFAULT_ECOA_AGENCY


def _page(chunk: _Chunk, k: int, specs: dict, hist_by: dict[str, pd.DataFrame]) -> str:
    row = chunk.rows[k]
    cid = str(row["customer_id"])
    h = hist_by.get(cid)
    report = build_customer_report(row, chunk.customers[k], chunk.contributions, specs, chunk.bands, h,
                                   chunk.previous, chunk.model_features, drifted=chunk.drifted)
    add_figures(report, chunk.contributions.of(cid), specs, h)
    return render_customer(report, model_uri=chunk.model_uri, generated_from=chunk.source,
                           creditor=chunk.creditor, ecoa_agency=chunk.ecoa_agency)


def _render_chunk(chunk: _Chunk) -> list[tuple[str, str | None, str]]:
    """(customer id, HTML or None, error) per customer of the chunk, in order: one customer whose page
    cannot be built (figures that overflow, a broken row) does not stop the others."""
    specs = feature_specs(chunk.extra)
    hist_by = {str(cid): g for cid, g in chunk.history.groupby("customer_id", sort=False)}
    out: list[tuple[str, str | None, str]] = []
    for k, row in enumerate(chunk.rows):
        cid = str(row["customer_id"])
        try:
            out.append((cid, _page(chunk, k, specs, hist_by), ""))
        except Exception as exc:  # noqa: BLE001 - reported per customer by write_reports
            out.append((cid, None, f"{type(exc).__name__}: {exc}"))
    return out


def _render_all(chunks: Iterator[_Chunk], jobs: int) -> Iterator[list[tuple[str, str | None, str]]]:
    """The rendered chunks, in chunk order (so the files are the same whatever ``jobs`` is); ``jobs`` > 1
    uses spawned worker processes (no fork: the parent may hold OpenMP threads from LightGBM)."""
    if jobs <= 1:
        for chunk in chunks:
            yield _render_chunk(chunk)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
        yield from pool.map(_render_chunk, chunks)


@dataclass
class ReportFiles:
    """The files written (paths inside the final output directory)."""

    portfolio: Path
    customers: dict[str, Path]
    pdfs: list[Path] = field(default_factory=list)
    lists: list[Path] = field(default_factory=list)  # holds.csv and reviews_due.csv
    failed: dict[str, str] = field(default_factory=dict)  # customer id -> why its page could not be written


def score_for_report(ledger: Ledger, as_of: object, model: Any, info: dict[str, Any] | None = None,
                     config: ScoringConfig | None = None, feature_config: FeatureConfig | None = None,
                     previous_scores: pd.DataFrame | None = None,
                     extra: dict[str, Any] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores and contributions of every customer as of ``as_of`` with the scoring library, the way
    ``riskml score`` does it (same features, fingerprint and model info). ``previous_scores`` (columns
    ``customer_id``, ``grade``, optionally ``as_of`` and the policy's ``PREVIOUS_FEATURES``, as
    :func:`riskml.scoring.score.previous_scores` gives them) feeds the review triggers."""
    from riskml.scoring.score import score_customers

    as_of_ts = pd.Timestamp(as_of).normalize()
    features = build_features(ledger, as_of_ts, feature_config)
    result = score_customers(features, model, config, model_info=dict(info or {}), previous=previous_scores,
                             data_fingerprint=ledger.until(as_of_ts).fingerprint(), specs=feature_specs(extra))
    if result.contributions is None:
        raise RiskmlError("scoring returned no contributions; the reports need them")
    return result.scores, result.contributions


def select_customers(scores: pd.DataFrame, customer_ids: Sequence[str] | None) -> list[str]:
    """The customers to report on: all, or those asked for (each must be in the scores)."""
    if not customer_ids:
        return scores["customer_id"].tolist()
    known = set(scores["customer_id"])
    wanted = list(dict.fromkeys(str(c) for c in customer_ids))
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise RiskmlError(f"--customer: not in the scores: {', '.join(repr(c) for c in unknown[:10])}"
                          + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""))
    return wanted


def top_customers(scores: pd.DataFrame, n: int, exposure: pd.Series | None = None) -> list[str]:
    """The ``n`` customers most in need of a decision: reviews due, most urgent first (priority 1
    urgent, 2 soon, 3 routine), then the largest exposure, then the id."""
    due = scores.loc[scores["review_due"].astype(bool), ["customer_id", "review_priority"]].copy()
    prio = pd.to_numeric(due["review_priority"], errors="coerce").to_numpy("float64")
    due["_prio"] = np.where(np.isfinite(prio) & (prio > 0), prio, 9.0)
    exp = exposure.reindex(due["customer_id"]).to_numpy("float64") if exposure is not None else np.zeros(len(due))
    due["_exp"] = np.where(np.isfinite(exp), exp, 0.0)
    due = due.sort_values(["_prio", "_exp", "customer_id"], ascending=[True, False, True], kind="stable")
    return due["customer_id"].astype("str").head(max(n, 0)).tolist()


def customer_files(ids: Sequence[str]) -> dict[str, str]:
    """One file name per customer id; fails when two ids would share a file (also on a file system that
    ignores case)."""
    names = {cid: safe_filename(cid) for cid in ids}
    seen: dict[str, str] = {}
    for cid, name in names.items():
        key = name.casefold()
        if key in seen:
            raise RiskmlError(f"customer ids {seen[key]!r} and {cid!r} would share the report file {name}; "
                              "rename one of them in the customer master")
        seen[key] = cid
    return names


def _report_set_entries() -> set[str]:
    return {PORTFOLIO_FILE, PORTFOLIO_FILE.replace(".html", ".pdf"), HOLDS_FILE, REVIEWS_FILE, CUSTOMER_DIR}


def check_output_dir(out: Path) -> None:
    """``out`` is replaced as a whole at the end of a run: refuse a directory holding anything but a
    report set (so that ``--out .`` or ``--out out`` never deletes other files)."""
    if out.exists() and not out.is_dir():
        raise RiskmlError(f"--out {out}: exists and is not a directory")
    if out.is_dir():
        other = sorted(p.name for p in out.iterdir() if p.name not in _report_set_entries())
        if other:
            raise RiskmlError(f"--out {out}: holds other files than a report set ({', '.join(other[:5])}); the "
                              "report set replaces the whole directory: give an empty or new directory")


@contextmanager
def staged_directory(out: Path) -> Iterator[Path]:
    """A fresh directory beside ``out`` to write the whole report set into; swapped in place of ``out``
    when the block succeeds, removed when it fails or is interrupted (``out`` is then untouched, so a
    killed run never leaves pages of two as-of dates side by side)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    os.chmod(stage, 0o777 & ~_umask())
    try:
        yield stage
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            old.rmdir()
            os.replace(out, old)
            os.replace(stage, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(stage, out)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _chunks(n: int, jobs: int) -> int:
    """Customers per chunk: a few chunks per worker for an even load, not so small that sending the
    shared tables dominates."""
    if jobs <= 1:
        return max(n, 1)
    return max(min(-(-n // (jobs * 4)), 500), 25)


def write_reports(
    data: ReportData,
    out_dir: str | Path,
    customer_ids: Sequence[str] | None = None,
    pdf: bool = False,
    progress: Callable[[int, int], None] | None = None,
    history_months: int = 24,
    jobs: int = 1,
    top: int | None = None,
    worklist_dir: str | Path | None = None,
) -> ReportFiles:
    """Write one HTML report per customer (``customers/<id>.html``) and ``portfolio.html`` to ``out_dir``;
    with ``pdf``, a PDF beside each page (needs Chromium, see :mod:`riskml.reporting.browser`).
    ``customer_ids`` limits the customer pages to those customers, ``top`` to the ``top`` customers with
    a review due (most urgent, then largest exposure first: :func:`top_customers`).

    The whole set is written into a fresh directory and swapped in place of ``out_dir`` at the end.
    ``jobs`` > 1 builds the pages in that many worker processes; the pages are the same whatever
    ``jobs`` is. A customer whose page cannot be built is listed in ``ReportFiles.failed``.
    ``worklist_dir`` (the output of ``riskml worklist``) is linked from the portfolio page when given."""
    from riskml.scoring.grades import grade_bands

    out = Path(out_dir)
    check_output_dir(out)
    if pdf:
        from riskml.reporting.browser import find_chromium

        if find_chromium() is None:
            raise RiskmlError("--pdf needs a Chromium binary (Debian package `chromium`); none found. "
                              "The HTML reports print to PDF from any browser.")
    ids = select_customers(data.scores, customer_ids)
    specs = feature_specs(data.extra_attributes)
    bands = grade_bands(data.scoring_config.master_scale)
    ledger = data.ledger.until(data.as_of)
    # the portfolio first: its population stability flags customer statements citing a drifted feature
    features = build_features(ledger, data.as_of, data.feature_config)
    if top is not None:
        exposure = (features.set_index(features["customer_id"].astype("str"))["exposure"]
                    if "exposure" in features else None)
        asked = set(ids)
        ids = [c for c in top_customers(data.scores.loc[data.scores["customer_id"].isin(asked)], top, exposure)]
    files_of = customer_files(ids)
    prev = (data.previous.scores, data.previous.as_of) if data.previous is not None else None
    model = stability_reference(data, ledger, data.as_of)
    portfolio = build_portfolio_report(data.scores, bands, model, features, ledger.customers, prev, specs=specs)
    st = portfolio.stability
    drifted = dict(zip(st.loc[st["status"] == "drifted", "variable"], st.loc[st["status"] == "drifted", "psi"],
                       strict=True))
    master = ledger.customers.assign(customer_id=ledger.customers["customer_id"].astype("str"))
    master = master.drop_duplicates("customer_id").set_index("customer_id", drop=False)
    history = monthly_history(ledger, data.as_of, ids, n_months=history_months, config=data.feature_config)
    history["customer_id"] = history["customer_id"].astype("str")
    scores_by = data.scores.set_index("customer_id", drop=False)
    model_features = list(data.model.feature_names) or data.contributions.features

    # each customer's rows in the long tables, found once (a chunk takes its rows without a scan)
    hist_rows = _row_index(history)
    contrib_rows = _row_index(data.contributions.long)
    prev_rows = _row_index(data.previous.contributions.long) if data.previous is not None else {}

    def chunks(size: int) -> Iterator[_Chunk]:
        for start in range(0, len(ids), size):
            part = ids[start:start + size]
            sel = pd.Index(part)
            rows = scores_by.loc[part].to_dict("records")
            custs = master.reindex(sel).to_dict("records")
            custs = [c if isinstance(c.get("customer_id"), str) else {} for c in custs]
            previous = None
            if data.previous is not None:
                ps = data.previous.scores
                previous = (ps.loc[ps["customer_id"].isin(sel)], _subset(data.previous.contributions, sel, prev_rows),
                            data.previous.as_of)
            yield _Chunk(rows, custs, _subset(data.contributions, sel, contrib_rows), _take(history, hist_rows, part),
                         bands, previous, model_features, drifted, data.model.uri, data.source,
                         data.extra_attributes, data.creditor, data.ecoa_agency)

    workers = jobs if len(ids) >= MIN_PARALLEL else 1
    written: dict[str, Path] = {}
    failed: dict[str, str] = {}
    with staged_directory(out) as stage:
        (stage / CUSTOMER_DIR).mkdir()
        done = 0
        for result in _render_all(chunks(_chunks(len(ids), workers)), workers):
            for cid, html, error in result:
                done += 1
                if html is None:
                    failed[cid] = error
                    continue
                (stage / CUSTOMER_DIR / files_of[cid]).write_text(html, encoding="utf-8")
                written[cid] = out / CUSTOMER_DIR / files_of[cid]
            if progress is not None:
                progress(done, len(ids))
        links = {cid: f"{CUSTOMER_DIR}/{p.name}" for cid, p in written.items()}
        # the full lists behind the portfolio page's tables, for filtering and work queues
        lists = {name: write_table(list_table(table), stage / name) for name, table in
                 ((HOLDS_FILE, portfolio.holds), (REVIEWS_FILE, portfolio.reviews))}
        list_files = {k: v.name for k, v in lists.items()}
        if worklist_dir is not None:
            list_files["worklist"] = Path(os.path.relpath(Path(worklist_dir) / "index.html", out)).as_posix()
        write_text(render_portfolio(portfolio, links, generated_from=data.source, list_files=list_files),
                   stage / PORTFOLIO_FILE)
        pdfs = []
        if pdf:
            from riskml.reporting.browser import print_pdf

            for path in [stage / PORTFOLIO_FILE, *(stage / CUSTOMER_DIR / files_of[c] for c in written)]:
                pdfs.append(out / print_pdf(path, path.with_suffix(".pdf")).relative_to(stage))
    return ReportFiles(portfolio=out / PORTFOLIO_FILE, customers=written, pdfs=pdfs,
                       lists=[out / name for name in lists], failed=failed)


def stability_reference(data: ReportData, ledger: Ledger, as_of: pd.Timestamp) -> ModelSummary:
    """The model summary whose references the population stability compares against: the previous
    scoring when there is one (its features rebuilt from the ledger at that date, its PDs), else the
    model's out-of-time test window (features from the ledger at those month ends, PDs from the model),
    else the training data. The bins stay the training's; ``reference_label`` says which it is."""
    from dataclasses import replace

    m = data.model
    if not m.feature_references and m.score_reference is None:
        return m
    if data.previous is not None:
        feats = build_features(ledger.until(data.previous.as_of), data.previous.as_of, data.feature_config)
        pds = data.previous.scores.loc[data.previous.scores["scored"], "pd"]
        label = f"the previous scoring as of {data.previous.as_of.date()}"
    elif m.oot_dates and data.predict_pd is not None:
        first = ledger.date_range()[0]
        dates = [d for d in (pd.Timestamp(x) for x in m.oot_dates) if first <= d <= as_of]
        if not dates:
            return m
        from riskml.features import build_snapshots

        feats = build_snapshots(ledger, dates, data.feature_config)
        try:
            pds = pd.Series(np.asarray(data.predict_pd(feats), dtype="float64"))
        except Exception:  # noqa: BLE001 - a model that cannot score the window keeps the training reference
            return m
        label = (f"the model's out-of-time window {dates[0].date()} to {dates[-1].date()} "
                 f"({len(feats):,} customer-months)")
    else:
        return m
    refs = {}
    for name, ref in m.feature_references.items():
        new = ref.rebased(feats[name]) if name in feats else None
        refs[name] = new if new is not None else ref
    score = m.score_reference.rebased(pds) if m.score_reference is not None else None
    return replace(m, feature_references=refs, score_reference=score or m.score_reference, reference_label=label)


# the list files' columns and their decimals: amounts in cents, months to one decimal, PDs as they are
LIST_DECIMALS = {"exposure": 2, "current_limit": 2, "suggested_limit": 2, "limit_change": 2, "release_amount": 2,
                 "expected_loss": 2, "margin_at_risk": 2, "months_since_review": 1}


def list_table(table: pd.DataFrame) -> pd.DataFrame:
    """A work list as written to CSV: amounts rounded to cents (no ``3787067.1500000004``), review
    priorities as whole numbers."""
    out = table.copy()
    for col, digits in LIST_DECIMALS.items():
        if col in out and pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(digits)
    if "review_priority" in out:
        out["review_priority"] = pd.to_numeric(out["review_priority"], errors="coerce").astype("Int64")
    return out


def _row_index(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Positions of each customer's rows in ``frame`` (column ``customer_id``)."""
    if frame.empty:
        return {}
    return {str(k): v for k, v in frame.groupby(frame["customer_id"].astype("str"), sort=False).indices.items()}


def _take(frame: pd.DataFrame, rows: dict[str, np.ndarray], ids: Sequence[str]) -> pd.DataFrame:
    """The rows of ``ids`` in ``frame``, in frame order."""
    parts = [rows[c] for c in ids if c in rows]
    pos = np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
    return frame.iloc[pos].reset_index(drop=True)


def _subset(contrib: Contributions, ids: pd.Index, rows: dict[str, np.ndarray]) -> Contributions:
    return Contributions(long=_take(contrib.long, rows, list(ids)),
                         base=contrib.base.loc[contrib.base.index.isin(ids)])
