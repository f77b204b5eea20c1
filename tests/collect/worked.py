"""The worked example of docs/collections.md: three customers as of 2026-09-30, every figure computable by
hand (the tests check them)."""

from __future__ import annotations

import pandas as pd

from riskml.data.ledger import Ledger
from tests.features.ledgers import make_ledger

AS_OF = pd.Timestamp("2026-09-30")


def worked_ledger() -> Ledger:
    """Alpha (distressed, 92 days past due), Beta (a strong late payer, 30 days past due), Gamma (disorganised:
    a disputed invoice, a deduction and unapplied cash that would release its held orders)."""
    customers = [
        {"customer_id": "A", "name": "Alpha GmbH", "credit_limit": 30_000.0, "country": "DE",
         "onboarded_date": "2024-01-01"},
        {"customer_id": "B", "name": "Beta SA", "credit_limit": 50_000.0, "country": "FR",
         "onboarded_date": "2024-01-01"},
        {"customer_id": "C", "name": "=Gamma+Ltd", "credit_limit": 10_000.0, "country": "DE",
         "onboarded_date": "2024-01-01"},
    ]
    invoices = [
        # Alpha: 10,000 92 days past due, 5,000 15 days past due, 8,000 not yet due
        {"invoice_id": "A0", "customer_id": "A", "invoice_date": "2026-03-01", "due_date": "2026-03-31", "amount": 6_000.0},
        {"invoice_id": "A1", "customer_id": "A", "invoice_date": "2026-05-31", "due_date": "2026-06-30", "amount": 10_000.0},
        {"invoice_id": "A2", "customer_id": "A", "invoice_date": "2026-08-16", "due_date": "2026-09-15", "amount": 5_000.0},
        {"invoice_id": "A3", "customer_id": "A", "invoice_date": "2026-09-30", "due_date": "2026-10-30", "amount": 8_000.0},
        # Beta: paid an earlier invoice 35 days late; 20,000 30 days past due
        {"invoice_id": "B0", "customer_id": "B", "invoice_date": "2026-05-01", "due_date": "2026-05-31", "amount": 12_000.0},
        {"invoice_id": "B1", "customer_id": "B", "invoice_date": "2026-08-01", "due_date": "2026-08-31", "amount": 20_000.0},
        # Gamma: 4,000 disputed, 46 days past due; C2 settled by cash 2,500 + a deduction of 500
        {"invoice_id": "C1", "customer_id": "C", "invoice_date": "2026-07-16", "due_date": "2026-08-15", "amount": 4_000.0,
         "disputed": True, "dispute_date": "2026-08-20"},
        {"invoice_id": "C2", "customer_id": "C", "invoice_date": "2026-07-20", "due_date": "2026-08-19", "amount": 3_000.0},
    ]
    payments = [
        {"payment_id": "PA0", "customer_id": "A", "invoice_id": "A0", "payment_date": "2026-05-10", "amount": 6_000.0},
        {"payment_id": "PB0", "customer_id": "B", "invoice_id": "B0", "payment_date": "2026-07-05", "amount": 12_000.0},
        {"payment_id": "PC2", "customer_id": "C", "invoice_id": "C2", "payment_date": "2026-08-25", "amount": 2_500.0},
        {"payment_id": "PC9", "customer_id": "C", "invoice_id": None, "payment_date": "2026-09-20", "amount": 6_000.0},
        # after the as-of date: changes nothing
        {"payment_id": "PA9", "customer_id": "A", "invoice_id": "A1", "payment_date": "2026-10-05", "amount": 10_000.0},
    ]
    adjustments = [
        {"adjustment_id": "D1", "customer_id": "C", "invoice_id": "C2", "date": "2026-08-25", "amount": 500.0,
         "kind": "deduction"},
    ]
    return make_ledger(customers, invoices, payments, adjustments)


def worked_scores() -> pd.DataFrame:
    """The scores a `riskml score` run would carry for the three (old persona codes, no decision columns of
    the decisions branches: the worklist derives expected loss and release amounts)."""
    return pd.DataFrame({
        "customer_id": ["A", "B", "C"],
        "as_of": [AS_OF] * 3,
        "pd": [0.40, 0.02, 0.05],
        "grade": ["10", "4", "6"],
        "persona": ["distressed", "stretching", "disputing"],
        "order_hold": [True, False, True],
        "hold_codes": ["past_due;revoked", "", "past_due"],
        "action": ["revoke", "keep", "keep"],
    })
