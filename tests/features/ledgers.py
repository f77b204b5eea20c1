"""Tiny hand-made ledgers for feature unit tests (hand-computed expectations live in the tests)."""

from __future__ import annotations

import pandas as pd

from riskml.data.ledger import Ledger, empty_table

D = pd.Timestamp


def make_ledger(
    customers: list[dict],
    invoices: list[dict] = (),
    payments: list[dict] = (),
    adjustments: list[dict] = (),
    orders: list[dict] = (),
) -> Ledger:
    """A typed Ledger from lists of row dicts (missing optional columns get their defaults)."""

    def frame(name: str, rows) -> pd.DataFrame:
        base = empty_table(name)
        if not rows:
            return base
        df = pd.DataFrame(list(rows))
        for col in base.columns:
            if col not in df:
                fill = float("nan") if base[col].dtype == "float64" else pd.NA
                df[col] = pd.Series([fill] * len(df), dtype=base[col].dtype) if base[col].dtype != bool \
                    else False
            if str(base[col].dtype).startswith("datetime"):
                df[col] = pd.to_datetime(df[col])
            elif base[col].dtype == "float64":
                df[col] = df[col].astype("float64")
            elif str(base[col].dtype) in ("str", "string", "object"):
                df[col] = df[col].astype("str")
        return df[list(base.columns)]

    cust = frame("customers", [{"credit_limit": 10_000.0, "payment_terms_days": 30, **c} for c in customers])
    cust["payment_terms_days"] = cust["payment_terms_days"].astype("int64")
    return Ledger(
        customers=cust,
        invoices=frame("invoices", [{"disputed": False, **r} for r in invoices]),
        payments=frame("payments", payments),
        adjustments=frame("adjustments", adjustments),
        orders=frame("orders", orders),
    )


def random_ledger(seed: int, n_customers: int = 6, n_invoices: int = 60, start: str = "2023-01-01",
                  days: int = 720) -> Ledger:
    """A small random but contract-valid ledger: partial payments, late payments, unapplied cash,
    credit notes, deductions, write-offs, disputes and orders, spread over ``days`` from ``start``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp(start)
    customers = [
        {"customer_id": f"C{i}", "credit_limit": float(rng.choice([5_000, 20_000])) if i % 4 else None,
         "payment_terms_days": int(rng.choice([30, 45, 60])),
         "onboarded_date": (t0 + pd.Timedelta(days=int(rng.integers(-100, 200)))) if i % 3 else None,
         "last_review_date": (t0 + pd.Timedelta(days=int(rng.integers(0, days)))) if i % 2 else None}
        for i in range(n_customers)
    ]
    terms = {c["customer_id"]: c["payment_terms_days"] for c in customers}
    invoices, payments, adjustments, orders = [], [], [], []
    for j in range(n_invoices):
        cid = f"C{rng.integers(0, n_customers)}"
        d = t0 + pd.Timedelta(days=int(rng.integers(0, days)))
        amt = float(np.round(rng.uniform(100, 5_000), 2))
        disputed = bool(rng.random() < 0.15)
        invoices.append({"invoice_id": f"I{j}", "customer_id": cid, "invoice_date": d,
                         "due_date": d + pd.Timedelta(days=terms[cid]), "amount": amt, "disputed": disputed,
                         "dispute_date": d + pd.Timedelta(days=int(rng.integers(1, 40))) if disputed else None})
        orders.append({"order_id": f"O{j}", "customer_id": cid, "order_date": d - pd.Timedelta(days=int(rng.integers(1, 20))),
                       "amount": amt, "closed_date": d if rng.random() < 0.9 else None})
        remaining = amt
        pay_day = d
        for k in range(int(rng.choice([0, 1, 1, 1, 2, 3]))):
            pay_day = pay_day + pd.Timedelta(days=int(rng.integers(1, 90)))
            part = remaining if k == 2 or rng.random() < 0.6 else float(np.round(remaining * rng.uniform(0.2, 0.8), 2))
            payments.append({"payment_id": f"P{j}_{k}", "customer_id": cid, "invoice_id": f"I{j}",
                             "payment_date": pay_day, "amount": part})
            remaining = round(remaining - part, 2)
            if remaining <= 0:
                break
        if remaining > 0 and rng.random() < 0.3:
            kind = str(rng.choice(["credit_note", "deduction", "write_off"]))
            adjustments.append({"adjustment_id": f"A{j}", "customer_id": cid, "invoice_id": f"I{j}",
                                "date": pay_day + pd.Timedelta(days=int(rng.integers(1, 200))),
                                "amount": remaining, "kind": kind})
        if rng.random() < 0.1:
            payments.append({"payment_id": f"U{j}", "customer_id": cid, "invoice_id": None,
                             "payment_date": d + pd.Timedelta(days=int(rng.integers(0, 60))),
                             "amount": float(np.round(rng.uniform(10, 500), 2))})
    return make_ledger(customers, invoices, payments, adjustments, orders)
