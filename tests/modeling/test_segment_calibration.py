"""Calibration by persona (``riskml.modeling.calibration.SegmentCalibrator``): the penalised offset by hand
and against a second implementation, the exact per-persona fit without a prior, the calibration window
only (scrambling the test window changes nothing), JSON persistence and one persona rule for scoring and
training."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import expit, logit

from riskml.config import PersonaPolicy, ThinFileRule
from riskml.explain.explainer import pd_and_contributions
from riskml.features.personas import PERSONA_COLUMNS, assign_personas, thin_file_mask
from riskml.modeling.calibration import SegmentCalibrator, fit_offset, fit_segment_calibrator
from riskml.modeling.model import MANIFEST, RiskModel, manifest_of
from riskml.modeling.train import KEYS, fit_and_evaluate
from tests.modeling.conftest import small_config


def test_offset_by_hand() -> None:
    # base PD 1/2 everywhere (log-odds 0), 3 events in 4 rows: without a prior the shift is logit(3/4) = ln 3
    assert fit_offset(np.full(4, 0.5), [1, 1, 1, 0], prior_sd=1e6) == pytest.approx(np.log(3), abs=1e-6)
    # with a prior of sd 1 the first-order condition is 4 sigmoid(b) - 3 + b = 0
    b = fit_offset(np.full(4, 0.5), [1, 1, 1, 0], prior_sd=1.0)
    assert 4 * expit(b) - 3 + b == pytest.approx(0.0, abs=1e-9) and 0 < b < np.log(3)
    assert fit_offset(np.array([]), [], prior_sd=1.0) == 0.0
    # no event: a finite shift down, smaller with a tighter prior
    loose, tight = (fit_offset(np.full(50, 0.1), np.zeros(50), s) for s in (1.0, 0.1))
    assert loose < tight < 0 and np.isfinite(loose)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_offset_matches_a_second_implementation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.01, 0.6, 200)
    y = (rng.uniform(size=200) < np.clip(p * 1.7, 0, 1)).astype(float)

    def objective(b: float) -> float:
        q = np.clip(expit(logit(p) + b), 1e-15, 1 - 1e-15)
        return float(-np.sum(y * np.log(q) + (1 - y) * np.log(1 - q)) + b * b / (2 * 0.5 ** 2))

    ref = minimize_scalar(objective, bounds=(-10, 10), method="bounded", options={"xatol": 1e-10}).x
    assert fit_offset(p, y, prior_sd=0.5) == pytest.approx(ref, abs=1e-6)


def test_adjust_by_hand() -> None:
    cal = SegmentCalibrator({"prompt_payer": float(np.log(2))}, PersonaPolicy().model_dump(mode="json"),
                            ThinFileRule().model_dump(mode="json"), ["dbt_avg_6m", "tenure_months",
                                                                       "no_payment_history"], 1.0)
    X = pd.DataFrame({"dbt_avg_6m": [1.0, 20.0], "tenure_months": [30.0, 30.0], "no_payment_history": [0.0, 0.0]})
    # row 0: prompt (DBT 1 <= 5): odds 0.2 / 0.8 = 1/4, doubled = 1/2 -> PD 1/3; row 1: regular, no offset
    assert cal.segments(X).tolist() == ["prompt_payer", "regular"]
    assert cal.adjust(X, np.array([0.2, 0.2])) == pytest.approx([1 / 3, 0.2])
    # the invoice count is not a model input: a long relationship is not thin by count here
    assert "invoices_total" not in X and cal.segments(X)[0] != "thin_file"
    # the PD never decides the persona it shifts: a very high PD is not "distressed" here
    assert cal.adjust(X, np.array([0.2, 0.9]))[1] == pytest.approx(0.9)


def test_without_a_prior_each_persona_is_calibrated_on_its_window(small_result) -> None:
    """With a flat prior the fitted shifts make each persona's mean PD equal its observed rate on the
    calibration window (the score equation of a per-group intercept)."""
    model, split, data = small_result.model, small_result.split, small_result.data
    Xva, yva = data.frame.loc[split.valid, data.features], data.y[split.valid]
    base = model.calibrator_.predict(model.predict_raw(Xva))
    cal = fit_segment_calibrator(Xva, yva, base, PersonaPolicy(), ThinFileRule(), prior_sd=1e6)
    seg, adjusted = cal.segments(Xva), cal.adjust(Xva, base)
    assert sum(n for n, _ in cal.counts.values()) == len(yva)
    for s in set(seg):
        m = seg == s
        if 0 < yva[m].sum() < m.sum():
            assert adjusted[m].mean() == pytest.approx(yva[m].mean(), abs=1e-6), s
    assert set(cal.inputs) <= set(PERSONA_COLUMNS) and "invoices_total" not in cal.inputs


def test_only_the_calibration_window_is_used(small_data, small_result) -> None:
    """Scrambling every feature of the test rows changes neither the booster nor the shifts."""
    assert small_result.model.segment_calibrator_ is not None
    frame = small_data.frame.copy()
    test = small_result.split.test
    rng = np.random.default_rng(0)
    for c in small_data.features:
        frame.loc[test, c] = rng.permutation(frame.loc[test, c].to_numpy())
    frame.loc[test, "dbt_avg_12m"] = 99.0
    scrambled = fit_and_evaluate(type(small_data)(**{**small_data.__dict__, "frame": frame}), small_config())
    assert np.array_equal(scrambled.split.test, test)
    assert scrambled.model.booster_.model_to_string() == small_result.model.booster_.model_to_string()
    assert scrambled.model.segment_calibrator_.to_dict() == small_result.model.segment_calibrator_.to_dict()


def test_disabled_leaves_the_models_calibrator_alone(small_data, small_result) -> None:
    config = small_config()
    config.segment_calibration.enabled = False
    off = fit_and_evaluate(small_data, config)
    assert off.model.segment_calibrator_ is None
    X = small_data.frame.loc[small_result.split.test, small_data.features]
    assert np.allclose(off.model.predict_pd(X), off.model.calibrator_.predict(off.model.predict_raw(X)))


def test_saved_as_json_and_identical_after_loading(small_data, small_result, tmp_path) -> None:
    model = small_result.model
    X = small_data.frame.loc[small_result.split.test, small_data.features]
    model.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text(encoding="utf-8"))
    assert meta["segment_calibration"]["method"] == "persona_offset"
    assert not list((tmp_path / "m").glob("*.pkl"))
    loaded = RiskModel.load(tmp_path / "m")
    assert np.array_equal(loaded.predict_pd(X), model.predict_pd(X))
    # the one-pass PD (scoring, pyfunc) is the same PD
    p, _ = pd_and_contributions(loaded, X, "pred_contrib")
    assert p == pytest.approx(model.predict_pd(X), abs=1e-12)
    # extra columns (the whole feature table, as scoring passes it) change nothing: only the model's inputs count
    full = small_data.frame.loc[small_result.split.test].drop(columns=KEYS)
    assert np.array_equal(loaded.predict_pd(full), loaded.predict_pd(X))
    from riskml.errors import ModelError

    for key, bad in (("offsets", {"regular": float("nan")}), ("personas", {"strong_min_dbt": -5}),
                     ("inputs", "dbt_avg_3m")):
        broken = json.loads(json.dumps(meta))
        broken["segment_calibration"][key] = bad
        (tmp_path / "m" / "model.json").write_text(json.dumps(broken), encoding="utf-8")
        # a consistent manifest, so that the refusal comes from the calibration's own check
        (tmp_path / "m" / MANIFEST).write_text(json.dumps(manifest_of(tmp_path / "m")), encoding="utf-8")
        with pytest.raises(ModelError, match="segment_calibration"):
            RiskModel.load(tmp_path / "m")


def test_one_persona_rule_for_scoring_and_training(small_data) -> None:
    """Scoring's personas are the features module's functions (one rule, one place), and the training
    segments are that rule on the model's inputs without a PD: identical wherever the all-history invoice
    count (not a model input) does not decide."""
    import riskml.features.personas as low
    import riskml.scoring.personas as high

    assert high.assign_personas is low.assign_personas and high.persona_evidence is low.persona_evidence
    assert high.thin_file_mask is low.thin_file_mask and high.PERSONAS is low.PERSONAS
    frame = small_data.frame
    p = np.random.default_rng(1).uniform(0, 0.6, len(frame))
    cal = fit_segment_calibrator(frame[small_data.features], small_data.y, p, PersonaPolicy(), ThinFileRule())
    assert "dbt_shift_max" in cal.inputs and "dbt_shift_24m" not in cal.inputs
    seg = cal.segments(frame[small_data.features])
    nan = np.full(len(frame), np.nan)
    full = assign_personas(frame, nan, PersonaPolicy(), thin_file_mask(frame, ThinFileRule()))
    by_count = frame["invoices_total"].to_numpy() <= ThinFileRule().max_invoices
    assert (~by_count).sum() > 100 and (seg[~by_count] == full[~by_count]).all()
    # rows with a 24-month norm are among them: dbt_shift_max carries it
    assert (frame["dbt_shift_24m"].notna().to_numpy() & ~by_count).sum() > 0


def test_a_model_saved_with_the_retired_pd_rule_segments_as_before() -> None:
    """A calibrator saved before personas left the PD carries ``distressed_min_pd`` (it never applied inside
    the calibrator, which reads no PD) and no broken-pattern thresholds: it loads, with that trigger off, so
    a customer paying 25 days later than its own norm stays in the segment its shift was fitted for."""
    old = PersonaPolicy().model_dump(mode="json")
    for key in ("distressed_min_shift", "distressed_min_aged_share"):
        old.pop(key)
    old["distressed_min_pd"] = 0.3
    data = {"method": "persona_offset", "offsets": {"weak_late_payer": 0.5, "distressed": -0.4},
            "personas": old, "thin_file": ThinFileRule().model_dump(mode="json"),
            "inputs": ["dbt_avg_3m", "dbt_shift_max", "tenure_months", "no_payment_history"], "prior_sd": 1.0}
    X = pd.DataFrame({"dbt_avg_3m": [30.0], "dbt_shift_max": [25.0], "tenure_months": [30.0],
                      "no_payment_history": [0.0]})
    loaded = SegmentCalibrator.from_dict(json.loads(json.dumps(data)))
    assert loaded.segments(X).tolist() == ["weak_late_payer"]
    assert loaded.adjust(X, np.array([0.2])) == pytest.approx(expit(logit(0.2) + 0.5))
    # the same thresholds saved by this version read the broken pattern
    new = SegmentCalibrator.from_dict({**data, "personas": PersonaPolicy().model_dump(mode="json")})
    assert new.segments(X).tolist() == ["distressed"]
    # and saved again, the older one keeps its trigger off
    assert SegmentCalibrator.from_dict(loaded.to_dict()).segments(X).tolist() == ["weak_late_payer"]
