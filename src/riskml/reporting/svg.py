"""The customer report's charts as small inline SVG, written straight from the numbers.

A customer page carries two charts: the waterfall of the score (the model's stored contributions, the
picture of ``shap.plots.waterfall``) and four panels of monthly payment history. Drawing them with
matplotlib cost about half a second per customer and 150 KB of base64 PNG per page; written here as SVG
text they cost a millisecond or two and a few KB, print sharp, and keep the page self-contained (the
``<svg>`` element sits in the HTML). Every number is formatted with a fixed precision and every text is
escaped, so the same figures give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import numpy as np
import pandas as pd

from riskml.reporting.history import AGING_COLUMNS, AGING_LABELS, Trend

RISK = "#b2182b"
SAFE = "#2166ac"
GREY = "#888888"
AGING_COLOURS = ("#4d9221", "#fdb863", "#f08a24", "#d6604d", "#8c1a1a")
FONT = "font-family=\"Helvetica,Arial,sans-serif\""
CHAR_W = 6.2  # average width of one character of 11 px text, for sizing the label column


def _f(v: float) -> str:
    """A coordinate with one decimal, without a trailing ``.0``."""
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _t(x: float, y: float, text: str, size: float = 11, anchor: str = "start", fill: str = "#222",
       extra: str = "") -> str:
    return (f'<text x="{_f(x)}" y="{_f(y)}" font-size="{size:g}" text-anchor="{anchor}" fill="{fill}"{extra}>'
            f"{escape(text)}</text>")


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering ``[lo, hi]`` (steps of 1, 2, 2.5 or 5 x 10^k)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else [0.0]
    raw = (hi - lo) / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks: list[float] = []
    v = first
    while v <= hi + step * 1e-9 and len(ticks) < 50:
        ticks.append(0.0 if abs(v) < step * 1e-9 else v)
        v += step
    return ticks


def tick_text(v: float) -> str:
    """A tick label: thousands separators; ``k``/``M`` for large amounts."""
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:,.4g}M"
    if a >= 1e4:
        return f"{v / 1e3:,.4g}k"
    if a >= 10 or float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:.2g}"


def _svg(width: float, height: float, label: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_f(width)} {_f(height)}" width="100%" '
            f'role="img" aria-label="{escape(label)}" {FONT} class="chart">'
            f"<title>{escape(label)}</title>{''.join(body)}</svg>")


# ------------------------------------------------------------------------------------------ waterfall
def waterfall_svg(
    values: Sequence[float] | np.ndarray,
    base_value: float,
    data: Sequence[object],
    feature_names: Sequence[str],
    max_display: int = 10,
    label: str = "Waterfall of the score",
) -> str:
    """The waterfall of one score (log-odds): from the base value E[f(X)] at the bottom, one bar per
    factor (largest absolute contribution at the top, the rest summed in one row), to f(x) at the top.
    Red bars push toward delinquency, blue away from it; each row is labelled ``value = feature``."""
    vals = np.asarray(values, dtype="float64")
    if len(vals) != len(feature_names) or len(data) != len(feature_names):
        raise ValueError(f"values, data and feature_names must have the same length; got {len(vals)}, {len(data)}, "
                         f"{len(feature_names)}")
    if not math.isfinite(base_value) or not np.isfinite(vals).all():
        raise ValueError("waterfall_svg needs finite contributions and base value")
    order = np.argsort(-np.abs(vals), kind="stable")
    shown = order[: max(max_display - 1, 1)] if len(vals) > max_display else order
    rest = [i for i in order if i not in set(shown.tolist())]
    rows: list[tuple[str, float]] = [(f"{data[i]} = {feature_names[i]}", float(vals[i])) for i in shown]
    if rest:
        rows.append((f"{len(rest)} other features", float(vals[rest].sum())))
    # cumulative from the bottom row (the smallest) up to the top row (the largest)
    ends = []
    acc = float(base_value)
    for _, v in reversed(rows):
        start = acc
        acc += v
        ends.append((start, acc))
    ends.reverse()
    total = acc
    lo = min([base_value, total, *[min(a, b) for a, b in ends]])
    hi = max([base_value, total, *[max(a, b) for a, b in ends]])
    pad = (hi - lo) * 0.08 or 0.5
    lo, hi = lo - pad, hi + pad

    longest = max((len(t) for t, _ in rows), default=10)
    left = min(max(CHAR_W * longest + 16, 110), 250)
    width, row_h, top = 520.0, 24.0, 30.0
    plot_w = width - left - 20
    height = top + row_h * len(rows) + 46

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * plot_w

    body = []
    for tv in nice_ticks(lo, hi, 6):
        body.append(f'<line x1="{_f(x(tv))}" y1="{_f(top - 6)}" x2="{_f(x(tv))}" y2="{_f(top + row_h * len(rows))}" '
                    f'stroke="#e5e5e5"/>')
        body.append(_t(x(tv), top + row_h * len(rows) + 14, f"{tv:.2f}".rstrip("0").rstrip("."), 10, "middle", "#555"))
    # E[f(X)] below, f(x) above
    bx, fx = x(base_value), x(total)
    body.append(f'<line x1="{_f(bx)}" y1="{_f(top)}" x2="{_f(bx)}" y2="{_f(top + row_h * len(rows) + 20)}" '
                f'stroke="#999" stroke-dasharray="3,3"/>')
    body.append(_t(bx, top + row_h * len(rows) + 32, f"E[f(X)] = {base_value:.3f}", 11, "middle", "#333"))
    body.append(f'<line x1="{_f(fx)}" y1="{_f(top - 16)}" x2="{_f(fx)}" y2="{_f(top)}" stroke="#999" '
                f'stroke-dasharray="3,3"/>')
    body.append(_t(fx, top - 19, f"f(x) = {total:.3f}", 11, "middle", "#333"))
    for k, ((text, v), (a, b)) in enumerate(zip(rows, ends, strict=True)):
        y0 = top + k * row_h + 3
        h = row_h - 6
        colour = RISK if v > 0 else SAFE
        x0, x1 = sorted((x(a), x(b)))
        w = max(x1 - x0, 0.8)
        # an arrow-like bar: the tip points the way the contribution goes
        tip = min(6.0, w)
        if v > 0:
            pts = [(x0, y0), (x0 + w - tip, y0), (x0 + w, y0 + h / 2), (x0 + w - tip, y0 + h), (x0, y0 + h)]
        else:
            pts = [(x0 + tip, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0 + tip, y0 + h), (x0, y0 + h / 2)]
        body.append(f'<polygon points="{" ".join(f"{_f(px)},{_f(py)}" for px, py in pts)}" fill="{colour}"/>')
        body.append(_t(left - 8, y0 + h / 2 + 4, text, 11, "end"))
        inside = w > 46
        label_x = (x0 + w / 2) if inside else (x0 + w + 4 if v > 0 else x0 - 4)
        body.append(_t(label_x, y0 + h / 2 + 4, f"{v:+.2f}", 10, "middle" if inside else ("start" if v > 0 else "end"),
                       "#fff" if inside else colour))
    body.append(f'<line x1="{_f(left)}" y1="{_f(top + row_h * len(rows))}" x2="{_f(width - 20)}" '
                f'y2="{_f(top + row_h * len(rows))}" stroke="#444"/>')
    return _svg(width, height, label, body)


# ------------------------------------------------------------------------------------ payment history
class _Panel:
    """One chart panel: a plot area at (ox, oy) of size (w, h) with an x over ``n`` months and a y range."""

    def __init__(self, ox: float, oy: float, w: float, h: float, n: int, y_lo: float, y_hi: float) -> None:
        self.ox, self.oy, self.w, self.h, self.n = ox, oy, w, h, n
        self.lo, self.hi = y_lo, (y_hi if y_hi > y_lo else y_lo + 1.0)
        self.parts: list[str] = []

    def x(self, i: float) -> float:
        return self.ox + (i + 0.5) / self.n * self.w

    def y(self, v: float) -> float:
        return self.oy + self.h - (v - self.lo) / (self.hi - self.lo) * self.h

    def axes(self, title: str, labels: list[str], y_format=tick_text, y_title: str = "") -> None:
        p = self.parts
        p.append(_t(self.ox, self.oy - 8, title, 11.5, extra=' font-weight="bold"'))
        for tv in nice_ticks(self.lo, self.hi, 5):
            if tv > self.hi + 1e-9:
                continue
            yy = self.y(tv)
            p.append(f'<line x1="{_f(self.ox)}" y1="{_f(yy)}" x2="{_f(self.ox + self.w)}" y2="{_f(yy)}" stroke="#eee"/>')
            p.append(_t(self.ox - 4, yy + 3.5, y_format(tv), 9, "end", "#555"))
        p.append(f'<line x1="{_f(self.ox)}" y1="{_f(self.oy + self.h)}" x2="{_f(self.ox + self.w)}" '
                 f'y2="{_f(self.oy + self.h)}" stroke="#444"/>')
        for i in range(self.n - 1, -1, -3):  # every third month, ending at the last
            p.append(_t(self.x(i), self.oy + self.h + 12, labels[i], 9, "middle", "#555"))
        if y_title:
            p.append(_t(self.ox - 34, self.oy + self.h / 2, y_title, 9, "middle", "#555",
                        f' transform="rotate(-90 {_f(self.ox - 34)} {_f(self.oy + self.h / 2)})"'))

    def bars(self, heights: np.ndarray, colours: Sequence[str] | str, bottom: np.ndarray | None = None,
             opacity: float = 1.0) -> None:
        bw = self.w / self.n * 0.8
        base = np.zeros(len(heights)) if bottom is None else bottom
        for i, (hv, b) in enumerate(zip(heights, base, strict=True)):
            if not np.isfinite(hv) or hv == 0:
                continue
            y_top, y_bot = self.y(max(b, b + hv)), self.y(min(b, b + hv))
            colour = colours if isinstance(colours, str) else colours[i]
            op = f' fill-opacity="{opacity:g}"' if opacity < 1 else ""
            self.parts.append(f'<rect x="{_f(self.x(i) - bw / 2)}" y="{_f(y_top)}" width="{_f(bw)}" '
                              f'height="{_f(max(y_bot - y_top, 0.3))}" fill="{colour}"{op}/>')

    def line(self, xs: Sequence[float] | np.ndarray, ys: Sequence[float] | np.ndarray, colour: str, width: float = 1.3, dash: str = "",
             dots: bool = False) -> None:
        """A polyline through the finite points (broken where a value is missing)."""
        seg: list[str] = []
        segments = []
        for xv, yv in zip(xs, ys, strict=True):
            if yv is None or not np.isfinite(yv):
                if seg:
                    segments.append(seg)
                seg = []
                continue
            seg.append(f"{_f(self.x(xv))},{_f(self.y(float(yv)))}")
        if seg:
            segments.append(seg)
        d = f' stroke-dasharray="{dash}"' if dash else ""
        for s in segments:
            if len(s) == 1 and not dots:
                px, py = s[0].split(",")
                self.parts.append(f'<circle cx="{px}" cy="{py}" r="1.5" fill="{colour}"/>')
            else:
                self.parts.append(f'<polyline points="{" ".join(s)}" fill="none" stroke="{colour}" '
                                  f'stroke-width="{width:g}"{d}/>')
            if dots:
                for pt in s:
                    px, py = pt.split(",")
                    self.parts.append(f'<circle cx="{px}" cy="{py}" r="1.8" fill="{colour}"/>')

    def legend(self, items: list[tuple[str, str, str]], columns: int = 1) -> None:
        """Legend entries (kind ``box``/``line``/``dash``/``dot``, colour, text) in the top-left corner."""
        col_w = self.w / columns
        for k, (kind, colour, text) in enumerate(items):
            lx = self.ox + 6 + (k % columns) * col_w
            ly = self.oy + 10 + (k // columns) * 12
            if kind == "box":
                self.parts.append(f'<rect x="{_f(lx)}" y="{_f(ly - 7)}" width="10" height="8" fill="{colour}"/>')
            else:
                dash = {"dash": ' stroke-dasharray="5,3"', "dot": ' stroke-dasharray="1.5,2"'}.get(kind, "")
                self.parts.append(f'<line x1="{_f(lx)}" y1="{_f(ly - 3)}" x2="{_f(lx + 12)}" y2="{_f(ly - 3)}" '
                                  f'stroke="{colour}" stroke-width="1.6"{dash}/>')
            self.parts.append(_t(lx + 15, ly, text, 9, fill="#333"))


def _finite0(a: np.ndarray) -> np.ndarray:
    """Missing and infinite values as 0 (``np.nan_to_num`` would turn inf into 1.8e308)."""
    a = np.asarray(a, dtype="float64")
    return np.where(np.isfinite(a), a, 0.0)


def _top(*arrays: np.ndarray, floor: float = 1.0) -> float:
    m = floor
    for a in arrays:
        a = np.asarray(a, dtype="float64")
        if np.isfinite(a).any():
            m = max(m, float(np.nanmax(np.where(np.isfinite(a), a, np.nan))))
    return m


def history_svg(history: pd.DataFrame, trend: Trend | None, terms_days: float | None = None,
                label: str = "Monthly payment history") -> str:
    """Four panels of one customer's monthly history: DBT with its 3-month average and trend line, aging
    of the open balance with the credit limit, partial payments, and sales."""
    h = history.sort_values("month", kind="stable").reset_index(drop=True)
    n = max(len(h), 1)
    labels = [pd.Timestamp(m).strftime("%b %y") for m in h["month"]]
    x = np.arange(len(h), dtype="float64")
    width, pw, ph = 960.0, 400.0, 190.0
    cols = (62.0, 62.0 + pw + 90.0)
    rows = (34.0, 34.0 + ph + 62.0)
    height = rows[1] + ph + 30
    panels = []

    dbt = h["dbt"].to_numpy("float64")
    dbt0 = _finite0(dbt)
    avg = h["dbt_avg_3m"].to_numpy("float64") if "dbt_avg_3m" in h else np.full(len(h), np.nan)
    tvals = trend.values() if trend is not None else np.array([])
    low = min(0.0, float(tvals.min())) if len(tvals) else 0.0
    p = _Panel(cols[0], rows[0], pw, ph, n, low, _top(dbt0, avg, tvals) * 1.3)
    p.axes("Days beyond terms, amount-weighted", labels, y_title="days")
    p.bars(dbt0, [RISK if v > 0 else SAFE for v in dbt0], opacity=0.75)
    items = [("box", RISK, "DBT of the month's payments")]
    if "dbt_avg_3m" in h:
        p.line(x, avg, "#000", 1.2)
        items.append(("line", "#000", "3-month average"))
    if trend is not None:
        p.line(list(trend.positions), tvals, RISK, 1.6, dash="5,3")
        items.append(("dash", RISK, f"trend {trend.slope:+.1f} days/month"))
    p.legend(items)
    panels.append(p)

    bottom = np.zeros(len(h))
    stacks = []
    for col in AGING_COLUMNS:
        vals = _finite0(h[col].to_numpy("float64")) if col in h else np.zeros(len(h))
        stacks.append((vals, bottom.copy()))
        bottom += vals
    limit = h["credit_limit"].to_numpy("float64") if "credit_limit" in h else np.full(len(h), np.nan)
    p = _Panel(cols[1], rows[0], pw, ph, n, 0.0, _top(bottom, limit) * 1.35)
    p.axes("Aging of the open balance at month end", labels)
    for (vals, b), colour in zip(stacks, AGING_COLOURS, strict=True):
        p.bars(vals, colour, bottom=b)
    items = [("box", c, lab) for c, lab in zip(AGING_COLOURS, AGING_LABELS, strict=True)]
    if np.isfinite(limit).any():
        p.line(x, limit, "#000", 1.0, dash="1.5,2")
        items.append(("dot", "#000", "credit limit"))
    p.legend(items, columns=3)
    panels.append(p)

    series = [(c, lab, colour) for c, lab, colour in (("multi_payment_share_12m", "settled in instalments", "#762a83"),
                                                      ("short_paid_share_12m", "paid short", RISK)) if c in h]
    shares = [100 * h[c].to_numpy("float64") for c, _, _ in series]
    p = _Panel(cols[0], rows[1], pw, ph, n, 0.0, max(_top(*shares, floor=0.0), 4.0) * 1.35)
    p.axes("Partial payments: share of invoices settled, trailing 12 months", labels,
           y_format=lambda v: f"{v:g}%", y_title="% of invoices")
    for (_, _, colour), vals in zip(series, shares, strict=True):
        p.line(x, vals, colour, 1.3, dots=True)
    p.legend([("line", colour, lab) for _, lab, colour in series])
    panels.append(p)

    sales = _finite0(h["sales"].to_numpy("float64"))
    p = _Panel(cols[1], rows[1], pw, ph, n, 0.0, _top(sales) * 1.1)
    p.axes("Sales (amount invoiced per month)", labels)
    p.bars(sales, SAFE, opacity=0.8)
    panels.append(p)
    return _svg(width, height, label, [part for q in panels for part in q.parts])
