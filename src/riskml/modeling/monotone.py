"""Verify, after training, that every monotone-constrained feature moves the score the right way.

LightGBM's constraints are trusted by many and occasionally violated in practice (reported with some
constraint methods, interactions with missing values, or a wrong column order when the constraint list
is built by position). So the trained model is *checked*: for each constrained feature, a sample of
real rows is swept over a grid of the feature's training quantiles with every other feature held fixed,
and the raw score (log-odds) must never move against the declared direction. A violation fails the run
with a :class:`ModelError` naming the feature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskml.errors import ModelError
from riskml.modeling.model import RiskModel


@dataclass(frozen=True)
class Violation:
    feature: str
    direction: int
    worst_move: float  # the largest move against the direction, in log-odds
    rows_affected: int
    at_value: float  # grid value where the worst move starts

    def describe(self) -> str:
        word = "increases" if self.direction > 0 else "decreases"
        return (f"{self.feature}: declared to raise risk as it {word}, but the score moves the wrong way by "
                f"up to {self.worst_move:.4g} log-odds (from {self.feature} = {self.at_value:.4g}, "
                f"{self.rows_affected} of the sampled rows)")


def quantile_grid(values: np.ndarray, points: int) -> np.ndarray:
    """Distinct quantiles of the non-missing values (at most ``points``)."""
    v = np.asarray(values, dtype="float64")
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.zeros(0)
    return np.unique(np.quantile(v, np.linspace(0.0, 1.0, points)))


def check_monotone(model: RiskModel, X: pd.DataFrame, monotone: dict[str, int], grid_points: int = 20,
                   sample_rows: int = 300, tolerance: float = 1e-9, seed: int = 0,
                   grid_from: pd.DataFrame | None = None) -> list[Violation]:
    """Violations of the declared directions (empty when the model is monotone as declared).

    ``X`` supplies the rows that are swept (a seeded sample of ``sample_rows``); ``grid_from`` (default
    ``X``) supplies the quantiles each feature is swept over -- the training data in the pipeline."""
    base = model.prepare(X)
    source = model.prepare(grid_from) if grid_from is not None else base
    if len(base) > sample_rows:
        idx = np.random.default_rng(seed).choice(len(base), size=sample_rows, replace=False)
        base = base.iloc[np.sort(idx)]
    base = base.reset_index(drop=True)
    out = []
    for feature, direction in monotone.items():
        if not direction or feature not in base.columns or feature in model.categories_:
            continue
        grid = quantile_grid(source[feature].to_numpy(), grid_points)
        if len(grid) < 2:
            continue
        sweep = pd.concat([base] * len(grid), ignore_index=True)
        sweep[feature] = np.repeat(grid, len(base))
        raw = model.booster_.predict(sweep, raw_score=True).reshape(len(grid), len(base))
        moves = np.diff(raw, axis=0) * np.sign(direction)  # should all be >= 0
        bad = moves < -tolerance
        if bad.any():
            k, _ = np.unravel_index(np.argmin(moves), moves.shape)
            out.append(Violation(feature, int(np.sign(direction)), float(-moves.min()),
                                 int(bad.any(axis=0).sum()), float(grid[k])))
    return out


def verify_monotone(model: RiskModel, X: pd.DataFrame, monotone: dict[str, int], **kwargs: object) -> int:
    """Raise :class:`ModelError` naming every feature that moves the wrong way; else return how many
    constrained features were checked."""
    violations = check_monotone(model, X, monotone, **kwargs)  # type: ignore[arg-type]
    if violations:
        params = dict(getattr(model, "params", {}) or {})
        method = params.get("monotone_constraints_method", "basic")
        extra = f", path_smooth={params['path_smooth']}" if params.get("path_smooth") else ""
        lines = "\n".join("  " + v.describe() for v in violations)
        raise ModelError(
            f"monotonicity check failed for {len(violations)} feature(s) "
            f"({', '.join(v.feature for v in violations)}):\n{lines}\n"
            f"The model was not registered. LightGBM broke its own constraints with "
            f"monotone_constraints_method={method!r}{extra}: its 'intermediate' and 'advanced' methods, and "
            "path_smooth, have been seen to do so. Set lightgbm.monotone_constraints_method to 'basic' and remove "
            "path_smooth in configs/train.yaml (and check the feature's declared direction in the feature "
            "registry)."
        )
    return sum(1 for f, d in monotone.items() if d and f in model.feature_names_ and f not in model.categories_)
