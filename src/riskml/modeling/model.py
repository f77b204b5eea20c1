"""``RiskModel``: a LightGBM booster with monotone constraints, a calibrator and everything needed to
score again later (feature list, fixed categories, training reference statistics, metadata).

scikit-learn discipline: ``__init__`` stores parameters only, ``fit`` validates and learns, learned state
ends in ``_``. Persistence is a directory of plain files, no pickle:

* ``booster.txt`` -- LightGBM's native text model (only the trees up to the best iteration);
* ``calibrator.json`` -- isotonic thresholds or Platt coefficients;
* ``model.json`` -- features, categories, monotone directions, parameters, ``reference_`` and ``metadata_``
  (a frozen :class:`riskml.modeling.metadata.ModelMetadata`);
* ``manifest.json`` -- the SHA-256 of each of the three files, written last.

Loading checks the files against each other and refuses, with one line, a directory whose files do not
match the manifest (changed after training), whose booster names other features than ``model.json`` (in
another order), or whose calibrator holds non-finite or absurd parameters.

A reloaded model gives bit-identical predictions (the in-memory booster is rebuilt from the same text).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd

from riskml.errors import ModelError
from riskml.io import write_text
from riskml.modeling.calibration import Calibrator, SegmentCalibrator, choose_calibrator
from riskml.modeling.metadata import ModelMetadata

FORMAT_VERSION = 1
MODEL_FILES = ("booster.txt", "calibrator.json", "model.json")
MANIFEST = "manifest.json"
REFERENCE_BINS = 10
SCORE_BINS = 10
# parameters riskml controls itself (the constraint list comes from ``monotone``; determinism is forced)
_RESERVED = {"monotone_constraints", "categorical_feature", "deterministic", "seed", "verbosity"}


def _to_float_frame_column(values: pd.Series) -> pd.Series:
    if values.dtype == bool or str(values.dtype) == "boolean":
        return values.astype("float64")
    return pd.to_numeric(values, errors="coerce").astype("float64")


def bin_index(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Reference bin of each value (``len(edges) + 1`` bins; NaN gets -1)."""
    v = np.asarray(values, dtype="float64")
    out = np.searchsorted(np.asarray(edges, dtype="float64"), v, side="right")
    return np.where(np.isnan(v), -1, out)


def binned_shares(values: np.ndarray, edges: Sequence[float]) -> tuple[list[float], float]:
    """Share of the non-missing values per bin, and the share of missing values."""
    idx = bin_index(values, edges)
    ok = idx >= 0
    counts = np.bincount(idx[ok], minlength=len(edges) + 1).astype("float64")
    shares = counts / counts.sum() if counts.sum() else counts
    return shares.tolist(), float(1.0 - ok.mean()) if len(idx) else 0.0


def population_stability(expected: Sequence[float], actual: Sequence[float], floor: float = 1e-4) -> float:
    """PSI between two share vectors over the same bins (shares floored to avoid log(0))."""
    e = np.clip(np.asarray(expected, dtype="float64"), floor, None)
    a = np.clip(np.asarray(actual, dtype="float64"), floor, None)
    return float(np.sum((a - e) * np.log(a / e)))


def _quantile_edges(values: np.ndarray, bins: int) -> list[float]:
    v = values[~np.isnan(values)]
    if len(v) == 0:
        return []
    qs = np.quantile(v, np.linspace(0, 1, bins + 1)[1:-1])
    return [float(x) for x in np.unique(qs)]


