"""Features the decision policy reads (not model features), on hand-made ledgers with hand-computed values:
the undisputed past-due amount and age, the over-limit at two month ends, the insurance columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskml.features import build_features
from tests.features.ledgers import D, make_ledger


def test_undisputed_past_due_leaves_out_disputed_invoices() -> None:
    # as of 2026-09-30, net 30: I1 (due 2026-07-01, 10,000, disputed 2026-07-10) is 91 days past due but
    # disputed; I2 (due 2026-08-01, 4,000, 1,500 paid) is 60 days past due with 2,500 open; I3 is not due yet
    led = make_ledger(
        [{"customer_id": "A"}],
        invoices=[
            {"invoice_id": "I1", "customer_id": "A", "invoice_date": D("2026-06-01"), "due_date": D("2026-07-01"),
             "amount": 10_000.0, "disputed": True, "dispute_date": D("2026-07-10")},
            {"invoice_id": "I2", "customer_id": "A", "invoice_date": D("2026-07-02"), "due_date": D("2026-08-01"),
             "amount": 4_000.0},
            {"invoice_id": "I3", "customer_id": "A", "invoice_date": D("2026-09-20"), "due_date": D("2026-10-20"),
             "amount": 3_000.0},
        ],
        payments=[{"payment_id": "P1", "customer_id": "A", "invoice_id": "I2", "payment_date": D("2026-08-15"),
                   "amount": 1_500.0}],
    )
    f = build_features(led, "2026-09-30").iloc[0]
    assert f["past_due_amount"] == 12_500.0 and f["oldest_dpd"] == 91.0
    assert f["undisputed_past_due_amount"] == 2_500.0
    assert f["undisputed_oldest_dpd"] == 60.0
    # a dispute raised after the as-of date changes nothing at the as-of date
    late = led.invoices.assign(dispute_date=led.invoices["dispute_date"].where(
        led.invoices["invoice_id"] != "I1", D("2026-10-05")))
    g = build_features(led.__class__(**{**led.tables(), "invoices": late}), "2026-09-30").iloc[0]
    assert g["undisputed_past_due_amount"] == 12_500.0 and g["undisputed_oldest_dpd"] == 91.0


def test_sustained_over_limit_and_insurance() -> None:
    # limit 10,000; 12,000 invoiced on 2026-08-10 (open at both month ends), 3,000 more on 2026-09-10
    # -> 12,000 / 10,000 = 1.2 at the end of August, 15,000 / 10,000 = 1.5 at the as-of date: sustained 1.2
    led = make_ledger(
        [{"customer_id": "A", "insured_limit": 8_000.0, "insurer": "Allianz Trade",
          "insurance_expiry": D("2026-12-31")},
         {"customer_id": "B"}],
        invoices=[
            {"invoice_id": "I1", "customer_id": "A", "invoice_date": D("2026-08-10"), "due_date": D("2026-10-09"),
             "amount": 12_000.0},
            {"invoice_id": "I2", "customer_id": "A", "invoice_date": D("2026-09-10"), "due_date": D("2026-11-09"),
             "amount": 3_000.0},
        ],
    )
    f = build_features(led, "2026-09-30").set_index("customer_id")
    assert np.isclose(f.loc["A", "utilisation_sustained_2m"], 1.2)
    assert f.loc["A", "insured_limit"] == 8_000.0
    assert f.loc["A", "insurance_days_left"] == (pd.Timestamp("2026-12-31") - pd.Timestamp("2026-09-30")).days
    assert np.isnan(f.loc["B", "insured_limit"]) and np.isnan(f.loc["B", "insurance_days_left"])
