"""UCI "Default of Credit Card Clients" (Taiwan, Apr-Sep 2005, 30,000 accounts) -> ledger + labels.

The source holds, per card account, six monthly statement balances (``BILL_AMT6..1`` = Apr..Sep), the
amount paid in each month (``PAY_AMT6..1``) and a repayment status per month (``PAY_6..PAY_0``: -2 no
consumption, -1 paid in full, 0 revolving, k >= 1 = k months behind). This is revolving consumer credit,
not trade credit; the mapping below is a reconstruction, documented with what it loses in
docs/real-data.md ("Taiwan").

Statements become invoices, payments are applied oldest first, and the status decides what stays open
(reproducing it as days past due at each month end wherever the data allow):

* statement of month m: dated the month end, due 20 days later (the 20th of the next month);
* the payment of month m (``PAY_AMT`` of that month) pays the earlier statements; it is dated on the
  due date of the previous statement (the 20th) when the month's status is <= 0 (on time), else on the
  month end (late);
* after the payment, whatever is still open on statements older than the status allows is carried
  into the new statement with a ``credit_note`` adjustment on the same date: status <= 0 carries every
  earlier statement (a revolving balance is not past due), status k >= 1 keeps statements m-k..m-1 open
  (so at the month end the oldest open item is k cycles old: 10, 41, 72, ... days past due);
* the new statement is invoiced for the balance not already held by the open items; if the open items
  exceed the balance (credits, refunds), the newest are reduced with a ``credit_note``;
* cash beyond the open items is unapplied (empty ``invoice_id``), as a credit balance on a card;
* April: the balance is the opening position. An account k >= 1 months behind in April has it split
  evenly over the statements of months Apr-k..Apr (the data do not say how the arrears built up);
  April's payments paid March, which is not in the data, and are left out;
* statuses that contradict each other (more than one cycle further behind in a month): the later status
  wins. A statement it needs open is not carried forward in the months before, and cash pays it last.

Amounts are handled in integer cents, so every invoice balances exactly. ``SEX``, ``MARRIAGE`` and ``AGE``
are never read: they are protected characteristics (ECOA / Regulation B) and stay out of the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from riskml.config import DataConfig, ExtraAttribute
from riskml.errors import DataError
from riskml.importers.common import (
    Converted,
    contract_frame,
    labels_frame,
    parse_numbers,
    raise_problems,
    require_columns,
    row_problems,
)

NAME = "taiwan"
TITLE = "UCI default of credit card clients (Taiwan 2005)"
KNOWN_SHA256 = {"UCI_Credit_Card.csv": "a0f0ab49d6326671d6cd83be5c88dcf18007025fe9a53ecd699119c871176ca1"}
AS_OF = "2005-09-30"
FIRST_MONTH = pd.Period("2005-04", freq="M")
N_MONTHS = 6
TERMS_DAYS = 20
MAX_STATUS = 9
MIN_STATUS = -2
# source columns in calendar order, April first
STATUS_COLUMNS = ("PAY_6", "PAY_5", "PAY_4", "PAY_3", "PAY_2", "PAY_0")
BILL_COLUMNS = ("BILL_AMT6", "BILL_AMT5", "BILL_AMT4", "BILL_AMT3", "BILL_AMT2", "BILL_AMT1")
PAID_COLUMNS = ("PAY_AMT6", "PAY_AMT5", "PAY_AMT4", "PAY_AMT3", "PAY_AMT2", "PAY_AMT1")
LABEL_COLUMN = "default.payment.next.month"
# other spellings seen in copies of the data: the UCI .xls header, and PAY_1 for PAY_0
_ALIASES = {"default payment next month": LABEL_COLUMN, "PAY_1": "PAY_0"}
EDUCATION = {1: "graduate school", 2: "university", 3: "high school", 4: "other"}  # 0, 5, 6: undocumented
PROTECTED = ("SEX", "MARRIAGE", "AGE")


def read_taiwan(path: Path) -> pd.DataFrame:
    """Read and check the Taiwan CSV. Returns ``ID`` (text), ``LIMIT_BAL``, ``EDUCATION``, the status,
    bill and payment columns and the label, typed; protected characteristics are dropped on reading."""
    try:
        raw = pd.read_csv(path, dtype="str", keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({exc})") from None
    raw = raw.rename(columns={k: v for k, v in _ALIASES.items() if k in raw.columns and v not in raw.columns})
    numeric = ("LIMIT_BAL", "EDUCATION", *STATUS_COLUMNS, *BILL_COLUMNS, *PAID_COLUMNS, LABEL_COLUMN)
    require_columns(raw, ("ID", *numeric), path)
    problems: list[str] = []
    df = pd.DataFrame({"ID": raw["ID"].str.strip()})
    for col in numeric:
        df[col] = parse_numbers(raw, col, path, problems)
    problems += row_problems(path, df["ID"].isna(), "ID", "must not be empty")
    problems += row_problems(path, df["ID"].duplicated() & df["ID"].notna(), "ID", "must be unique", df["ID"])
    problems += row_problems(path, ~(df["LIMIT_BAL"] > 0) & df["LIMIT_BAL"].notna(), "LIMIT_BAL", "must be > 0",
                             df["LIMIT_BAL"])
    for col in (*STATUS_COLUMNS, "EDUCATION", LABEL_COLUMN):
        v = df[col]
        problems += row_problems(path, v.notna() & (v != v.round()), col, "must be a whole number", v)
    for col in STATUS_COLUMNS:
        v = df[col]
        problems += row_problems(path, v.notna() & ((v < MIN_STATUS) | (v > MAX_STATUS)), col,
                                 f"repayment status must be between {MIN_STATUS} and {MAX_STATUS}", v)
    for col in PAID_COLUMNS:
        v = df[col]
        problems += row_problems(path, v < 0, col, "amount paid must be >= 0", v)
    v = df[LABEL_COLUMN]
    problems += row_problems(path, v.notna() & ~v.isin([0, 1]), LABEL_COLUMN, "must be 0 or 1", v)
    raise_problems(problems)
    return df


@dataclass(frozen=True)
class _Calendar:
    """Dates and id suffixes of each statement month (index 0 = April 2005; negative = earlier)."""

    ym: dict[int, str]
    stmt: dict[int, str]
    due: dict[int, str]
    on_time: dict[int, str]  # payment date of a month whose status is <= 0: the previous statement's due date
    late: dict[int, str]  # payment date of a month whose status is >= 1: the month end


def _calendar() -> _Calendar:
    months = range(-MAX_STATUS - 1, N_MONTHS)
    ym, stmt, due = {}, {}, {}
    for m in months:
        p = FIRST_MONTH + m
        end = p.to_timestamp(how="end").normalize()
        ym[m] = p.strftime("%Y%m")
        stmt[m] = end.strftime("%Y-%m-%d")
        due[m] = (end + pd.Timedelta(days=TERMS_DAYS)).strftime("%Y-%m-%d")
    on_time = {m: due[m - 1] for m in months if m - 1 in due}
    return _Calendar(ym=ym, stmt=stmt, due=due, on_time=on_time, late=dict(stmt))


@dataclass
class _Rows:
    invoices: list[tuple]
    payments: list[tuple]
    adjustments: list[tuple]


def _requirements(k: list[int]) -> tuple[list[float], list[set[int]], int]:
    """What the statuses need of the ledger, per month t: the oldest statement month allowed to stay
    open at the end of t, the statement months some status at or after t needs open, and the depth of
    the April arrears.

    Status k >= 1 at month t needs the statement of month t-k open at its end; that statement must then
    also stay open at the ends of the months before t. So when statuses contradict each other (a jump of
    more than one cycle in a month, common in this data set) the later status wins."""
    inf = float("inf")
    req = [t - k[t] if k[t] >= 1 else inf for t in range(N_MONTHS)]
    oldest, needed = [], []
    for t in range(N_MONTHS):
        oldest.append(min([float(t - k[t]), *req[t + 1:]]))
        needed.append({int(r) for r in req[t:] if r != inf})
    depth = max(0, -int(min(min(req), 0)))
    return oldest, needed, depth


def _account(cid: str, status: list[int], bill: list[int], paid: list[int], cal: _Calendar, rows: _Rows,
             reproduced: np.ndarray) -> None:
    """Append the invoices, payments and adjustments of one account (amounts in cents) to ``rows``.

    ``reproduced[t]`` is set to True when, at the end of month t, the ledger's oldest open item is as
    many cycles old as the status says (nothing past due for a status <= 0)."""
    k = [max(s, 0) for s in status]
    oldest, needed, depth = _requirements(k)
    items: list[list] = []  # [invoice_id, month, open cents], oldest first

    def invoice(m: int, amount: int) -> None:
        inv_id = f"{cid}-{cal.ym[m]}"
        rows.invoices.append((inv_id, cid, cal.stmt[m], cal.due[m], amount))
        items.append([inv_id, m, amount])

    def check(t: int) -> bool:
        if k[t] == 0:
            return all(it[1] == t for it in items)
        return bool(items) and items[0][1] == t - k[t]

    # April: the opening position, split evenly over the statements the statuses need open
    if bill[0] > 0:
        part = bill[0] // (depth + 1)
        for m in range(-depth, 0):
            if part > 0:
                invoice(m, part)
        invoice(0, bill[0] - part * depth if part > 0 else bill[0])
    reproduced[0] = check(0)

    for t in range(1, N_MONTHS):
        day = cal.on_time[t] if status[t] <= 0 else cal.late[t]
        # cash pays the open statements oldest first, those a status needs open last
        order = [it for it in items if it[1] not in needed[t]] + [it for it in items if it[1] in needed[t]]
        cash = paid[t]
        n_pay = 0
        for it in order:
            if cash <= 0:
                break
            x = min(cash, it[2])
            it[2] -= x
            cash -= x
            n_pay += 1
            rows.payments.append((f"{cid}-P{cal.ym[t]}-{n_pay}", cid, it[0], day, x))
        if cash > 0:
            n_pay += 1
            rows.payments.append((f"{cid}-P{cal.ym[t]}-{n_pay}", cid, None, day, cash))
        n_adj = 0
        for it in items:  # carry what no status holds open into the new statement
            if it[2] > 0 and it[1] < oldest[t]:
                n_adj += 1
                rows.adjustments.append((f"{cid}-C{cal.ym[t]}-{n_adj}", cid, it[0], day, it[2], "credit_note"))
                it[2] = 0
        items[:] = [it for it in items if it[2] > 0]
        held = sum(it[2] for it in items)
        target = max(bill[t], 0)
        if held > target:  # the balance fell below the open items: reduce the newest
            excess = held - target
            for it in reversed(items):
                if excess <= 0:
                    break
                x = min(excess, it[2])
                it[2] -= x
                excess -= x
                n_adj += 1
                rows.adjustments.append((f"{cid}-C{cal.ym[t]}-{n_adj}", cid, it[0], cal.stmt[t], x, "credit_note"))
            items[:] = [it for it in items if it[2] > 0]
        elif target > held:
            invoice(t, target - held)
        reproduced[t] = check(t)


def _frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    """A frame of text columns and an ``amount`` column converted from cents (typed even when empty)."""
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    data = {c: pd.Series(v, dtype="str") for c, v in zip(columns, cols, strict=True) if c != "amount"}
    data["amount"] = pd.Series(cols[columns.index("amount")], dtype="int64") / 100.0
    return pd.DataFrame(data)[columns]


def _cents(values: pd.Series) -> list[int]:
    return np.rint(values.to_numpy("float64") * 100).astype("int64").tolist()


def _share(flags: np.ndarray) -> str:
    return f"{flags.mean():.1%}" if len(flags) else "none"


def taiwan_to_ledger(df: pd.DataFrame) -> Converted:
    """Map the checked Taiwan frame onto invoices, payments and carry-over credits (see the module doc)."""
    cal = _calendar()
    rows = _Rows([], [], [])
    ids = df["ID"].astype("str").tolist()
    status = df[list(STATUS_COLUMNS)].to_numpy("int64").tolist()
    bills = list(zip(*(_cents(df[c]) for c in BILL_COLUMNS), strict=True))
    paids = list(zip(*(_cents(df[c]) for c in PAID_COLUMNS), strict=True))
    reproduced = np.zeros((len(df), N_MONTHS), dtype=bool)
    for i, cid in enumerate(ids):
        _account(cid, status[i], list(bills[i]), list(paids[i]), cal, rows, reproduced[i])

    invoices = _frame(rows.invoices, ["invoice_id", "customer_id", "invoice_date", "due_date", "amount"])
    # every account was open by its first statement in the data (April 2005), or by its first invoice when
    # April arrears put that earlier; without the date, accounts never billed would not be customers yet
    first_invoice = invoices.groupby("customer_id")["invoice_date"].min().to_dict()
    onboarded = [min(first_invoice.get(cid, cal.stmt[0]), cal.stmt[0]) for cid in ids]  # ISO dates sort as text
    customers = pd.DataFrame({
        "customer_id": ids,
        "credit_limit": df["LIMIT_BAL"].to_numpy("float64"),
        "payment_terms_days": TERMS_DAYS,
        "onboarded_date": pd.Series(onboarded, dtype="str").to_numpy(),
        "education": df["EDUCATION"].astype("int64").map(EDUCATION).fillna("unknown").to_numpy(),
    })
    payments = _frame(rows.payments, ["payment_id", "customer_id", "invoice_id", "payment_date", "amount"])
    adjustments = _frame(rows.adjustments, ["adjustment_id", "customer_id", "invoice_id", "date", "amount", "kind"])

    labels = labels_frame(df["ID"], AS_OF, df[LABEL_COLUMN])
    cfg = DataConfig(
        as_of=AS_OF,
        extra_attributes={
            "education": ExtraAttribute(
                kind="categorical", monotone=0,
                description="Education of the card holder (graduate school, university, high school, other, "
                "unknown)",
                reason="Education: {value}",
            ),
        },
    )
    april_paid = df[PAID_COLUMNS[0]]
    unapplied = payments["invoice_id"].isna()
    sep_status = df[STATUS_COLUMNS[-1]]
    notes = (
        f"{len(customers):,} accounts; labels at {AS_OF}: {int(labels['label'].sum()):,} defaults "
        f"({labels['label'].mean():.2%})",
        f"{len(invoices):,} statement invoices, {len(payments):,} payment rows "
        f"({int(unapplied.sum()):,} unapplied, {payments.loc[unapplied, 'amount'].sum():,.0f} NT$), "
        f"{len(adjustments):,} carry-over credits",
        f"repayment status reproduced by the ledger's oldest open item at the month end: "
        f"{_share(reproduced.ravel())} of account-months, {_share(reproduced[:, -1])} of accounts in September; "
        f"of the September statuses >= 1, {_share(reproduced[sep_status.to_numpy() >= 1, -1])}",
        f"onboarded_date: the first statement in the data ({cal.stmt[0]}), or the first invoice when April arrears "
        f"date it earlier; {sum(cid not in first_invoice for cid in ids):,} accounts never had a "
        "positive balance and have no invoices",
        f"April payments (PAY_AMT6: {int((april_paid > 0).sum()):,} accounts, {april_paid.sum():,.0f} NT$) paid "
        "the March statement, which is not in the data, and are left out",
        "SEX, MARRIAGE and AGE are protected characteristics (ECOA / Regulation B) and were not imported",
    )
    return Converted(
        tables={
            "customers": contract_frame("customers", customers),
            "invoices": contract_frame("invoices", invoices),
            "payments": contract_frame("payments", payments),
            "adjustments": contract_frame("adjustments", adjustments),
        },
        data_config=cfg,
        labels=labels,
        notes=notes,
    )
