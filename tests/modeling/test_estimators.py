"""The three estimators training compares (LightGBM ``RiskModel``, the ``LogisticBenchmark``, the
``RuleScore``) share one interface, scikit-learn style: parameters in ``__init__`` and nothing else, one
``fit(X, y, X_valid, y_valid)`` that checks its inputs, learns state in attributes ending in ``_`` and
returns the estimator, and ``predict_pd(X)``."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

from riskml.errors import ModelError
from riskml.modeling.benchmark import LogisticBenchmark, RuleScore
from riskml.modeling.model import RiskModel

PARAMS = {"n_estimators": 20, "num_leaves": 5, "min_child_samples": 10, "early_stopping_rounds": 5}


def _data(n: int = 800) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(4)
    X = pd.DataFrame({"dbt_avg_6m": rng.gamma(2.0, 8.0, size=n), "utilisation": rng.uniform(size=n)})
    X.loc[X.index[::13], "dbt_avg_6m"] = np.nan
    logit = -3 + 0.08 * X["dbt_avg_6m"].fillna(10) + 1.0 * X["utilisation"]
    return X, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int).to_numpy()


ESTIMATORS = {
    "lightgbm": lambda: RiskModel(PARAMS, {"dbt_avg_6m": 1}, calibration="platt"),
    "logistic": lambda: LogisticBenchmark(["dbt_avg_6m", "utilisation"], bins=5),
    "rule": lambda: RuleScore("dbt_avg_6m"),
}


@pytest.mark.parametrize("name", ESTIMATORS)
def test_one_fit_signature(name: str) -> None:
    X, y = _data()
    est = ESTIMATORS[name]()
    params = set(inspect.signature(type(est).__init__).parameters) - {"self"}
    assert set(vars(est)) == params  # __init__ stores its parameters, nothing else
    assert list(inspect.signature(type(est).fit).parameters) == ["self", "X", "y", "X_valid", "y_valid"]

    assert est.fit(X[:500], y[:500], X[500:], y[500:]) is est  # the same call for all three
    learned = set(vars(est)) - params
    assert learned and all(a.endswith("_") for a in learned), sorted(learned)
    p = est.predict_pd(X)
    assert p.shape == (len(X),) and ((p > 0) & (p < 1)).all()
    # deterministic: a second estimator with the same parameters on the same data predicts the same
    again = ESTIMATORS[name]().fit(X[:500], y[:500], X[500:], y[500:])
    np.testing.assert_array_equal(again.predict_pd(X), p)
    # and it ranks: the riskier half by construction gets the higher mean PD
    assert p[y == 1].mean() > p[y == 0].mean()


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize(("part", "bad", "message"), [
    ("train", lambda y: np.zeros_like(y), "train: labels hold a single class"),
    ("valid", lambda y: np.full_like(y, 2), "valid: labels must be 0 or 1"),
    ("valid", lambda y: y[:-1], "valid: expected 300 labels"),
])
def test_every_estimator_checks_its_inputs_the_same_way(name: str, part: str, bad, message: str) -> None:  # noqa: ANN001
    X, y = _data()
    yt, yv = y[:500], y[500:]
    yt, yv = (bad(yt), yv) if part == "train" else (yt, bad(yv))
    with pytest.raises(ModelError, match=message):
        ESTIMATORS[name]().fit(X[:500], yt, X[500:], yv)
