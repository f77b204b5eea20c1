"""Order holds and review-due flags, each rule on its own hand-made row, with the reason texts, codes and
review priorities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskml.config import ActionPolicy, ScoringConfig
from riskml.errors import ConfigError
from riskml.scoring.actions import REVIEW_CODES, order_holds, reviews_due
from tests.scoring.frames import rows

SCALE = ScoringConfig().master_scale


def limits(n: int, **cols: list) -> pd.DataFrame:
    """A suggest_limits-shaped frame: keep at 15,000 unless told otherwise."""
    base = {"action": ["keep"] * n, "suggested_limit": [15_000.0] * n, "revoked": [False] * n,
            "revoke_reason": [""] * n}
    return pd.DataFrame({**base, **cols})


def test_holds() -> None:
    frame = rows(
        {},                                                    # nothing
        {"oldest_dpd": 45.0},                                  # past due beyond 30 days
        {"oldest_dpd": 30.0},                                  # at the tolerance: no hold
        {"exposure": 17_000.0, "open_orders_amount": 4_000.0},  # over the 15,000 limit + 10% with open orders
        {"exposure": 16_000.0},                                # over the limit but within the 10% tolerance
        {"exposure": 99_000.0, "credit_limit": None},          # no limit on file: nothing to exceed
        {},                                                    # revoked
    )
    lim = limits(7, action=["keep"] * 6 + ["revoke"], revoked=[False] * 6 + [True],
                 revoke_reason=[""] * 6 + ["grade 10 is at or beyond the revoke grade 10"])
    out = order_holds(frame, lim, ActionPolicy())
    assert out["order_hold"].tolist() == [False, True, False, True, False, False, True]
    assert out["hold_reason"].iloc[0] == "" and out["hold_codes"].iloc[0] == ""
    assert out["hold_reason"].iloc[1] == "oldest open invoice 45 days past due (tolerance 30 days)"
    assert out["hold_reason"].iloc[3] == ("exposure 17,000 (incl. open orders 4,000) over the limit 15,000 "
                                          "+ 10% tolerance")
    assert out["hold_reason"].iloc[6].startswith("credit terms revoked: grade 10")
    assert out["hold_codes"].tolist() == ["", "past_due", "", "over_limit", "", "", "revoked"]
    # a zero tolerance holds the 16,000 exposure too
    assert order_holds(frame, lim, ActionPolicy(hold_over_limit_pct=0.0))["order_hold"].iloc[4]


def test_over_limit_within_a_suggested_increase_is_released_into_an_urgent_review() -> None:
    frame = rows({"exposure": 20_000.0, "open_orders_amount": 6_000.0},   # increase to 20,000 covers it
                 {"exposure": 30_000.0},                                   # the increase does not cover it
                 {"exposure": 20_000.0})                                   # policy keeps the limit: held
    lim = limits(3, action=["increase", "increase", "keep"], suggested_limit=[20_000.0, 20_000.0, 15_000.0])
    holds = order_holds(frame, lim, ActionPolicy())
    assert holds["order_hold"].tolist() == [False, True, True]
    rev = reviews_due(frame, np.array(["4"] * 3, dtype=object), ActionPolicy(), SCALE, limits=lim)
    assert rev["review_codes"].iloc[0] == "limit_pending" and rev["review_priority"].iloc[0] == 1
    assert rev["review_reason"].iloc[0] == ("exposure 20,000 (incl. open orders 6,000) is over the limit 15,000 but "
                                            "within the suggested increase to 20,000: approving it releases the orders")
    assert "limit_pending" not in rev["review_codes"].iloc[1]
    # switched off, the exposure is held like any other
    assert order_holds(frame, lim, ActionPolicy(release_within_suggested=False))["order_hold"].all()


def test_hold_reasons_are_joined_and_tolerance_applies() -> None:
    frame = rows({"oldest_dpd": 60.0, "exposure": 17_000.0})
    out = order_holds(frame, limits(1), ActionPolicy())
    assert out["hold_reason"].iloc[0].count("; ") == 1 and out["hold_codes"].iloc[0] == "past_due;over_limit"
    out = order_holds(frame, limits(1), ActionPolicy(hold_over_limit_pct=0.20, hold_past_due_days=90))
    assert not out["order_hold"].iloc[0]


def test_review_stale_limit_and_utilisation() -> None:
    frame = rows({"months_since_review": 30.0}, {"months_since_review": 23.9}, {"exposure_hwm_12m": 20_000.0},
                 {"months_since_review": 30.0, "credit_limit": None})
    out = reviews_due(frame, np.array(["4"] * 4, dtype=object), ActionPolicy(), SCALE)
    assert out["review_due"].tolist() == [True, False, True, False]
    assert out["review_reason"].iloc[0] == "limit not reviewed for 30 months (policy 24)"
    assert out["review_codes"].iloc[0] == "stale_limit" and out["review_priority"].iloc[0] == 3
    assert out["review_reason"].iloc[2] == "open balance reached 133% of the limit in the last 12 months"
    assert out["review_priority"].tolist() == [3, 0, 3, 0]


def test_no_limit_on_file() -> None:
    frame = rows({"credit_limit": None, "exposure": 8_000.0}, {"credit_limit": None, "exposure": 30_000.0})
    lim = limits(2, action=["set", "set"], suggested_limit=[20_000.0, 20_000.0])
    out = reviews_due(frame, np.array(["4", "4"], dtype=object), ActionPolicy(), SCALE, limits=lim)
    assert out["review_codes"].tolist() == ["no_limit", "no_limit_exposed"]
    assert out["review_priority"].tolist() == [2, 1]
    assert out["review_reason"].iloc[0] == ("no credit limit on file (open terms without a ceiling): set the "
                                            "suggested limit 20,000")
    assert out["review_reason"].iloc[1] == ("no credit limit on file and the exposure 30,000 already exceeds the "
                                            "suggested limit 20,000")


def test_review_grade_move_against_previous() -> None:
    frame = rows({}, {}, {}, {})
    previous = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "grade": ["3", "5", ""],
                             "as_of": pd.to_datetime(["2026-06-30"] * 3)})
    grades = np.array(["5", "4", "9", "9"], dtype=object)  # C4 has no previous score
    out = reviews_due(frame, grades, ActionPolicy(), SCALE, previous)
    assert out["review_due"].tolist() == [True, False, False, False]
    assert out["review_reason"].iloc[0] == "grade moved 2 notches, from 3 to 5 (previous score 2026-06-30)"
    assert out["review_codes"].iloc[0] == "grade_down" and out["review_priority"].iloc[0] == 1
    # an improvement of two notches counts too, with its own code and priority
    out = reviews_due(rows({}), np.array(["1"], dtype=object), ActionPolicy(), SCALE, previous.iloc[:1])
    assert "from 3 to 1" in out["review_reason"].iloc[0]
    assert out["review_codes"].iloc[0] == "grade_up" and out["review_priority"].iloc[0] == 2


def test_review_dbt_jump() -> None:
    frame = rows({"dbt_avg_3m": 25.0, "dbt_avg_12m": 5.0},   # against its own 12-month DBT
                 {"dbt_avg_3m": 25.0, "dbt_avg_12m": 20.0},  # against the previous score's 3-month DBT
                 {"dbt_avg_3m": 25.0, "dbt_avg_12m": 20.0})  # no jump
    previous = pd.DataFrame({"customer_id": ["C2", "C3"], "grade": ["4", "4"], "dbt_avg_3m": [5.0, 15.0]})
    out = reviews_due(frame, np.array(["4"] * 3, dtype=object), ActionPolicy(), SCALE, previous)
    assert out["review_due"].tolist() == [True, True, False]
    assert out["review_reason"].iloc[0] == "DBT jumped to 25 days over 3 months against 5 over 12 months"
    assert out["review_reason"].iloc[1] == "DBT jumped to 25 days over 3 months from 5 at the previous score"


def test_reasons_are_listed_most_urgent_first_and_priorities_are_configurable() -> None:
    frame = rows({"months_since_review": 30.0, "exposure_hwm_12m": 20_000.0, "dbt_avg_3m": 25.0, "dbt_avg_12m": 5.0})
    out = reviews_due(frame, np.array(["4"], dtype=object), ActionPolicy(), SCALE)
    assert out["review_codes"].iloc[0] == "dbt_jump;over_utilised;stale_limit"
    assert out["review_reason"].iloc[0].startswith("DBT jumped") and out["review_priority"].iloc[0] == 1
    policy = ActionPolicy(review_priority={"stale_limit": 1, "dbt_jump": 3})
    out = reviews_due(frame, np.array(["4"], dtype=object), policy, SCALE)
    assert out["review_codes"].iloc[0] == "stale_limit;dbt_jump;over_utilised" and out["review_priority"].iloc[0] == 1


def test_bad_review_priority_config(tmp_path) -> None:
    from riskml.config import load_config

    bad = tmp_path / "scoring.yaml"
    bad.write_text("actions:\n  review_priority:\n    stale: 3\n")
    with pytest.raises(ConfigError, match="stale_limit"):
        load_config("scoring", bad)
    bad.write_text("actions:\n  review_priority:\n    stale_limit: 5\n")
    with pytest.raises(ConfigError, match=r"1 \(urgent\)"):
        load_config("scoring", bad)


def test_unscored_rows_are_due_for_review() -> None:
    out = reviews_due(rows({}), np.array([""], dtype=object), ActionPolicy(), SCALE,
                      scored=np.array([False]), score_error=np.array(["feature x = 'abc' is not a finite number"]))
    assert out["review_due"].iloc[0] and out["review_priority"].iloc[0] == 1
    assert out["review_reason"].iloc[0] == "could not be scored: feature x = 'abc' is not a finite number"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 60), st.floats(0, 60), st.floats(0, 200), st.floats(0, 5e4),
                          st.sampled_from(["keep", "increase", "set", "revoke"])), min_size=1, max_size=15))
def test_flags_codes_and_priorities_agree(data) -> None:
    frame = rows(*({"dbt_avg_3m": d3, "dbt_avg_12m": d12, "months_since_review": m, "exposure": e,
                    "credit_limit": None if a == "set" else 15_000.0} for d3, d12, m, e, a in data))
    lim = limits(len(data), action=[d[4] for d in data], revoked=[d[4] == "revoke" for d in data],
                 suggested_limit=[0.0 if d[4] == "revoke" else 20_000.0 for d in data])
    holds = order_holds(frame, lim, ActionPolicy())
    assert ((holds["hold_codes"] != "") == holds["order_hold"]).all()
    assert ((holds["hold_reason"] != "") == holds["order_hold"]).all()
    out = reviews_due(frame, np.array(["4"] * len(data), dtype=object), ActionPolicy(), SCALE, limits=lim)
    assert ((out["review_codes"] != "") == out["review_due"]).all()
    assert ((out["review_priority"] > 0) == out["review_due"]).all()
    for codes, prio in zip(out["review_codes"], out["review_priority"], strict=True):
        if codes:
            assert set(codes.split(";")) <= set(REVIEW_CODES)
            assert prio == min(ActionPolicy().review_priority[c] for c in codes.split(";"))
