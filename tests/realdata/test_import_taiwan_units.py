"""The Taiwan mapping on hand-made accounts (no ../shared needed): hand-computed ledgers and properties."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskml.errors import DataError
from riskml.importers import taiwan
from riskml.importers.common import Converted

pytestmark = pytest.mark.slow

STATUS = list(taiwan.STATUS_COLUMNS)  # April first
BILL = list(taiwan.BILL_COLUMNS)
PAID = list(taiwan.PAID_COLUMNS)
MONTH_ENDS = [f"2005-{m:02d}-{d}" for m, d in ((4, 30), (5, 31), (6, 30), (7, 31), (8, 31), (9, 30))]


def account(cid: str, status: list[int], bill: list[float], paid: list[float], label: int = 0,
            limit: float = 50_000, education: int = 2) -> dict:
    """One source row from calendar-ordered lists (April first)."""
    row = {"ID": cid, "LIMIT_BAL": float(limit), "EDUCATION": float(education),
           taiwan.LABEL_COLUMN: float(label)}
    row.update({c: float(v) for c, v in zip(STATUS, status, strict=True)})
    row.update({c: float(v) for c, v in zip(BILL, bill, strict=True)})
    row.update({c: float(v) for c, v in zip(PAID, paid, strict=True)})
    return row


def rows_of(conv: Converted, table: str, cid: str) -> list[tuple]:
    df = conv.tables[table]
    df = df.loc[df["customer_id"] == cid]
    if table == "invoices":
        cols = ["invoice_id", "invoice_date", "due_date", "amount"]
    elif table == "payments":
        cols = ["payment_id", "invoice_id", "payment_date", "amount"]
    else:
        cols = ["adjustment_id", "invoice_id", "date", "amount"]
    out = df[cols].astype(object).where(df[cols].notna(), None)
    return [tuple(r) for r in out.itertuples(index=False)]


@pytest.fixture(scope="module")
def three() -> Converted:
    frame = pd.DataFrame([
        # paid in full each month; a credit balance in August (unapplied cash)
        account("A", [-1] * 6, [1000, 2000, 0, 1500, -200, 300], [999, 1000, 2000, 0, 1700, 0]),
        # revolving: minimum paid on time, the rest carried into the next statement
        account("B", [0] * 6, [10000, 9500, 9800, 9000, 9200, 9100], [700, 1000, 1000, 1500, 500, 1000]),
        # falls 1, 2, 3 cycles behind, catches up partly in August and fully in September
        account("C", [-1, 1, 2, 3, 2, 0], [2000, 3000, 4000, 4500, 4500, 4600], [0, 0, 0, 0, 1500, 5000], label=1),
    ])
    return taiwan.taiwan_to_ledger(frame)


def test_paid_in_full_account(three: Converted) -> None:
    assert rows_of(three, "invoices", "A") == [
        ("A-200504", "2005-04-30", "2005-05-20", 1000.0),
        ("A-200505", "2005-05-31", "2005-06-20", 2000.0),
        ("A-200507", "2005-07-31", "2005-08-20", 1500.0),
        ("A-200509", "2005-09-30", "2005-10-20", 300.0),
    ]
    assert rows_of(three, "payments", "A") == [
        ("A-P200505-1", "A-200504", "2005-05-20", 1000.0),
        ("A-P200506-1", "A-200505", "2005-06-20", 2000.0),
        ("A-P200508-1", "A-200507", "2005-08-20", 1500.0),
        ("A-P200508-2", None, "2005-08-20", 200.0),  # beyond the open statements: unapplied
    ]
    assert rows_of(three, "adjustments", "A") == []


def test_revolving_account_carries_the_balance(three: Converted) -> None:
    assert [r[3] for r in rows_of(three, "invoices", "B")] == [10000, 9500, 9800, 9000, 9200, 9100]
    assert rows_of(three, "payments", "B") == [
        ("B-P200505-1", "B-200504", "2005-05-20", 1000.0),
        ("B-P200506-1", "B-200505", "2005-06-20", 1000.0),
        ("B-P200507-1", "B-200506", "2005-07-20", 1500.0),
        ("B-P200508-1", "B-200507", "2005-08-20", 500.0),
        ("B-P200509-1", "B-200508", "2005-09-20", 1000.0),
    ]  # April's 700 paid March, which is not in the data
    assert rows_of(three, "adjustments", "B") == [
        ("B-C200505-1", "B-200504", "2005-05-20", 9000.0),
        ("B-C200506-1", "B-200505", "2005-06-20", 8500.0),
        ("B-C200507-1", "B-200506", "2005-07-20", 8300.0),
        ("B-C200508-1", "B-200507", "2005-08-20", 8500.0),
        ("B-C200509-1", "B-200508", "2005-09-20", 8200.0),
    ]


def test_delinquent_account_keeps_arrears_open(three: Converted) -> None:
    assert rows_of(three, "invoices", "C") == [
        ("C-200504", "2005-04-30", "2005-05-20", 2000.0),
        ("C-200505", "2005-05-31", "2005-06-20", 1000.0),
        ("C-200506", "2005-06-30", "2005-07-20", 1000.0),
        ("C-200507", "2005-07-31", "2005-08-20", 500.0),
        ("C-200508", "2005-08-31", "2005-09-20", 3000.0),
        ("C-200509", "2005-09-30", "2005-10-20", 4600.0),
    ]
    assert rows_of(three, "payments", "C") == [
        ("C-P200508-1", "C-200504", "2005-08-31", 1500.0),  # late: status 2 in August
        ("C-P200509-1", "C-200506", "2005-09-20", 1000.0),  # on time: status 0 in September
        ("C-P200509-2", "C-200507", "2005-09-20", 500.0),
        ("C-P200509-3", "C-200508", "2005-09-20", 3000.0),
        ("C-P200509-4", None, "2005-09-20", 500.0),
    ]
    assert rows_of(three, "adjustments", "C") == [
        ("C-C200508-1", "C-200504", "2005-08-31", 500.0),  # 3 -> 2 cycles behind: the oldest is carried
        ("C-C200508-2", "C-200505", "2005-08-31", 1000.0),
    ]


def test_a_later_status_wins_over_a_contradicting_earlier_one() -> None:
    """Revolving through August, then two months behind in September (a jump the codes cannot make):
    the July statement is kept open through August and paid last, so September shows it 41 days past due."""
    conv = taiwan.taiwan_to_ledger(pd.DataFrame([
        account("J", [0, 0, 0, 0, 0, 2], [1000] * 6, [0, 100, 100, 100, 100, 100])]))
    assert [r[3] for r in rows_of(conv, "invoices", "J")] == [1000, 1000, 1000, 1000, 100, 100]
    assert rows_of(conv, "payments", "J")[-2:] == [
        ("J-P200508-1", "J-200507", "2005-08-20", 100.0),
        ("J-P200509-1", "J-200508", "2005-09-30", 100.0),  # the newer statement first: July stays open
    ]
    assert [r[1] for r in rows_of(conv, "adjustments", "J")] == ["J-200504", "J-200505", "J-200506"]
    sep = open_at(conv, "2005-09-30")
    assert list(sep["invoice_id"]) == ["J-200507", "J-200509"]
    assert list(sep["open"]) == [900.0, 100.0]


def test_customers_labels_and_config(three: Converted) -> None:
    cust = three.tables["customers"]
    assert list(cust["customer_id"]) == ["A", "B", "C"]
    assert list(cust["credit_limit"]) == [50_000.0] * 3
    assert set(cust["payment_terms_days"]) == {taiwan.TERMS_DAYS}
    assert set(cust["education"]) == {"university"}
    # open by the first statement in the data; C's April arrears do not reach before April
    assert list(cust["onboarded_date"]) == ["2005-04-30"] * 3
    assert not set(cust.columns) & set(taiwan.PROTECTED)
    assert list(three.labels["label"]) == [0, 0, 1]
    assert set(three.labels["as_of"]) == {"2005-09-30"}
    assert three.data_config.as_of == "2005-09-30"
    assert set(three.data_config.extra_attributes) == {"education"}
    assert set(three.tables["adjustments"]["kind"]) == {"credit_note"}


def test_onboarding_date_covers_never_billed_accounts_and_april_arrears() -> None:
    """An account with no positive balance is still a customer (onboarded at the first statement in the
    data); an account two cycles behind in April is onboarded at its oldest reconstructed statement."""
    conv = taiwan.taiwan_to_ledger(pd.DataFrame([
        account("N", [-2] * 5 + [1], [0] * 6, [0] * 6, label=1),
        account("P", [2, 0, 0, 0, 0, 0], [3000] * 6, [0, 3000, 3000, 3000, 3000, 3000]),
    ]))
    cust = conv.tables["customers"].set_index("customer_id")
    assert cust.loc["N", "onboarded_date"] == "2005-04-30"
    assert not (conv.tables["invoices"]["customer_id"] == "N").any()
    assert cust.loc["P", "onboarded_date"] == "2005-02-28"
    assert conv.tables["invoices"].loc[conv.tables["invoices"]["customer_id"] == "P", "invoice_date"].min() == \
        "2005-02-28"
    assert list(conv.labels["customer_id"]) == ["N", "P"]  # every account keeps its label


def test_education_codes() -> None:
    frame = pd.DataFrame([account(str(i), [0] * 6, [100] * 6, [0] * 6, education=e)
                          for i, e in enumerate([1, 2, 3, 4, 0, 5, 6])])
    assert list(taiwan.taiwan_to_ledger(frame).tables["customers"]["education"]) == [
        "graduate school", "university", "high school", "other", "unknown", "unknown", "unknown"]


# ------------------------------------------------------------------------------------------ properties
def open_at(conv: Converted, day: str) -> pd.DataFrame:
    """Open amount and due date of every invoice at the end of ``day``, from the ledger tables alone."""
    inv = conv.tables["invoices"]
    inv = inv.loc[inv["invoice_date"] <= day]
    pay = conv.tables["payments"]
    adj = conv.tables["adjustments"]
    settled = pd.concat([
        pay.loc[pay["payment_date"] <= day, ["invoice_id", "amount"]],
        adj.loc[adj["date"] <= day, ["invoice_id", "amount"]],
    ]).dropna().groupby("invoice_id")["amount"].sum()
    out = inv.assign(open=inv["amount"] - inv["invoice_id"].map(settled).astype("float64").fillna(0.0))
    return out.loc[out["open"] > 1e-9]


statuses = st.lists(st.integers(-2, 8), min_size=6, max_size=6)
amounts = st.lists(st.integers(-3000, 60000), min_size=6, max_size=6)
payments = st.lists(st.one_of(st.just(0), st.integers(0, 60000)), min_size=6, max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(statuses, amounts, payments), min_size=1, max_size=4))
def test_ledger_is_valid_and_balances_match_statements(accounts: list) -> None:
    frame = pd.DataFrame([account(f"X{i}", s, b, p) for i, (s, b, p) in enumerate(accounts)])
    conv = taiwan.taiwan_to_ledger(frame)
    inv, pay, adj = (conv.tables[n] for n in ("invoices", "payments", "adjustments"))
    assert (inv["amount"] > 0).all() and (inv["due_date"] >= inv["invoice_date"]).all()
    assert (pay["amount"] > 0).all() and (adj["amount"] > 0).all()
    for df in (inv, pay, adj):
        assert df.iloc[:, 0].is_unique
    # no invoice settled beyond its amount, nothing settled before it was issued, by the same customer
    by_id = inv.set_index("invoice_id")
    for df, col in ((pay, "payment_date"), (adj, "date")):
        on = df.dropna(subset=["invoice_id"])
        assert (on[col].to_numpy() >= on["invoice_id"].map(by_id["invoice_date"]).to_numpy()).all()
        assert (on["customer_id"].to_numpy() == on["invoice_id"].map(by_id["customer_id"]).to_numpy()).all()
    settled = pd.concat([pay, adj]).dropna(subset=["invoice_id"]).groupby("invoice_id")["amount"].sum()
    assert (settled <= by_id["amount"].reindex(settled.index) + 1e-9).all()
    # cash: every month's payment after April, in full; April's is left out
    cash = pay.groupby(["customer_id", pay["payment_date"].str[:7]])["amount"].sum()
    expected_cash = {(f"X{i}", f"2005-{t + 4:02d}"): float(p[t])
                     for i, (_, _, p) in enumerate(accounts) for t in range(1, 6) if p[t] > 0}
    assert cash.to_dict() == pytest.approx(expected_cash)
    # the open balance at each statement date is the statement balance (a credit balance shows as 0)
    for t, day in enumerate(MONTH_ENDS):
        got = open_at(conv, day).groupby("customer_id")["open"].sum()
        want = {f"X{i}": float(max(b[t], 0)) for i, (_, b, _) in enumerate(accounts) if b[t] > 0}
        assert got.to_dict() == pytest.approx(want)


def consistent_statuses() -> st.SearchStrategy[list[int]]:
    """Statuses that could really happen: at most one more cycle behind each month."""
    def build(first: int, steps: list[int]) -> list[int]:
        out = [first]
        for s in steps:
            out.append(min(s, max(out[-1], 0) + 1))
        return out
    return st.builds(build, st.integers(-2, 5), st.lists(st.integers(-2, 6), min_size=5, max_size=5))


@settings(max_examples=40, deadline=None)
@given(consistent_statuses(), st.integers(100, 5000), st.lists(st.integers(1, 5000), min_size=5, max_size=5))
def test_status_is_reproduced_as_days_past_due(status: list[int], first: int, rises: list[int]) -> None:
    """With consistent statuses, a rising balance and no cash, the oldest open item at each month end is
    exactly as many cycles old as the status says (k cycles = the statement due k-1 months + 10 days ago)."""
    bill = [first * 10]
    for r in rises:
        bill.append(bill[-1] + r)
    conv = taiwan.taiwan_to_ledger(pd.DataFrame([account("Z", status, bill, [0] * 6)]))
    for t, day in enumerate(MONTH_ENDS):
        o = open_at(conv, day)
        past_due = o.loc[o["due_date"] < day]
        k = max(status[t], 0)
        if k == 0:
            assert past_due.empty
        else:
            oldest_due = pd.Timestamp(past_due["due_date"].min())
            expected = (pd.Period("2005-04", "M") + (t - k)).to_timestamp(how="end").normalize() + pd.Timedelta(days=20)
            assert oldest_due == expected
            dpd = (pd.Timestamp(day) - oldest_due).days
            assert 30 * (k - 1) < dpd <= 30 * k + 1


def test_bad_source_values_are_reported_with_line_and_column(tmp_path) -> None:
    rows = [account("1", [0] * 6, [100] * 6, [0] * 6), account("2", [0] * 6, [100] * 6, [0] * 6)]
    df = pd.DataFrame(rows)
    df.loc[1, "PAY_0"] = 11
    df.loc[0, "PAY_AMT3"] = -5
    df.loc[1, "LIMIT_BAL"] = 0
    path = tmp_path / "cards.csv"
    df.to_csv(path, index=False)
    with pytest.raises(DataError) as exc:
        taiwan.read_taiwan(path)
    msg = str(exc.value)
    assert f"{path}: line 3: column PAY_0: repayment status must be between -2 and 9" in msg
    assert f"{path}: line 2: column PAY_AMT3: amount paid must be >= 0" in msg
    assert f"{path}: line 3: column LIMIT_BAL: must be > 0" in msg


def test_protected_columns_are_not_read(tmp_path) -> None:
    df = pd.DataFrame([account("1", [0] * 6, [100] * 6, [0] * 6)]).assign(SEX=2, MARRIAGE=1, AGE=35)
    df = df.rename(columns={"PAY_0": "PAY_1", taiwan.LABEL_COLUMN: "default payment next month"})
    path = tmp_path / "cards.csv"
    df.to_csv(path, index=False)
    frame = taiwan.read_taiwan(path)  # the other spellings of PAY_0 and the label are accepted
    assert not set(frame.columns) & set(taiwan.PROTECTED)
    assert "PAY_0" in frame and taiwan.LABEL_COLUMN in frame
