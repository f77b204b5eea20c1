"""A tiny real RiskModel trained on the shared small generated ledger, and the features to score with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskml.data.ledger import Ledger
from riskml.data.synth import SyntheticLedger
from riskml.features import REGISTRY, build_features, build_snapshots, model_features
from riskml.modeling.model import RiskModel

AS_OF = pd.Timestamp("2026-09-30")
TINY_PARAMS = {"n_estimators": 40, "num_leaves": 7, "max_depth": 3, "min_child_samples": 10,
               "learning_rate": 0.1, "early_stopping_rounds": 10}


@pytest.fixture(scope="session")
def tiny_model(small_synth: SyntheticLedger) -> RiskModel:
    """A RiskModel on monthly snapshots of the small ledger, labelled with the generator's default dates
    (default within 12 months of the snapshot)."""
    ledger = small_synth.ledger
    dates = pd.date_range("2025-03-31", "2025-09-30", freq="QE")
    snaps = build_snapshots(ledger, list(dates))
    default = small_synth.truth.set_index("customer_id")["default_date"].reindex(snaps["customer_id"]).to_numpy()
    as_of = snaps["as_of"].to_numpy()
    y = ((default > as_of) & (default <= as_of + np.timedelta64(365, "D"))).astype(int)
    names = model_features()
    valid = np.random.default_rng(0).random(len(snaps)) < 0.3
    X = snaps[names]
    mono = {f: REGISTRY[f].monotone for f in names}
    return RiskModel(TINY_PARAMS, mono, calibration="platt").fit(X[~valid], y[~valid], X[valid], y[valid])


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_model: RiskModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny_model") / "model"
    tiny_model.save(out)
    return out


@pytest.fixture(scope="session")
def small_features(small_ledger: Ledger) -> pd.DataFrame:
    """Features of every customer of the small ledger as of its end date (shared: do not mutate)."""
    return build_features(small_ledger, AS_OF)
