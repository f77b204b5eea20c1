"""Steadiness and deviation from the customer's own norm, against values computed by hand.

Customer S (net 30, onboarded 2022-12-01), as of 2024-12-31:
  13-24 months before (payments 2023-01-01..2023-12-31), the customer's own earlier norm:
    b1 2023-03-01 due 03-31 1,000: paid 2023-04-20 (20 days late)
    b2 2023-06-01 due 07-01 3,000: paid 2023-07-11 (10 days late)      -> baseline (20,000 + 30,000) / 4,000 = 12.5
  4-12 months before (payments 2024-01-01..2024-09-30):
    m1 2024-02-01 due 03-02 2,000: paid 2024-03-17 (15 days), one payment in full
    m2 2024-05-01 due 05-31 1,000: 500 on 06-10 (10 days) + 500 on 06-30 (30 days): instalments
                                                  -> (30,000 + 5,000 + 15,000) / 3,000 = 16.667
  last 3 months (payments 2024-10-01..2024-12-31):
    r1 2024-09-01 due 10-01 1,000: 800 paid 10-31 (30 days) + a deduction of 200: paid short
    r2 2024-11-15 due 12-15   500: open                                  -> dbt_avg_3m = 30
  dbt_avg_24m = (20,000 + 30,000 + 30,000 + 5,000 + 15,000 + 24,000) / 7,800 = 15.897
  settled in the last 12 months: m1 (in full, one payment), m2 (instalments), r1 (short) -> 1/3 in full
  steadiness: monthly DBT 15 (March), 20 (June), 30 (October): std sqrt(175/3) = 7.64 over a 12-month DBT of
  74,000 / 3,800 = 19.47 -> dbt_variation_12m = 7.64 / (19.47 + 5) = 0.312
  sales of the last 12 months: 2,000 + 1,000 + 1,000 + 500 = 4,500 = 375 a month
  open balance: 500 now; 1,000 at 2024-09-30 (r1); 0 at 2023-12-31
Customer N has only recent history (onboarded 2024-06-01): no earlier norm.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskml.features import REGISTRY, build_features

from .ledgers import make_ledger

AS_OF = "2024-12-31"


def _ledger(extra_payments=()):
    inv = lambda i, c, d, due, amt: {"invoice_id": i, "customer_id": c, "invoice_date": d,  # noqa: E731
                                     "due_date": due, "amount": amt}
    pay = lambda p, c, i, d, amt: {"payment_id": p, "customer_id": c, "invoice_id": i,  # noqa: E731
                                   "payment_date": d, "amount": amt}
    return make_ledger(
        customers=[{"customer_id": "S", "onboarded_date": "2022-12-01"},
                   {"customer_id": "N", "onboarded_date": "2024-06-01"}],
        invoices=[inv("b1", "S", "2023-03-01", "2023-03-31", 1000.0), inv("b2", "S", "2023-06-01", "2023-07-01", 3000.0),
                  inv("m1", "S", "2024-02-01", "2024-03-02", 2000.0), inv("m2", "S", "2024-05-01", "2024-05-31", 1000.0),
                  inv("r1", "S", "2024-09-01", "2024-10-01", 1000.0), inv("r2", "S", "2024-11-15", "2024-12-15", 500.0),
                  inv("n1", "N", "2024-10-01", "2024-10-31", 600.0)],
        payments=[pay("p1", "S", "b1", "2023-04-20", 1000.0), pay("p2", "S", "b2", "2023-07-11", 3000.0),
                  pay("p3", "S", "m1", "2024-03-17", 2000.0), pay("p4", "S", "m2", "2024-06-10", 500.0),
                  pay("p5", "S", "m2", "2024-06-30", 500.0), pay("p6", "S", "r1", "2024-10-31", 800.0),
                  pay("p7", "N", "n1", "2024-11-05", 600.0), *extra_payments],
        adjustments=[{"adjustment_id": "a1", "customer_id": "S", "invoice_id": "r1", "date": "2024-10-31",
                      "amount": 200.0, "kind": "deduction"}],
    )


@pytest.fixture(scope="module")
def feats() -> pd.DataFrame:
    return build_features(_ledger(), AS_OF).set_index("customer_id")


@pytest.mark.parametrize("name,expected", [
    ("dbt_avg_3m", 30.0),
    ("dbt_avg_24m", 124_000 / 7_800),
    ("dbt_baseline_24m", 12.5),
    ("dbt_shift_24m", 30.0 - 12.5),
    ("dbt_shift_12m", 30.0 - 50_000 / 3_000),
    # the larger of the two: 17.5 days later than the 13-24 month norm beats 13.33 against months 4-12
    ("dbt_shift_max", 30.0 - 12.5),
    ("paid_in_full_share_12m", 1 / 3),
    # monthly DBT of the last 12 months: March 15, June 20 (500 x 10 + 500 x 30), October 30 -> sample
    # variance 175/3; 12-month DBT 74,000 / 3,800
    ("dbt_volatility_12m", np.sqrt(175 / 3)),
    ("dbt_variation_12m", np.sqrt(175 / 3) / (74_000 / 3_800 + 5.0)),
    ("balance_growth_3m", (500.0 - 1000.0) / 375.0),
    ("balance_growth_12m", (500.0 - 0.0) / 375.0),
])
def test_hand_computed(feats, name, expected) -> None:
    assert feats.loc["S", name] == pytest.approx(expected, abs=1e-9)


def test_no_earlier_norm_is_missing_not_zero(feats) -> None:
    n = feats.loc["N"]
    assert np.isnan(n["dbt_baseline_24m"]) and np.isnan(n["dbt_shift_24m"])
    # paid 5 days late in the last 3 months and nothing in months 4-12: no recent norm either
    assert n["dbt_avg_3m"] == pytest.approx(5.0) and np.isnan(n["dbt_shift_12m"])
    assert np.isnan(n["dbt_shift_max"])  # neither norm: no evidence
    assert n["paid_in_full_share_12m"] == 1.0
    assert n["balance_growth_3m"] == pytest.approx(0.0)  # 0 open now, 0 at 2024-09-30


def test_later_rows_change_nothing() -> None:
    late = [{"payment_id": "z", "customer_id": "S", "invoice_id": "r2", "payment_date": "2025-01-05",
             "amount": 500.0}]
    a = build_features(_ledger(), AS_OF)
    b = build_features(_ledger(late), AS_OF)
    pd.testing.assert_frame_equal(a, b)


def test_registry_entries() -> None:
    # the 24-month figures feed personas and reports; the model gets the 12-month shift, paid in full and
    # the 3-month balance growth (training snapshots rarely have two years of ledger)
    assert {n for n in ("dbt_avg_24m", "dbt_baseline_24m", "dbt_shift_24m", "balance_growth_12m")
            if REGISTRY[n].model} == set()
    assert all(REGISTRY[n].model for n in ("dbt_shift_12m", "paid_in_full_share_12m", "balance_growth_3m",
                                           "dbt_variation_12m"))
    assert REGISTRY["dbt_shift_12m"].monotone == 1 and REGISTRY["paid_in_full_share_12m"].monotone == -1


def test_shift_max_takes_whichever_norm_exists() -> None:
    """dbt_shift_max by hand on the three cases: both norms (the larger), one missing (the other), none."""
    from riskml.features.definitions import dbt_shift_max

    s24 = pd.Series([17.5, np.nan, -3.0, np.nan])
    s12 = pd.Series([13.3, 8.0, np.nan, np.nan])
    out = dbt_shift_max(s24, s12)
    assert out.iloc[:3].tolist() == [17.5, 8.0, -3.0] and np.isnan(out.iloc[3])
    assert REGISTRY["dbt_shift_max"].model and REGISTRY["dbt_shift_max"].monotone == 1
