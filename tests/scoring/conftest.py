"""A tiny real RiskModel trained on the shared small generated ledger, and the features to score with it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from riskml.data.ledger import Ledger
from riskml.data.synth import SyntheticLedger
from riskml.features import build_features
from riskml.modeling.model import RiskModel
from tests.scoring.tiny_model import train_tiny_model

AS_OF = pd.Timestamp("2026-09-30")


@pytest.fixture(scope="session")
def tiny_model(small_synth: SyntheticLedger) -> RiskModel:
    """A RiskModel on quarterly snapshots of the small ledger (:mod:`tests.scoring.tiny_model`)."""
    return train_tiny_model(small_synth)[0]


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_model: RiskModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny_model") / "model"
    tiny_model.save(out)
    return out


@pytest.fixture(scope="session")
def small_features(small_ledger: Ledger) -> pd.DataFrame:
    """Features of every customer of the small ledger as of its end date (shared: do not mutate)."""
    return build_features(small_ledger, AS_OF)
