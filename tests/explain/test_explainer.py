"""The explainer layer: the fast exact TreeSHAP (decision patterns) equals LightGBM's ``pred_contrib`` on
every kind of model riskml trains, a hand-computed stump, a brute-force Shapley enumeration, and the
choice/fallback rules of ``make_explainer``."""

from __future__ import annotations

import itertools
import logging
import math

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

import riskml.explain.explainer as ex
from riskml.config import ScoringConfig
from riskml.data.synth import SyntheticLedger
from riskml.explain.reasons import reason_codes
from riskml.features import build_features, feature_specs
from riskml.modeling.model import RiskModel
from riskml.scoring.score import score_customers
from tests.scoring.tiny_model import TINY_PARAMS, train_tiny_model

AS_OF = pd.Timestamp("2026-09-30")
TOL = 1e-6


def _with_industry(X: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Adds a categorical attribute with many levels and some missing (categorical splits)."""
    rng = np.random.default_rng(seed)
    levels = np.array([f"ind{i:02d}" for i in range(12)])
    vals = pd.Series(levels[rng.integers(0, 12, len(X))], index=X.index, dtype="str")
    vals[rng.random(len(X)) < 0.1] = None
    return X.assign(industry=vals)


@pytest.fixture(scope="module")
def models(small_synth: SyntheticLedger) -> dict[str, tuple[RiskModel, pd.DataFrame]]:
    """Every kind of model the tests train: the tiny scoring model (monotone, Platt), one with a
    categorical attribute, extra trees and isotonic calibration, one without calibration and zero as
    missing, and a deeper one."""
    tiny, X = train_tiny_model(small_synth)
    rng = np.random.default_rng(1)
    y = (rng.random(len(X)) < 0.1 + 0.2 * X.isna().mean(axis=1).to_numpy()).astype(int)
    valid = rng.random(len(X)) < 0.3
    out = {"tiny": (tiny, X)}
    Xc = _with_industry(X)
    # the industry effect makes the trees split on it
    yc = np.where(Xc["industry"].isin(["ind01", "ind07", "ind10"]), (rng.random(len(X)) < 0.6).astype(int), y)
    cat = {"min_data_per_group": 5, "cat_smooth": 1.0, "max_cat_to_onehot": 2}
    specs = [
        ("categorical_extra_trees_isotonic", Xc, yc, {**TINY_PARAMS, **cat, "extra_trees": True}, ["industry"], "isotonic"),
        ("zero_as_missing_uncalibrated", X, y, {**TINY_PARAMS, "zero_as_missing": True}, [], "none"),
        ("deep_categorical", Xc, yc, {**TINY_PARAMS, **cat, "num_leaves": 31, "max_depth": -1,
                                                      "min_child_samples": 5},
         ["industry"], "platt"),
    ]
    for name, data, labels, params, cats, cal in specs:
        mono = {f: m for f, m in tiny.monotone.items() if f in data.columns}
        model = RiskModel(params, mono, cats, calibration=cal).fit(
            data[~valid], labels[~valid], data[valid], labels[valid])
        out[name] = (model, data)
    return out


@pytest.mark.parametrize("name", ["tiny", "categorical_extra_trees_isotonic", "zero_as_missing_uncalibrated",
                                  "deep_categorical"])
def test_fast_equals_pred_contrib_on_every_model(models: dict, name: str) -> None:
    model, X = models[name]
    prepared = model.prepare(X)
    fast = ex.PatternExplainer(model.booster_, threads=2, min_rows_per_thread=100)
    ref = ex.PredContribExplainer(model.booster_)
    for rows in (prepared, ex.probe_frame(model.booster_, prepared, rows=3000, seed=5)):
        a, b = fast.contributions(rows), ref.contributions(rows)
        assert a.shape == b.shape == (len(rows), len(model.feature_names_) + 1)
        assert np.abs(a - b).max() <= TOL
        # exact: the contributions add up to the raw score
        raw = model.booster_.predict(rows, raw_score=True)
        assert np.abs(a.sum(axis=1) - raw).max() <= TOL
    if name != "zero_as_missing_uncalibrated":
        assert prepared.isna().any(axis=1).mean() > 0.1  # the parity covers rows with missing values
    if "categorical" in name:
        dump = model.booster_.dump_model()
        assert any(n.get("decision_type") == "==" for t in dump["tree_info"] for n in _nodes(t["tree_structure"]))


def _nodes(node: dict) -> list[dict]:
    if "leaf_value" in node:
        return []
    return [node, *_nodes(node["left_child"]), *_nodes(node["right_child"])]


def test_same_reason_codes_and_texts_and_pd(models: dict, small_synth: SyntheticLedger) -> None:
    model, X = models["categorical_extra_trees_isotonic"]
    fast = ex.PatternExplainer(model.booster_)
    ref = ex.PredContribExplainer(model.booster_)
    prepared = model.prepare(X)
    specs = feature_specs()
    r_fast = reason_codes(X, fast.contributions(prepared), model.feature_names_, specs, model.medians, n=3)
    r_ref = reason_codes(X, ref.contributions(prepared), model.feature_names_, specs, model.medians, n=3)
    pd.testing.assert_frame_equal(r_fast, r_ref)
    # PD = calibrator(row sum of contributions) equals the PD of the tree walk
    p, c = ex.pd_and_contributions(model, X, "fast")
    assert ex.explainer_name(model, "fast") == "fast"
    assert np.abs(p - model.predict_pd(X)).max() <= 1e-12


def test_score_customers_identical_with_either_explainer(models: dict, small_synth: SyntheticLedger) -> None:
    model = models["tiny"][0]
    feats = build_features(small_synth.ledger, AS_OF)
    out = {}
    for kind in ("pred_contrib", "fast"):
        cfg = ScoringConfig(explainer=kind, num_threads=2, chunk_size=max(50, len(feats) // 3))
        out[kind] = score_customers(feats, model, cfg)
        assert out[kind].explainer == kind
    a, b = out["fast"], out["pred_contrib"]
    text = [c for c in a.scores.columns if c != "pd"]
    pd.testing.assert_frame_equal(a.scores[text], b.scores[text])
    assert np.abs(a.scores["pd"] - b.scores["pd"]).max() <= 1e-12
    assert np.abs(a.contributions["contribution"] - b.contributions["contribution"]).max() <= TOL


def test_hand_computed_stump() -> None:
    """One split x <= 0.5 with 60 rows left (leaf -1) and 40 right (leaf +1): the expected value is
    0.6 * -1 + 0.4 * 1 = -0.2; a row going left gets -1 - (-0.2) = -0.8 on x, a right one +1.2."""
    X = pd.DataFrame({"x": np.r_[np.zeros(60), np.ones(40)], "noise": np.zeros(100)})
    y = np.r_[np.zeros(60), np.ones(40)]
    b = lgb.train({"objective": "binary", "num_leaves": 2, "min_data_in_leaf": 1, "verbosity": -1,
                   "boost_from_average": False, "learning_rate": 1.0, "min_sum_hessian_in_leaf": 0}, lgb.Dataset(X, y), 1)
    fast = ex.PatternExplainer(b)
    leaf = b.dump_model()["tree_info"][0]["tree_structure"]
    lo, hi = leaf["left_child"]["leaf_value"], leaf["right_child"]["leaf_value"]
    c = fast.contributions(pd.DataFrame({"x": [0.0, 1.0], "noise": [0.0, 0.0]}))
    e = 0.6 * lo + 0.4 * hi
    assert np.allclose(c, [[lo - e, 0.0, e], [hi - e, 0.0, e]], atol=1e-15)


def _brute_force(booster: lgb.Booster, x: np.ndarray) -> np.ndarray:
    """Shapley values by enumerating every coalition of the conditional expectation E[f | x_S] that
    path-dependent TreeSHAP uses (follow x where the feature is in S, else both children by cover)."""
    k = len(x)

    def cond(node: dict, S: set[int]) -> float:
        if "leaf_value" in node:
            return node["leaf_value"]
        f = node["split_feature"]
        if f in S:
            v = x[f]
            go_left = (np.isnan(v) and node["default_left"]) if np.isnan(v) else v <= node["threshold"]
            return cond(node["left_child"] if go_left else node["right_child"], S)
        cnt = lambda n: n.get("leaf_count", n.get("internal_count"))  # noqa: E731
        w = cnt(node)
        return (cnt(node["left_child"]) * cond(node["left_child"], S)
                + cnt(node["right_child"]) * cond(node["right_child"], S)) / w

    trees = [t["tree_structure"] for t in booster.dump_model()["tree_info"]]
    phi = np.zeros(k + 1)
    for i in range(k):
        others = [j for j in range(k) if j != i]
        for size in range(k):
            for S in itertools.combinations(others, size):
                wgt = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
                phi[i] += wgt * sum(cond(t, {*S, i}) - cond(t, set(S)) for t in trees)
    phi[k] = sum(cond(t, set()) for t in trees)
    return phi


@pytest.mark.parametrize("table_max_d", [10, 1])
def test_brute_force_shapley(table_max_d: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second implementation: enumeration of all coalitions; with ``TABLE_MAX_D = 1`` the leaves are
    evaluated per row without tables."""
    monkeypatch.setattr(ex, "TABLE_MAX_D", table_max_d)
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(400, 4)), columns=list("abcd"))
    X.loc[rng.random(400) < 0.2, "b"] = np.nan
    y = (X["a"] + X["b"].fillna(2) * X["c"] + rng.normal(size=400) > 0).astype(int)
    b = lgb.train({"objective": "binary", "num_leaves": 8, "verbosity": -1, "min_data_in_leaf": 5}, lgb.Dataset(X, y), 5)
    fast = ex.PatternExplainer(b)
    if table_max_d == 1:
        assert (fast.model.leaf_d > 1).any()
    rows = X.iloc[:6]
    got = fast.contributions(rows)
    want = np.array([_brute_force(b, r) for r in rows.to_numpy()])
    assert np.abs(got - want).max() < 1e-12


