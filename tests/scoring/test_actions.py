"""Order holds and review-due flags, each rule on its own hand-made row, with the reason texts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskml.config import ActionPolicy, ScoringConfig
from riskml.scoring.actions import order_holds, reviews_due
from tests.scoring.frames import rows

SCALE = ScoringConfig().master_scale


def test_holds() -> None:
    frame = rows(
        {},                                                    # nothing
        {"oldest_dpd": 45.0},                                  # past due beyond 30 days
        {"oldest_dpd": 30.0},                                  # at the tolerance: no hold
        {"exposure": 16_000.0, "open_orders_amount": 4_000.0},  # over the 15,000 limit with open orders
        {"exposure": 16_000.0, "credit_limit": None},          # no limit set: not checked
        {},                                                    # revoked
    )
    revoked = np.array([False] * 5 + [True])
    reason = np.array([""] * 5 + ["grade 10 is at or beyond the revoke grade 10"], dtype=object)
    out = order_holds(frame, revoked, reason, ActionPolicy())
    assert out["order_hold"].tolist() == [False, True, False, True, False, True]
    assert out["hold_reason"].iloc[0] == ""
    assert out["hold_reason"].iloc[1] == "oldest open invoice 45 days past due (tolerance 30 days)"
    assert out["hold_reason"].iloc[3] == "exposure 16,000 (incl. open orders 4,000) over the limit 15,000"
    assert out["hold_reason"].iloc[5].startswith("credit terms revoked: grade 10")


def test_hold_reasons_are_joined_and_tolerance_applies() -> None:
    frame = rows({"oldest_dpd": 60.0, "exposure": 16_000.0})
    out = order_holds(frame, np.array([False]), np.array([""], dtype=object), ActionPolicy())
    assert out["hold_reason"].iloc[0].count("; ") == 1
    out = order_holds(frame, np.array([False]), np.array([""], dtype=object),
                      ActionPolicy(hold_over_limit_pct=0.10, hold_past_due_days=90))
    assert not out["order_hold"].iloc[0]


def test_review_stale_limit_and_utilisation() -> None:
    frame = rows({"months_since_review": 30.0}, {"months_since_review": 23.9}, {"exposure_hwm_12m": 20_000.0})
    out = reviews_due(frame, np.array(["4", "4", "4"], dtype=object), ActionPolicy(), SCALE)
    assert out["review_due"].tolist() == [True, False, True]
    assert out["review_reason"].iloc[0] == "limit not reviewed for 30 months (policy 24)"
    assert out["review_reason"].iloc[2] == "open balance reached 133% of the limit in the last 12 months"


def test_review_grade_move_against_previous() -> None:
    frame = rows({}, {}, {}, {})
    previous = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "grade": ["3", "5", ""],
                             "as_of": pd.to_datetime(["2026-06-30"] * 3)})
    grades = np.array(["5", "4", "9", "9"], dtype=object)  # C4 has no previous score
    out = reviews_due(frame, grades, ActionPolicy(), SCALE, previous)
    assert out["review_due"].tolist() == [True, False, False, False]
    assert out["review_reason"].iloc[0] == "grade moved 2 notches, from 3 to 5 (previous score 2026-06-30)"
    # an improvement of two notches counts too
    out = reviews_due(rows({}), np.array(["1"], dtype=object), ActionPolicy(), SCALE, previous.iloc[:1])
    assert "from 3 to 1" in out["review_reason"].iloc[0]


def test_review_dbt_jump() -> None:
    frame = rows({"dbt_avg_3m": 25.0, "dbt_avg_12m": 5.0},   # against its own 12-month DBT
                 {"dbt_avg_3m": 25.0, "dbt_avg_12m": 20.0},  # against the previous score's 3-month DBT
                 {"dbt_avg_3m": 25.0, "dbt_avg_12m": 20.0})  # no jump
    previous = pd.DataFrame({"customer_id": ["C2", "C3"], "grade": ["4", "4"], "dbt_avg_3m": [5.0, 15.0]})
    out = reviews_due(frame, np.array(["4"] * 3, dtype=object), ActionPolicy(), SCALE, previous)
    assert out["review_due"].tolist() == [True, True, False]
    assert out["review_reason"].iloc[0] == "DBT jumped to 25 days over 3 months against 5 over 12 months"
    assert out["review_reason"].iloc[1] == "DBT jumped to 25 days over 3 months from 5 at the previous score"


def test_unscored_rows_are_due_for_review() -> None:
    out = reviews_due(rows({}), np.array([""], dtype=object), ActionPolicy(), SCALE,
                      scored=np.array([False]), score_error=np.array(["feature x = 'abc' is not a finite number"]))
    assert out["review_due"].iloc[0]
    assert out["review_reason"].iloc[0] == "could not be scored: feature x = 'abc' is not a finite number"
