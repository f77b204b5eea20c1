"""Figures of the reports as PNG bytes: matplotlib (Agg canvas) and shap's waterfall.

Our own charts draw on a bare :class:`matplotlib.figure.Figure` with an Agg canvas, so they never touch
pyplot's global state or the user's backend (they work the same in a notebook, a server or a test).
The SHAP waterfall is shap's own plot (``shap.plots.waterfall``) built from the contributions stored by
scoring — no second model and no re-explanation — and saved from the figure shap draws on.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from riskml.reporting.history import AGING_COLUMNS, AGING_LABELS, Trend

DPI = 90
RISK = "#b2182b"
SAFE = "#2166ac"
GREY = "#888888"
AGING_COLOURS = ("#4d9221", "#fdb863", "#f08a24", "#d6604d", "#8c1a1a")
PNG_KWARGS = {"compress_level": 3}
# width of one character of shap's 12-point labels, as a share of its 8-inch-wide waterfall
LABEL_EM = 0.0115
_thousands = FuncFormatter(lambda v, _: f"{v:,.0f}")


def _new_figure(width: float, height: float, **margins: float) -> Figure:
    """A figure on its own Agg canvas with fixed margins (a constrained layout doubles the drawing time,
    which matters with one report per customer)."""
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(**{"left": 0.08, "right": 0.98, "top": 0.9, "bottom": 0.16, **margins})
    return fig


def png_bytes(fig: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes (no metadata, so the same figure gives the same bytes)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, pil_kwargs=PNG_KWARGS)
    return buf.getvalue()


def waterfall_png(
    values: Sequence[float] | np.ndarray,
    base_value: float,
    data: Sequence[object],
    feature_names: Sequence[str],
    max_display: int = 10,
) -> bytes:
    """shap's waterfall of one customer's score from stored contributions (log-odds units).

    ``data`` are the values shown beside each feature name (pre-formatted strings read best)."""
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():  # shap 0.51 sets colormap extremes the way matplotlib 3.11 deprecates
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        import shap

    if len(values) != len(feature_names) or len(data) != len(feature_names):
        raise ValueError(
            f"values, data and feature_names must have the same length; got {len(values)}, {len(data)}, "
            f"{len(feature_names)}"
        )
    explanation = shap.Explanation(
        values=np.asarray(values, dtype="float64"),
        base_values=float(base_value),
        data=np.asarray(list(data), dtype=object),
        feature_names=list(feature_names),
    )
    # shap draws on pyplot's current figure and puts the "value = feature" labels left of the axes: a
    # figure made here with a left margin sized to the longest label shown saves the second drawing a
    # tight bounding box would cost
    shown = np.argsort(-np.abs(explanation.values), kind="stable")[: max(max_display - 1, 1)]
    longest = max((len(f"{data[i]} = {feature_names[i]}") for i in shown), default=10)
    left = min(max(0.12 + LABEL_EM * longest, 0.3), 0.62)
    before = set(plt.get_fignums())
    try:
        fig = plt.figure(dpi=DPI)
        fig.subplots_adjust(left=left, right=0.9, top=0.93, bottom=0.1)
        shap.plots.waterfall(explanation, max_display=max_display, show=False)
        fig = plt.gcf()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, pil_kwargs=PNG_KWARGS)
        return buf.getvalue()
    finally:
        for num in set(plt.get_fignums()) - before:
            plt.close(num)


def _month_labels(months: pd.Series) -> list[str]:
    return [pd.Timestamp(m).strftime("%b %y") for m in months]


def _sparse_ticks(ax, labels: list[str], every: int = 3) -> None:
    x = np.arange(len(labels))
    ax.set_xticks(x[::-1][::every][::-1])
    ax.set_xticklabels([labels[i] for i in x[::-1][::every][::-1]], fontsize=7)


def _bars(ax, x: np.ndarray, heights: np.ndarray, bottom: np.ndarray | None = None, width: float = 0.8,
          color: object = SAFE, alpha: float = 1.0, label: str | None = None) -> None:
    """Vertical bars as one PolyCollection: the same picture as ``ax.bar`` at a fraction of the cost
    (one artist instead of one Rectangle per bar, which matters with a page per customer)."""
    h = np.nan_to_num(np.asarray(heights, dtype="float64"))
    b = np.zeros_like(h) if bottom is None else np.asarray(bottom, dtype="float64")
    keep = h != 0
    x0 = np.asarray(x, dtype="float64")[keep] - width / 2
    x1 = x0 + width
    y0, y1 = b[keep], b[keep] + h[keep]
    verts = np.stack([np.column_stack([x0, y0]), np.column_stack([x0, y1]), np.column_stack([x1, y1]),
                      np.column_stack([x1, y0])], axis=1)
    colours = np.asarray(color, dtype=object)[keep] if np.ndim(color) else color
    ax.add_collection(PolyCollection(verts, facecolors=colours, edgecolors="none", alpha=alpha, label=label))


def _legend_patch(colour: object, label: str, alpha: float = 1.0) -> Patch:
    return Patch(facecolor=colour, alpha=alpha, label=label)


def history_png(history: pd.DataFrame, trend: Trend | None, terms_days: float | None = None) -> bytes:
    """Four panels of one customer's monthly history: DBT with its trend line, aging of the open
    balance, partial payments and sales."""
    h = history.sort_values("month", kind="stable").reset_index(drop=True)
    labels = _month_labels(h["month"])
    x = np.arange(len(h))
    fig = _new_figure(10.0, 6.2, left=0.075, top=0.95, bottom=0.06, hspace=0.32, wspace=0.2)
    axes = fig.subplots(2, 2)

    ax = axes[0, 0]
    dbt = np.nan_to_num(h["dbt"].to_numpy("float64"))
    _bars(ax, x, dbt, color=np.where(dbt > 0, RISK, SAFE), alpha=0.75)
    handles = [_legend_patch(RISK, "DBT of the month's payments", 0.75)]
    avg = h["dbt_avg_3m"].to_numpy("float64") if "dbt_avg_3m" in h else np.zeros(len(h))
    if "dbt_avg_3m" in h:
        handles += ax.plot(x, avg, color="black", lw=1.2, label="3-month average")
    if trend is not None:
        handles += ax.plot(list(trend.positions), trend.values(), color=RISK, ls="--", lw=1.6,
                           label=f"trend {trend.slope:+.1f} days/month")
    top = max(float(dbt.max(initial=0.0)), float(np.nanmax(np.nan_to_num(avg), initial=0.0)), 1.0)
    low = min(0.0, float(trend.values().min())) if trend is not None else 0.0
    ax.set_ylim(low, top * 1.3)
    ax.set_title("Days beyond terms, amount-weighted", fontsize=9, y=1.0)
    ax.set_ylabel("days", fontsize=8)
    ax.legend(handles=handles, fontsize=7, loc="upper left", frameon=False)

    ax = axes[0, 1]
    bottom = np.zeros(len(h))
    handles = []
    for col, lab, colour in zip(AGING_COLUMNS, AGING_LABELS, AGING_COLOURS, strict=True):
        vals = np.nan_to_num(h[col].to_numpy("float64"))
        _bars(ax, x, vals, bottom=bottom, color=colour)
        handles.append(_legend_patch(colour, lab))
        bottom += vals
    limit = h["credit_limit"].to_numpy("float64") if "credit_limit" in h else np.full(len(h), np.nan)
    if np.isfinite(limit).any():
        handles += ax.plot(x, limit, color="black", lw=1.0, ls=":", label="credit limit")
    ax.set_ylim(0, max(float(bottom.max(initial=0.0)), float(np.nan_to_num(limit).max(initial=0.0)), 1.0) * 1.35)
    ax.set_title("Aging of the open balance at month end", fontsize=9, y=1.0)
    ax.legend(handles=handles, fontsize=6.5, loc="upper left", frameon=False, ncol=3)
    ax.yaxis.set_major_formatter(_thousands)

    ax = axes[1, 0]
    peak = 0.0
    for col, lab, colour in (("multi_payment_share_12m", "settled in instalments", "#762a83"),
                             ("short_paid_share_12m", "paid short", RISK)):
        vals = 100 * h[col].to_numpy("float64")
        ax.plot(x, vals, marker="o", ms=2.5, lw=1.3, color=colour, label=lab)
        peak = max(peak, float(np.nanmax(vals)) if np.isfinite(vals).any() else 0.0)
    # head room for the legend; at least 0-5% so that a flat 0% line reads as "none", not as noise
    ax.set_ylim(0, max(peak, 4.0) * 1.35)
    ax.set_title("Partial payments: share of invoices settled, trailing 12 months", fontsize=9, y=1.0)
    ax.set_ylabel("% of invoices", fontsize=8)
    ax.legend(fontsize=7, loc="upper left", frameon=False)

    ax = axes[1, 1]
    sales = np.nan_to_num(h["sales"].to_numpy("float64"))
    _bars(ax, x, sales, color=SAFE, alpha=0.8)
    ax.set_ylim(0, max(float(sales.max(initial=0.0)), 1.0) * 1.1)
    ax.set_title("Sales (amount invoiced per month)", fontsize=9, y=1.0)
    ax.yaxis.set_major_formatter(_thousands)

    for a in axes.flat:
        a.yaxis.set_major_locator(MaxNLocator(5))
        _sparse_ticks(a, labels)
        a.tick_params(axis="y", labelsize=7)
        a.spines[["top", "right"]].set_visible(False)
        a.set_xlim(-0.6, len(h) - 0.4)
    return png_bytes(fig)


def grade_distribution_png(grades: Sequence[str], counts: Sequence[float], exposure: Sequence[float]) -> bytes:
    """Customers and exposure by grade, side by side."""
    fig = _new_figure(9.0, 2.8, left=0.06, bottom=0.18, top=0.9, wspace=0.25)
    ax1, ax2 = fig.subplots(1, 2)
    x = np.arange(len(grades))
    ax1.bar(x, counts, color=SAFE)
    ax1.set_title("Customers by grade", fontsize=9, y=1.0)
    ax2.bar(x, exposure, color="#5e3c99")
    ax2.set_title("Exposure by grade", fontsize=9, y=1.0)
    ax2.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    for a in (ax1, ax2):
        a.set_xticks(x)
        a.set_xticklabels(list(grades), fontsize=8)
        a.set_xlabel("grade (1 = lowest risk)", fontsize=8)
        a.tick_params(axis="y", labelsize=7)
        a.spines[["top", "right"]].set_visible(False)
    return png_bytes(fig)


def distribution_png(labels: Sequence[str], expected: Sequence[float], actual: Sequence[float], title: str) -> bytes:
    """Training vs current shares per bin (the picture behind a PSI)."""
    fig = _new_figure(9.0, 2.8, left=0.07, bottom=0.3, top=0.9)
    ax = fig.subplots()
    x = np.arange(len(labels))
    ax.bar(x - 0.2, 100 * np.asarray(expected, dtype="float64"), width=0.4, color=GREY, label="reference")
    ax.bar(x + 0.2, 100 * np.asarray(actual, dtype="float64"), width=0.4, color=SAFE, label="now")
    ax.set_xticks(x)
    ax.set_xticklabels(list(labels), fontsize=7, rotation=30, ha="right")
    ax.set_ylabel("% of customers", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return png_bytes(fig)
