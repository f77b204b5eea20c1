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
from riskml.reporting.customer import ACTION_TEXT, CustomerReport, money, pd_text
from riskml.reporting.portfolio import PortfolioReport


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


def persona_text(value: Any) -> str:
    s = str(value or "").replace("_", " ").strip()
    return s[:1].upper() + s[1:] if s else "n/a"


def safe_filename(customer_id: str) -> str:
    """A file name for a customer id: safe characters kept; any change adds a short hash so two ids
    never map to the same file."""
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", str(customer_id)).strip(".") or "customer"
    if clean != str(customer_id):
        clean += "-" + hashlib.sha1(str(customer_id).encode()).hexdigest()[:8]
    return clean[:120] + ".html"


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
        "date": date_text, "band": band_text, "persona": persona_text, "uri": data_uri,
    })
    env.globals.update({"ACTION_TEXT": ACTION_TEXT, "riskml_version": __version__, "css": _css()})
    return env


def _css() -> str:
    return resources.files("riskml.reporting").joinpath("templates/report.css").read_text(encoding="utf-8")


def _records(df: pd.DataFrame | None) -> list[dict[str, Any]]:
    if df is None:
        return []
    return df.to_dict("records")


def render_customer(report: CustomerReport, model_uri: str = "", generated_from: str = "") -> str:
    """The customer report as one self-contained HTML page."""
    row = report.row
    top = [f for f in report.factors[:12]]
    return environment().get_template("customer.html.j2").render(
        r=report, row=row, top_factors=top, model_uri=model_uri, generated_from=generated_from,
    )


def render_portfolio(report: PortfolioReport, customer_links: dict[str, str] | None = None,
                     generated_from: str = "", max_rows: int = 100) -> str:
    """The portfolio report as one self-contained HTML page; ``customer_links`` maps customer ids to
    their report files (relative paths)."""
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
    )
