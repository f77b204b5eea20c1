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


# ------------------------------------------------------------------------------ calibration by persona
# the persona input that is not a model input (the all-history invoice count, which extrapolates with the
# ledger's age): the segments are computed from the model's own inputs, so that every path that
# predicts from the model's features (score, pyfunc, Spark, backtest, service) gets the same PD
_THIN_BY_COUNT_OFF = float("inf")


@dataclass
class SegmentCalibrator:
    """A shift of the calibrated PD's log-odds per collector persona, fitted on the calibration (validation)
    window only: ``pd = sigmoid(logit(base_pd) + offset[persona])``.

    The persona of a row is :func:`riskml.features.personas.assign_personas` applied to the model's own
    inputs (``inputs``: the persona columns the model has); personas read the ledger only, so the shift never
    depends on the PD it shifts. The thresholds are frozen at
    training (``personas``, ``thin_file``); a model saved before ``distressed`` was read from a broken
    payment pattern (its thresholds carry the retired ``distressed_min_pd``, which never applied here) loads
    with that trigger off, so it segments and predicts exactly as it did. The deviation from the customer's own norm reaches it as the
    model input ``dbt_shift_max``; the thin-file criterion on the all-history invoice count is not a model
    input and is left out here (tenure and payment history still decide). Each offset is the penalised maximum-likelihood shift of
    its group (a normal prior of standard deviation ``prior_sd`` on the log-odds scale, so a group of a few
    rows moves little). ``counts``: rows and events per persona in the calibration window (for the card).
    Stored as plain JSON in ``model.json``, never pickled."""

    offsets: dict[str, float]
    personas: dict[str, Any]
    thin_file: dict[str, Any]
    inputs: list[str]
    prior_sd: float
    counts: dict[str, list[int]] = field(default_factory=dict)

    def segments(self, X: Any) -> np.ndarray:
        """The persona of each row from the model's inputs (the ledger's evidence only, no PD)."""
        import pandas as pd

        from riskml.config import PersonaPolicy, ThinFileRule
        from riskml.features.personas import assign_personas, thin_file_mask

        frame = pd.DataFrame({c: X[c].to_numpy() for c in self.inputs if c in X.columns}, index=X.index)
        if "invoices_total" not in frame.columns:
            frame["invoices_total"] = _THIN_BY_COUNT_OFF
        policy, rule = PersonaPolicy(**self.personas), ThinFileRule(**self.thin_file)
        return assign_personas(frame, np.full(len(frame), np.nan), policy, thin_file_mask(frame, rule))

    def adjust(self, X: Any, base_pd: np.ndarray) -> np.ndarray:
        """The PD after the shift of each row's persona (rows of a persona without an offset keep theirs)."""
        p = np.asarray(base_pd, dtype="float64")
        if not len(p):
            return p
        seg = self.segments(X)
        shift = np.array([self.offsets.get(str(s), 0.0) for s in seg], dtype="float64")
        return expit(_logit(p) + shift)

    def to_dict(self) -> dict[str, Any]:
        return {"method": "persona_offset", "offsets": dict(self.offsets), "personas": dict(self.personas),
                "thin_file": dict(self.thin_file), "inputs": list(self.inputs), "prior_sd": self.prior_sd,
                "counts": {k: list(v) for k, v in self.counts.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentCalibrator:
        if data.get("method") != "persona_offset":
            raise ModelError(f"segment_calibration: method must be 'persona_offset'; got {data.get('method')!r}")
        offsets = data.get("offsets")
        if not isinstance(offsets, dict) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v) and abs(v) <= MAX_PLATT
                for v in offsets.values()):
            raise ModelError("segment_calibration: offsets must map personas to finite numbers")
        from pydantic import ValidationError

        from riskml.config import PersonaPolicy, ThinFileRule

        personas, thin = data.get("personas", {}), data.get("thin_file", {})
        personas = dict(personas) if isinstance(personas, dict) else personas
        if "distressed_min_pd" in personas:  # saved before personas left the PD: no broken-pattern trigger then
            personas.pop("distressed_min_pd")
            for key in RETIRED_PD_RULE_OFF:
                personas.setdefault(key, None)
        inputs = data.get("inputs", [])
        try:  # the thresholds are read at every prediction: refuse bad ones when the model is loaded
            PersonaPolicy(**personas)
            ThinFileRule(**thin)
        except (TypeError, ValidationError) as exc:
            raise ModelError(f"segment_calibration: invalid persona thresholds ({str(exc).splitlines()[0]})") from None
        if not isinstance(inputs, list) or not all(isinstance(c, str) for c in inputs):
            raise ModelError("segment_calibration: inputs must be a list of feature names")
        return cls({str(k): float(v) for k, v in offsets.items()}, dict(personas), dict(thin), list(inputs),
                   float(data.get("prior_sd", 1.0)), {str(k): list(v) for k, v in data.get("counts", {}).items()})


# the persona triggers added when the PD rule of ``distressed`` was retired; off in a model saved before
RETIRED_PD_RULE_OFF = ("distressed_min_shift", "distressed_min_aged_share")


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype="float64"), 1e-9, 1 - 1e-9)
    return np.log(q) - np.log1p(-q)


def fit_offset(base_pd: np.ndarray, y: np.ndarray, prior_sd: float, iterations: int = 100) -> float:
    """The shift ``b`` of the log-odds that minimises the log loss of ``sigmoid(logit(base_pd) + b)`` on
    ``y`` plus ``b^2 / (2 prior_sd^2)`` (a normal prior centred on no shift), by Newton's method (the
    objective is strictly convex). 0 for no rows."""
    z = _logit(base_pd)
    t = np.asarray(y, dtype="float64")
    if not len(z):
        return 0.0
    lam = 1.0 / (prior_sd * prior_sd)
    b = 0.0
    for _ in range(iterations):
        p = expit(z + b)
        grad = float(np.sum(p - t)) + lam * b
        hess = float(np.sum(p * (1 - p))) + lam
        step = grad / hess
        b -= step
        if abs(step) <= 1e-12:
            break
    return float(b)


def fit_segment_calibrator(X_valid: Any, y_valid: np.ndarray, base_pd_valid: np.ndarray, personas: Any,
                           thin_file: Any, prior_sd: float = 1.0) -> SegmentCalibrator:
    """A :class:`SegmentCalibrator` fitted on the calibration window (``X_valid``: the model's inputs of the
    validation rows; ``base_pd_valid``: their PD from the model's own calibrator; ``personas`` /
    ``thin_file``: :class:`riskml.config.PersonaPolicy` and :class:`riskml.config.ThinFileRule`). Nothing
    else is read: the test window plays no part."""
    from riskml.features.personas import PERSONA_COLUMNS

    if prior_sd <= 0:
        raise ModelError(f"segment calibration prior_sd must be > 0; got {prior_sd}")
    inputs = [c for c in PERSONA_COLUMNS if c in X_valid.columns]
    cal = SegmentCalibrator({}, personas.model_dump(mode="json"), thin_file.model_dump(mode="json"), inputs,
                            float(prior_sd))
    p = np.asarray(base_pd_valid, dtype="float64")
    t = np.asarray(y_valid, dtype="float64")
    seg = cal.segments(X_valid)
    for s in sorted(set(seg.tolist())):
        m = seg == s
        cal.offsets[str(s)] = fit_offset(p[m], t[m], prior_sd)
        cal.counts[str(s)] = [int(m.sum()), int(t[m].sum())]
    return cal
