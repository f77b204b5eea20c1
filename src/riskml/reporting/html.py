"""HTML rendering of the reports: jinja2 templates, escaped, self-contained (CSS inline, figures as
base64 PNG), printable (print CSS, A4).

Every key figure sits in an element with a stable ``id`` (customer report) or ``data-*`` attributes
(portfolio tables) holding the exact value (``data-value``), so tests and other tools can read the page
and check it against the scoring output.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from riskml import __version__
from riskml.reporting.customer import (
    ACTION_TEXT,
    CustomerReport,
    display_text,
    money,
    override_lines,
    pd_text,
    rationale_steps,
)
from riskml.reporting.portfolio import PortfolioReport

# grade colours on the pages: green up to this PD (band upper bound), red above the next, amber between
LOW_RISK_MAX_PD = 0.02
HIGH_RISK_MIN_PD = 0.10
METRIC_LABELS = {
    "auc": "AUC (discrimination; 0.5 = chance, higher is better)",
    "gini": "Gini (2 x AUC - 1)",
    "ks": "KS statistic",
    "pr_auc": "Precision-recall AUC",
    "brier": "Brier score (lower is better)",
    "log_loss": "Log loss (lower is better)",
    "event_rate": "Observed delinquency rate",
    "mean_pd": "Average predicted PD",
    "rows": "Customers in the test window",
    "events": "Delinquent customers in the test window",
    "auc_se": "Standard error of the AUC",
}
COUNT_METRICS = {"rows", "events", "n", "n_test", "positives"}
RATE_METRICS = {"event_rate", "mean_pd"}


def data_uri(png: bytes | None) -> str:
    """A ``data:`` URI embedding PNG bytes (empty string for no image)."""
    if not png:
        return ""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def data_value(value: Any) -> str:
    """The exact value for a ``data-value`` attribute: ``repr`` of floats (round-trips), ``true``/``false``
    for flags, ISO dates, empty for missing."""
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        return "" if not math.isfinite(float(value)) else repr(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


def pct(value: Any, digits: int = 0) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if not math.isfinite(v) else f"{100 * v:.{digits}f}%"


def num(value: Any, digits: int = 2) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if not math.isfinite(v) else f"{v:,.{digits}f}"


def signed_money(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "n/a"
    if not math.isfinite(v):
        return "n/a"
    return f"{v:+,.0f}" if v else "0"


def date_text(value: Any) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return pd.Timestamp(value).date().isoformat()


def band_text(band: tuple[float, float] | None) -> str:
    if band is None:
        return "n/a"
    lo, hi = band
    return f"{100 * lo:.2f}% < PD <= {100 * hi:.2f}%" if lo > 0 else f"PD <= {100 * hi:.2f}%"


def band_short(band: tuple[float, float] | None) -> str:
    """A grade's PD band in a few characters: ``3.50-6.00%``."""
    if band is None:
        return "n/a"
    lo, hi = band
    return f"{100 * lo:.2f}-{100 * hi:.2f}%" if lo > 0 else f"up to {100 * hi:.2f}%"


def risk_tier(band: tuple[float, float] | None, low: float = LOW_RISK_MAX_PD, high: float = HIGH_RISK_MIN_PD) -> str:
    """The colour of a grade: ``safe`` when its band ends at or below ``low``, ``risk`` when it ends
    above ``high``, ``warn`` in between ("" without a band)."""
    if band is None or not math.isfinite(band[1]):
        return ""
    if band[1] <= low:
        return "safe"
    return "risk" if band[1] > high else "warn"


def count(value: Any) -> str:
    """A count with thousands separators."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if not math.isfinite(v) else f"{v:,.0f}"


def metric_label(name: str) -> str:
    """A test metric's name as a credit manager reads it."""
    if name in METRIC_LABELS:
        return METRIC_LABELS[name]
    m = re.fullmatch(r"(capture|lift)_top(\d+)", name)
    if m:
        what = "Capture rate" if m.group(1) == "capture" else "Lift"
        return f"{what} in the riskiest {m.group(2)}%"
    return name.replace("_", " ")


def metric_value(name: str, value: Any) -> str:
    """Counts as integers, rates as percentages, other metrics with four decimals."""
    if name in COUNT_METRICS:
        return count(value)
    if name in RATE_METRICS or name.startswith("capture_top"):
        return pct(value, 2)
    return num(value, 4)


def priority_text(value: Any) -> str:
    """A review priority (1 urgent, 2 soon, 3 routine) in words."""
    from riskml.scoring.actions import PRIORITY_NAMES

    try:
        v = int(float(value))
    except (TypeError, ValueError):
        return ""
    return PRIORITY_NAMES.get(v, "") if v > 0 else ""


def persona_text(value: Any) -> str:
    s = str(value or "").replace("_", " ").strip()
    return s[:1].upper() + s[1:] if s else "n/a"


FILENAME_MAX = 100  # characters of the id kept in a file name (before the hash and .html)


