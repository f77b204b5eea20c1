"""``report.html`` of a backtest: the policies side by side, the trade-off chart (bad debt avoided against
margin lost, the frontier drawn) and the workload over time. One self-contained page: CSS inline, charts
as inline SVG, every text escaped; key figures carry ``data-policy`` / ``data-metric`` / ``data-value``."""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd

from riskml import __version__
from riskml.backtest.frontier import front_line

COLOURS = ("#2166ac", "#b2182b", "#4d9221", "#f08a24", "#7b3294", "#008080", "#8c510a", "#c51b7d", "#555555")
TABLE_ROWS: tuple[tuple[str, str, str], ...] = (
    ("bad_exposure_caught_share", "Bad debt caught (share of the exposure of customers who went delinquent)", "pct"),
    ("bad_customers_caught_share", "Customers who went delinquent, restricted beforehand (share)", "pct"),
    ("bad_exposure_caught_per_date", "Exposure of bad customers caught, per replay date", "money"),
    ("bad_exposure_missed_per_date", "Exposure of bad customers missed, per replay date", "money"),
    ("bad_debt_avoided", "Bad debt avoided (realised loss on the invoices blocked)", "money"),
    ("bad_debt_realised", "Bad debt realised (on the invoices let through)", "money"),
    ("sales_lost", "Sales lost (blocked invoices of customers who did not go delinquent)", "money"),
    ("sales_lost_holds", "  of which by holds and revokes", "money"),
    ("sales_lost_cuts", "  of which by limit cuts", "money"),
    ("sales_lost_share", "Sales lost (share of those customers' sales)", "pct"),
    ("margin_lost", "Margin lost on those sales", "money"),
    ("margin_kept", "Margin kept", "money"),
    ("expected_loss", "Expected loss (PD x LGD x invoices let through)", "money"),
    ("net", "Net: margin kept - realised loss", "money"),
    ("net_expected", "Net: margin kept - expected loss", "money"),
    ("holds_per_date", "Order holds per replay date", "count"),
    ("holds_new_per_date", "  new holds per replay date", "count"),
    ("revokes_per_date", "Revokes per replay date", "count"),
    ("cuts_per_date", "Limit cuts per replay date", "count"),
    ("reviews_due_per_date", "Reviews due per replay date", "count"),
    ("reviews_urgent_per_date", "  urgent (priority 1)", "count"),
    ("approvals_per_date", "Decisions needing approval per replay date", "count"),
    ("approvals_new_per_date", "  new ones (not pending at the previous date)", "count"),
    ("good_customers_restricted_per_date", "Customers restricted who did not go delinquent, per date", "count"),
    ("strong_late_payers_restricted_per_date", "Strong late payers restricted, per replay date", "count"),
    ("strong_late_payer_sales_lost", "Sales lost on strong late payers", "money"),
    ("already_delinquent_per_date", "Already delinquent at the date (collections, counted apart)", "count"),
)
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#222}
h1{font-size:22px;margin-bottom:2px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
.sub{color:#666;font-size:13px}table{border-collapse:collapse;font-size:13px;width:100%}
th,td{padding:4px 8px;border-bottom:1px solid #eee;text-align:right}th:first-child,td:first-child{text-align:left}
thead th{background:#f4f4f4;position:sticky;top:0}td.front{font-weight:600}
td.sub-row{padding-left:24px;color:#555}ul{font-size:13px;line-height:1.45}.chart{margin:8px 0}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}.chart{page-break-inside:avoid}}
"""


def _fmt(v: Any, kind: str) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if kind == "pct":
        return f"{v:.1%}"
    if kind == "money":
        return f"{v:,.0f}"
    return f"{v:,.1f}" if isinstance(v, float) and not float(v).is_integer() else f"{v:,.0f}"


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _nice_max(v: float) -> float:
    if v <= 0 or not math.isfinite(v):
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if m * exp >= v:
            return m * exp
    return 10 * exp


def _axis_ticks(vmax: float, n: int = 5) -> list[float]:
    return [vmax * i / n for i in range(n + 1)]


def tradeoff_svg(summary: pd.DataFrame, width: int = 760, height: int = 420) -> str:
    """Bad debt avoided (y) against margin lost (x), one point per policy, the frontier as a staircase."""
    x = summary["margin_lost"].to_numpy("float64")
    y = summary["bad_debt_avoided"].to_numpy("float64")
    left, right, top, bottom = 90, 200, 20, 50
    pw, ph = width - left - right, height - top - bottom
    xmax, ymax = _nice_max(float(max(x.max(), 0) * 1.05)), _nice_max(float(max(y.max(), 0) * 1.05))

    def sx(v: float) -> float:
        return left + pw * v / xmax

    def sy(v: float) -> float:
        return top + ph * (1 - v / ymax)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="trade-off chart" id="tradeoff">', f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" '
             'fill="#fafafa" stroke="#ccc"/>']
    for t in _axis_ticks(xmax):
        parts.append(f'<line x1="{sx(t):.1f}" y1="{top}" x2="{sx(t):.1f}" y2="{top + ph}" stroke="#eee"/>'
                     f'<text x="{sx(t):.1f}" y="{top + ph + 16}" font-size="11" text-anchor="middle">{t:,.0f}</text>')
    for t in _axis_ticks(ymax):
        parts.append(f'<line x1="{left}" y1="{sy(t):.1f}" x2="{left + pw}" y2="{sy(t):.1f}" stroke="#eee"/>'
                     f'<text x="{left - 6}" y="{sy(t) + 4:.1f}" font-size="11" text-anchor="end">{t:,.0f}</text>')
    parts.append(f'<text x="{left + pw / 2}" y="{height - 8}" font-size="12" text-anchor="middle">margin lost on '
                 'sales blocked (customers who did not go delinquent)</text>')
    parts.append(f'<text x="14" y="{top + ph / 2}" font-size="12" text-anchor="middle" '
                 f'transform="rotate(-90 14 {top + ph / 2})">bad debt avoided</text>')
    line = front_line(x, y)
    if line:
        pts: list[tuple[float, float]] = []
        for i, (cx, cy) in enumerate(line):
            if i:
                pts.append((cx, line[i - 1][1]))
            pts.append((cx, cy))
        d = " ".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in pts)
        parts.append(f'<polyline points="{d}" fill="none" stroke="#999" stroke-dasharray="5,3" stroke-width="1.5"/>')
    for i, row in enumerate(summary.itertuples(index=False)):
        c = COLOURS[i % len(COLOURS)]
        on = bool(getattr(row, "on_frontier", False))
        parts.append(f'<circle cx="{sx(row.margin_lost):.1f}" cy="{sy(row.bad_debt_avoided):.1f}" r="{6 if on else 5}" '
                     f'fill="{c if on else "white"}" stroke="{c}" stroke-width="2" data-policy="{_e(row.policy)}">'
                     f'<title>{_e(row.policy)}: margin lost {row.margin_lost:,.0f}, bad debt avoided '
                     f'{row.bad_debt_avoided:,.0f}</title></circle>')
        ly = top + 14 + 18 * i
        parts.append(f'<circle cx="{left + pw + 16}" cy="{ly - 4}" r="5" fill="{c if on else "white"}" stroke="{c}" '
                     f'stroke-width="2"/><text x="{left + pw + 26}" y="{ly}" font-size="12">{_e(row.policy)}</text>')
    ly = top + 14 + 18 * len(summary) + 10
    parts.append(f'<line x1="{left + pw + 10}" y1="{ly - 4}" x2="{left + pw + 24}" y2="{ly - 4}" stroke="#999" '
                 f'stroke-dasharray="5,3"/><text x="{left + pw + 26}" y="{ly}" font-size="12">frontier (filled: on it)'
                 '</text>')
    parts.append("</svg>")
    return "".join(parts)


def workload_svg(frame: pd.DataFrame, metric: str, title: str, width: int = 760, height: int = 260) -> str:
    """One line per policy of ``metric`` over the replay dates."""
    dates = sorted(frame["as_of"].unique())
    left, right, top, bottom = 70, 200, 24, 40
    pw, ph = width - left - right, height - top - bottom
    ymax = _nice_max(float(frame[metric].max()) * 1.05)
    n = max(len(dates) - 1, 1)

    def sx(i: int) -> float:
        return left + pw * i / n

    def sy(v: float) -> float:
        return top + ph * (1 - v / ymax)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{_e(title)}" id="workload-{_e(metric)}">',
             f'<text x="{left}" y="14" font-size="12" font-weight="600">{_e(title)}</text>',
             f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#ccc"/>']
    for t in _axis_ticks(ymax, 4):
        parts.append(f'<line x1="{left}" y1="{sy(t):.1f}" x2="{left + pw}" y2="{sy(t):.1f}" stroke="#eee"/>'
                     f'<text x="{left - 6}" y="{sy(t) + 4:.1f}" font-size="11" text-anchor="end">{t:,.0f}</text>')
    step = max(1, math.ceil(len(dates) / 7))
    for i, d in enumerate(dates):
        if i % step == 0 or i == len(dates) - 1:
            parts.append(f'<text x="{sx(i):.1f}" y="{top + ph + 16}" font-size="10" text-anchor="middle">'
                         f'{pd.Timestamp(d).strftime("%Y-%m")}</text>')
    for k, (name, g) in enumerate(frame.groupby("policy", sort=False)):
        c = COLOURS[k % len(COLOURS)]
        pos = {d: i for i, d in enumerate(dates)}
        pts = " ".join(f"{sx(pos[d]):.1f},{sy(v):.1f}" for d, v in zip(g["as_of"], g[metric], strict=True))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="1.8" data-policy="{_e(name)}"/>')
        ly = top + 12 + 16 * k
        parts.append(f'<line x1="{left + pw + 10}" y1="{ly - 4}" x2="{left + pw + 24}" y2="{ly - 4}" stroke="{c}" '
                     f'stroke-width="2"/><text x="{left + pw + 28}" y="{ly}" font-size="11">{_e(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_report(result: Any, title: str = "Policy backtest", context: dict[str, str] | None = None) -> str:
    """The report page of a :class:`riskml.backtest.replay.BacktestResult`."""
    s = result.summary
    dates = result.dates
    ctx = context or {}
    head = [f"<h1>{_e(title)}</h1>",
            f'<div class="sub">{len(dates)} replay dates from {dates[0].date()} to {dates[-1].date()}; '
            f"{len(s)} policies; riskml {__version__}"
            + "".join(f"; {_e(k)}: {_e(v)}" for k, v in ctx.items()) + "</div>"]
    cols = "".join(f"<th>{_e(p)}{' *' if f else ''}</th>" for p, f in zip(s["policy"], s["on_frontier"], strict=True))
    body = []
    for key, label, kind in TABLE_ROWS:
        if key not in s:
            continue
        cells = "".join(
            f'<td data-policy="{_e(p)}" data-metric="{key}" data-value="{v!r}">{_fmt(v, kind)}</td>'
            for p, v in zip(s["policy"], s[key].tolist(), strict=True))
        cls = ' class="sub-row"' if label.startswith("  ") else ""
        body.append(f"<tr><td{cls}>{_e(label.strip())}</td>{cells}</tr>")
    table = (f'<table id="summary"><thead><tr><th>figure</th>{cols}</tr></thead><tbody>{"".join(body)}</tbody>'
             "</table><p class=\"sub\">* on the frontier: no other policy avoids more bad debt for less margin "
             "lost. Flows (money) are summed over the replay periods; counts are averages per replay date.</p>")
    sources = "".join(f"<li><b>{_e(p.name)}</b>: {_e(p.source)}</li>" for p in result.policies)
    models = "".join(
        f"<li>{_e(m.describe()['trained_at'] or m.source)}: knows outcomes up to {_e(m.describe()['knowledge_end'])}"
        + (f"; {m.rows:,} labeled snapshots ({m.positives:,} positives) from {len(m.train_dates)} month ends, "
           f"test AUC {m.test_auc:.3f}" if m.trained_at is not None else "") + "</li>" for m in result.models)
    assumptions = "".join(f"<li>{_e(a)}</li>" for a in result.assumptions)
    notes = "".join(f"<li>{_e(n)}</li>" for n in result.notes)
    charts = [workload_svg(result.frame, m, t) for m, t in (
        ("holds", "Order holds per replay date"), ("reviews_due", "Reviews due per replay date"),
        ("approvals_new", "New decisions needing approval per replay date"),
        ("sales_lost", "Sales lost per period"), ("bad_debt_avoided", "Bad debt avoided per period"))]
    page = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>", *head,
        "<h2>Policies side by side</h2>", table,
        "<h2>Trade-off: bad debt avoided against margin lost</h2>",
        f'<div class="chart">{tradeoff_svg(s)}</div>',
        "<h2>Workload and money over time</h2>", *(f'<div class="chart">{c}</div>' for c in charts),
        "<h2>Counterfactual assumptions</h2>", f"<ul>{assumptions}</ul>",
        *([f"<h2>Notes</h2><ul>{notes}</ul>"] if notes else []),
        "<h2>Policies</h2>", f"<ul>{sources}</ul>", "<h2>Models</h2>", f"<ul>{models}</ul>",
        "</body></html>",
    ]
    return "\n".join(page)
