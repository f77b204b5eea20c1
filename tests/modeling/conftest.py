"""Shared fixtures of the modeling tests: a training config sized for the small generated ledger
(300 customers x 24 months: a 6-month horizon leaves 5 training month ends after the gap), the labeled
snapshots assembled from it, one trained result, and throwaway sqlite MLflow stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskml.config import TrainConfig
from riskml.data.ledger import Ledger
from riskml.modeling.results import TrainingData, TrainResult
from riskml.modeling.train import assemble, fit_and_evaluate

SMALL_HORIZON = 6


def small_config(**changes: object) -> TrainConfig:
    """The default training config with a 6-month horizon (the small ledger is too short for 12 + 12)."""
    config = TrainConfig()
    config.label.horizon_months = SMALL_HORIZON
    for key, value in changes.items():
        section, _, name = key.rpartition("__")
        setattr(getattr(config, section) if section else config, name, value)
    return config


@pytest.fixture(scope="session")
def small_data(small_ledger: Ledger) -> TrainingData:
    """Labeled snapshots of the small ledger under :func:`small_config` (shared: do not mutate)."""
    return assemble(small_ledger, small_config())


@pytest.fixture(scope="session")
def small_result(small_data: TrainingData) -> TrainResult:
    """One LightGBM + benchmark + rule fit on ``small_data`` (shared: do not mutate)."""
    return fit_and_evaluate(small_data, small_config())


def store_uri(folder: Path) -> str:
    return f"sqlite:///{folder / 'mlflow.db'}"


@pytest.fixture()
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``MLFLOW_TRACKING_URI`` pointing at a fresh sqlite store in tmp_path (artifacts land beside it)."""
    uri = store_uri(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    return uri
