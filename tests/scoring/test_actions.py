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
    # open balance 9,000 -> hold minimum max(1,000, 10% x 9,000) = 1,000 of undisputed past due
    frame = rows(
        {},                                                                          # nothing
        {"undisputed_oldest_dpd": 45.0, "undisputed_past_due_amount": 3_000.0},      # past due beyond 30 days
        {"undisputed_oldest_dpd": 30.0, "undisputed_past_due_amount": 3_000.0},      # at the tolerance: no hold
        {"exposure": 17_000.0, "open_orders_amount": 4_000.0},  # over the 15,000 limit + 10% with open orders
        {"exposure": 16_000.0},                                # over the limit but within the 10% tolerance
        {"exposure": 99_000.0, "credit_limit": None},          # no limit on file: nothing to exceed
        {},                                                    # revoked
        {"undisputed_oldest_dpd": 45.0, "undisputed_past_due_amount": 900.0},        # below the hold minimum
    )
    lim = limits(8, action=["keep"] * 6 + ["revoke", "keep"], revoked=[False] * 6 + [True, False],
                 revoke_reason=[""] * 6 + ["grade 10 is at or beyond the revoke grade 10", ""])
    out = order_holds(frame, lim, ActionPolicy())
    assert out["order_hold"].tolist() == [False, True, False, True, False, False, True, False]
    assert out["hold_reason"].iloc[0] == "" and out["hold_codes"].iloc[0] == ""
    assert out["hold_reason"].iloc[1] == ("past due: undisputed invoices 45 days past due, 3,000.00 not disputed "
                                          "(tolerance 30 days); pay 3,000.00 to release the orders, ask for "
                                          "everything owed (9,000.00)")
    # release: 17,000 - 15,000 x 1.10 = 500
    assert out["hold_reason"].iloc[3] == ("over limit: exposure 17,000.00 (incl. open orders 4,000.00) over the limit "
                                          "15,000 + 10% tolerance (grade -); pay 500.00 to release the orders")
    assert out["hold_reason"].iloc[6].startswith("credit terms revoked: grade 10")
    assert out["hold_codes"].tolist() == ["", "past_due", "", "over_limit", "", "", "revoked", ""]
    assert out["hold_type"].tolist() == ["none", "soft", "none", "soft", "none", "none", "hard", "none"]
    # revoked: everything owed (9,000) and the open orders (1,000) paid in advance
    assert out["release_amount"].tolist() == [0.0, 3_000.0, 0.0, 500.0, 0.0, 0.0, 10_000.0, 0.0]
    # a zero tolerance holds the 16,000 exposure too
    assert order_holds(frame, lim, ActionPolicy(hold_over_limit_pct=0.0))["order_hold"].iloc[4]


def test_over_limit_tolerance_by_grade() -> None:
    # exposure 18,000 on a 15,000 limit = +20%: within grade 1's 25%, beyond grade 7's 10% (release 1,500)
    frame = rows({"exposure": 18_000.0}, {"exposure": 18_000.0})
    out = order_holds(frame, limits(2), ActionPolicy(), grades=np.array(["1", "7"], dtype=object))
    assert out["order_hold"].tolist() == [False, True]
    assert out["release_amount"].tolist() == [0.0, 1_500.0]
    assert "+ 10% tolerance (grade 7)" in out["hold_reason"].iloc[1]


def test_disputed_past_due_is_never_held_and_the_text_says_so() -> None:
    # 20,000 past due, of which 18,000 disputed: 2,000 undisputed (above the 1,000 minimum) -> held for 2,000
    frame = rows({"past_due_amount": 20_000.0, "undisputed_past_due_amount": 2_000.0, "undisputed_oldest_dpd": 40.0,
                  "oldest_dpd": 80.0, "open_balance": 9_000.0},
                 {"past_due_amount": 20_000.0, "undisputed_past_due_amount": 0.0, "undisputed_oldest_dpd": 0.0,
                  "oldest_dpd": 80.0})
    out = order_holds(frame, limits(2), ActionPolicy())
    assert out["order_hold"].tolist() == [True, False]
    assert out["release_amount"].iloc[0] == 2_000.0
    assert "18,000.00 past due is disputed and not held: fix the paperwork" in out["hold_reason"].iloc[0]


