"""The trade-off frontier: policies no other policy beats on both bad debt avoided (more is better) and
margin lost (less is better)."""

from __future__ import annotations

import numpy as np


def pareto_front(cost: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """True for each point that no other point dominates: another point dominates it when its cost is
    no higher and its gain no lower, one of them strictly. Equal points are all on the front."""
    cost = np.asarray(cost, dtype="float64")
    gain = np.asarray(gain, dtype="float64")
    n = len(cost)
    out = np.ones(n, dtype=bool)
    for i in range(n):
        if not (np.isfinite(cost[i]) and np.isfinite(gain[i])):
            out[i] = False
            continue
        dom = (cost <= cost[i]) & (gain >= gain[i]) & ((cost < cost[i]) | (gain > gain[i]))
        out[i] = not dom.any()
    return out


def front_line(cost: np.ndarray, gain: np.ndarray) -> list[tuple[float, float]]:
    """The frontier's points in order of cost (for drawing the staircase line)."""
    on = pareto_front(cost, gain)
    pts = sorted(zip(np.asarray(cost)[on].tolist(), np.asarray(gain)[on].tolist(), strict=True))
    return [(float(c), float(g)) for c, g in pts]
