"""The pure decision policy (riskml.scoring.policy.apply_policy): the batch scorer's decisions are
exactly apply_policy's on the same PDs; a customer alone is decided as in the book; inputs untouched."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskml.config import ScoringConfig
from riskml.modeling.model import RiskModel
from riskml.scoring.policy import DECISION_COLUMNS, apply_policy
from riskml.scoring.score import score_customers


@pytest.fixture(scope="module")
def scored(small_features: pd.DataFrame, tiny_model: RiskModel) -> pd.DataFrame:
    return score_customers(small_features, tiny_model, ScoringConfig(), {"model_version": "1"},
                           with_contributions=False).scores


def test_batch_decisions_are_apply_policy_on_the_same_pd(scored, small_features) -> None:
    decisions = apply_policy(small_features, scored["pd"].to_numpy(), ScoringConfig())
    assert list(decisions.columns) == list(DECISION_COLUMNS)
    assert len(decisions) == len(small_features)
    for col in DECISION_COLUMNS:
        got, want = decisions[col].to_numpy(), scored[col].to_numpy()
        if got.dtype.kind == "f":
            assert np.array_equal(got, want.astype("float64"), equal_nan=True), col
        else:
            assert [str(v) for v in got] == [str(v) for v in want], col


def test_one_customer_alone_is_decided_as_in_the_book(scored, small_features) -> None:
    p = scored["pd"].to_numpy()
    book = apply_policy(small_features, p, ScoringConfig())
    for i in (0, len(small_features) // 2, len(small_features) - 1):
        alone = apply_policy(small_features.iloc[[i]], p[[i]], ScoringConfig())
        for col in DECISION_COLUMNS:
            assert str(alone[col].iloc[0]) == str(book[col].iloc[i]), col


def test_inputs_are_not_changed_and_missing_pd_keeps_the_limit(small_features) -> None:
    before = small_features.copy()
    p = np.full(len(small_features), np.nan)
    out = apply_policy(small_features, p, ScoringConfig())
    pd.testing.assert_frame_equal(small_features, before)
    assert out["review_due"].all()
    assert (out["review_codes"].str.contains("not_scored")).all()
    assert (out["action"] != "revoke").all()


def test_pd_length_must_match(small_features) -> None:
    with pytest.raises(ValueError, match="PD values"):
        apply_policy(small_features, np.zeros(len(small_features) + 1), ScoringConfig())
