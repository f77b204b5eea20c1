"""Personas from the ledger: each rule on a hand-made row, each condition of the strong pattern, the
documented precedence, the PD never read (it neither hides a strong late payer nor makes a customer
distressed), and one persona per customer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskml.config import PersonaPolicy, ThinFileRule
from riskml.scoring.personas import (
    PERSONA_COLUMNS,
    PERSONAS,
    assign_personas,
    persona_evidence,
    thin_file_mask,
    usual_lateness_days,
)
from tests.scoring.frames import rows

# an established customer with clean paperwork and a steady, full-paying ledger (prompt by default)
CLEAN = {
    "dbt_volatility_12m": 1.0, "dbt_shift_12m": 0.0, "dbt_shift_24m": 0.0, "paid_in_full_share_12m": 0.97,
    "multi_payment_share_12m": 0.02, "balance_growth_3m": 0.1, "aging_61_90_share": 0.0, "aging_90p_share": 0.0,
    "past_due_share": 0.0, "deduction_share_12m": 0.0, "credit_note_share_12m": 0.0, "short_paid_share_12m": 0.0,
    "unapplied_cash_12m": 0.0,
}
# C001726 of the issue: steady 30 days late for years, pays in full, nothing growing; its oldest item is
# 40 days past due (inside its usual pattern: 30 days + the 30-day margin)
STRONG = {**CLEAN, "dbt_avg_3m": 31.0, "dbt_avg_6m": 30.0, "dbt_avg_12m": 30.0, "dbt_volatility_12m": 3.0,
          "dbt_shift_12m": 1.0, "dbt_shift_24m": -0.5, "oldest_dpd": 40.0, "past_due_share": 0.4}


def personas(frame, pds, policy=None):
    thin = thin_file_mask(frame, ThinFileRule())
    p = None if pds is None else np.asarray(pds, dtype="float64")
    return assign_personas(frame, p, policy or PersonaPolicy(), thin).tolist()


def one(override, pd_value=0.01):
    return personas(rows(override), [pd_value])[0]


def test_thin_file_rule() -> None:
    frame = rows({}, {"no_payment_history": 1.0}, {"invoices_total": 5.0}, {"tenure_months": 6.0},
                 {"invoices_total": 6.0, "tenure_months": 6.5})
    assert thin_file_mask(frame, ThinFileRule()).tolist() == [False, True, True, True, False]


def test_each_persona() -> None:
    frame = rows(
        {**STRONG, "invoices_total": 2.0},                          # thin file beats everything
        {**CLEAN, "oldest_dpd": 120.0},                             # distressed: 90+ days past due
        {**CLEAN, "dbt_avg_3m": 28.0, "dbt_shift_12m": 22.0},       # distressed: 22 >= 20 days later than its norm
        STRONG,                                                     # strong late payer
        {**CLEAN, "dispute_share_12m": 0.2},                        # disorganised
        {**CLEAN, "dbt_avg_3m": 20.0, "dbt_shift_12m": 12.0},       # weak: 12 days later than its own norm
        CLEAN,                                                      # prompt payer
        {**CLEAN, "dbt_avg_6m": 7.0, "dbt_avg_12m": 7.0},           # a few days late, no pattern: regular
    )
    pds = [0.01, 0.01, 0.45, 0.01, 0.01, 0.01, 0.01, 0.01]
    assert personas(frame, pds) == ["thin_file", "distressed", "distressed", "strong_late_payer", "disorganised",
                                    "weak_late_payer", "prompt_payer", "regular"]
    assert set(PERSONAS) == {"thin_file", "distressed", "disorganised", "weak_late_payer", "strong_late_payer",
                             "prompt_payer", "regular"}


@pytest.mark.parametrize("pd_value", [0.01, 0.14, 0.45, 0.99, np.nan])
def test_a_high_pd_never_hides_a_strong_late_payer(pd_value) -> None:
    # the demo model over-predicts stretchers (14% vs 2%): the ledger decides, whatever the PD
    assert one(STRONG, pd_value) == "strong_late_payer"


@pytest.mark.parametrize("pd_value", [0.0, 0.45, 0.99, np.nan])
def test_the_pd_is_never_read(pd_value) -> None:
    # a very high PD alone does not make a customer distressed (the calibration by persona would be circular)
    assert one({**CLEAN, "dbt_avg_6m": 8.0, "dbt_avg_3m": 8.0}, pd_value) == "regular"
    assert personas(rows(CLEAN, STRONG), None if np.isnan(pd_value) else [pd_value] * 2) == [
        "prompt_payer", "strong_late_payer"]


@pytest.mark.parametrize("override,expected", [
    ({"dbt_avg_3m": 30.0, "dbt_shift_12m": 20.0}, "distressed"),    # 20 days later than its own norm
    ({"dbt_avg_3m": 30.0, "dbt_shift_24m": 21.0}, "distressed"),    # ... or than a year before
    ({"dbt_avg_3m": 30.0, "dbt_shift_12m": 19.0}, "weak_late_payer"),  # 19 < 20: weak, not distressed
    ({"aging_31_60_share": 0.2, "aging_61_90_share": 0.1, "past_due_share": 0.3}, "distressed"),  # 30% 31+ days
    ({"aging_31_60_share": 0.29, "past_due_share": 0.29}, "prompt_payer"),  # 29% 31-60 days: no trigger
    ({"oldest_dpd": 90.0}, "distressed"),                           # already seriously delinquent
])
def test_each_distressed_trigger(override, expected) -> None:
    assert one({**CLEAN, **override}) == expected


def test_a_broken_pattern_does_not_beat_the_strong_one_but_90_days_do() -> None:
    # 30% of the balance 31-60 days past due is inside a 30-day stretcher's usual pattern
    assert one({**STRONG, "aging_31_60_share": 0.35}) == "strong_late_payer"
    assert one({**STRONG, "oldest_dpd": 95.0, "dbt_avg_12m": 70.0}) == "distressed"


@pytest.mark.parametrize("override,expected", [
    ({"dbt_avg_12m": 12.0}, "regular"),                          # not late enough (12 < 14 days)
    ({"tenure_months": 8.0}, "regular"),                         # too short a history (8 < 9 months)
    ({"dbt_volatility_12m": 9.0}, "regular"),                    # erratic: monthly DBT varies by 9 > 7 days
    ({"dbt_shift_24m": 9.0}, "weak_late_payer"),                 # 9 days later than a year before (>= 7)
    ({"dbt_shift_12m": 8.0, "dbt_shift_24m": np.nan}, "weak_late_payer"),  # later than its recent norm
    ({"dbt_trend_6m": 2.5}, "weak_late_payer"),                  # DBT rising 2.5 days a month
    ({"paid_in_full_share_12m": 0.8}, "regular"),                # 20% not paid in full in one payment
    ({"multi_payment_share_12m": 0.3, "paid_in_full_share_12m": 0.7}, "weak_late_payer"),  # instalments
    ({"balance_growth_3m": 3.5}, "weak_late_payer"),             # balance grew 3.5 months of sales, past due
    ({"oldest_dpd": 65.0}, "regular"),                           # 65 > 30 + 30 days: beyond its usual pattern
    ({"aging_61_90_share": 0.15, "aging_90p_share": 0.1}, "weak_late_payer"),  # 25% of the balance 61+ days
    ({"disputed_open_share": 0.3}, "disorganised"),              # paperwork problem
])
def test_each_condition_of_the_strong_pattern(override, expected) -> None:
    assert one({**STRONG, **override}) == expected
    # the PD plays no part: a high PD changes nothing
    assert one({**STRONG, **override}, 0.5) == expected


@pytest.mark.parametrize("override", [
    {"dispute_share_12m": 0.15},                                 # 15% of recent invoices disputed
    {"disputed_open_share": 0.2},                                # 20% of the open balance disputed
    {"deduction_share_12m": 0.02},                               # deductions 2% of sales
    {"unapplied_cash_12m": 4_000.0},                             # 0.5 months of sales (8,000 a month)
    {"short_paid_share_12m": 0.25, "dispute_share_12m": 0.05},   # paid short, with disputes behind it
    {"short_paid_share_12m": 0.25, "credit_note_share_12m": 0.01},  # paid short, with credit notes behind it
])
def test_each_disorganised_trigger(override) -> None:
    assert one({**CLEAN, **override}) == "disorganised"


def test_short_payment_without_billing_problems_is_not_disorganised() -> None:
    assert one({**CLEAN, "short_paid_share_12m": 0.25}) == "prompt_payer"
    assert one({**CLEAN, "unapplied_cash_12m": 3_900.0}) == "prompt_payer"  # 0.49 months of sales


@pytest.mark.parametrize("override,expected", [
    ({"dbt_avg_3m": 12.0, "dbt_shift_24m": 7.0}, "weak_late_payer"),
    ({"dbt_avg_3m": 5.0, "dbt_shift_24m": 7.0}, "prompt_payer"),    # later, but still within 5 days
    ({"dbt_avg_3m": 12.0, "dbt_trend_6m": 2.0}, "weak_late_payer"),
    ({"multi_payment_share_12m": 0.25}, "weak_late_payer"),
    ({"balance_growth_3m": 3.0, "past_due_share": 0.1}, "weak_late_payer"),
    ({"balance_growth_3m": 3.0}, "prompt_payer"),                 # growing with nothing past due: sales grew
    ({"aging_90p_share": 0.2}, "weak_late_payer"),
])
def test_each_weak_trigger(override, expected) -> None:
    assert one({**CLEAN, **override}) == expected


def test_precedence() -> None:
    # thin beats distressed; 90+ DPD beats strong and disorganised; disorganised beats weak
    frame = rows({**CLEAN, "invoices_total": 2.0, "oldest_dpd": 120.0},
                 {**STRONG, "oldest_dpd": 95.0, "dbt_avg_12m": 70.0},
                 {**CLEAN, "oldest_dpd": 100.0, "disputed_open_share": 0.5},
                 {**CLEAN, "disputed_open_share": 0.5, "dbt_trend_6m": 5.0, "dbt_avg_3m": 30.0})
    assert personas(frame, [0.5, 0.01, 0.01, 0.01]) == ["thin_file", "distressed", "distressed", "disorganised"]


def test_unscored_customer_still_gets_a_persona() -> None:
    frame = rows({**CLEAN, "dbt_avg_6m": 20.0, "dbt_avg_12m": 20.0, "dbt_volatility_12m": 12.0},
                 {**CLEAN, "oldest_dpd": 100.0}, STRONG)
    assert personas(frame, [np.nan, np.nan, np.nan]) == ["regular", "distressed", "strong_late_payer"]


def test_missing_columns_are_no_evidence() -> None:
    # a frame without the steadiness columns cannot show the strong pattern, nor the weak one
    frame = rows({"dbt_avg_6m": 30.0, "dbt_avg_12m": 30.0, "dbt_avg_3m": 30.0})
    assert personas(frame, [0.01]) == ["regular"]
    ev = persona_evidence(frame, PersonaPolicy())
    assert not ev["strong"][0] and not ev["weak"][0] and not ev["disorganised"][0]
    assert set(PERSONA_COLUMNS) >= {"dbt_shift_24m", "paid_in_full_share_12m", "balance_growth_3m"}


def test_thresholds_come_from_the_policy() -> None:
    loose = PersonaPolicy(strong_min_dbt=10.0)
    assert one({**STRONG, "dbt_avg_12m": 12.0}) == "regular"
    assert personas(rows({**STRONG, "dbt_avg_12m": 12.0}), [0.01], loose) == ["strong_late_payer"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(-10, 120), st.floats(-5, 5), st.floats(0, 1),
                          st.floats(0, 20)), min_size=1, max_size=20))
def test_exactly_one_known_persona(data) -> None:
    frame = rows(*({**CLEAN, "dbt_avg_6m": d, "dbt_avg_3m": d, "dbt_avg_12m": d, "dbt_trend_6m": t,
                    "dispute_share_12m": s, "dbt_volatility_12m": v} for _, d, t, s, v in data))
    got = personas(frame, [d[0] for d in data])
    assert len(got) == len(data) and set(got) <= set(PERSONAS)
    # the PD plays no part: lowering every PD to 0 changes no persona
    assert personas(frame, [0.0] * len(data)) == got


def test_frame_index_is_ignored() -> None:
    frame = rows(STRONG, CLEAN).set_axis(pd.Index([10, 3]))
    assert personas(frame, [0.01, 0.01]) == ["strong_late_payer", "prompt_payer"]


def test_usual_lateness_days() -> None:
    # the decision rules tolerate a strong late payer's worst 12-month days beyond terms + the margin; no other
    # persona gets any tolerance
    frame = rows({**STRONG, "dbt_max_12m": 45.0}, {**STRONG, "dbt_max_12m": np.nan}, {**CLEAN, "dbt_max_12m": 45.0})
    got = usual_lateness_days(frame, np.array(["strong_late_payer", "strong_late_payer", "prompt_payer"]), 15.0)
    assert got.tolist() == [60.0, 15.0, 0.0]


def test_a_broken_pattern_trigger_can_be_switched_off() -> None:
    late = rows({**CLEAN, "dbt_avg_3m": 30.0, "dbt_shift_12m": 25.0})
    aged = rows({**CLEAN, "aging_31_60_share": 0.5, "past_due_share": 0.5})
    assert personas(late, [0.01]) == ["distressed"] and personas(aged, [0.01]) == ["distressed"]
    assert personas(late, [0.01], PersonaPolicy(distressed_min_shift=None)) == ["weak_late_payer"]
    assert personas(aged, [0.01], PersonaPolicy(distressed_min_aged_share=None)) == ["prompt_payer"]
