"""Recent payment behaviour against the customer's own 12 months, computed by hand on the ledger of
``test_steadiness`` (customer S, net 30, as of 2024-12-31; customer N onboarded 2024-06-01):

  settled in the last 3 months (2024-10-01..2024-12-31): only r1 (800 cash + a 200 deduction on 2024-10-31,
  due 10-01: 30 days late, one cash payment, paid short) -> 1 settled, 1 late, 0 in instalments, 0 in full
  settled in the last 12 months: m1 (in full, one payment), m2 (two payments), r1 -> 1 of 3 in instalments
  -> multi_payment_share_3m 0, partial_payment_growth 0 - 1/3, late_paid_share_3m 1
  last invoice paid in full by one payment: m1 on 2024-03-17 -> 289 days before 2024-12-31
  N: n1 (600, due 2024-10-31) paid in full on 2024-11-05, 5 days late -> 56 days, 1 late of 1, no instalments
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskml.features import REGISTRY, build_features, build_snapshots

from .test_steadiness import AS_OF, _ledger

NEW = ("multi_payment_share_3m", "partial_payment_growth", "late_paid_share_3m", "days_since_full_payment")


@pytest.fixture(scope="module")
def feats() -> pd.DataFrame:
    return build_features(_ledger(), AS_OF).set_index("customer_id")


@pytest.mark.parametrize("cust,name,expected", [
    ("S", "multi_payment_share_3m", 0.0),
    ("S", "partial_payment_growth", 0.0 - 1 / 3),
    ("S", "late_paid_share_3m", 1.0),
    ("S", "days_since_full_payment", 289.0),
    ("N", "multi_payment_share_3m", 0.0),
    ("N", "partial_payment_growth", 0.0),
    ("N", "late_paid_share_3m", 1.0),
    ("N", "days_since_full_payment", 56.0),
])
def test_hand_computed(feats, cust, name, expected) -> None:
    assert feats.loc[cust, name] == pytest.approx(expected, abs=1e-9)


def test_growth_of_instalments_by_hand() -> None:
    from riskml.features.definitions import partial_payment_growth

    out = partial_payment_growth(pd.Series([0.5, 0.1, np.nan]), pd.Series([0.2, 0.1, 0.3]))
    assert out.iloc[0] == pytest.approx(0.3) and out.iloc[1] == pytest.approx(0.0) and np.isnan(out.iloc[2])


def test_nothing_settled_recently_is_missing_not_zero() -> None:
    # as of 2024-09-30 S settled nothing in the last 3 months (m2 settled 2024-06-30): no evidence, not 0
    f = build_features(_ledger(), "2024-09-30").set_index("customer_id")
    assert np.isnan(f.loc["S", "multi_payment_share_3m"]) and np.isnan(f.loc["S", "late_paid_share_3m"])
    assert np.isnan(f.loc["S", "partial_payment_growth"])
    assert f.loc["S", "days_since_full_payment"] == pytest.approx(197.0)  # m1 on 2024-03-17
    assert np.isnan(f.loc["N", "days_since_full_payment"])  # N has not paid anything yet


def test_later_rows_change_nothing() -> None:
    # r2 paid in full in one payment after the as-of date, and m2-like instalments after it: invisible
    later = [{"payment_id": "z1", "customer_id": "S", "invoice_id": "r2", "payment_date": "2025-01-05",
              "amount": 500.0},
             {"payment_id": "z2", "customer_id": "N", "invoice_id": "n1", "payment_date": "2025-02-01",
              "amount": 10.0}]
    a = build_features(_ledger(), AS_OF)[["customer_id", *NEW]]
    b = build_features(_ledger(later), AS_OF)[["customer_id", *NEW]]
    pd.testing.assert_frame_equal(a, b)
    # and the same at every month end of a snapshot table
    dates = ["2024-10-31", "2024-11-30", AS_OF]
    sa = build_snapshots(_ledger(), dates)[["customer_id", "as_of", *NEW]]
    sb = build_snapshots(_ledger(later), dates)[["customer_id", "as_of", *NEW]]
    pd.testing.assert_frame_equal(sa, sb)
    # the full payment of r2 does count once the as-of date reaches it
    f = build_features(_ledger(later), "2025-01-31").set_index("customer_id")
    assert f.loc["S", "days_since_full_payment"] == pytest.approx(26.0)


def test_registry_entries() -> None:
    for name in NEW:
        spec = REGISTRY[name]
        assert spec.model and spec.monotone == 1 and spec.missing, name
    assert REGISTRY["multi_payment_share_3m"].comparison == ("multi_payment_share_12m", "over 12 months")
    assert REGISTRY["late_paid_share_3m"].comparison == ("late_paid_share_12m", "over 12 months")
