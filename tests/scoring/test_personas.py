"""Personas: each rule on a hand-made row, the documented precedence, and one persona per customer."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from riskml.config import PersonaPolicy, ThinFileRule
from riskml.scoring.personas import PERSONAS, assign_personas, thin_file_mask
from tests.scoring.frames import rows


def personas(frame, pds):
    thin = thin_file_mask(frame, ThinFileRule())
    return assign_personas(frame, np.asarray(pds, dtype="float64"), PersonaPolicy(), thin).tolist()


def test_thin_file_rule() -> None:
    frame = rows({}, {"no_payment_history": 1.0}, {"invoices_total": 5.0}, {"tenure_months": 6.0},
                 {"invoices_total": 6.0, "tenure_months": 6.5})
    assert thin_file_mask(frame, ThinFileRule()).tolist() == [False, True, True, True, False]


def test_each_persona() -> None:
    frame = rows(
        {"invoices_total": 2.0},                                   # thin file
        {"oldest_dpd": 120.0},                                     # distressed by past-due days
        {},                                                        # distressed by PD
        {"dispute_share_12m": 0.2},                                # disputing
        {"dbt_trend_6m": 3.0, "dbt_avg_3m": 12.0},                 # deteriorating
        {"dbt_avg_6m": 20.0, "dbt_avg_3m": 20.0},                  # strong but stretching
        {},                                                        # prompt payer
        {"dbt_avg_6m": 20.0, "dbt_avg_3m": 20.0},                  # late, middling PD: regular
        {"dbt_avg_6m": 7.0},                                       # between prompt and stretching: regular
    )
    pds = [0.01, 0.01, 0.25, 0.01, 0.01, 0.01, 0.01, 0.10, 0.01]
    assert personas(frame, pds) == ["thin_file", "distressed", "distressed", "disputing", "deteriorating",
                                    "stretching", "prompt_payer", "regular", "regular"]


def test_precedence() -> None:
    # thin beats distressed; distressed beats disputing; disputing beats deteriorating
    frame = rows({"invoices_total": 2.0, "oldest_dpd": 120.0},
                 {"oldest_dpd": 120.0, "disputed_open_share": 0.5},
                 {"disputed_open_share": 0.5, "dbt_trend_6m": 5.0, "dbt_avg_3m": 30.0})
    assert personas(frame, [0.5, 0.01, 0.01]) == ["thin_file", "distressed", "disputing"]


def test_unscored_customer_still_gets_a_persona() -> None:
    frame = rows({"dbt_avg_6m": 20.0}, {"oldest_dpd": 100.0})
    assert personas(frame, [np.nan, np.nan]) == ["regular", "distressed"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(-10, 120), st.floats(-5, 5), st.floats(0, 1)),
                min_size=1, max_size=20))
def test_exactly_one_known_persona(data) -> None:
    frame = rows(*({"dbt_avg_6m": d, "dbt_avg_3m": d, "dbt_trend_6m": t, "dispute_share_12m": s}
                   for _, d, t, s in data))
    got = personas(frame, [d[0] for d in data])
    assert len(got) == len(data) and set(got) <= set(PERSONAS)
