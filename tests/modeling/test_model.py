"""RiskModel: estimator discipline, fixed categories, persistence without pickle, parameter errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskml.config import ExtraAttribute
from riskml.errors import ModelError
from riskml.modeling.model import RiskModel
from riskml.modeling.train import assemble, fit_and_evaluate

from .conftest import small_config

PARAMS = {"n_estimators": 30, "num_leaves": 7, "min_child_samples": 10, "early_stopping_rounds": 10}


def _frame(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.uniform(size=n),
                      "sector": pd.Series(rng.choice(["retail", "food", "steel"], size=n), dtype="str")})
    X.loc[X.index[::17], "a"] = np.nan
    logit = -2 + 1.5 * X["a"].fillna(0) + (X["sector"] == "steel") * 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int).to_numpy()
    return X, y


def test_init_stores_params_and_fit_returns_self() -> None:
    X, y = _frame()
    model = RiskModel(PARAMS, {"a": 1}, ["sector"], calibration="platt", seed=3)
    assert model.params is PARAMS and not hasattr(model, "booster_")
    with pytest.raises(ModelError, match="not fitted yet"):
        model.predict_pd(X)
    assert model.fit(X[:400], y[:400], X[400:], y[400:]) is model
    assert model.feature_names_ == ["a", "b", "sector"]
    assert model.categories_ == {"sector": ["food", "retail", "steel"]}
    assert model.calibration_method_ == "platt" and 1 <= model.best_iteration_ <= 30
    p = model.predict_pd(X)
    assert p.shape == (len(X),) and ((p > 0) & (p < 1)).all()
    contrib = model.contributions(X)
    assert np.allclose(contrib.sum(axis=1), model.predict_raw(X))  # TreeSHAP adds up to the raw score


def test_unseen_category_scores_like_missing_and_column_order_does_not_matter() -> None:
    X, y = _frame()
    model = RiskModel(PARAMS, {}, ["sector"], calibration="platt").fit(X[:400], y[:400], X[400:], y[400:])
    rows = X.iloc[:5].copy()
    unseen = rows.assign(sector="mining")
    missing = rows.assign(sector=pd.Series([None] * 5, dtype="str", index=rows.index))
    assert np.array_equal(model.predict_pd(unseen), model.predict_pd(missing))
    assert np.array_equal(model.predict_pd(rows[["sector", "b", "a"]]), model.predict_pd(rows))
    with pytest.raises(ModelError, match=r"features missing from the input: \['b'\]"):
        model.predict_pd(rows.drop(columns=["b"]))


def test_save_and_load_give_identical_predictions(tmp_path: Path) -> None:
    X, y = _frame()
    model = RiskModel(PARAMS, {"a": 1}, ["sector"], calibration="isotonic").fit(X[:400], y[:400], X[400:], y[400:])
    model.save(tmp_path / "m")
    model.save(tmp_path / "m")  # replacing an existing directory works
    loaded = RiskModel.load(tmp_path / "m")
    assert np.array_equal(loaded.predict_pd(X), model.predict_pd(X))
    assert np.array_equal(loaded.contributions(X), model.contributions(X))
    assert loaded.categories_ == model.categories_ and loaded.calibration_method_ == "isotonic"
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["booster.txt", "calibrator.json", "manifest.json",
                                                               "model.json"]
    with pytest.raises(ModelError, match="not a riskml model directory"):
        RiskModel.load(tmp_path)


def test_parameter_errors_say_what_was_expected() -> None:
    X, y = _frame()
    with pytest.raises(ModelError, match="single class"):
        RiskModel(PARAMS, {}).fit(X[:100], np.zeros(100), X[100:], y[100:])
    with pytest.raises(ModelError, match="labels must be 0 or 1"):
        RiskModel(PARAMS, {}).fit(X[:100], np.full(100, 2), X[100:], y[100:])
    with pytest.raises(ModelError, match="expected 100 labels"):
        RiskModel(PARAMS, {}).fit(X[:100], y[:99], X[100:], y[100:])
    with pytest.raises(ModelError, match="monotone constraints name features not in the data"):
        RiskModel(PARAMS, {"zzz": 1}).fit(X[:400], y[:400], X[400:], y[400:])
    with pytest.raises(ModelError, match="cannot be monotone-constrained"):
        RiskModel(PARAMS, {"sector": 1}, ["sector"]).fit(X[:400], y[:400], X[400:], y[400:])
    with pytest.raises(ModelError, match="class_weight must be 'balanced' or 'none'; got 'heavy'"):
        RiskModel(PARAMS, {}, class_weight="heavy").fit(X[:400], y[:400], X[400:], y[400:])


def test_balanced_class_weight_trains_and_calibration_restores_the_level() -> None:
    X, y = _frame(2000)
    plain = RiskModel(PARAMS, {}, ["sector"], calibration="platt").fit(X[:1400], y[:1400], X[1400:], y[1400:])
    heavy = RiskModel(PARAMS, {}, ["sector"], calibration="platt",
                      class_weight="balanced").fit(X[:1400], y[:1400], X[1400:], y[1400:])
    raw_level = 1 / (1 + np.exp(-heavy.predict_raw(X[1400:])))
    assert raw_level.mean() > y.mean() + 0.1  # weighted training inflates the raw scores...
    assert abs(heavy.predict_pd(X[1400:]).mean() - plain.predict_pd(X[1400:]).mean()) < 0.02  # ...calibration fixes


@pytest.mark.slow
def test_categorical_extra_attribute_in_the_pipeline(small_ledger) -> None:
    """A declared categorical customer attribute is cast to the training categories end to end."""
    ledger = dataclasses.replace(small_ledger, extra_attributes=("industry",))
    extra = {"industry": ExtraAttribute(kind="categorical", description="Industry")}
    data = assemble(ledger, small_config(), extra=extra)
    assert data.categorical == ["industry"] and "industry" not in data.monotone
    result = fit_and_evaluate(data, small_config())
    levels = sorted(small_ledger.customers["industry"].dropna().astype("str").unique())
    assert result.model.categories_["industry"] == levels
    assert result.model.prepare(data.frame.head(3))["industry"].dtype.categories.tolist() == levels
