"""Fixtures of the collections tests: the shared small generated ledger (300 customers x 24 months) with
scores made by the decision policy itself (:func:`riskml.scoring.policy.apply_policy`) from a simple,
deterministic PD, so no model is trained; and the worklist built on them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskml.collect.inputs import collectors_from_count, prepare_scores
from riskml.collect.run import WorklistResult, build_worklist
from riskml.config import ScoringConfig
from riskml.data.ledger import Ledger
from riskml.features import build_features
from riskml.scoring.policy import apply_policy

AS_OF = pd.Timestamp("2026-09-30")


def policy_scores(features: pd.DataFrame, config: ScoringConfig | None = None) -> pd.DataFrame:
    """Scores in the shape of `riskml score`: a PD rising with days beyond terms and the oldest past-due item,
    and every decision of the policy."""
    x = (-4.0 + 0.04 * features["dbt_avg_6m"].fillna(0.0) + 0.025 * features["oldest_dpd"].fillna(0.0)
         + 1.5 * features["past_due_share"].fillna(0.0))
    p = 1.0 / (1.0 + np.exp(-x.to_numpy("float64")))
    dec = apply_policy(features, p, config or ScoringConfig())
    return pd.concat([features[["customer_id", "as_of"]].reset_index(drop=True),
                      pd.DataFrame({"pd": p}), dec], axis=1)


@pytest.fixture(scope="session")
def demo_features(small_ledger: Ledger) -> pd.DataFrame:
    return build_features(small_ledger, AS_OF)


@pytest.fixture(scope="session")
def demo_scores(demo_features: pd.DataFrame) -> pd.DataFrame:
    return policy_scores(demo_features)


@pytest.fixture(scope="session")
def demo_result(small_ledger: Ledger, demo_scores: pd.DataFrame, demo_features: pd.DataFrame) -> WorklistResult:
    return build_worklist(small_ledger, AS_OF, prepare_scores(demo_scores, as_of=AS_OF), collectors_from_count(4),
                          ScoringConfig(), features=demo_features)
