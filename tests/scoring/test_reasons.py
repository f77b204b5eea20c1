"""Reason codes on hand-made contribution matrices: adverse side, family grouping, wording with the
customer's figures and the reference median, positive statements; invariants over random matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from riskml.explain.reasons import NEUTRAL_STATEMENT, POSITIVE_PREFIX, adverse_side, reason_codes
from riskml.features import feature_specs

SPECS = feature_specs()
NAMES = ["dbt_avg_3m", "dbt_avg_12m", "dbt_trend_6m", "late_paid_share_12m", "oldest_dpd", "history_months",
         "sales_avg_3m", "sales_avg_12m", "paid_share_due_3m", "no_credit_limit"]
MEDIANS = {"dbt_avg_3m": 4.0, "dbt_avg_12m": 4.0, "dbt_trend_6m": 0.0, "late_paid_share_12m": 0.6, "oldest_dpd": 0.0,
           "history_months": 7.5, "sales_avg_3m": 15_000.0, "sales_avg_12m": 12_000.0, "paid_share_due_3m": 1.0,
           "no_credit_limit": 0.0}
BASE = {"dbt_avg_3m": 23.0, "dbt_avg_12m": 6.0, "dbt_trend_6m": 3.0, "late_paid_share_12m": 0.9, "oldest_dpd": 45.0,
        "history_months": 36.0, "sales_avg_3m": 4_000.0, "sales_avg_12m": 9_000.0, "paid_share_due_3m": 0.7,
        "no_credit_limit": 0.0}


def frame(*overrides: dict) -> pd.DataFrame:
    return pd.DataFrame([{**BASE, **o} for o in (overrides or ({},))])


def contrib(*rows: dict) -> np.ndarray:
    """Contribution matrix (n, k + 1) from {feature: contribution} dicts; the expected value is -3."""
    out = np.zeros((len(rows), len(NAMES) + 1))
    out[:, -1] = -3.0
    for i, r in enumerate(rows):
        for f, v in r.items():
            out[i, NAMES.index(f)] = v
    return out


def codes(feats: pd.DataFrame, c: np.ndarray, n: int = 3) -> pd.DataFrame:
    return reason_codes(feats, c, NAMES, SPECS, MEDIANS, n=n)


def test_adverse_reasons_are_grouped_by_family_and_worded_with_figures() -> None:
    out = codes(frame(), contrib({"dbt_avg_3m": 0.9, "dbt_avg_12m": 0.5, "dbt_trend_6m": 0.4,
                                  "late_paid_share_12m": 0.6, "oldest_dpd": 0.3}))
    r = out.iloc[0]
    # three DBT features push hardest, but the DBT family takes one slot; lateness and aging follow
    assert r["reason_codes"] == "dbt_avg_3m;late_paid_share_12m;oldest_dpd"
    assert r["reason_1"] == ("Paid on average 23 days beyond terms over the last 3 months, up from 6 days over "
                             "12 months (portfolio median 4 days)")
    assert r["reason_2"] == "90% of invoices settled in the last 12 months were late (portfolio median 60%)"
    assert r["reason_3"] == "Oldest open invoice is 45 days past due (portfolio median 0 days)"


def test_a_factor_on_the_safe_side_of_the_median_is_never_an_adverse_reason() -> None:
    # long invoice history and DBT below the median both "push" risk up here (interaction artefacts)
    feats = frame({"dbt_avg_3m": 1.0})
    out = codes(feats, contrib({"history_months": 0.8, "dbt_avg_3m": 0.7, "oldest_dpd": 0.2}))
    assert out["reason_codes"].iloc[0] == "oldest_dpd"
    assert out["reason_2"].iloc[0] == "" and "history" not in out["reason_1"].iloc[0]
    # a short history is adverse, and cumulative features are stated without a median
    out = codes(frame({"history_months": 3.0}), contrib({"history_months": 0.8}))
    assert out["reason_codes"].iloc[0] == "history_months"
    assert out["reason_1"].iloc[0] == "3 months of invoice history"
    assert adverse_side(SPECS["history_months"]) == -1 and adverse_side(SPECS["dbt_avg_3m"]) == 1


def test_two_sided_features_say_which_side_and_flags() -> None:
    out = codes(frame({"no_credit_limit": 1.0}), contrib({"sales_avg_3m": 0.5, "no_credit_limit": 0.3}))
    assert out["reason_1"].iloc[0] == ("Sales of 4,000 a month over the last 3 months, down from 9,000 a month over "
                                       "12 months (below the portfolio median 15,000)")
    assert out["reason_2"].iloc[0] == "No credit limit has been set"


def test_missing_figures_are_named_not_shown_as_nan() -> None:
    out = codes(frame({"dbt_avg_3m": np.nan}), contrib({"dbt_avg_3m": 0.5}))
    assert out["reason_1"].iloc[0] == "No payment received in the last 3 months"


def test_no_adverse_factor_gives_strengths_never_an_empty_field() -> None:
    feats = frame({"dbt_avg_3m": 0.0, "late_paid_share_12m": 0.05, "paid_share_due_3m": 1.0, "oldest_dpd": 0.0})
    out = codes(feats, contrib({"dbt_avg_3m": -0.9, "late_paid_share_12m": -0.5, "paid_share_due_3m": -0.2,
                                "no_credit_limit": -0.4}))
    r = out.iloc[0]
    assert r["reason_codes"] == "+dbt_avg_3m;+late_paid_share_12m;+paid_share_due_3m"
    assert r["reason_1"] == POSITIVE_PREFIX + "Paid on average 0 days beyond terms over the last 3 months, down from " \
        "6 days over 12 months (portfolio median 4 days)"
    # "Only 100% ... has been paid" reads as a strength without the "Only"
    assert r["reason_3"] == POSITIVE_PREFIX + "100% of the amount that fell due in the last 3 months has been paid " \
        "(portfolio median 100%)"
    # a customer exactly at the average still gets a statement
    assert codes(frame(), contrib({}))["reason_1"].iloc[0] == NEUTRAL_STATEMENT


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.floats(-1, 1), min_size=len(NAMES), max_size=len(NAMES)), min_size=1, max_size=8),
       st.lists(st.floats(0, 60), min_size=8, max_size=8))
def test_invariants(cs: list[list[float]], dbts: list[float]) -> None:
    c = np.zeros((len(cs), len(NAMES) + 1))
    c[:, :-1] = np.array(cs)
    feats = frame(*({"dbt_avg_3m": dbts[i]} for i in range(len(cs))))
    out = codes(feats, c)
    for i, row in out.iterrows():
        assert row["reason_1"] != ""
        cited = [x for x in row["reason_codes"].split(";") if x]
        texts = [row[f"reason_{j + 1}"] for j in range(3) if row[f"reason_{j + 1}"]]
        assert len(cited) == len(texts) or (not cited and texts == [NEUTRAL_STATEMENT])
        fams = [SPECS[x.lstrip("+")].family for x in cited]
        assert len(fams) == len(set(fams))  # one reason per family
        for x in cited:
            f = x.lstrip("+")
            j, v = NAMES.index(f), feats[f].iloc[i]
            side = adverse_side(SPECS[f])
            if x.startswith("+"):
                assert c[i, j] < 0
            else:
                assert c[i, j] > 0
                if side and np.isfinite(v) and f != "no_credit_limit":
                    assert (v - MEDIANS[f]) * side > 0
