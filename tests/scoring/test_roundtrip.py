"""Round trip through MLflow: the pyfunc model logged and loaded back (by run URI and by registry alias)
gives the same PD, grade and reasons as in-process batch scoring, row for row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskml.config import ScoringConfig
from riskml.modeling.model import RiskModel
from riskml.scoring.score import score_customers

pytestmark = pytest.mark.slow


@pytest.fixture()
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A throwaway sqlite MLflow store with its artifacts under tmp_path."""
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    exp = mlflow.create_experiment("roundtrip", artifact_location=(tmp_path / "artifacts").as_uri())
    mlflow.set_experiment(experiment_id=exp)
    return uri


def _log(model: RiskModel, features: pd.DataFrame, tmp_path: Path) -> str:
    import mlflow
    from mlflow.models import infer_signature

    from riskml.modeling import pyfunc_entry
    from riskml.modeling.pyfunc import ARTIFACT_KEY, predict_frame, signature_frame

    cfg = ScoringConfig()
    model.metadata_.update({"master_scale": [g.model_dump(mode="json") for g in cfg.master_scale],
                            "n_reasons": cfg.n_reasons})
    model_dir = tmp_path / ARTIFACT_KEY
    model.save(model_dir)
    example = signature_frame(model, features[model.feature_names_].head(5))
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(
            name="model", python_model=pyfunc_entry.__file__, artifacts={ARTIFACT_KEY: str(model_dir)},
            signature=infer_signature(example, predict_frame(model, example)), input_example=example,
        )
    return info.model_uri


def test_pyfunc_equals_batch_scoring(tiny_model_dir: Path, small_features: pd.DataFrame, mlflow_store: str,
                                     tmp_path: Path) -> None:
    import mlflow

    from riskml.modeling.pyfunc import signature_frame
    from riskml.modeling.registry import load_model

    model = RiskModel.load(tiny_model_dir)
    uri = _log(model, small_features, tmp_path)
    batch = score_customers(small_features, model, ScoringConfig(), {"model_version": "1"}).scores

    served = mlflow.pyfunc.load_model(uri).predict(signature_frame(model, small_features[model.feature_names_]))
    assert len(served) == len(batch)
    assert np.allclose(served["pd"].to_numpy(), batch["pd"].to_numpy(), rtol=0, atol=1e-12)
    assert served["grade"].tolist() == batch["grade"].tolist()
    for col in ("reason_1", "reason_2", "reason_3", "reason_codes"):
        assert served[col].tolist() == batch[col].tolist(), col

    # registered and loaded back through the registry (what `riskml score --model` does)
    mlflow.register_model(uri, "roundtrip-model")
    mlflow.MlflowClient().set_registered_model_alias("roundtrip-model", "champion", "1")
    loaded, info = load_model("models:/roundtrip-model@champion")
    assert info["model_version"] == "1"
    again = score_customers(small_features, loaded, ScoringConfig(), info).scores
    pd.testing.assert_frame_equal(again, batch)