def test_strong_late_payers_are_not_held_inside_their_pattern() -> None:
    # paid up to 40 days beyond terms over 12 months: held only beyond 40 + 15 = 55 days
    frame = rows(*({"undisputed_oldest_dpd": d, "undisputed_past_due_amount": 5_000.0, "dbt_max_12m": 40.0}
                   for d in (50.0, 56.0, 50.0)))
    persona = np.array(["strong_late_payer", "strong_late_payer", "weak_late_payer"], dtype=object)
    out = order_holds(frame, limits(3), ActionPolicy(), persona=persona)
    assert out["order_hold"].tolist() == [False, True, True]
    assert "tolerance 55 days, the usual pattern of this strong late payer" in out["hold_reason"].iloc[1]


def test_hard_holds_and_the_collections_track() -> None:
    from riskml.scoring.actions import collections_track

    frame = rows({"undisputed_oldest_dpd": 65.0, "undisputed_past_due_amount": 3_000.0},
                 {"undisputed_oldest_dpd": 95.0, "undisputed_past_due_amount": 3_000.0, "disputed_open_share": 0.2},
                 {"undisputed_oldest_dpd": 95.0, "undisputed_past_due_amount": 500.0})  # below the minimum
    coll = collections_track(frame, ActionPolicy())
    assert coll.tolist() == [False, True, False]
    out = order_holds(frame, limits(3), ActionPolicy(), collections=coll)
    assert out["hold_type"].tolist() == ["hard", "hard", "none"]
    assert out["hold_codes"].tolist() == ["past_due", "collections", ""]
    # collectors ask for everything owed and not disputed: 9,000 x (1 - 0.2) = 7,200
    assert out["release_amount"].iloc[1] == 7_200.0
    assert out["hold_reason"].iloc[1] == ("collections track: undisputed invoices 95 days past due (3,000.00); orders "
                                          "held until everything owed (7,200.00) is paid")


def test_an_increase_and_a_hold_never_go_together() -> None:
    from riskml.scoring.actions import defer_increases

    frame = rows({"undisputed_oldest_dpd": 45.0, "undisputed_past_due_amount": 3_000.0}, {})
    lim = limits(2, action=["increase", "increase"], suggested_limit=[20_000.0, 20_000.0],
                 current_limit=[15_000.0, 15_000.0], limit_change=[5_000.0, 5_000.0],
                 limit_rationale=["sized 20,000", "sized 20,000"])
    holds = order_holds(frame, lim, ActionPolicy())
    out = defer_increases(lim, holds)
    assert out["action"].tolist() == ["keep", "increase"]
    assert out["suggested_limit"].tolist() == [15_000.0, 20_000.0] and out["limit_change"].tolist() == [0.0, 5_000.0]
    assert out["limit_rationale"].iloc[0] == ("sized 20,000; increase to 20,000 deferred: orders are held until "
                                              "3,000.00 is paid, then the increase is reconsidered; kept 15,000")


def test_over_limit_within_a_suggested_increase_is_released_into_the_approval_queue() -> None:
    frame = rows({"exposure": 20_000.0, "open_orders_amount": 6_000.0},   # increase to 20,000 covers it
                 {"exposure": 30_000.0},                                   # the increase does not cover it
                 {"exposure": 20_000.0})                                   # policy keeps the limit: held
    lim = limits(3, action=["increase", "increase", "keep"], suggested_limit=[20_000.0, 20_000.0, 15_000.0])
    holds = order_holds(frame, lim, ActionPolicy())
    assert holds["order_hold"].tolist() == [False, True, True]
    # by default the increase waits in the approval queue (priority 0: not a review) ...
    rev = reviews_due(frame, np.array(["4"] * 3, dtype=object), ActionPolicy(), SCALE, limits=lim)
    assert "limit_pending" not in rev["review_codes"].iloc[0]
    # ... and a team that wants it on the review list gives it a priority
    urgent = ActionPolicy(review_priority={"limit_pending": 1})
    rev = reviews_due(frame, np.array(["4"] * 3, dtype=object), urgent, SCALE, limits=lim)
    assert rev["review_codes"].iloc[0] == "limit_pending" and rev["review_priority"].iloc[0] == 1
    assert rev["review_reason"].iloc[0] == ("exposure 20,000 (incl. open orders 6,000) is over the limit 15,000 but "
                                            "within the suggested increase to 20,000: approving it releases the orders")
    assert "limit_pending" not in rev["review_codes"].iloc[1]
    # switched off, the exposure is held like any other
    assert order_holds(frame, lim, ActionPolicy(release_within_suggested=False))["order_hold"].all()