def _clean(obj: Any) -> Any:
    """JSON-safe copy: NaN/inf become None, numpy scalars become Python numbers."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def check_inputs(X: pd.DataFrame, y: object, name: str) -> np.ndarray:
    """The labels of ``X`` as int64 0/1, or a :class:`ModelError` of one line (every estimator's ``fit``
    checks its training and validation sets with this)."""
    if not isinstance(X, pd.DataFrame):
        raise ModelError(f"{name}: features must be a pandas DataFrame; got {type(X).__name__}")
    yy = np.asarray(y, dtype="float64")
    if yy.shape != (len(X),):
        raise ModelError(f"{name}: expected {len(X)} labels; got shape {yy.shape}")
    if not np.isin(yy, (0.0, 1.0)).all():
        raise ModelError(f"{name}: labels must be 0 or 1")
    if len(yy) == 0 or yy.min() == yy.max():
        raise ModelError(f"{name}: labels hold a single class ({int(yy[0]) if len(yy) else 'none'}); need both 0 and 1")
    return yy.astype("int64")


class RiskModel:
    """LightGBM + calibration for the probability of delinquency.

    ``params`` are LightGBM parameters (``n_estimators`` and ``early_stopping_rounds`` included);
    ``monotone`` maps feature name -> -1/0/+1 (features not named are unconstrained); ``categorical``
    names the categorical features; ``calibration`` is ``auto``, ``isotonic``, ``platt`` or ``none``;
    ``class_weight`` ``balanced`` weights positives by n_neg/n_pos in training and validation."""

    # the calibration by persona fitted on the calibration window (riskml.modeling.calibration), if any
    segment_calibrator_: SegmentCalibrator | None = None

    def __init__(self, params: dict, monotone: dict[str, int], categorical: Sequence[str] = (),
                 calibration: str = "auto", seed: int = 42, class_weight: str = "none"):
        self.params = params
        self.monotone = monotone
        self.categorical = categorical
        self.calibration = calibration
        self.seed = seed
        self.class_weight = class_weight

    # ------------------------------------------------------------------------------------------ fit
    def _weights(self, y: np.ndarray) -> np.ndarray | None:
        if self.class_weight == "none":
            return None
        if self.class_weight != "balanced":
            raise ModelError(f"class_weight must be 'balanced' or 'none'; got {self.class_weight!r}")
        pos = y.sum()
        return np.where(y == 1, (len(y) - pos) / pos, 1.0)

    def _lgb_params(self) -> tuple[dict[str, Any], int, int]:
        p = {k: v for k, v in dict(self.params).items() if k not in _RESERVED}
        rounds = int(p.pop("n_estimators", p.pop("num_boost_round", 1000)))
        stop = int(p.pop("early_stopping_rounds", p.pop("early_stopping_round", 50)))
        unknown_mono = sorted(set(self.monotone) - set(self.feature_names_))
        if unknown_mono:
            raise ModelError(f"monotone constraints name features not in the data: {unknown_mono}")
        bad_cat = sorted(n for n in self.categorical if self.monotone.get(n, 0))
        if bad_cat:
            raise ModelError(f"categorical features cannot be monotone-constrained: {bad_cat}")
        objective = p.pop("objective", "binary")
        if objective != "binary":  # a regression or multiclass booster is no probability of delinquency
            raise ModelError(f"LightGBM objective must be binary; got {str(objective)[:60]!r}")
        p.update({
            "objective": "binary",
            "metric": p.get("metric", "binary_logloss"),
            "monotone_constraints": [int(self.monotone.get(f, 0)) for f in self.feature_names_],
            "seed": int(self.seed),
            "deterministic": True,
            "force_col_wise": True,
            "num_threads": int(p.get("num_threads", 1)),
            "verbosity": -1,
            "feature_pre_filter": False,
        })
        return p, rounds, stop

    def fit(self, X: pd.DataFrame, y: object, X_valid: pd.DataFrame, y_valid: object) -> RiskModel:
        """Train on ``X``, ``y`` with early stopping on the validation set, then fit the calibrator on it
        (the signature every riskml estimator shares, :mod:`riskml.modeling.benchmark`)."""
        yt = check_inputs(X, y, "train")
        yv = check_inputs(X_valid, y_valid, "valid")
        missing_cat = sorted(set(self.categorical) - set(X.columns))
        if missing_cat:
            raise ModelError(f"categorical features not in the training data: {missing_cat}")
        self.feature_names_ = [str(c) for c in X.columns]
        self.categories_ = {
            c: sorted(X[c].dropna().astype("str").unique().tolist()) for c in self.categorical
        }
        params, rounds, stop = self._lgb_params()
        Xt, Xv = self.prepare(X), self.prepare(X_valid)
        cats: list[str] | Literal["auto"] = list(self.categorical) or "auto"
        train_set = lgb.Dataset(Xt, yt, weight=self._weights(yt), categorical_feature=cats, free_raw_data=False)
        valid_set = lgb.Dataset(Xv, yv, weight=self._weights(yv), categorical_feature=cats, reference=train_set)
        booster = lgb.train(
            params, train_set, num_boost_round=rounds, valid_sets=[valid_set], valid_names=["valid"],
            callbacks=[lgb.early_stopping(stop, first_metric_only=True, verbose=False)],
        )
        self.best_iteration_ = int(booster.best_iteration or booster.current_iteration())
        # keep only the trees up to the best iteration: memory and disk hold the same model
        self.booster_ = lgb.Booster(model_str=booster.model_to_string(num_iteration=self.best_iteration_))
        raw_valid = self.predict_raw(Xv)
        self.calibrator_, self.calibration_scores_ = choose_calibrator(raw_valid, yv, self.calibration, self.seed)
        self.calibration_method_ = self.calibrator_.method
        self.reference_ = self._reference(Xt, yt, yv)
        self.metadata_ = ModelMetadata(n_train=int(len(yt)), n_valid=int(len(yv)), best_iteration=self.best_iteration_)
        return self

    def with_metadata(self, metadata: ModelMetadata | None = None, **changes: Any) -> RiskModel:
        """A copy of this fitted model carrying ``metadata`` (or this model's with ``changes``); the trees,
        calibrator and reference are shared, this model is unchanged."""
        self._check_fitted()
        new = copy.copy(self)
        new.metadata_ = (metadata or self.metadata_).updated(**changes) if changes else (metadata or self.metadata_)
        return new

    def _reference(self, Xt: pd.DataFrame, yt: np.ndarray, yv: np.ndarray) -> dict[str, Any]:
        """Training-data statistics kept with the model (for reason-code medians and PSI monitoring)."""
        feats: dict[str, Any] = {}
        for f in self.feature_names_:
            if f in self.categories_:
                codes = Xt[f].cat.codes.to_numpy()
                counts = np.bincount(codes[codes >= 0], minlength=len(self.categories_[f])).astype(float)
                feats[f] = {"kind": "categorical", "categories": self.categories_[f],
                            "shares": (counts / max(counts.sum(), 1)).tolist(),
                            "missing_share": float((codes < 0).mean())}
                continue
            v = Xt[f].to_numpy("float64")
            edges = _quantile_edges(v, REFERENCE_BINS)
            shares, miss = binned_shares(v, edges)
            med = float(np.nanmedian(v)) if np.isfinite(v).any() else None
            feats[f] = {"kind": "numeric", "median": med, "edges": edges, "shares": shares,
                        "missing_share": miss}
        pd_train = self.predict_pd(Xt)
        s_edges = _quantile_edges(pd_train, SCORE_BINS)
        s_shares, _ = binned_shares(pd_train, s_edges)
        return {"features": feats, "score": {"edges": s_edges, "shares": s_shares},
                "event_rate": float(yt.mean()), "valid_event_rate": float(yv.mean()),
                "n_train": int(len(yt))}

    # -------------------------------------------------------------------------------------- predict
    def _check_fitted(self) -> None:
        if not hasattr(self, "booster_"):
            raise ModelError("this RiskModel is not fitted yet: call fit() or RiskModel.load()")

    def prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        """The model's features in training order: numerics as float64, categoricals with the training
        categories (an unseen level becomes NaN and is scored like a missing value)."""
        names = self.feature_names_ if hasattr(self, "feature_names_") else list(X.columns)
        missing = [f for f in names if f not in X.columns]
        if missing:
            raise ModelError(f"features missing from the input: {missing}")
        cats = getattr(self, "categories_", {})
        cols = {}
        for f in names:
            if f in cats:
                vals = X[f].astype("str").where(X[f].notna())
                vals = vals.where(vals.isin(cats[f]))  # unseen levels -> missing (pandas 4 refuses them)
                cols[f] = pd.Series(pd.Categorical(vals, categories=cats[f]), index=X.index)
            else:
                cols[f] = _to_float_frame_column(X[f])
        return pd.DataFrame(cols, index=X.index)

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        """The booster's raw score (log-odds)."""
        self._check_fitted()
        return np.asarray(self.booster_.predict(self.prepare(X), raw_score=True), dtype="float64")

    def predict_pd(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of delinquency."""
        self._check_fitted()
        return self.pd_from_raw(self.predict_raw(X), X)

    def _by_segment(self, X: pd.DataFrame, p: np.ndarray) -> np.ndarray:
        """``p`` shifted by the calibration by persona (unchanged without one)."""
        seg = self.segment_calibrator_
        return p if seg is None else seg.adjust(X, p)

    def pd_from_raw(self, raw: np.ndarray, X: pd.DataFrame) -> np.ndarray:
        """Calibrated PD of the rows ``X`` from their booster raw scores (log-odds), e.g. the row sums of the
        contributions: the model's calibrator, then the calibration by persona (read from ``X``) if any."""
        self._check_fitted()
        return self._by_segment(X, self.calibrator_.predict(np.asarray(raw, dtype="float64")))

    def contributions(self, X: pd.DataFrame) -> np.ndarray:
        """TreeSHAP contributions in log-odds by LightGBM's own ``pred_contrib``: (n, k + 1), the last column
        the expected value. (The fast exact back end and the choice between them live in the explainer
        layer above modeling, :mod:`riskml.explain.explainer`, which scoring, the pyfunc and the service use.)"""
        self._check_fitted()
        prepared = self.prepare(X)
        return np.asarray(self.booster_.predict(prepared, pred_contrib=True), dtype="float64")

    @property
    def medians(self) -> dict[str, float]:
        """Training medians per numeric feature (reason codes compare a customer with them)."""
        out = {}
        for f, ref in self.reference_["features"].items():
            if ref.get("kind") == "numeric" and ref.get("median") is not None:
                out[f] = float(ref["median"])
        return out

    # ---------------------------------------------------------------------------------- persistence
    def to_json(self) -> dict[str, Any]:
        return _clean({
            "format_version": FORMAT_VERSION,
            "feature_names": self.feature_names_,
            "categorical": list(self.categorical),
            "categories": self.categories_,
            "monotone": {f: int(v) for f, v in self.monotone.items()},
            "params": dict(self.params),
            "calibration": self.calibration,
            "calibration_method": self.calibration_method_,
            "calibration_scores": self.calibration_scores_,
            "class_weight": self.class_weight,
            "seed": self.seed,
            "best_iteration": self.best_iteration_,
            "reference": self.reference_,
            "metadata": self.metadata_.to_json(),
            **({"segment_calibration": self.segment_calibrator_.to_dict()}
               if self.segment_calibrator_ is not None else {}),
        })

    def save(self, path: str | Path) -> None:
        """Write the model directory (replacing it atomically: a failed save leaves the old one)."""
        self._check_fitted()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        try:
            write_text(self.booster_.model_to_string(), tmp / "booster.txt")
            write_text(json.dumps(_clean(self.calibrator_.to_dict()), indent=1), tmp / "calibrator.json")
            write_text(json.dumps(self.to_json(), indent=1, sort_keys=False), tmp / "model.json")
            write_text(json.dumps(manifest_of(tmp), indent=1), tmp / MANIFEST)
            old = None
            if path.exists():
                old = path.with_name(f".{path.name}.old")
                if old.exists():
                    shutil.rmtree(old)
                os.replace(path, old)
            os.replace(tmp, path)
            if old is not None:
                shutil.rmtree(old)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)

    @classmethod
    def load(cls, path: str | Path) -> RiskModel:
        """Read a directory written by :meth:`save`."""
        path = Path(path)
        files = {n: path / n for n in MODEL_FILES}
        missing = [n for n, p in files.items() if not p.exists()]
        if missing:
            raise ModelError(f"{path}: not a riskml model directory (missing {', '.join(missing)})")
        verify_manifest(path)
        try:
            meta = json.loads(files["model.json"].read_text(encoding="utf-8"))
            cal = json.loads(files["calibrator.json"].read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ModelError(f"{path}: model.json or calibrator.json is not valid JSON ({exc})") from None
        if meta.get("format_version") != FORMAT_VERSION:
            raise ModelError(f"{path}/model.json: format_version must be {FORMAT_VERSION}; "
                             f"got {meta.get('format_version')!r}")
        model = cls(meta["params"], meta["monotone"], meta.get("categorical", []), meta.get("calibration", "auto"),
                    meta.get("seed", 42), meta.get("class_weight", "none"))
        model.feature_names_ = list(meta["feature_names"])
        model.categories_ = {k: list(v) for k, v in meta.get("categories", {}).items()}
        model.booster_ = lgb.Booster(model_str=files["booster.txt"].read_text(encoding="utf-8"))
        if len(model.booster_.feature_name()) != len(model.feature_names_):
            raise ModelError(f"{path}: booster.txt has {len(model.booster_.feature_name())} features but "
                             f"model.json names {len(model.feature_names_)}")
        # LightGBM keeps the names it was trained with (spaces as underscores): they must be model.json's,
        # in the same order, or every prediction would read the wrong columns
        own = [str(n) for n in model.booster_.feature_name()]
        wrong = [(i, a, b) for i, (a, b) in enumerate(zip(own, model.feature_names_, strict=True))
                 if a != str(b).replace(" ", "_")]
        if wrong:
            i, a, b = wrong[0]
            raise ModelError(f"{path}: model.json does not match booster.txt: feature {i + 1} is {b!r} in model.json "
                             f"but {a!r} in the booster ({len(wrong)} features differ)")
        model.best_iteration_ = int(meta.get("best_iteration") or model.booster_.current_iteration())
        try:
            model.calibrator_ = Calibrator.from_dict(cal)
        except ModelError as exc:
            raise ModelError(f"{path}/{exc}") from None
        model.calibration_method_ = model.calibrator_.method
        model.calibration_scores_ = meta.get("calibration_scores", {})
        model.reference_ = meta.get("reference", {})
        model.metadata_ = ModelMetadata.from_json(
            meta.get("metadata") or {"n_train": 0, "n_valid": 0, "best_iteration": model.best_iteration_},
            f"{path}/model.json")
        if meta.get("segment_calibration") is not None:
            try:
                model.segment_calibrator_ = SegmentCalibrator.from_dict(meta["segment_calibration"])
            except ModelError as exc:
                raise ModelError(f"{path}/model.json: {exc}") from None
        return model


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest_of(path: str | Path) -> dict[str, Any]:
    """The manifest of a model directory: the SHA-256 of each model file."""
    path = Path(path)
    return {"algorithm": "sha256", "files": {n: _sha256(path / n) for n in MODEL_FILES}}


def verify_manifest(path: str | Path) -> None:
    """Refuse a model directory whose files are not the ones written at training (see the module docstring)."""
    path = Path(path)
    mpath = path / MANIFEST
    if not mpath.exists():
        raise ModelError(f"{path}: no {MANIFEST} (the SHA-256 of the model files, written since riskml checks "
                         "models at load); retrain the model, or save it again with RiskModel.save")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
        expected = dict(manifest["files"])
        assert manifest.get("algorithm") == "sha256"
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AssertionError, UnicodeDecodeError):
        raise ModelError(f"{path}/{MANIFEST}: not a riskml model manifest") from None
    missing = [n for n in MODEL_FILES if n not in expected]
    if missing:
        raise ModelError(f"{path}/{MANIFEST}: lists no hash for {', '.join(missing)}")
    changed = [n for n in MODEL_FILES if _sha256(path / n) != expected[n]]
    if changed:
        raise ModelError(f"{path}: {', '.join(changed)} changed since the model was saved (SHA-256 differs from "
                         f"{MANIFEST}); refusing to score with it: retrain, or restore the original files")