def safe_filename(customer_id: str) -> str:
    """A file name for a customer id: safe characters kept, at most ``FILENAME_MAX`` of them; whenever the
    id was changed or cut, a hash of the whole id is appended (after the cut), so two ids never map to
    the same file."""
    cid = str(customer_id)
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", cid).strip(".") or "customer"
    if clean != cid or len(clean) > FILENAME_MAX or clean.lower() in _RESERVED:
        clean = clean[:FILENAME_MAX] + "-" + hashlib.sha256(cid.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return clean + ".html"


# names Windows refuses whatever the extension
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("riskml.reporting", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update({
        "money": money, "pd": pd_text, "pct": pct, "num": num, "dv": data_value, "signed": signed_money,
        "date": date_text, "band": band_text, "persona": persona_text, "uri": data_uri, "count": count,
        "band_short": band_short, "priority": priority_text, "tier": risk_tier, "metric_label": metric_label,
        "display": display_text,
    })
    env.globals.update({"metric_value": metric_value})
    env.globals.update({"ACTION_TEXT": ACTION_TEXT, "riskml_version": __version__, "css": _css()})
    return env


def _css() -> str:
    return resources.files("riskml.reporting").joinpath("templates/report.css").read_text(encoding="utf-8")


def _records(df: pd.DataFrame | None) -> list[dict[str, Any]]:
    if df is None:
        return []
    return df.to_dict("records")


# The notice Regulation B (12 CFR 1002.9(b)(1)) asks for with a statement of reasons; the agency is the
# one for creditors no other agency supervises (most trade creditors): pass yours when it differs.
ECOA_NOTICE = (
    "The Federal Equal Credit Opportunity Act prohibits creditors from discriminating against credit applicants "
    "on the basis of race, color, religion, national origin, sex, marital status, age (provided the applicant "
    "has the capacity to enter into a binding contract); because all or part of the applicant's income derives "
    "from any public assistance program; or because the applicant has in good faith exercised any right under "
    "the Consumer Credit Protection Act. The Federal agency that administers compliance with this law "
    "concerning this creditor is {agency}."
)
DEFAULT_ECOA_AGENCY = "the Federal Trade Commission, Equal Credit Opportunity, Washington, DC 20580"
# where scoring decided the ECOA notice does not apply (column adverse_action_notice false: not an adverse
# decision, or a customer outside the configured countries)
NEUTRAL_NOTICE = "This statement gives the principal reasons for the credit decision on this account."


def limit_action_text(row: dict[str, Any]) -> str:
    """What the action means for this customer (a first limit when none was set)."""
    action = str(row.get("action", ""))
    cur = row.get("current_limit")
    no_limit = cur is None or (isinstance(cur, float) and not math.isfinite(cur))
    if no_limit and action in ("set", "increase", "decrease"):
        return "Set a first credit limit (none recorded)"
    return ACTION_TEXT.get(action, "")


def render_customer(report: CustomerReport, model_uri: str = "", generated_from: str = "", creditor: str = "",
                    ecoa_agency: str | None = DEFAULT_ECOA_AGENCY, max_factors: int = 12) -> str:
    """The customer report as one self-contained HTML page. ``creditor`` signs the statement of
    reasons; ``ecoa_agency`` completes its ECOA notice (``None`` leaves the notice out)."""
    row = report.row
    notice = ECOA_NOTICE.format(agency=ecoa_agency) if ecoa_agency else ""
    if notice and str(row.get("adverse_action_notice", True)).strip().lower() in ("false", "0", "0.0", "no"):
        notice = NEUTRAL_NOTICE
    return environment().get_template("customer.html.j2").render(
        r=report, row=row, top_factors=report.factors[:max_factors], model_uri=model_uri,
        generated_from=generated_from, creditor=creditor, ecoa_notice=notice,
        action_text=limit_action_text(row), rationale=rationale_steps(str(row.get("limit_rationale", ""))),
        overrides=override_lines(row),
    )


def render_portfolio(report: PortfolioReport, customer_links: dict[str, str] | None = None,
                     generated_from: str = "", max_rows: int = 50, list_files: dict[str, str] | None = None) -> str:
    """The portfolio report as one self-contained HTML page; ``customer_links`` maps customer ids to
    their report files (relative paths); the hold and review tables show ``max_rows`` rows and link to
    the full lists in ``list_files`` (``holds.csv`` / ``reviews_due.csv`` -> relative path; ``worklist`` -> the
    collections worklist index of ``riskml worklist``, linked when given)."""
    return environment().get_template("portfolio.html.j2").render(
        p=report,
        by_grade=_records(report.by_grade),
        limit_changes=_records(report.limit_changes),
        holds=_records(report.holds.head(max_rows)),
        hold_reasons=_records(report.hold_reasons),
        reviews=_records(report.reviews.head(max_rows)),
        review_reasons=_records(report.review_reasons),
        personas=_records(report.personas),
        unscored=_records(report.unscored.head(max_rows)),
        stability=_records(report.stability),
        grade_moves=_records(report.grade_moves),
        links=customer_links or {},
        max_rows=max_rows,
        generated_from=generated_from,
        holds_file=(list_files or {}).get("holds.csv", ""),
        reviews_file=(list_files or {}).get("reviews_due.csv", ""),
        worklist_file=(list_files or {}).get("worklist", ""),
    )
