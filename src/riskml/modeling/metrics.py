"""Discrimination and calibration metrics, returned as numbers and tables (never printed here).

Ranking metrics treat tied scores fairly: the capture of the top x% counts a tie group that straddles
the cut pro rata (the expected capture under random ordering of the ties), so a rule with many equal
scores (e.g. DBT = 0 for every prompt payer) is not flattered or punished by the row order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from riskml.modeling.calibration import brier, log_loss

TOP_SHARES = (0.1, 0.2, 0.3)


def _arrays(y: object, s: object) -> tuple[np.ndarray, np.ndarray]:
    yy = np.asarray(y, dtype="float64")
    ss = np.asarray(s, dtype="float64")
    if yy.shape != ss.shape or yy.ndim != 1:
        raise ValueError(f"y and scores must be 1-D of the same length; got {yy.shape} and {ss.shape}")
    if np.isnan(ss).any():
        raise ValueError("scores must not contain NaN")
    return yy, ss


def roc_auc(y: object, s: object) -> float:
    yy, ss = _arrays(y, s)
    return float(roc_auc_score(yy, ss))


def gini(y: object, s: object) -> float:
    return 2.0 * roc_auc(y, s) - 1.0


def ks_statistic(y: object, s: object) -> float:
    """Kolmogorov-Smirnov: the largest gap between the score distributions of events and non-events."""
    yy, ss = _arrays(y, s)
    fpr, tpr, _ = roc_curve(yy, ss)
    return float(np.max(tpr - fpr))


def auc_standard_error(auc: float, n_pos: int, n_neg: int) -> float:
    """Standard error of an AUC estimate (Hanley and McNeil, 1982)."""
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (n_pos * n_neg)
    return float(np.sqrt(max(var, 0.0)))


def pr_auc(y: object, s: object) -> float:
    """Area under the precision-recall curve (average precision)."""
    yy, ss = _arrays(y, s)
    return float(average_precision_score(yy, ss))


def capture(y: object, s: object, share: float) -> float:
    """Share of all events found among the ``share`` highest scores (ties at the cut counted pro rata)."""
    yy, ss = _arrays(y, s)
    total = yy.sum()
    if total == 0:
        return float("nan")
    return float(_events_above(yy, ss, share * len(yy)) / total)


def _events_above(y: np.ndarray, s: np.ndarray, k: float) -> float:
    """Expected events among the ``k`` highest scores when tied scores are ordered at random."""
    if k <= 0:
        return 0.0
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    uniq, start = np.unique(-s_sorted, return_index=True)  # groups of equal score, best first
    sizes = np.diff(np.r_[start, len(s_sorted)])
    events = np.add.reduceat(y_sorted, start)
    cum_n = np.cumsum(sizes)
    full = cum_n <= k
    got = events[full].sum()
    nxt = int(full.sum())
    if nxt < len(sizes):
        before = cum_n[nxt - 1] if nxt > 0 else 0
        got += events[nxt] * (k - before) / sizes[nxt]
    return float(got)


def lift_table(y: object, s: object, groups: int = 10) -> pd.DataFrame:
    """Deciles by score, riskiest first: rows, events, event rate, lift, cumulative capture and lift."""
    yy, ss = _arrays(y, s)
    n, total = len(yy), yy.sum()
    bounds = np.arange(groups + 1) * n / groups
    cum_events = np.array([_events_above(yy, ss, b) for b in bounds])
    ev = np.diff(cum_events)
    rows = np.diff(bounds)
    base = total / n if n else float("nan")
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = ev / rows
        cum_rate = cum_events[1:] / bounds[1:]
        return pd.DataFrame({
            "decile": np.arange(1, groups + 1),
            "rows": rows,
            "events": ev,
            "event_rate": rate,
            "lift": rate / base,
            "cum_capture": cum_events[1:] / total if total else np.nan,
            "cum_lift": cum_rate / base,
        })


def calibration_table(y: object, p: object, groups: int = 10) -> pd.DataFrame:
    """Deciles of the predicted PD (lowest first): rows, events, mean predicted PD and observed rate."""
    yy, pp = _arrays(y, p)
    order = np.argsort(pp, kind="stable")
    parts = np.array_split(order, groups)
    recs = []
    for i, idx in enumerate(parts, start=1):
        if len(idx) == 0:
            continue
        recs.append({
            "decile": i,
            "rows": len(idx),
            "events": int(yy[idx].sum()),
            "min_pd": float(pp[idx].min()),
            "max_pd": float(pp[idx].max()),
            "mean_pd": float(pp[idx].mean()),
            "observed_rate": float(yy[idx].mean()),
        })
    return pd.DataFrame(recs)


def wilson_interval(events: object, rows: object, z: float = 1.959963984540054) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval of a binomial rate ``events / rows`` (95% by default): unlike the normal
    approximation it stays inside [0, 1] and is not empty at 0 or ``rows`` events (0 of 9 gives 0 to 29.9%).
    NaN where ``rows`` is 0."""
    k = np.asarray(events, dtype="float64")
    n = np.asarray(rows, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        phat = k / n
        centre = (phat + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * np.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def calibration_by_group(y: object, p: object, groups: object, order: list[str] | None = None,
                         target: float = 0.03) -> pd.DataFrame:
    """Mean predicted PD against the observed rate per group (e.g. per persona): ``group``, ``rows``,
    ``events``, ``mean_pd``, ``observed_rate``, ``gap`` (mean PD minus observed rate, in probability),
    ``gap_se`` (the binomial standard error of the observed rate at the mean PD), ``observed_lo`` /
    ``observed_hi`` (the 95% Wilson interval of the observed rate) and ``within_target``: ``|gap| <= target``
    **or** the mean PD inside that interval (on a small group a gap larger than ``target`` can be chance;
    the raw gap stays in ``gap``). Groups in ``order`` first (those absent are left out), then the others
    sorted."""
    yy, pp = _arrays(y, p)
    g = pd.Series(np.asarray(groups, dtype=object)).astype("str").to_numpy()
    if len(g) != len(yy):
        raise ValueError(f"groups must have {len(yy)} entries; got {len(g)}")
    frame = pd.DataFrame({"group": g, "y": yy, "p": pp})
    agg = frame.groupby("group", sort=True).agg(rows=("y", "size"), events=("y", "sum"), mean_pd=("p", "mean"),
                                                 observed_rate=("y", "mean"))
    names = [k for k in (order or []) if k in agg.index] + [k for k in agg.index if k not in (order or [])]
    agg = agg.loc[names].reset_index()
    agg["events"] = agg["events"].astype("int64")
    agg["gap"] = agg["mean_pd"] - agg["observed_rate"]
    agg["gap_se"] = np.sqrt(agg["mean_pd"] * (1 - agg["mean_pd"]) / agg["rows"])
    lo, hi = wilson_interval(agg["events"], agg["rows"])
    agg["observed_lo"], agg["observed_hi"] = lo, hi
    agg["within_target"] = (agg["gap"].abs() <= target + 1e-12) | ((agg["mean_pd"] >= lo) & (agg["mean_pd"] <= hi))
    return agg


def evaluate(y: object, p: object, rank_score: object | None = None) -> dict[str, float]:
    """Every headline metric of a PD vector ``p`` against outcomes ``y``.

    Ranking metrics (AUC, Gini, KS, PR-AUC, capture, lift) use ``rank_score`` when given (e.g. a rule's
    own score), else ``p``; ``brier`` and ``log_loss`` always use ``p``."""
    yy, pp = _arrays(y, p)
    _, rr = _arrays(y, pp if rank_score is None else rank_score)
    out = {
        "auc": roc_auc(yy, rr),
        "gini": gini(yy, rr),
        "ks": ks_statistic(yy, rr),
        "pr_auc": pr_auc(yy, rr),
        "brier": brier(yy, pp),
        "log_loss": log_loss(yy, pp),
        "event_rate": float(yy.mean()),
        "mean_pd": float(pp.mean()),
        "rows": float(len(yy)),
        "events": float(yy.sum()),
    }
    out["auc_se"] = auc_standard_error(out["auc"], int(yy.sum()), int(len(yy) - yy.sum()))
    for share in TOP_SHARES:
        pct = int(round(share * 100))
        cap = capture(yy, rr, share)
        out[f"capture_top{pct}"] = cap
        out[f"lift_top{pct}"] = cap / share
    return out


def weighted_aucs(y: object, s: object, weights: np.ndarray) -> np.ndarray:
    """ROC-AUC of score ``s`` under each row of ``weights`` (shape ``(k, n)``), ties counted half.

    One sort serves every weight vector: per group of equal scores, positive weight times the negative
    weight ranked below it (plus half the tied negative weight), over total positive x negative weight."""
    yy, ss = _arrays(y, s)
    w = np.atleast_2d(np.asarray(weights, dtype="float64"))
    if w.shape[1] != len(yy):
        raise ValueError(f"weights must have {len(yy)} columns; got shape {w.shape}")
    order = np.argsort(ss, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(ss[order]) != 0])
    pos = np.add.reduceat(w[:, order] * (yy[order] == 1), starts, axis=1)
    neg = np.add.reduceat(w[:, order] * (yy[order] == 0), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    total = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (pos * (below + 0.5 * neg)).sum(axis=1) / total, np.nan)


def paired_auc_difference(y: object, a: object, b: object, groups: object | None = None, n_boot: int = 500,
                          seed: int = 0, level: float = 0.95) -> dict[str, float]:
    """AUC of score ``a`` minus AUC of score ``b`` on the same rows, with a paired bootstrap interval.

    Rows are resampled by ``groups`` (e.g. ``customer_id``: a customer's snapshots at several as-of dates
    are correlated, so resampling rows would understate the uncertainty); each replicate draws the groups
    with replacement (multinomial weights) and recomputes both AUCs on the same draw. Returns ``diff``,
    ``lo`` and ``hi`` (the ``level`` percentile interval), ``share_not_better`` (share of replicates in
    which ``a`` does not beat ``b``: a one-sided bootstrap p-value) and ``n_boot``."""
    yy, aa = _arrays(y, a)
    _, bb = _arrays(y, b)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1; got {n_boot}")
    codes = (np.arange(len(yy)) if groups is None
             else pd.factorize(pd.Series(np.asarray(groups)), sort=True)[0])
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), size=n_boot)
    w = counts[:, codes].astype("float64")
    d = weighted_aucs(yy, aa, w) - weighted_aucs(yy, bb, w)
    d = d[np.isfinite(d)]
    tail = (1 - level) / 2
    return {
        "diff": roc_auc(yy, aa) - roc_auc(yy, bb),
        "lo": float(np.quantile(d, tail)) if len(d) else float("nan"),
        "hi": float(np.quantile(d, 1 - tail)) if len(d) else float("nan"),
        "share_not_better": float((d <= 0).mean()) if len(d) else float("nan"),
        "n_boot": float(len(d)),
    }
