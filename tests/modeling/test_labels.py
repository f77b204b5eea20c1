"""Label construction on tiny hand-made ledgers: one customer per edge case, expectations by hand.

As-of date T = 2024-01-31 with a 12-month horizon, so the window is (2024-01-31, 2025-01-31]; a filler
customer's payment on 2025-06-30 makes that the ledger's last date, so every window is fully observed.
"""

from __future__ import annotations

import pandas as pd
import pytest

from riskml.config import LabelConfig
from riskml.modeling.labels import describe_definition, horizon_end, label_snapshots, snapshot_dates
from tests.features.ledgers import make_ledger

D = pd.Timestamp
T = D("2024-01-31")
E = D("2025-01-31")
DUE = D("2024-03-01")  # due date of most test invoices: 90 days past due is 2024-05-30


def _day(n: int, base: pd.Timestamp = DUE) -> pd.Timestamp:
    return base + pd.Timedelta(days=n)


def _case_ledger():
    """Customers named after their case, each with one invoice of 1,000 unless said otherwise."""
    customers, invoices, payments, adjustments = [], [], [], []

    def inv(cid: str, due: pd.Timestamp = DUE, amount: float = 1000.0, date: pd.Timestamp | None = None,
            dispute: pd.Timestamp | None = None) -> str:
        iid = f"I_{cid}_{len(invoices)}"
        invoices.append({"invoice_id": iid, "customer_id": cid, "invoice_date": date or due - pd.Timedelta(days=30),
                         "due_date": due, "amount": amount, "disputed": dispute is not None,
                         "dispute_date": dispute})
        return iid

    def pay(cid: str, iid: str, day: pd.Timestamp, amount: float) -> None:
        payments.append({"payment_id": f"P{len(payments)}", "customer_id": cid, "invoice_id": iid,
                         "payment_date": day, "amount": amount})

    def adj(cid: str, iid: str | None, day: pd.Timestamp, amount: float, kind: str) -> None:
        adjustments.append({"adjustment_id": f"A{len(adjustments)}", "customer_id": cid, "invoice_id": iid,
                            "date": day, "amount": amount, "kind": kind})

    def cust(cid: str) -> str:
        customers.append({"customer_id": cid, "onboarded_date": D("2022-01-01")})
        return cid

    c = cust("paid_day_89")
    pay(c, inv(c), _day(89), 1000.0)
    c = cust("paid_day_90")
    pay(c, inv(c), _day(90), 1000.0)
    c = cust("paid_day_91")
    pay(c, inv(c), _day(91), 1000.0)
    c = cust("never_paid")
    inv(c)
    c = cust("partial_open")  # 60% paid early, the rest never: still open at day 90
    pay(c, inv(c), _day(10), 600.0)
    c = cust("partial_settled")  # paid in two pieces, the second on day 80
    i = inv(c)
    pay(c, i, _day(10), 600.0)
    pay(c, i, _day(80), 400.0)
    c = cust("credit_note_settles")  # paid 700, credited 300 on day 60
    i = inv(c)
    pay(c, i, _day(5), 700.0)
    adj(c, i, _day(60), 300.0, "credit_note")
    c = cust("write_off")  # written off on day 30: a write-off event, not a DPD event
    adj(c, inv(c), _day(30), 1000.0, "write_off")
    c = cust("small_residual")  # 950 paid on time, 50 never: open at day 90 unless min_amount >= 50
    pay(c, inv(c), _day(0), 950.0)
    c = cust("small_invoice")  # an invoice of 40, never paid
    inv(c, amount=40.0)
    c = cust("small_write_off")
    i = inv(c)
    pay(c, i, _day(0), 970.0)
    adj(c, i, _day(20), 30.0, "write_off")
    # already delinquent at T: an invoice due 2023-10-01 reached 90 DPD on 2023-12-30 and is still open
    c = cust("delinquent_at_T")
    inv(c, due=D("2023-10-01"))
    # reached 90 DPD before T but paid before T: cured, so labeled (on its later behaviour)
    c = cust("cured_before_T")
    pay(c, inv(c, due=D("2023-09-01")), D("2024-01-15"), 1000.0)
    # reached 90 DPD before T, paid on T itself: not open at the end of T -> labeled
    c = cust("cured_on_T")
    pay(c, inv(c, due=D("2023-09-01")), T, 1000.0)
    # reaches 90 DPD exactly on T and is open at the end of T: already delinquent
    c = cust("reaches_on_T")
    inv(c, due=T - pd.Timedelta(days=90))
    # reaches 90 DPD the day after T: the first day of the window
    c = cust("reaches_T_plus_1")
    inv(c, due=T - pd.Timedelta(days=89))
    # horizon boundary: reaching 90 DPD on the window's last day counts, the day after does not (both
    # also bought and paid in December 2023, so they are in the population at T)
    for c, days in ((cust("reaches_on_E"), 90), (cust("reaches_E_plus_1"), 89)):
        inv(c, due=E - pd.Timedelta(days=days))
        pay(c, inv(c, due=D("2024-01-10"), date=D("2023-12-10")), D("2024-01-10"), 1000.0)
    c = cust("write_off_before_T")  # written off 2023-06-30, inside (T - 12 months, T]: excluded
    adj(c, inv(c, due=D("2023-05-01")), D("2023-06-30"), 1000.0, "write_off")
    c = cust("write_off_long_before_T")  # written off 2022-12-31, before (T - 12 months, T]: labeled
    adj(c, inv(c, due=D("2022-11-01")), D("2022-12-31"), 1000.0, "write_off")
    pay(c, inv(c, due=D("2024-01-10"), date=D("2023-12-10")), D("2024-01-10"), 1000.0)
    c = cust("dormant")  # last invoice 2022-05, paid: no invoice in 12 months, nothing open
    pay(c, inv(c, due=D("2022-06-01")), D("2022-06-01"), 1000.0)
    cust("never_invoiced")  # no invoice at all: no exposure
    c = cust("quiet_but_open")  # no invoice in the 12 months before T, but one still open at T (long terms)
    pay(c, inv(c, due=D("2024-01-15"), date=D("2022-12-15")), D("2024-02-01"), 1000.0)
    c = cust("recent_invoice")  # last invoice 11 months before T, paid: in the population
    pay(c, inv(c, due=D("2023-03-31")), D("2023-03-31"), 1000.0)
    c = cust("disputed_before_90")  # disputed on day 20, never paid: a paperwork problem, not a DPD event
    inv(c, dispute=_day(20))
    c = cust("disputed_after_90")  # disputed only on day 120: it had already reached 90 DPD unpaid
    inv(c, dispute=_day(120))
    c = cust("disputed_then_written_off")  # disputed, then written off: the write-off still counts
    adj(c, inv(c, dispute=_day(5)), _day(150), 1000.0, "write_off")
    c = cust("filler")  # its payment on 2025-06-30 is the ledger's last date
    pay(c, inv(c, due=D("2025-06-01")), D("2025-06-30"), 1000.0)
    return make_ledger(customers, invoices, payments, adjustments)


