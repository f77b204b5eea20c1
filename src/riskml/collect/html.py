"""HTML pages of the worklist: an index (collectors, escalations, paperwork queue) and one page per
collector, self-contained, with the look of the reports (their stylesheet, inlined). Every figure a test or a
tool may read sits in ``data-*`` attributes with the exact value."""

from __future__ import annotations

import hashlib
import math
import re
from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from riskml import __version__
from riskml.collect.result import WorklistResult

# rows of the paperwork queue and the escalations shown on the index page (the files hold them all)
INDEX_ROWS = 50


def _money(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return f"{v:,.0f}" if math.isfinite(v) else "n/a"


def _pct(value: Any, digits: int = 1) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return f"{100 * v:.{digits}f}%" if math.isfinite(v) else "n/a"


def _date(value: Any) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)) or value == "":
        return ""
    try:
        return pd.Timestamp(value).date().isoformat()
    except (ValueError, TypeError):
        return str(value)


def _dv(value: Any) -> str:
    """The exact value for a ``data-*`` attribute (repr of floats, ISO dates, empty for missing)."""
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if not math.isfinite(value) else repr(value)
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


def page_name(collector: str) -> str:
    """A file name for a collector's page; a changed name gets a short hash so two names never collide."""
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", collector).strip(".") or "collector"
    if clean != collector:
        clean += "-" + hashlib.sha1(collector.encode()).hexdigest()[:8]
    return clean[:120] + ".html"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("riskml.collect", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters.update({"money": _money, "pct": _pct, "date": _date, "dv": _dv,
                        "persona": lambda s: str(s or "").replace("_", " ")})
    css = resources.files("riskml.reporting").joinpath("templates/report.css").read_text(encoding="utf-8")
    env.globals.update({"riskml_version": __version__, "css": css})
    return env


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    def clean(v: Any) -> Any:
        if v is pd.NaT or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            return None
        return v

    return [{k: clean(v) for k, v in r.items()} for r in df.to_dict("records")]


def render_collector(result: WorklistResult, collector: str) -> str:
    """One collector's worklist page: their accounts by rank, with amount, channel, script and pattern."""
    lines = result.lines.loc[result.lines["collector"] == collector]
    summary = result.collectors.loc[result.collectors["collector"] == collector].iloc[0].to_dict()
    cap = float(summary["capacity"])
    summary["capacity_text"] = _money(cap) if math.isfinite(cap) else ""
    return environment().get_template("collector.html.j2").render(
        as_of=result.as_of, collector=collector, summary=summary, lines=_records(lines), tolerance=result.tolerance,
        source=result.source)


def render_index(result: WorklistResult, pages: dict[str, str]) -> str:
    """The index: collectors with their loads and links, the escalations and the top of the paperwork queue."""
    lines = result.lines
    unassigned = lines.loc[lines["collector"] == ""]
    return environment().get_template("index.html.j2").render(
        as_of=result.as_of, collectors=_records(result.collectors), pages=pages,
        n_lines=len(lines), total=float(lines["amount_to_collect"].sum()),
        expected_loss=float(lines["expected_loss"].sum()), n_phone=int((lines["channel"] == "phone").sum()),
        escalations=_records(result.escalations.head(INDEX_ROWS)), n_escalations=len(result.escalations),
        escalation_total=float(result.escalations["escalation_amount"].sum()) if len(result.escalations) else 0.0,
        paperwork=_records(result.paperwork.head(INDEX_ROWS)), n_paperwork=len(result.paperwork),
        paperwork_total=float(result.paperwork["amount"].sum()) if len(result.paperwork) else 0.0,
        n_release=int(result.paperwork["releases_hold"].astype(bool).sum()) if len(result.paperwork) else 0,
        unassigned=_records(unassigned.head(INDEX_ROWS)), n_unassigned=len(unassigned),
        tolerance=result.tolerance, max_rows=INDEX_ROWS, notes=result.notes, source=result.source)
