"""Point-in-time correctness: rows dated after the as-of date change nothing, and the many-dates
snapshot path gives the same numbers as the one-date path."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskml.features import build_features, build_snapshots, month_ends

from .ledgers import make_ledger, random_ledger

pytestmark = pytest.mark.slow


def assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    a = a.sort_values(["as_of", "customer_id"]).reset_index(drop=True)
    b = b.sort_values(["as_of", "customer_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-9)


def _future_rows(ledger, as_of: pd.Timestamp, seed: int):
    """Invoices, payments (also on old invoices), adjustments and orders all dated after ``as_of``."""
    rng = np.random.default_rng(seed)
    later = lambda: as_of + pd.Timedelta(days=int(rng.integers(1, 400)))  # noqa: E731
    old = ledger.invoices.loc[ledger.invoices["invoice_date"] <= as_of, ["invoice_id", "customer_id"]]
    cust = ledger.customers["customer_id"].tolist()
    extra = make_ledger(
        customers=[{"customer_id": "x"}],
        invoices=[{"invoice_id": f"F{i}", "customer_id": cust[i % len(cust)], "invoice_date": (d := later()),
                   "due_date": d + pd.Timedelta(days=30), "amount": 999.0, "disputed": True} for i in range(5)],
        payments=[{"payment_id": f"FP{i}", "customer_id": r.customer_id, "invoice_id": r.invoice_id,
                   "payment_date": later(), "amount": 1.0} for i, r in enumerate(old.head(8).itertuples())]
        + [{"payment_id": "FU", "customer_id": cust[0], "invoice_id": None, "payment_date": later(), "amount": 7.0}],
        adjustments=[{"adjustment_id": f"FA{i}", "customer_id": r.customer_id, "invoice_id": r.invoice_id,
                      "date": later(), "amount": 1.0, "kind": "write_off"} for i, r in enumerate(old.head(4).itertuples())],
        orders=[{"order_id": "FO", "customer_id": cust[0], "order_date": later(), "amount": 5_000.0}],
    )
    return replace(
        ledger,
        invoices=pd.concat([ledger.invoices, extra.invoices], ignore_index=True),
        payments=pd.concat([ledger.payments, extra.payments], ignore_index=True),
        adjustments=pd.concat([ledger.adjustments, extra.adjustments], ignore_index=True),
        orders=pd.concat([ledger.orders, extra.orders], ignore_index=True),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), offset=st.integers(0, 800), month_end=st.booleans())
def test_rows_after_as_of_change_nothing(seed: int, offset: int, month_end: bool) -> None:
    ledger = random_ledger(seed)
    as_of = pd.Timestamp("2023-01-01") + pd.Timedelta(days=offset)
    if month_end:
        as_of = as_of + pd.offsets.MonthEnd(0)
    base = build_features(ledger, as_of)
    # removing every row dated after the as-of date changes nothing
    assert_same(base, build_features(ledger.until(as_of), as_of))
    # appending rows dated after it changes nothing either
    assert_same(base, build_features(_future_rows(ledger, as_of, seed), as_of))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_snapshots_equal_single_date_builds(seed: int) -> None:
    ledger = random_ledger(seed)
    dates = month_ends("2023-02-01", "2024-12-31")
    snaps = build_snapshots(ledger, dates)
    for d in dates[::5]:
        single = build_features(ledger, d)
        started = single["customer_id"].isin(snaps.loc[snaps["as_of"] == d, "customer_id"])
        assert_same(snaps.loc[snaps["as_of"] == d], single.loc[started])


def test_snapshots_on_arbitrary_dates_equal_single_date_builds() -> None:
    ledger = random_ledger(3)
    dates = [pd.Timestamp("2023-07-14"), pd.Timestamp("2024-02-29"), pd.Timestamp("2024-03-31")]
    snaps = build_snapshots(ledger, dates)
    for d in dates:
        single = build_features(ledger, d)
        keep = single["customer_id"].isin(snaps.loc[snaps["as_of"] == d, "customer_id"])
        assert_same(snaps.loc[snaps["as_of"] == d], single.loc[keep])


def test_payment_after_as_of_counts_as_unpaid() -> None:
    ledger = make_ledger(
        customers=[{"customer_id": "A"}],
        invoices=[{"invoice_id": "i", "customer_id": "A", "invoice_date": "2024-01-01",
                   "due_date": "2024-01-31", "amount": 100.0}],
        payments=[{"payment_id": "p", "customer_id": "A", "invoice_id": "i", "payment_date": "2024-03-15",
                   "amount": 100.0}],
    )
    before = build_features(ledger, "2024-03-14").iloc[0]
    assert before["open_balance"] == 100.0
    assert before["oldest_dpd"] == 43  # 2024-01-31 -> 2024-03-14
    assert np.isnan(before["dbt_avg_3m"])  # no payment known yet
    after = build_features(ledger, "2024-03-15").iloc[0]
    assert after["open_balance"] == 0.0
    assert after["dbt_avg_3m"] == 44.0


def test_every_customer_once_even_without_history() -> None:
    ledger = random_ledger(1)
    f = build_features(ledger, "2022-06-30")  # before any invoice
    assert sorted(f["customer_id"]) == sorted(ledger.customers["customer_id"])
    assert (f["no_payment_history"] == 1).all()
    assert (f["invoices_total"] == 0).all()


def test_as_of_must_be_single_date() -> None:
    with pytest.raises(ValueError, match="single date"):
        build_features(random_ledger(1), ["2024-01-31", "2024-02-29"])