@pytest.fixture(scope="module")
def ledger():
    return _case_ledger()


def _labels(ledger, config: LabelConfig | None = None, dates=(T,)) -> pd.DataFrame:
    return label_snapshots(ledger, list(dates), config or LabelConfig()).set_index("customer_id")


def _label(frame: pd.DataFrame, cid: str) -> int | None:
    v = frame.loc[cid, "label"]
    return None if pd.isna(v) else int(v)


@pytest.mark.parametrize(("cid", "expected"), [
    ("disputed_before_90", 0),
    ("disputed_after_90", 1),
    ("disputed_then_written_off", 1),
    ("paid_day_89", 0),
    ("paid_day_90", 0),  # paid on day 90: not open at the end of day due + 90
    ("paid_day_91", 1),
    ("never_paid", 1),
    ("partial_open", 1),
    ("partial_settled", 0),
    ("credit_note_settles", 0),
    ("write_off", 1),
    ("small_residual", 1),  # 95% paid is below the settled share (99%): the residual is open
    ("small_invoice", 1),
    ("small_write_off", 1),
    ("cured_before_T", 0),
    ("cured_on_T", 0),
    ("reaches_T_plus_1", 1),
    ("reaches_on_E", 1),
    ("reaches_E_plus_1", 0),
    ("write_off_long_before_T", 0),
    ("recent_invoice", 0),
])
def test_default_definition(ledger, cid: str, expected: int) -> None:
    lab = _labels(ledger)
    assert lab.loc[cid, "status"] == "labeled"
    assert _label(lab, cid) == expected


def test_event_date_and_kind(ledger) -> None:
    lab = _labels(ledger)
    assert lab.loc["paid_day_91", "event_date"] == _day(90)
    assert lab.loc["paid_day_91", "event_kind"] == "dpd"
    assert lab.loc["write_off", "event_date"] == _day(30)
    assert lab.loc["write_off", "event_kind"] == "write_off"
    assert lab.loc["reaches_on_E", "event_date"] == E
    assert pd.isna(lab.loc["paid_day_89", "event_date"])


