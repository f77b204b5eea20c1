"""Figures of the portfolio report as PNG bytes (matplotlib, Agg canvas), and shap's own waterfall for
notebooks. The customer pages draw their charts as SVG from the numbers (:mod:`riskml.reporting.svg`).

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
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 90
RISK = "#b2182b"
SAFE = "#2166ac"
GREY = "#888888"
PNG_KWARGS = {"compress_level": 3}
# width of one character of shap's 12-point labels, as a share of its 8-inch-wide waterfall
LABEL_EM = 0.0115


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
