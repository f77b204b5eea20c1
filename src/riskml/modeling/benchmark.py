"""The yardsticks reported beside LightGBM, on exactly the same split.

* **Logistic benchmark** -- a scikit-learn pipeline: numeric features imputed (median, with a missing
  indicator) and cut into quantile bins fitted on the training window (one-hot), categoricals one-hot
  encoded (unknown levels ignored), then an L2 logistic regression. The classic scorecard shape.
* **Rule** -- a single feature as the score (default ``dbt_avg_6m``: average days beyond terms over six
  months, what many credit teams sort by). Missing values (no payments in the window) take the
  training median. Its ranking metrics need no probability; for Brier and log loss the score is mapped
  to a probability by a Platt fit on the validation window.

Both share :class:`riskml.modeling.model.RiskModel`'s interface (scikit-learn discipline): parameters in
``__init__``, ``fit(X, y, X_valid, y_valid)`` validates, learns state in attributes ending in ``_`` and
returns the estimator, ``predict_pd(X)`` gives a probability per row. The benchmark fits on the training
window only (its regularisation is fixed); it checks the validation window like the others.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder

from riskml.errors import ModelError
from riskml.modeling.calibration import fit_platt
from riskml.modeling.model import check_inputs


def logistic_benchmark(numeric: Sequence[str], categorical: Sequence[str] = (), bins: int = 10,
                       class_weight: str | None = None, seed: int = 42) -> Pipeline:
    """An unfitted benchmark pipeline over the given columns."""
    num = Pipeline([
        ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
        ("bin", KBinsDiscretizer(n_bins=bins, encode="onehot", strategy="quantile",
                                 quantile_method="averaged_inverted_cdf")),
    ])
    parts = [("num", num, list(numeric))]
    if categorical:
        cat = Pipeline([
            ("impute", SimpleImputer(strategy="constant", fill_value="(missing)")),
            ("onehot", OneHotEncoder(handle_unknown="ignore")),
        ])
        parts.append(("cat", cat, list(categorical)))
    return Pipeline([
        ("features", ColumnTransformer(parts)),
        ("logit", LogisticRegression(C=0.1, max_iter=5000, class_weight=class_weight, random_state=seed)),
    ])


def _as_frame(X: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]) -> pd.DataFrame:
    out = {c: pd.to_numeric(X[c], errors="coerce").astype("float64") for c in numeric}
    out.update({c: X[c].astype("object").where(X[c].notna(), np.nan) for c in categorical})
    return pd.DataFrame(out, index=X.index)


class LogisticBenchmark:
    """Fit/predict wrapper that keeps the column roles with the pipeline."""

    def __init__(self, numeric: Sequence[str], categorical: Sequence[str] = (), bins: int = 10,
                 class_weight: str = "none", seed: int = 42):
        self.numeric = numeric
        self.categorical = categorical
        self.bins = bins
        self.class_weight = class_weight
        self.seed = seed

    def fit(self, X: pd.DataFrame, y: object, X_valid: pd.DataFrame, y_valid: object) -> LogisticBenchmark:
        """Fit the pipeline on ``X``, ``y`` (the validation window is checked, not used)."""
        yt = check_inputs(X, y, "train")
        check_inputs(X_valid, y_valid, "valid")
        missing = [c for c in [*self.numeric, *self.categorical] if c not in X.columns or c not in X_valid.columns]
        if missing:
            raise ModelError(f"logistic benchmark: features missing from the input: {missing[:5]}")
        cw = "balanced" if self.class_weight == "balanced" else None
        self.pipeline_ = logistic_benchmark(self.numeric, self.categorical, self.bins, cw, self.seed)
        with warnings.catch_warnings():
            # constant or few-valued features give fewer bins than asked: expected, not a problem
            warnings.filterwarnings("ignore", message=".*[Bb]ins whose width are too small.*")
            warnings.filterwarnings("ignore", message=".*is constant and will be replaced.*")
            self.pipeline_.fit(_as_frame(X, self.numeric, self.categorical), yt)
        return self

    def predict_pd(self, X: pd.DataFrame) -> np.ndarray:
        return self.pipeline_.predict_proba(_as_frame(X, self.numeric, self.categorical))[:, 1]


class RuleScore:
    """A single feature as the risk score (higher = riskier), mapped to a PD by Platt on validation."""

    def __init__(self, feature: str = "dbt_avg_6m"):
        self.feature = feature

    def _require(self, X: pd.DataFrame) -> None:
        if self.feature not in X.columns:
            raise ModelError(f"rule_feature {self.feature!r} is not among the snapshot features; "
                             "set rule_feature in configs/train.yaml to a feature name")

    def score(self, X: pd.DataFrame) -> np.ndarray:
        """The feature itself (missing values take the training median): the rule ranks by it."""
        self._require(X)
        v = pd.to_numeric(X[self.feature], errors="coerce").to_numpy("float64")
        return np.where(np.isnan(v), self.fill_, v)

    def fit(self, X: pd.DataFrame, y: object, X_valid: pd.DataFrame, y_valid: object) -> RuleScore:
        """The training median of the feature fills its missing values; the Platt map is fitted on the
        validation window."""
        check_inputs(X, y, "train")
        yv = check_inputs(X_valid, y_valid, "valid")
        self._require(X)
        v = pd.to_numeric(X[self.feature], errors="coerce")
        self.fill_ = float(v.median()) if v.notna().any() else 0.0
        s = self.score(X_valid)
        scale = float(np.std(s)) or 1.0
        self.scale_ = scale
        self.platt_ = fit_platt(s / scale, yv.astype("float64"))
        return self

    def predict_pd(self, X: pd.DataFrame) -> np.ndarray:
        return self.platt_.predict(self.score(X) / self.scale_)
