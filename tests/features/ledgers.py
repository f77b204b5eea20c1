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
                df[col] = pd.Series([pd.NA] * len(df), dtype=base[col].dtype) if base[col].dtype != bool \
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
