"""The in-memory Ledger: its date range also covers the cold-start case (a customer master alone)."""

from __future__ import annotations

import pandas as pd
import pytest

from riskml.errors import DataError
from tests.features.ledgers import make_ledger


def test_date_range_runs_from_first_invoice_to_last_event() -> None:
    ledger = make_ledger(
        [{"customer_id": "A"}],
        invoices=[{"invoice_id": "I1", "customer_id": "A", "invoice_date": "2024-01-05", "due_date": "2024-02-04",
                   "amount": 10.0}],
        payments=[{"payment_id": "P1", "customer_id": "A", "invoice_id": "I1", "payment_date": "2024-02-10",
                   "amount": 10.0}],
    )
    assert ledger.date_range() == (pd.Timestamp("2024-01-05"), pd.Timestamp("2024-02-10"))


def test_date_range_of_a_customer_master_alone_uses_its_dates() -> None:
    ledger = make_ledger([{"customer_id": "A", "onboarded_date": "2020-03-01", "last_review_date": "2023-06-30"},
                          {"customer_id": "B", "onboarded_date": "2021-01-15"}])
    assert ledger.date_range() == (pd.Timestamp("2020-03-01"), pd.Timestamp("2023-06-30"))


def test_a_ledger_without_any_date_is_a_data_error() -> None:
    with pytest.raises(DataError, match="no dated rows"):
        make_ledger([{"customer_id": "A"}]).date_range()
