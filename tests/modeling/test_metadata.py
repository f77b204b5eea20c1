"""ModelMetadata: set at fit, completed by training as a new metadata (never changed in place), saved in
model.json and read back typed; model.json files of the previous riskml (an untyped dict) still load, and
metadata this version cannot read is refused with one line saying to retrain."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from riskml.config import ExtraAttribute, FeatureConfig, ScoringConfig
from riskml.errors import ModelError
from riskml.modeling.metadata import DEFAULT_N_REASONS, ModelMetadata
from riskml.modeling.model import RiskModel, manifest_of
from riskml.modeling.results import TrainResult
from riskml.modeling.train import training_metadata

from .conftest import small_config

PARAMS = {"n_estimators": 20, "num_leaves": 5, "min_child_samples": 10, "early_stopping_rounds": 5}


@pytest.fixture(scope="module")
def fitted() -> RiskModel:
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=500), "b": rng.uniform(size=500)})
    y = (rng.random(500) < 1 / (1 + np.exp(2 - 1.5 * X["a"]))).astype(int).to_numpy()
    return RiskModel(PARAMS, {"a": 1}, calibration="platt").fit(X[:350], y[:350], X[350:], y[350:])


def _rewrite_model_json(path: Path, metadata: object) -> None:
    """Replace the metadata of a saved model (and its manifest, as riskml itself would have written it)."""
    doc = json.loads((path / "model.json").read_text())
    doc["metadata"] = metadata
    (path / "model.json").write_text(json.dumps(doc, indent=1))
    (path / "manifest.json").write_text(json.dumps(manifest_of(path), indent=1))


def test_fit_sets_what_the_fit_knows(fitted: RiskModel) -> None:
    meta = fitted.metadata_
    assert isinstance(meta, ModelMetadata)
    assert (meta.n_train, meta.n_valid, meta.best_iteration) == (350, 150, fitted.best_iteration_)
    assert meta.feature_config is None and meta.master_scale is None and meta.n_reasons == DEFAULT_N_REASONS
    assert [g.max_pd for g in meta.grades()] == [g.max_pd for g in ScoringConfig().master_scale]


def test_metadata_is_frozen_and_a_change_is_a_new_model(fitted: RiskModel) -> None:
    with pytest.raises(ValidationError):
        fitted.metadata_.n_reasons = 5  # type: ignore[misc]
    before = fitted.metadata_
    other = fitted.with_metadata(n_reasons=5, model_version="7")
    assert other is not fitted and other.booster_ is fitted.booster_
    assert fitted.metadata_ is before and fitted.metadata_.n_reasons == DEFAULT_N_REASONS
    assert other.metadata_.n_reasons == 5 and other.metadata_.model_version == "7"
    with pytest.raises(ValidationError):  # validated like a loaded one
        fitted.with_metadata(n_reasons=0)
    with pytest.raises(ModelError, match=r"no field\(s\) \['n_reason'\]"):
        fitted.with_metadata(n_reason=5)


@pytest.mark.slow
def test_training_metadata_round_trips_through_model_json(small_result: TrainResult, small_ledger,
                                                          tmp_path: Path) -> None:
    config = small_config()
    features = FeatureConfig(late_grace_days=2)
    extra = {"sector": ExtraAttribute(kind="categorical", description="sector")}
    scoring = ScoringConfig(n_reasons=4)
    meta = training_metadata(small_result, small_ledger, config, features, extra, scoring)
    result = small_result.with_metadata(meta)
    assert small_result.model.metadata_.model_name == ""  # the shared result is unchanged
    m = result.model.metadata_
    assert m.n_train == small_result.model.metadata_.n_train and m.n_reasons == 4
    assert m.feature_config == features and m.extra_attributes == extra and m.label_config == config.label
    assert m.data_window.oot_dates == tuple(str(d.date()) for d in small_result.split.oot_dates)
    assert m.data_fingerprint == small_ledger.fingerprint()
    assert m.metrics.test["lightgbm"]["auc"] == pytest.approx(small_result.test_metrics["lightgbm"]["auc"])
    result.model.save(tmp_path / "m")
    loaded = RiskModel.load(tmp_path / "m")
    assert loaded.metadata_ == m
    assert loaded.metadata_.training_config == config
    config.seed += 1  # the metadata is a snapshot of the settings, not a view of the caller's objects
    assert m.training_config.seed == config.seed - 1


def test_a_model_json_of_the_previous_version_loads(fitted: RiskModel, tmp_path: Path) -> None:
    # the metadata dict exactly as riskml wrote it before it was typed (train.attach_metadata)
    scale = ScoringConfig().master_scale
    old = {"n_train": 350, "n_valid": 150, "best_iteration": 12, "model_name": "riskml-delinquency",
           "label_definition": "an invoice open at due_date + 90 days", "label_source": "definition",
           "label_config": small_config().label.model_dump(mode="json"),
           "data_window": {"ledger_first": "2024-10-01", "ledger_last": "2026-09-30",
                           "train_dates": ["2025-03-31", "2025-04-30"], "oot_dates": ["2025-12-31"],
                           "split": "out of time"},
           "data_fingerprint": "abc123", "row_counts": {"customers": 300, "invoices": 9000},
           "metrics": {"test": {"lightgbm": {"auc": 0.8, "ks": None}}, "valid": {"auc": 0.79},
                       "calibration_on_test": {"platt": {"brier": 0.05}}, "auc_gain_on_test": {}},
           "training_config": small_config().model_dump(mode="json"),
           "feature_config": {"late_grace_days": 0, "settled_share": 0.99, "exclude": ["history_months"]},
           "extra_attributes": {}, "master_scale": [g.model_dump(mode="json") for g in scale], "n_reasons": 3,
           "model_version": "4", "run_id": "r1"}
    fitted.save(tmp_path / "m")
    _rewrite_model_json(tmp_path / "m", old)
    meta = RiskModel.load(tmp_path / "m").metadata_
    assert meta.feature_config == FeatureConfig(exclude=["history_months"])
    assert meta.data_window.train_dates == ("2025-03-31", "2025-04-30") and meta.label_config.horizon_months == 6
    assert meta.metrics.test["lightgbm"]["ks"] is None and meta.model_version == "4"
    assert meta.grades() == list(scale)
    assert meta.to_json() == old  # written back the same way
    # the first models kept only what the fit set, or no metadata at all
    _rewrite_model_json(tmp_path / "m", {"n_train": 1, "n_valid": 2, "best_iteration": 3})
    assert RiskModel.load(tmp_path / "m").metadata_.n_valid == 2
    _rewrite_model_json(tmp_path / "m", None)
    assert RiskModel.load(tmp_path / "m").metadata_.best_iteration == fitted.best_iteration_


@pytest.mark.parametrize(("change", "where"), [
    ({"n_reasons": "three"}, "metadata.n_reasons"),
    ({"master_scale": [{"grade": "A", "max_pd": 2.0}]}, "metadata.master_scale.0.max_pd"),
    ({"feature_config": {"late_grace_dayz": 3}}, "metadata.feature_config.late_grace_dayz"),
    ({"a_key_of_another_version": 1}, "metadata.a_key_of_another_version"),
])
def test_metadata_this_version_cannot_read_is_one_line_saying_retrain(fitted: RiskModel, tmp_path: Path,
                                                                     change: dict, where: str) -> None:
    fitted.save(tmp_path / "m")
    _rewrite_model_json(tmp_path / "m", {**fitted.metadata_.to_json(), **change})
    with pytest.raises(ModelError) as info:
        RiskModel.load(tmp_path / "m")
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{tmp_path / 'm'}/model.json: {where}:")
    assert message.endswith("retrain it with this one")


def test_non_finite_metrics_are_none(small_result: TrainResult, small_ledger) -> None:
    nan_result = small_result.__class__(**{**small_result.__dict__, "valid_metrics": {"auc": math.nan, "brier": 0.1}})
    meta = training_metadata(nan_result, small_ledger, small_config(), FeatureConfig(), {}, ScoringConfig())
    assert meta.metrics.valid == {"auc": None, "brier": 0.1}
