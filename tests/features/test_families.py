"""Every feature family on one small hand-made ledger, against values computed by hand.

Customer A (net 30, limit 5,000, onboarded 2023-12-01, reviewed 2024-03-01), as of 2024-06-30:
  i1 01-10 due 02-09 1,000: paid 600 on 02-19 (10 days late) and 400 on 03-10 (30 days late)
  i2 02-10 due 03-11   500: paid on 03-11 (on time)
  i3 03-05 due 04-04   300: deduction 60 + payment 240 on 04-20 (16 days late; short paid)
  i4 05-01 due 05-31   800: open, disputed on 05-15 (30 days past due at the as-of date)
  i5 06-10 due 07-10   400: open, not yet due
  i6 02-01 due 03-02   200: 50 paid 04-01 (30 days late), 150 open (120 days past due)
  unapplied cash 70 on 06-01; on-account credit note 25 on 05-05;
  orders: 1,000 open since 06-25; 300 placed 04-01, closed 04-10.
Customer B has nothing at all (thin file).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from riskml.features import REGISTRY, build_features

from .ledgers import make_ledger

AS_OF = "2024-06-30"


@pytest.fixture(scope="module")
def feats() -> pd.Series:
    inv = lambda i, d, due, amt, **kw: {"invoice_id": i, "customer_id": "A", "invoice_date": d,  # noqa: E731
                                        "due_date": due, "amount": amt, **kw}
    pay = lambda p, i, d, amt: {"payment_id": p, "customer_id": "A", "invoice_id": i,  # noqa: E731
                                "payment_date": d, "amount": amt}
    ledger = make_ledger(
        customers=[{"customer_id": "A", "credit_limit": 5_000.0, "onboarded_date": "2023-12-01",
                    "last_review_date": "2024-03-01"},
                   {"customer_id": "B", "credit_limit": None}],
        invoices=[inv("i1", "2024-01-10", "2024-02-09", 1000.0), inv("i2", "2024-02-10", "2024-03-11", 500.0),
                  inv("i3", "2024-03-05", "2024-04-04", 300.0),
                  inv("i4", "2024-05-01", "2024-05-31", 800.0, disputed=True, dispute_date="2024-05-15"),
                  inv("i5", "2024-06-10", "2024-07-10", 400.0), inv("i6", "2024-02-01", "2024-03-02", 200.0)],
        payments=[pay("p1", "i1", "2024-02-19", 600.0), pay("p2", "i1", "2024-03-10", 400.0),
                  pay("p3", "i2", "2024-03-11", 500.0), pay("p4", "i3", "2024-04-20", 240.0),
                  pay("p5", "i6", "2024-04-01", 50.0), pay("u1", None, "2024-06-01", 70.0)],
        adjustments=[{"adjustment_id": "a1", "customer_id": "A", "invoice_id": "i3", "date": "2024-04-20",
                      "amount": 60.0, "kind": "deduction"},
                     {"adjustment_id": "a2", "customer_id": "A", "invoice_id": None, "date": "2024-05-05",
                      "amount": 25.0, "kind": "credit_note"}],
        orders=[{"order_id": "o1", "customer_id": "A", "order_date": "2024-06-25", "amount": 1000.0},
                {"order_id": "o2", "customer_id": "A", "order_date": "2024-04-01", "amount": 300.0,
                 "closed_date": "2024-04-10"}],
    )
    f = build_features(ledger, AS_OF).set_index("customer_id")
    return f


def a(feats, name):
    return feats.loc["A", name]


def test_days_beyond_terms(feats):
    assert a(feats, "dbt_avg_6m") == pytest.approx(23340 / 1790)
    assert a(feats, "dbt_avg_12m") == pytest.approx(23340 / 1790)
    assert a(feats, "dbt_avg_3m") == pytest.approx(5340 / 290)
    assert a(feats, "dbt_max_12m") == 30
    # monthly DBT Feb 10, Mar 12000/900, Apr 5340/290 -> slope over consecutive months
    y = np.array([10, 12000 / 900, 5340 / 290])
    assert a(feats, "dbt_trend_6m") == pytest.approx((y[2] - y[0]) / 2)
    assert a(feats, "dbt_trend_12m") == pytest.approx((y[2] - y[0]) / 2)
    assert a(feats, "dbt_volatility_12m") == pytest.approx(np.std(y, ddof=1))


def test_partial_payments(feats):
    assert a(feats, "multi_payment_share_12m") == pytest.approx(1 / 3)  # i1 of i1, i2, i3
    assert a(feats, "short_paid_share_12m") == pytest.approx(1 / 3)  # i3 (deduction)
    assert a(feats, "paid_share_due_3m") == pytest.approx(1 - 800 / 1100)  # i3 + i4 fell due


def test_lateness_history(feats):
    assert a(feats, "late_paid_count_12m") == 2
    assert a(feats, "late_paid_share_12m") == pytest.approx(2 / 3)
    assert a(feats, "late_amount_share_12m") == pytest.approx(1300 / 1800)
    assert a(feats, "late_days_avg_12m") == pytest.approx(23)
    assert a(feats, "open_late_share") == pytest.approx(2 / 3)
    assert a(feats, "open_late_days_avg") == pytest.approx(75)


def test_aging(feats):
    assert a(feats, "open_balance") == pytest.approx(1350)
    assert a(feats, "aging_current_amount") == pytest.approx(400)
    assert a(feats, "aging_1_30_amount") == pytest.approx(800)
    assert a(feats, "aging_31_60_amount") == 0
    assert a(feats, "aging_61_90_amount") == 0
    assert a(feats, "aging_90p_amount") == pytest.approx(150)
    assert a(feats, "aging_90p_share") == pytest.approx(150 / 1350)
    assert a(feats, "past_due_share") == pytest.approx(950 / 1350)
    assert a(feats, "oldest_dpd") == 120
    assert a(feats, "past_due_count") == 2


def test_exposure(feats):
    assert a(feats, "open_orders_amount") == 1000
    assert a(feats, "exposure") == pytest.approx(2350)
    assert a(feats, "utilisation") == pytest.approx(2350 / 5000)
    assert a(feats, "exposure_hwm_12m") == pytest.approx(1700)  # after i2 on 02-10
    assert a(feats, "utilisation_hwm_12m") == pytest.approx(1700 / 5000)
    assert a(feats, "no_credit_limit") == 0
    assert feats.loc["B", "no_credit_limit"] == 1
    assert np.isnan(feats.loc["B", "utilisation"])


def test_disputes_credits_unapplied(feats):
    assert a(feats, "dispute_share_12m") == pytest.approx(1 / 6)
    assert a(feats, "disputed_open_share") == pytest.approx(800 / 1350)
    assert a(feats, "credit_note_share_12m") == pytest.approx(25 / 3200)
    assert a(feats, "deduction_share_12m") == pytest.approx(60 / 3200)
    assert a(feats, "write_off_amount_12m") == 0
    assert a(feats, "unapplied_cash_12m") == 70
    assert a(feats, "unapplied_cash_age_days") == 29


def test_volume_and_relationship(feats):
    assert a(feats, "sales_avg_3m") == pytest.approx(400)
    assert a(feats, "sales_avg_12m") == pytest.approx(3200 / 12)
    assert a(feats, "sales_ratio_3m_12m") == pytest.approx(1.5)
    # monthly sales Jul-23..Jun-24 at x = 0..11: Jan 1000 (6), Feb 700 (7), Mar 300 (8), May 800 (10), Jun 400 (11)
    assert a(feats, "sales_trend_12m") == pytest.approx((25700 - 5.5 * 3200) / 143 / (3200 / 12))
    assert a(feats, "invoice_count_12m") == 6
    assert a(feats, "active_months_12m") == 5
    assert a(feats, "days_since_last_invoice") == 20
    assert a(feats, "days_since_last_payment") == 29
    assert a(feats, "tenure_months") == pytest.approx(212 / 30.4375)
    assert a(feats, "months_since_review") == pytest.approx(121 / 30.4375)
    assert a(feats, "payment_terms_days") == 30


def test_history_flags(feats):
    assert a(feats, "invoices_total") == 6
    assert a(feats, "paid_invoices_12m") == 3
    assert a(feats, "no_payment_history") == 0
    assert a(feats, "history_months") == pytest.approx(172 / 30.4375)
    b = feats.loc["B"]
    assert b["no_payment_history"] == 1 and b["invoices_total"] == 0
    assert np.isnan(b["dbt_avg_3m"]) and np.isnan(b["late_paid_share_12m"])  # no evidence is not 0


def test_review_after_as_of_is_not_known() -> None:
    ledger = make_ledger(customers=[{"customer_id": "A", "onboarded_date": "2020-01-31",
                                     "last_review_date": "2024-05-31"}])
    f = build_features(ledger, "2022-01-31").iloc[0]
    assert f["months_since_review"] == pytest.approx((pd.Timestamp("2022-01-31") - pd.Timestamp("2020-01-31")).days / 30.4375)


def test_extra_attributes_pass_through() -> None:
    ledger = make_ledger(customers=[{"customer_id": "A"}, {"customer_id": "B"}])
    cust = ledger.customers.assign(bureau_score=[55.0, np.nan], sector=pd.array(["retail", "mining"], dtype="str"))
    ledger = replace(ledger, customers=cust, extra_attributes=("bureau_score", "sector"))
    f = build_features(ledger, "2024-01-31").set_index("customer_id")
    assert f.loc["A", "bureau_score"] == 55.0 and np.isnan(f.loc["B", "bureau_score"])
    assert f.loc["B", "sector"] == "mining"


def test_registry_is_complete() -> None:
    for name, spec in REGISTRY.items():
        assert spec.description and spec.reason and spec.unit, name
        assert spec.monotone in (-1, 0, 1)
