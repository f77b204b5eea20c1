"""A tiny real RiskModel on quarterly snapshots of the shared small generated ledger, labelled with the
generator's default dates (default within 12 months of the snapshot). Used by the scoring and Spark tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskml.data.synth import SyntheticLedger
from riskml.features import REGISTRY, build_snapshots, model_features
from riskml.modeling.model import RiskModel

TINY_PARAMS = {"n_estimators": 40, "num_leaves": 7, "max_depth": 3, "min_child_samples": 10,
               "learning_rate": 0.1, "early_stopping_rounds": 10}


def train_tiny_model(synth: SyntheticLedger) -> tuple[RiskModel, pd.DataFrame]:
    """(the fitted model, its training snapshots' model features)."""
    snaps = build_snapshots(synth.ledger, list(pd.date_range("2025-03-31", "2025-09-30", freq="QE")))
    default = synth.truth.set_index("customer_id")["default_date"].reindex(snaps["customer_id"]).to_numpy()
    as_of = snaps["as_of"].to_numpy()
    y = ((default > as_of) & (default <= as_of + np.timedelta64(365, "D"))).astype(int)
    names = model_features()
    valid = np.random.default_rng(0).random(len(snaps)) < 0.3
    X = snaps[names]
    mono = {f: REGISTRY[f].monotone for f in names}
    model = RiskModel(TINY_PARAMS, mono, calibration="platt").fit(X[~valid], y[~valid], X[valid], y[valid])
    return model, X
