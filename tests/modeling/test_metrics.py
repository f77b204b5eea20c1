"""Metrics, calibration and the benchmark on tiny hand-made vectors (expected values by hand or from
scikit-learn), and the promotion gate's decisions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from riskml.config import PromotionConfig
from riskml.errors import ModelError
from riskml.modeling.benchmark import LogisticBenchmark, RuleScore
from riskml.modeling.calibration import Calibrator, choose_calibrator, fit_isotonic, fit_platt
from riskml.modeling.gate import decide
from riskml.modeling.metrics import (
    calibration_table,
    capture,
    evaluate,
    ks_statistic,
    lift_table,
    paired_auc_difference,
    weighted_aucs,
)

Y = np.array([0, 0, 1, 0, 1, 1, 0, 0, 0, 1])
S = np.array([0.1, 0.2, 0.3, 0.3, 0.8, 0.9, 0.05, 0.4, 0.2, 0.7])


def test_headline_metrics_by_hand() -> None:
    m = evaluate(Y, S)
    assert m["auc"] == pytest.approx(roc_auc_score(Y, S))
    assert m["gini"] == pytest.approx(2 * m["auc"] - 1)
    assert m["brier"] == pytest.approx(np.mean((S - Y) ** 2))
    assert m["events"] == 4 and m["rows"] == 10 and m["event_rate"] == 0.4
    # KS: after the 3 highest scores (0.9, 0.8, 0.7: all events) TPR 3/4, FPR 0 -> 0.75
    assert ks_statistic(Y, S) == pytest.approx(0.75)
    # the top 10% (one row, score 0.9) holds one of four events
    assert capture(Y, S, 0.1) == pytest.approx(0.25) and m["lift_top10"] == pytest.approx(2.5)


def test_ties_at_the_cut_are_counted_pro_rata() -> None:
    y = np.array([1, 0, 0, 0])
    s = np.zeros(4)  # one tie group: the top 50% holds half of every event
    assert capture(y, s, 0.5) == pytest.approx(0.5)
    lt = lift_table(y, s, groups=2)
    assert lt["events"].tolist() == [0.5, 0.5] and lt["cum_capture"].iloc[-1] == pytest.approx(1.0)


def test_calibration_table_groups_by_predicted_pd() -> None:
    p = np.linspace(0.01, 0.5, 20)
    y = (np.arange(20) >= 15).astype(int)
    ct = calibration_table(y, p, groups=4)
    assert ct["rows"].tolist() == [5, 5, 5, 5] and ct["events"].tolist() == [0, 0, 0, 5]
    assert ct["mean_pd"].is_monotonic_increasing
    with pytest.raises(ValueError, match="must not contain NaN"):
        calibration_table(y, np.r_[p[:-1], np.nan])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(5, 60))
def test_weighted_aucs_match_scikit_learn(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    y = np.r_[0, 1, rng.integers(0, 2, n)]
    s = np.round(rng.random(len(y)), 1)  # plenty of ties
    w = rng.integers(0, 4, size=(3, len(y))).astype(float)
    w[:, :2] = 1.0  # one event and one non-event always present
    expected = [roc_auc_score(y, s, sample_weight=row) for row in w]
    assert np.allclose(weighted_aucs(y, s, w), expected)


def test_paired_auc_difference_finds_a_real_gain_and_no_gain() -> None:
    rng = np.random.default_rng(1)
    n = 1500
    y = (rng.random(n) < 0.15).astype(int)
    strong = y * 1.0 + rng.normal(size=n)
    weak = y * 0.3 + rng.normal(size=n)
    groups = np.repeat(np.arange(n // 3), 3)
    gain = paired_auc_difference(y, strong, weak, groups, n_boot=300, seed=0)
    assert gain["lo"] > 0.05 and gain["share_not_better"] == 0.0
    assert gain["diff"] == pytest.approx(roc_auc_score(y, strong) - roc_auc_score(y, weak))
    same = paired_auc_difference(y, strong, strong + 1e-12 * rng.normal(size=n), groups, n_boot=300)
    assert same["lo"] <= 0 <= same["hi"]
    again = paired_auc_difference(y, strong, weak, groups, n_boot=300, seed=0)
    assert again == gain  # seeded


def test_platt_recovers_a_known_map_and_isotonic_is_monotone() -> None:
    rng = np.random.default_rng(2)
    raw = rng.normal(size=20_000)
    y = (rng.random(raw.size) < 1 / (1 + np.exp(-(0.5 * raw - 1.0)))).astype(int)
    platt = fit_platt(raw, y)
    assert platt.params["a"] == pytest.approx(0.5, abs=0.05) and platt.params["b"] == pytest.approx(-1.0, abs=0.05)
    iso = fit_isotonic(raw, y)
    grid = np.linspace(-3, 3, 50)
    assert (np.diff(iso.predict(grid)) >= 0).all() and (iso.predict(grid) > 0).all()
    assert Calibrator.from_dict(iso.to_dict()).predict(grid).tolist() == iso.predict(grid).tolist()
    with pytest.raises(ModelError, match="method must be one of"):
        Calibrator.from_dict({"method": "beta"})


def test_calibration_choice_is_out_of_fold_and_recorded() -> None:
    rng = np.random.default_rng(3)
    raw = rng.normal(size=3000)
    y = (rng.random(raw.size) < 1 / (1 + np.exp(-(2.0 * raw - 2.0)))).astype(int)
    cal, scores = choose_calibrator(raw, y, "auto", seed=0)
    assert set(scores) == {"isotonic", "platt"}
    assert cal.method == min(scores, key=lambda k: scores[k]["log_loss"])
    assert cal.method == "platt"  # the truth is a logistic map: Platt wins out of fold
    assert choose_calibrator(raw, y, "isotonic")[0].method == "isotonic"
    assert choose_calibrator(raw, y, "none") == (Calibrator("none", {}), {})
    with pytest.raises(ModelError, match="calibration must be one of"):
        choose_calibrator(raw, y, "beta")
    with pytest.raises(ModelError, match="at least 2 positives"):
        choose_calibrator(raw[:10], np.r_[1, np.zeros(9)], "auto")


def test_benchmark_bins_features_and_rule_uses_the_feature() -> None:
    rng = np.random.default_rng(4)
    n = 2000
    X = pd.DataFrame({"u": rng.uniform(0, 10, n), "v": rng.normal(size=n), "dbt_avg_6m": rng.uniform(0, 60, n)})
    X.loc[X.index[::10], "u"] = np.nan
    # a U-shaped effect a binned logistic can follow and a linear one cannot
    y = (rng.random(n) < np.where((X["u"].fillna(5) - 5).abs() > 3.5, 0.5, 0.05)).astype(int)
    bench = LogisticBenchmark(["u", "v"], bins=10).fit(X[:1500], y[:1500], X[1500:], y[1500:])
    assert roc_auc_score(y[1500:], bench.predict_pd(X[1500:])) > 0.75
    rule = RuleScore("dbt_avg_6m").fit(X[:1500], y[:1500], X[1500:], y[1500:])
    assert np.array_equal(rule.score(X), X["dbt_avg_6m"].to_numpy())
    with pytest.raises(ModelError, match="rule_feature 'nope' is not among the snapshot features"):
        RuleScore("nope").fit(X, y, X, y)


# --------------------------------------------------------------------------------- promotion gate
GATE = PromotionConfig(min_auc=0.7, max_brier=0.2, auc_tolerance=0.005)


def test_gate_promotes_the_first_model_that_passes_the_thresholds() -> None:
    d = decide(0.80, 0.06, GATE)
    assert d.promote and d.decision == "champion" and "no champion yet" in d.reason


def test_gate_promotes_a_model_not_worse_than_the_champion() -> None:
    d = decide(0.797, 0.06, GATE, champion_version="3", champion_auc=0.80)  # within the tolerance
    assert d.promote and "champion version 3 at 0.8000 on the same test window" in d.reason
    assert decide(0.81, 0.06, GATE, "3", 0.80).promote


@pytest.mark.parametrize(("auc", "brier", "champion_auc", "phrase"), [
    (0.65, 0.06, None, "below promotion.min_auc 0.7"),
    (0.80, 0.21, None, "above promotion.max_brier 0.2"),
    (0.79, 0.06, 0.80, "worse than the champion (version 3) re-scored on the same test window: 0.8000"),
])
def test_gate_refuses(auc: float, brier: float, champion_auc: float | None, phrase: str) -> None:
    d = decide(auc, brier, GATE, "3" if champion_auc else None, champion_auc)
    assert not d.promote and d.decision == "challenger"
    assert d.reason.startswith("stays challenger: ") and phrase in d.reason


def test_gate_refuses_when_the_champion_cannot_be_compared() -> None:
    d = decide(0.9, 0.05, GATE, champion_version="2", champion_auc=None, note="snapshots lack its features")
    assert not d.promote and "could not be re-scored" in d.reason and "snapshots lack its features" in d.reason
    assert d.as_dict()["decision"] == "challenger"


def test_calibration_by_group_hand_computed():
    from riskml.modeling.metrics import calibration_by_group

    y = [0, 1, 0, 0, 1, 1]
    p = [0.1, 0.3, 0.2, 0.0, 0.5, 0.7]
    g = ["a", "a", "b", "b", "c", "c"]
    out = calibration_by_group(y, p, g, order=["c", "x", "a"])
    assert out["group"].tolist() == ["c", "a", "b"]  # ordered first, absent "x" left out, then the rest
    c = out.set_index("group")
    assert c.loc["a", "rows"] == 2 and c.loc["a", "events"] == 1
    assert c.loc["a", "mean_pd"] == pytest.approx(0.2) and c.loc["a", "observed_rate"] == pytest.approx(0.5)
    assert c.loc["a", "gap"] == pytest.approx(-0.3)
    assert c.loc["b", "gap"] == pytest.approx(0.1) and c.loc["c", "gap"] == pytest.approx(-0.4)
    assert c.loc["a", "gap_se"] == pytest.approx(np.sqrt(0.2 * 0.8 / 2))
    with pytest.raises(ValueError, match="groups must have 6 entries"):
        calibration_by_group(y, p, g[:5])


def test_wilson_interval_hand_computed():
    from riskml.modeling.metrics import wilson_interval

    z2 = 1.959963984540054 ** 2
    lo, hi = wilson_interval([0, 1, 9], [9, 2, 9])
    # 0 of 9: [0, z^2 / (n + z^2)] = [0, 29.9%]; 9 of 9: the mirror image
    assert lo[0] == pytest.approx(0.0, abs=1e-12) and hi[0] == pytest.approx(z2 / (9 + z2)) and hi[0] == pytest.approx(0.29914, abs=1e-5)
    assert hi[2] == pytest.approx(1.0) and lo[2] == pytest.approx(9 / (9 + z2))
    # 1 of 2: centre 1/2, half-width z/(1 + z^2/2) * sqrt(1/8 + z^2/16)
    half = np.sqrt(z2) / (1 + z2 / 2) * np.sqrt(0.125 + z2 / 16)
    assert lo[1] == pytest.approx(0.5 - half) and hi[1] == pytest.approx(0.5 + half)
    assert lo[1] == pytest.approx(0.0945, abs=1e-4)
    nan_lo, nan_hi = wilson_interval([0], [0])
    assert np.isnan(nan_lo[0]) and np.isnan(nan_hi[0])


def test_calibration_by_group_within_target_by_gap_or_interval():
    from riskml.modeling.metrics import calibration_by_group

    # group a: 1 of 2, mean PD 0.2: gap 30 points but inside the Wilson interval (9.5% .. 90.5%) -> within
    # group z: 0 of 400, mean PD 0.02: gap 2 points -> within; group w: 0 of 400 at mean PD 0.05 -> not
    # (gap 5 points, interval 0 .. 0.95%)
    y = [0, 1] + [0] * 800
    p = [0.1, 0.3] + [0.02] * 400 + [0.05] * 400
    g = ["a", "a"] + ["z"] * 400 + ["w"] * 400
    c = calibration_by_group(y, p, g).set_index("group")
    assert bool(c.loc["a", "within_target"]) and abs(c.loc["a", "gap"]) > 0.03
    assert bool(c.loc["z", "within_target"]) and c.loc["z", "observed_hi"] < 0.02
    assert not bool(c.loc["w", "within_target"]) and c.loc["w", "gap"] == pytest.approx(0.05)
    assert c.loc["w", "observed_hi"] == pytest.approx(1.959963984540054 ** 2 / (400 + 1.959963984540054 ** 2))
