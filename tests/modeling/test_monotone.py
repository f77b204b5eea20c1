"""The post-training monotonicity check: it catches a model whose constrained feature moves the wrong
way, passes a model trained with the constraint, and fails the training run when LightGBM does not
honour a constraint."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskml.errors import ModelError
from riskml.modeling.model import RiskModel
from riskml.modeling.monotone import check_monotone, quantile_grid, verify_monotone

PARAMS = {"n_estimators": 80, "num_leaves": 7, "min_child_samples": 20, "learning_rate": 0.1,
          "early_stopping_rounds": 20}


@pytest.fixture(scope="module")
def wrong_way() -> tuple[pd.DataFrame, np.ndarray]:
    """Risk truly falls as ``dbt`` rises (and rises with ``noise``-free ``util``)."""
    rng = np.random.default_rng(5)
    n = 3000
    X = pd.DataFrame({"dbt": rng.uniform(0, 60, n), "util": rng.uniform(0, 1.5, n), "noise": rng.normal(size=n)})
    logit = -1.0 - 0.06 * (X["dbt"] - 30) + 1.5 * (X["util"] - 0.75)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y.to_numpy()


def _fit(X: pd.DataFrame, y: np.ndarray, monotone: dict[str, int]) -> RiskModel:
    cut = int(len(X) * 0.7)
    return RiskModel(PARAMS, monotone, calibration="platt", seed=1).fit(X.iloc[:cut], y[:cut], X.iloc[cut:], y[cut:])


def test_unconstrained_model_on_wrong_way_data_is_caught(wrong_way) -> None:
    X, y = wrong_way
    model = _fit(X, y, {})
    violations = check_monotone(model, X, {"dbt": 1}, grid_points=15, sample_rows=200)
    assert [v.feature for v in violations] == ["dbt"]
    v = violations[0]
    assert v.direction == 1 and v.worst_move > 0.1 and v.rows_affected > 100
    with pytest.raises(ModelError, match="monotonicity check failed for 1 feature.*dbt") as exc:
        verify_monotone(model, X, {"dbt": 1}, grid_points=15, sample_rows=200)
    assert "not registered" in str(exc.value) and "monotone_constraints_method" in str(exc.value)
    # a declared decreasing direction is checked the same way
    assert [v.feature for v in check_monotone(model, X, {"util": -1})] == ["util"]


@pytest.mark.parametrize("declared", [{"dbt": 1, "util": 1}, {"dbt": -1, "util": 1}])
def test_constrained_model_passes(wrong_way, declared: dict[str, int]) -> None:
    """Trained with the declared directions -- against the data ({dbt: +1}) or with it -- it passes."""
    X, y = wrong_way
    model = _fit(X, y, declared)
    assert check_monotone(model, X, declared, grid_points=30, sample_rows=500) == []
    assert verify_monotone(model, X, declared) == 2
    sweep = X.iloc[:50].copy()
    move = model.predict_raw(sweep.assign(dbt=60.0)) - model.predict_raw(sweep.assign(dbt=0.0))
    assert (move * declared["dbt"] >= -1e-12).all()


def test_unconstrained_and_categorical_features_are_not_swept(wrong_way) -> None:
    X, y = wrong_way
    model = _fit(X, y, {})
    assert check_monotone(model, X, {"dbt": 0}) == []
    assert verify_monotone(model, X, {"dbt": 0, "util": 0}) == 0


def test_quantile_grid_ignores_missing_values() -> None:
    grid = quantile_grid(np.array([np.nan, 1.0, 2.0, 3.0, np.inf]), 3)
    assert grid.tolist() == [1.0, 2.0, 3.0]
    assert len(quantile_grid(np.array([np.nan]), 5)) == 0
