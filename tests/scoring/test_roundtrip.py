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


def _log(model: RiskModel, features: pd.DataFrame) -> tuple[str, RiskModel]:
    """Log ``model`` (with the scoring defaults frozen in its metadata) as ``riskml train`` does."""
    import mlflow

    from riskml.serving.pyfunc import log_pyfunc

    cfg = ScoringConfig()
    model = model.with_metadata(master_scale=cfg.master_scale, n_reasons=cfg.n_reasons, model_name="roundtrip")
    with mlflow.start_run():
        return log_pyfunc(model, features.head(5), pip_requirements=[]), model


def test_pyfunc_equals_batch_scoring(tiny_model_dir: Path, small_features: pd.DataFrame, mlflow_store: str,
                                     tmp_path: Path) -> None:
    import mlflow

    from riskml.modeling.registry import load_model
    from riskml.serving.pyfunc import signature_frame

    model = RiskModel.load(tiny_model_dir)
    uri, logged = _log(model, small_features)
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
    assert loaded.metadata_ == logged.metadata_ and loaded.metadata_.model_name == "roundtrip"
    again = score_customers(small_features, loaded, ScoringConfig(), info).scores
    pd.testing.assert_frame_equal(again, batch)
