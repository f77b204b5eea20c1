"""The worklist run: the pure steps of :mod:`riskml.collect` wired together (:func:`build_worklist`), and the
files written atomically (:func:`write_worklist`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from riskml.collect.amounts import customer_amounts, open_items
from riskml.collect.assign import ASSIGNMENT_COLUMNS, assign_collectors
from riskml.collect.html import page_name, render_collector, render_index
from riskml.collect.paperwork import documents_by_customer, paperwork_queue
from riskml.collect.result import WorklistResult
from riskml.collect.worklist import (
    ESCALATION_COLUMNS,
    WORKLIST_COLUMNS,
    build_lines,
    evaluate_promises,
    merge_inputs,
)
from riskml.config import FeatureConfig, ScoringConfig
from riskml.data.ledger import Ledger
from riskml.errors import RiskmlError
from riskml.features import build_features
from riskml.io import atomic_path, neutralise_formulas, write_text

TABLES = ("worklist", "escalations", "paperwork", "assignment", "collectors")
INDEX_FILE = "index.html"
PAGES_DIR = "collectors"


def build_worklist(ledger: Ledger, as_of: object, scores: pd.DataFrame, collectors: pd.DataFrame,
                   config: ScoringConfig | None = None, feature_config: FeatureConfig | None = None,
                   previous: pd.DataFrame | None = None, promises: pd.DataFrame | None = None,
                   features: pd.DataFrame | None = None) -> WorklistResult:
    """The worklist, escalations, paperwork queue and assignment as of ``as_of``.

    ``scores`` as :func:`riskml.collect.inputs.prepare_scores` returns them; ``collectors`` as
    :func:`~riskml.collect.inputs.read_collectors` / :func:`~riskml.collect.inputs.collectors_from_count`;
    ``previous`` the previous run's assignment; ``promises`` as :func:`~riskml.collect.inputs.read_promises`.
    ``features`` may pass the feature table already built for ``as_of`` (else it is built here)."""
    config = config or ScoringConfig()
    c = config.collections
    as_of = pd.Timestamp(as_of).normalize()
    if features is None:
        features = build_features(ledger, as_of, feature_config)
    items = open_items(ledger, as_of, feature_config)
    amounts = customer_amounts(ledger, as_of, features, items, c.portfolio_column)
    led = ledger.until(as_of)
    prom = evaluate_promises(promises, led.payments, as_of, c.promise_grace_days, c.promise_shortfall_pct)
    merged = merge_inputs(amounts, scores, items, prom, config)
    queue = paperwork_queue(ledger, as_of, items, merged, config)
    lines = build_lines(merged, documents_by_customer(queue), config)
    assignment, summary = assign_collectors(lines, collectors, previous, c.balance_tolerance)
    lines["collector"] = assignment["collector"].to_numpy(dtype=object)
    lines["assignment_status"] = assignment["assignment_status"].to_numpy(dtype=object)
    esc = lines.loc[lines["escalate"], list(ESCALATION_COLUMNS)].reset_index(drop=True)
    out_assign = assignment.assign(as_of=as_of)
    notes = []
    if c.portfolio_column and c.portfolio_column not in ledger.customers.columns and (collectors["portfolio"] != "").any():
        raise RiskmlError(f"collectors have portfolios but the customer master has no column "
                          f"{c.portfolio_column!r} (collections.portfolio_column)")
    missing = int((~merged["in_scores"]).sum())
    if missing:
        notes.append(f"{missing:,} customers of the ledger are not in the scores: ranked with the assumed PD "
                     f"{c.unscored_pd:.0%}")
    return WorklistResult(as_of=as_of, lines=lines[list(WORKLIST_COLUMNS)], escalations=esc, paperwork=queue,
                          assignment=out_assign[[*ASSIGNMENT_COLUMNS, "as_of"]], collectors=summary,
                          tolerance=c.balance_tolerance, unscored_listed=int(lines["pd_assumed"].sum()),
                          source=ledger.source, notes=notes)


def _csv_ready(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d").astype(object).where(out[col].notna(), "")
    return neutralise_formulas(out)


def write_worklist(result: WorklistResult, out_dir: str | Path) -> list[Path]:
    """Write every table as CSV (cells neutralised against formula injection) and Parquet, the index page and
    one HTML page per collector, each file atomically. Returns the paths written."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise RiskmlError(f"--out {out}: exists and is not a directory")
    written: list[Path] = []
    for name, table in result.tables().items():
        with atomic_path(out / f"{name}.parquet") as tmp:
            table.to_parquet(tmp, index=False)
        written.append(out / f"{name}.parquet")
        with atomic_path(out / f"{name}.csv") as tmp:
            _csv_ready(table).to_csv(tmp, index=False)
        written.append(out / f"{name}.csv")
    pages = {}
    for name in result.collectors["collector"]:
        pages[name] = write_text(render_collector(result, name), out / PAGES_DIR / page_name(name))
    written.extend(pages.values())
    written.append(write_text(render_index(result, {k: f"{PAGES_DIR}/{v.name}" for k, v in pages.items()}),
                              out / INDEX_FILE))
    return written