def test_hold_reasons_are_joined_and_tolerance_applies() -> None:
    frame = rows({"undisputed_oldest_dpd": 40.0, "undisputed_past_due_amount": 3_000.0, "exposure": 17_000.0})
    out = order_holds(frame, limits(1), ActionPolicy())
    assert "; over limit: exposure 17,000.00" in out["hold_reason"].iloc[0]
    assert out["hold_codes"].iloc[0] == "past_due;over_limit"
    # paying the 3,000 past due also brings the exposure to 14,000, within the limit: release 3,000
    assert out["release_amount"].iloc[0] == 3_000.0
    out = order_holds(frame, limits(1), ActionPolicy(hold_over_limit_pct=0.20, hold_past_due_days=90))
    assert not out["order_hold"].iloc[0]


def test_review_calendar() -> None:
    from riskml.scoring.actions import review_calendar, stable_slot

    # as of 2026-09-30 (month 2026*12 + 8); grade 4 reviews yearly, grade 9 quarterly
    frame = rows({"months_since_review": 6.0},                       # yearly: next in 6 months
                 {"months_since_review": 2.5},                       # quarterly (grade 9): next in 1 month
                 {"months_since_review": 40.0},                      # overdue: spread by its id over 10 months
                 {"months_since_review": 40.0, "credit_limit": 5_000.0, "exposure": 3_000.0})  # tiny: auto-renewed
    grades = np.array(["4", "9", "4", "4"], dtype=object)
    due, nxt, interval, auto = review_calendar(frame, grades, ActionPolicy())
    assert interval.tolist() == [12, 3, 12, 24] and auto.tolist() == [False, False, False, True]
    m0 = 2026 * 12 + 8
    ahead3 = int((stable_slot(pd.Series(["C3"]), 10)[0] - m0) % 10)
    assert pd.Timestamp(nxt[0]) == pd.Timestamp("2027-03-31") and pd.Timestamp(nxt[1]) == pd.Timestamp("2026-10-31")
    assert pd.Timestamp(nxt[2]) == pd.Timestamp("2026-09-30") + pd.offsets.MonthEnd(ahead3) if ahead3 else True
    assert due[2] == (ahead3 == 0) and not due[3] and not due[0]
    # the slot is a function of the id alone
    assert stable_slot(pd.Series(["C3", "X"]), 10)[0] == stable_slot(pd.Series(["C3"]), 10)[0]


def test_backlog_spreads_to_at_most_the_configured_share() -> None:
    from riskml.scoring.actions import review_calendar

    frame = rows(*({"customer_id": f"K{i:05d}", "months_since_review": 60.0} for i in range(5000)))
    due, *_ = review_calendar(frame, np.array(["4"] * 5000, dtype=object), ActionPolicy())
    assert 0.08 <= due.mean() <= 0.12  # a tenth of the backlog a month (hash, so about)
    due, *_ = review_calendar(frame, np.array(["4"] * 5000, dtype=object),
                              ActionPolicy(max_routine_share_per_month=0.25))
    assert 0.22 <= due.mean() <= 0.28