@pytest.mark.parametrize("cid", ["delinquent_at_T", "reaches_on_T", "write_off_before_T"])
def test_customers_already_delinquent_are_excluded(ledger, cid: str) -> None:
    lab = _labels(ledger)
    assert lab.loc[cid, "status"] == "delinquent_at_as_of"
    assert _label(lab, cid) is None


def test_dormant_customers_are_outside_the_population(ledger) -> None:
    lab = _labels(ledger)
    assert lab.loc["dormant", "status"] == "dormant"
    assert lab.loc["never_invoiced", "status"] == "dormant"
    assert lab.loc["quiet_but_open", "status"] == "labeled"  # something open at T: exposure
    assert _label(lab, "quiet_but_open") == 0
    assert _labels(ledger, LabelConfig(dormant_months=0)).loc["dormant", "status"] == "labeled"


def test_write_offs_can_be_left_out(ledger) -> None:
    lab = _labels(ledger, LabelConfig(include_write_offs=False))
    assert _label(lab, "write_off") == 0  # the write-off settled the invoice on day 30: no DPD either
    assert lab.loc["write_off_before_T", "status"] == "labeled"  # a past write-off no longer excludes


def test_min_amount_ignores_small_items(ledger) -> None:
    lab = _labels(ledger, LabelConfig(min_amount=50.0))
    assert _label(lab, "small_residual") == 0  # 50 open is not more than 50
    assert _label(lab, "small_invoice") == 0  # an invoice of 40 never has more than 50 open
    assert _label(lab, "small_write_off") == 0  # a write-off of 30 is not above 50
    assert _label(lab, "partial_open") == 1  # 400 open still counts
    assert _label(_labels(ledger, LabelConfig(min_amount=49.0)), "small_residual") == 1


def test_threshold_and_horizon_are_settings(ledger) -> None:
    lab = _labels(ledger, LabelConfig(dpd_threshold=60))
    assert _label(lab, "paid_day_89") == 1  # open at the end of day 60
    short = _labels(ledger, LabelConfig(horizon_months=3))  # window (2024-01-31, 2024-04-30]
    assert _label(short, "never_paid") == 0  # reaches 90 DPD on 2024-05-30, after the window
    assert _label(short, "reaches_T_plus_1") == 1


def test_windows_that_end_after_the_ledger_are_censored(ledger) -> None:
    lab = label_snapshots(ledger, [T, D("2024-06-30"), D("2024-07-31")], LabelConfig())
    by_date = lab.groupby("as_of")["status"].agg(lambda s: set(s))
    assert "censored" not in by_date[T]
    assert "censored" not in by_date[D("2024-06-30")]  # window ends 2025-06-30, the ledger's last date
    assert by_date[D("2024-07-31")] == {"censored"}
    assert lab.loc[lab["status"] == "censored", "label"].isna().all()


def test_every_customer_and_date_gets_one_row(ledger) -> None:
    dates = [T, D("2024-02-29")]
    lab = label_snapshots(ledger, dates, LabelConfig())
    assert len(lab) == len(ledger.customers) * 2
    assert not lab.duplicated(["customer_id", "as_of"]).any()
    assert set(lab["status"]) <= {"labeled", "censored", "delinquent_at_as_of", "dormant"}
    assert lab.loc[lab["status"] == "labeled", "label"].notna().all()


def test_snapshot_dates_and_horizon_end(ledger) -> None:
    assert horizon_end(D("2024-02-29"), 12) == D("2025-02-28")
    assert horizon_end(D("2024-01-15"), 1) == D("2024-02-15")
    dates = snapshot_dates(ledger, warmup_months=6, horizon_months=12)
    assert all(d.is_month_end for d in dates)
    assert dates[-1] == D("2024-06-30")  # the latest month end whose window ends by 2025-06-30


def test_definition_text_names_the_settings() -> None:
    text = describe_definition(LabelConfig(dpd_threshold=60, horizon_months=6, min_amount=100.0))
    assert "due_date + 60" in text and "6 months" in text and "100.00" in text
    assert "written off" in text
    assert "written off" not in describe_definition(LabelConfig(include_write_offs=False))


def test_disputed_invoices_count_when_exclude_disputed_is_off(ledger) -> None:
    lab = _labels(ledger, LabelConfig(exclude_disputed=False))
    assert _label(lab, "disputed_before_90") == 1
    assert "do not count" not in describe_definition(LabelConfig(exclude_disputed=False))
    assert "invoices disputed by then do not count" in describe_definition(LabelConfig())