@pytest.mark.slow
def test_auto_falls_back_with_a_log_line_when_the_model_is_not_supported(caplog: pytest.LogCaptureFixture) -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 3)), columns=list("abc"))
    y = (X["a"] > 0).astype(int)
    linear = lgb.train({"objective": "binary", "linear_tree": True, "num_leaves": 4, "verbosity": -1},
                       lgb.Dataset(X, y), 3)
    with pytest.raises(ex.UnsupportedModel, match="linear trees"):
        ex.make_explainer(linear, "fast")
    with caplog.at_level(logging.WARNING, logger="riskml.explain.explainer"):
        chosen = ex.make_explainer(linear, "auto", like=X)
    assert chosen.name == "pred_contrib" and "fast TreeSHAP not available" in caplog.text
    plain = lgb.train({"objective": "binary", "num_leaves": 4, "verbosity": -1}, lgb.Dataset(X, y), 3)
    assert ex.make_explainer(plain, "auto", like=X).name == "fast"
    assert ex.make_explainer(plain, "pred_contrib").name == "pred_contrib"
    with pytest.raises(ValueError, match="explainer must be one of"):
        ex.make_explainer(plain, "shap")


def test_auto_refuses_a_fast_explainer_that_disagrees(monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 3)), columns=list("abc"))
    b = lgb.train({"objective": "binary", "num_leaves": 4, "verbosity": -1}, lgb.Dataset(X, (X["a"] > 0).astype(int)), 3)
    real = ex.PatternExplainer.contributions
    monkeypatch.setattr(ex.PatternExplainer, "contributions", lambda self, Z: real(self, Z) + 1e-5)
    with caplog.at_level(logging.WARNING, logger="riskml.explain.explainer"):
        assert ex.make_explainer(b, "auto", like=X).name == "pred_contrib"
    assert "differs from pred_contrib" in caplog.text