def test_review_scheduled_and_sustained_over_limit() -> None:
    frame = rows({"customer_id": "K00000", "months_since_review": 60.0},
                 {"months_since_review": 3.0},
                 {"utilisation_sustained_2m": 1.3},
                 {"months_since_review": 30.0, "credit_limit": None})
    out = reviews_due(frame, np.array(["4"] * 4, dtype=object), ActionPolicy(max_routine_share_per_month=1.0), SCALE)
    assert out["review_due"].tolist() == [True, False, True, False]
    assert out["review_reason"].iloc[0] == "scheduled review: every 12 months for this grade, last review 60 months ago"
    assert out["review_codes"].iloc[0] == "scheduled" and out["review_priority"].iloc[0] == 3
    assert out["review_reason"].iloc[2] == ("over the limit at the last two month ends (at least 130% of the limit; "
                                            "policy 100%)")
    assert out["review_priority"].tolist() == [3, 0, 2, 0]
    assert pd.Timestamp(out["next_review"].iloc[1]) == pd.Timestamp("2027-06-30")
    assert pd.Timestamp(out["next_review"].iloc[0]) == pd.Timestamp("2026-09-30")


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
    frame = rows({"months_since_review": 30.0, "utilisation_sustained_2m": 1.3, "dbt_avg_3m": 25.0, "dbt_avg_12m": 5.0})
    policy = ActionPolicy(max_routine_share_per_month=1.0)
    out = reviews_due(frame, np.array(["4"], dtype=object), policy, SCALE)
    assert out["review_codes"].iloc[0] == "dbt_jump;over_utilised;scheduled"
    assert out["review_reason"].iloc[0].startswith("DBT jumped") and out["review_priority"].iloc[0] == 1
    policy = ActionPolicy(review_priority={"scheduled": 1, "dbt_jump": 3}, max_routine_share_per_month=1.0)
    out = reviews_due(frame, np.array(["4"], dtype=object), policy, SCALE)
    assert out["review_codes"].iloc[0] == "scheduled;over_utilised;dbt_jump" and out["review_priority"].iloc[0] == 1


def test_bad_review_priority_config(tmp_path) -> None:
    from riskml.config import load_config

    bad = tmp_path / "scoring.yaml"
    bad.write_text("actions:\n  review_priority:\n    stale: 3\n")
    with pytest.raises(ConfigError, match="scheduled"):
        load_config("scoring", bad)
    bad.write_text("actions:\n  review_priority:\n    scheduled: 5\n")
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


def test_past_due_hold_days_follow_the_grade() -> None:
    # 45 days past due with 3,000 undisputed (above the 1,000 minimum): grade 9 -> beyond its 30 days: held;
    # grade 5 -> within 89 days (hold_past_due_days_by_grade): no hold (the collectors' worklist chases it);
    # unscored (no grade) -> hold_past_due_days (30): held
    from riskml.scoring.actions import past_due_hold_days

    policy = ActionPolicy()
    assert past_due_hold_days(np.array(["9", "5", None], dtype=object), policy, 3).tolist() == [30.0, 89.0, 30.0]
    assert past_due_hold_days(None, policy, 2).tolist() == [30.0, 30.0]
    late = {"undisputed_oldest_dpd": 45.0, "undisputed_past_due_amount": 3_000.0}
    frame = rows(late, late, late)
    out = order_holds(frame, limits(3), policy, grades=np.array(["9", "5", None], dtype=object))
    assert out["order_hold"].tolist() == [True, False, True]
    assert "(tolerance 30 days)" in out["hold_reason"].iloc[0]
    # 95 days past due: the collections track, whatever the grade
    deep = rows({"undisputed_oldest_dpd": 95.0, "undisputed_past_due_amount": 3_000.0})
    assert order_holds(deep, limits(1), policy, grades=np.array(["5"], dtype=object))["hold_codes"].iloc[0] == "collections"


def test_over_utilised_is_answered_by_an_increase_that_covers_the_exposure() -> None:
    # over the limit at the last two month ends (110%), within the hold tolerance: the policy suggests 22,000, at least
    # the exposure 16,500 -> the increase waits in the approval queue, no over-limit review; kept at 15,000 -> reviewed
    frame = rows({"utilisation_sustained_2m": 1.1, "exposure": 16_500.0},
                 {"utilisation_sustained_2m": 1.1, "exposure": 16_500.0})
    lim = limits(2, action=["increase", "keep"], suggested_limit=[22_000.0, 15_000.0])
    out = reviews_due(frame, np.array(["4", "4"], dtype=object), ActionPolicy(max_routine_share_per_month=1.0), SCALE,
                      limits=lim)
    assert out["review_codes"].tolist() == ["", "over_utilised"]
