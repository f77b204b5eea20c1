"""Probability calibration of the booster's raw score (log-odds): isotonic or Platt, chosen on validation.

Both calibrators are tiny and persisted as plain JSON (isotonic: the x/y thresholds of the fitted step
function, interpolated linearly like scikit-learn's ``IsotonicRegression.predict``; Platt: the slope ``a``
and intercept ``b`` of ``sigmoid(a * raw + b)``), never pickled, so a reloaded model gives the same PD.

The choice (``method="auto"``) compares the two by *out-of-fold* log loss on the validation window
(stratified k-fold inside it; ties broken by Brier score): an isotonic fit scored on its own data always
looks best, so an in-sample comparison would be meaningless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import StratifiedKFold

from riskml.errors import ModelError

# isotonic output is kept inside [EPS, 1 - EPS]: a PD of exactly 0 or 1 is never credible (and would make
# the log loss infinite)
EPS = 1e-4
METHODS = ("isotonic", "platt", "none")


@dataclass
class Calibrator:
    """A fitted map from raw score to probability."""

    method: str
    params: dict[str, Any] = field(default_factory=dict)

    def predict(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, dtype="float64")
        if self.method == "isotonic":
            return np.interp(raw, np.asarray(self.params["x"]), np.asarray(self.params["y"]))
        if self.method == "platt":
            return expit(self.params["a"] * raw + self.params["b"])
        return expit(raw)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, **self.params}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        method = data.get("method")
        if method not in METHODS:
            raise ModelError(f"calibrator.json: method must be one of {list(METHODS)}; got {method!r}")
        params = {k: v for k, v in data.items() if k != "method"}
        need = {"isotonic": ("x", "y"), "platt": ("a", "b"), "none": ()}[method]
        missing = [k for k in need if k not in params]
        if missing:
            raise ModelError(f"calibrator.json: {method} calibrator lacks {missing}")
        problem = _calibrator_problem(method, params)
        if problem:
            raise ModelError(f"calibrator.json: {problem}")
        return cls(method, params)


# a fitted Platt slope and intercept stay far inside these bounds (a raw score is a log-odds of a few units);
# beyond them every PD would be 0 or 1
MAX_PLATT = 1_000.0


def _calibrator_problem(method: str, params: dict[str, Any]) -> str:
    """What makes stored calibrator parameters unusable ("" when they are fine)."""
    if method == "platt":
        for k in ("a", "b"):
            v = params[k]
            if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v) or abs(v) > MAX_PLATT:
                return f"platt {k} must be a finite number within +-{MAX_PLATT:g}; got {str(v)[:40]}"
        return ""
    if method == "isotonic":
        try:
            x = np.asarray(params["x"], dtype="float64")
            y = np.asarray(params["y"], dtype="float64")
        except (TypeError, ValueError):
            return "isotonic x and y must be lists of numbers"
        if x.ndim != 1 or x.shape != y.shape or len(x) < 1:
            return f"isotonic x and y must be lists of one length; got {x.shape} and {y.shape}"
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            return "isotonic x and y must be finite numbers"
        if (np.diff(x) < 0).any() or (np.diff(y) < 0).any():
            return "isotonic x and y must be non-decreasing"
        if y.min() < 0 or y.max() > 1:
            return "isotonic y must be probabilities in [0, 1]"
    return ""


def fit_isotonic(raw: np.ndarray, y: np.ndarray) -> Calibrator:
    """Monotone step function of the raw score (interpolated between thresholds)."""
    iso = IsotonicRegression(y_min=EPS, y_max=1 - EPS, increasing=True, out_of_bounds="clip")
    iso.fit(np.asarray(raw, dtype="float64"), np.asarray(y, dtype="float64"))
    return Calibrator("isotonic", {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()})


def fit_platt(raw: np.ndarray, y: np.ndarray, iterations: int = 100) -> Calibrator:
    """Logistic fit ``sigmoid(a * raw + b)`` by Newton's method with step halving (two parameters; a tiny
    ridge keeps separable data finite). Starts from the identity map ``a = 1, b = 0``."""
    x = np.asarray(raw, dtype="float64")
    t = np.asarray(y, dtype="float64")
    design = np.column_stack([x, np.ones_like(x)])
    ridge = 1e-6 * max(len(x), 1)

    def loss(w: np.ndarray) -> float:
        z = design @ w
        return float(np.sum(np.logaddexp(0.0, z) - t * z) + 0.5 * ridge * w @ w)

    w = np.array([1.0, 0.0])
    current = loss(w)
    for _ in range(iterations):
        p = expit(design @ w)
        grad = design.T @ (p - t) + ridge * w
        hess = (design * (p * (1 - p))[:, None]).T @ design + ridge * np.eye(2)
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while scale > 1e-10:
            cand = w - scale * step
            new = loss(cand)
            if new <= current:
                break
            scale /= 2
        else:
            break
        converged = abs(current - new) <= 1e-12 * max(1.0, abs(current))
        w, current = cand, new
        if converged:
            break
    return Calibrator("platt", {"a": float(w[0]), "b": float(w[1])})


def identity() -> Calibrator:
    """No calibration: the booster's own sigmoid."""
    return Calibrator("none", {})


FITTERS = {"isotonic": fit_isotonic, "platt": fit_platt}


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(np.asarray(p, dtype="float64"), 1e-15, 1 - 1e-15)
    y = np.asarray(y, dtype="float64")
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype="float64") - np.asarray(y, dtype="float64")) ** 2))


def cross_validated_scores(raw: np.ndarray, y: np.ndarray, seed: int, folds: int = 5) -> dict[str, dict[str, float]]:
    """Out-of-fold log loss and Brier score of each calibration method on (raw, y)."""
    raw = np.asarray(raw, dtype="float64")
    y = np.asarray(y, dtype="int64")
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    k = min(folds, n_pos, n_neg)
    if k < 2:
        raise ModelError(
            f"calibration needs at least 2 positives and 2 negatives in the validation window; got "
            f"{n_pos} positives and {n_neg} negatives"
        )
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    oof = {m: np.zeros(len(y)) for m in FITTERS}
    for fit_idx, pred_idx in cv.split(raw.reshape(-1, 1), y):
        for m, fitter in FITTERS.items():
            oof[m][pred_idx] = fitter(raw[fit_idx], y[fit_idx]).predict(raw[pred_idx])
    return {m: {"log_loss": log_loss(y, p), "brier": brier(y, p)} for m, p in oof.items()}


def choose_calibrator(raw: np.ndarray, y: np.ndarray, method: str = "auto",
                      seed: int = 42) -> tuple[Calibrator, dict[str, dict[str, float]]]:
    """Fit the calibrator ``method`` on (raw, y), or with ``"auto"`` the one with the lower out-of-fold
    log loss (then Brier). Returns the calibrator fitted on all of (raw, y) and the out-of-fold scores."""
    if method not in ("auto", *METHODS):
        raise ModelError(f"calibration must be one of auto, isotonic, platt, none; got {method!r}")
    if method == "none":
        return identity(), {}
    scores = cross_validated_scores(raw, y, seed)
    if method == "auto":
        method = min(scores, key=lambda m: (round(scores[m]["log_loss"], 12), scores[m]["brier"]))
    return FITTERS[method](raw, y), scores
