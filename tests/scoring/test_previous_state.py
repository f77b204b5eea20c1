"""The previous state the policy compares with (``previous=``) is written into the scores file and read
from there: one reader, one duplicate rule, and it does not depend on the model using the feature."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskml.config import ScoringConfig
from riskml.scoring.policy import PREVIOUS_FEATURES
from riskml.scoring.score import (
    load_previous,
    output_columns,
    previous_scores,
    score_customers,
    write_outputs,
)


class NoDbtModel:
    """A model that does not use ``dbt_avg_3m`` (as when features.yaml excludes it): a flat 5% PD."""

    feature_names_ = ["oldest_dpd", "past_due_share"]
    medians: dict[str, float] = {}

    def predict_pd(self, X: pd.DataFrame) -> np.ndarray:
        return np.full(len(X), 0.05)

    def contributions(self, X: pd.DataFrame) -> np.ndarray:
        return np.zeros((len(X), len(self.feature_names_) + 1))


def test_scores_carry_the_previous_state_columns() -> None:
    assert set(PREVIOUS_FEATURES) <= set(output_columns(3))
    assert "dbt_avg_3m" in PREVIOUS_FEATURES  # the DBT-jump review compares with the previous score's


def test_dbt_jump_against_the_previous_score_when_the_model_lacks_the_feature(small_features, tmp_path: Path) -> None:
    feats = small_features.head(40).copy()
    feats["dbt_avg_3m"] = 10.0
    feats["dbt_avg_12m"] = 30.0  # no jump against the customer's own 12-month DBT
    first = score_customers(feats, NoDbtModel(), ScoringConfig())
    assert "dbt_avg_3m" not in first.contributions["feature"].unique()
    assert (first.scores["dbt_avg_3m"] == 10.0).all()
    out = tmp_path / "scores.csv"
    write_outputs(first, out)
    Path(str(out).replace(".csv", ".contributions.parquet")).unlink()  # the previous state needs only the scores
    prev = load_previous(out)
    assert prev["dbt_avg_3m"].tolist() == [10.0] * 40

    now = feats.copy()
    now.loc[now.index[:3], "dbt_avg_3m"] = 30.0  # +20 days since the previous score, not above the 12-month DBT
    second = score_customers(now, NoDbtModel(), ScoringConfig(), previous=prev).scores
    jump = second["review_codes"].str.contains("dbt_jump")
    assert jump.tolist() == [True] * 3 + [False] * 37
    assert second.loc[0, "review_reason"].count("from 10 at the previous score") == 1
    without = score_customers(now, NoDbtModel(), ScoringConfig(), previous=prev.drop(columns="dbt_avg_3m")).scores
    assert not without["review_codes"].str.contains("dbt_jump").any()


def test_previous_scores_one_row_per_customer_the_last_wins() -> None:
    scores = pd.DataFrame({"customer_id": [7, "7", "8"], "grade": [3.0, 5.0, np.nan],
                           "as_of": ["2026-08-31"] * 3, "dbt_avg_3m": ["4", 9.0, "n/a"], "pd": [0.1, 0.2, 0.3]})
    prev = previous_scores(scores)
    assert prev.columns.tolist() == ["customer_id", "grade", "as_of", "dbt_avg_3m"]
    assert prev["customer_id"].tolist() == ["7", "8"] and prev["grade"].tolist() == ["5", ""]
    assert prev["dbt_avg_3m"].iloc[0] == 9.0 and np.isnan(prev["dbt_avg_3m"].iloc[1])
    assert prev["as_of"].dtype.kind == "M"


def test_unscored_rows_keep_their_state(small_features) -> None:
    feats = small_features.head(5).copy()
    feats["oldest_dpd"] = feats["oldest_dpd"].astype(object)
    feats.loc[feats.index[0], "oldest_dpd"] = "abc"
    s = score_customers(feats, NoDbtModel(), ScoringConfig()).scores
    assert not s["scored"].iloc[0]
    assert s["dbt_avg_3m"].to_numpy() == pytest.approx(
        pd.to_numeric(feats["dbt_avg_3m"]).to_numpy("float64"), nan_ok=True)
