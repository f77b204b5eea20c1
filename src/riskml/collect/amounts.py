"""What each customer owes as of a date: the feature engine's per-customer figures (open balance, past due,
ageing, unapplied cash, days beyond terms) plus the item-level detail a collector needs (the oldest open
item, the disputed part, the last payment).

The per-customer totals come from :func:`riskml.features.build_features` (the engine's point-in-time
aggregates), never recomputed here; the open items below follow the engine's rules (an invoice is open until
payments and credits tied to it reach ``FeatureConfig.settled_share`` of its amount; its open amount is the
rest; a dispute counts from its dispute date, else the invoice date) so that they add up to the engine's
figures (a test checks it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskml.config import FeatureConfig
from riskml.data.keys import positions
from riskml.data.ledger import Ledger

# features read per customer, renamed for the worklist
FEATURE_FIGURES: dict[str, str] = {
    "open_balance": "open_balance",
    "past_due_amount": "past_due_balance",
    "past_due_count": "past_due_invoices",
    "aging_current_amount": "not_yet_due",
    "aging_1_30_amount": "aging_1_30",
    "aging_31_60_amount": "aging_31_60",
    "aging_61_90_amount": "aging_61_90",
    "aging_90p_amount": "aging_90p",
    "oldest_dpd": "oldest_dpd",
    "exposure": "exposure",
    "open_orders_amount": "open_orders",
    "credit_limit": "credit_limit",
    "unapplied_cash_12m": "unapplied_cash",
    "unapplied_cash_age_days": "unapplied_cash_age_days",
    "dbt_avg_12m": "usual_days_late",
    "dbt_avg_3m": "dbt_avg_3m",
    "payment_terms_days": "payment_terms_days",
}
AGEING_BUCKETS = {"1-30": "aging_1_30", "31-60": "aging_31_60", "61-90": "aging_61_90", "90+": "aging_90p"}


def open_items(ledger: Ledger, as_of: pd.Timestamp, config: FeatureConfig | None = None) -> pd.DataFrame:
    """Every invoice open at the end of ``as_of``: ``customer_id``, ``invoice_id``, ``invoice_date``,
    ``due_date``, ``amount``, ``cash_applied``, ``credited`` (adjustments on it), ``last_cash_date``,
    ``open_amount``, ``dpd`` (days past due, negative = not yet due), ``disputed``, ``dispute_date``."""
    config = config or FeatureConfig()
    as_of = pd.Timestamp(as_of).normalize()
    led = ledger.until(as_of)
    inv = led.invoices
    ids = inv["invoice_id"].astype("str")
    n = len(inv)
    pay, adj = led.payments, led.adjustments
    # cash and credits tied to each invoice (a key lookup on Arrow strings, as the engine does)
    pay_pos, adj_pos = positions([pay["invoice_id"].astype("str"), adj["invoice_id"].astype("str")], ids)
    pay_pos = np.where(pay["invoice_id"].isna().to_numpy(), -1, pay_pos)
    adj_pos = np.where(adj["invoice_id"].isna().to_numpy(), -1, adj_pos)
    on = pay_pos >= 0
    cash_v = np.bincount(pay_pos[on], weights=pay["amount"].to_numpy("float64")[on], minlength=n)[:n]
    cash_day = pay["payment_date"].to_numpy("datetime64[ns]")[on].astype("int64")
    last = np.full(n, np.iinfo(np.int64).min)  # the int64 of NaT: no cash on the invoice
    np.maximum.at(last, pay_pos[on], cash_day)
    last_cash = last.view("datetime64[ns]")
    ok = adj_pos >= 0
    cred_v = np.bincount(adj_pos[ok], weights=adj["amount"].to_numpy("float64")[ok], minlength=n)[:n]
    amount = inv["amount"].to_numpy("float64")
    settled = cash_v + cred_v
    is_open = ~(settled >= config.settled_share * amount - 1e-9)
    disputed = inv["disputed"].fillna(False).to_numpy(bool) if "disputed" in inv else np.zeros(len(inv), bool)
    ddate = (pd.to_datetime(inv["dispute_date"]) if "dispute_date" in inv
             else pd.Series(pd.NaT, index=inv.index, dtype="datetime64[ns]"))
    ddate = ddate.where(ddate.notna(), inv["invoice_date"]).where(disputed)
    out = pd.DataFrame({
        "customer_id": inv["customer_id"].astype("str").to_numpy(),
        "invoice_id": ids.to_numpy(),
        "invoice_date": inv["invoice_date"].to_numpy(),
        "due_date": inv["due_date"].to_numpy(),
        "amount": amount,
        "cash_applied": cash_v,
        "credited": cred_v,
        "last_cash_date": last_cash,
        "open_amount": np.clip(amount - settled, 0.0, None),
        "dpd": (as_of - inv["due_date"]).dt.days.to_numpy("float64"),
        "disputed": disputed & (ddate <= as_of).to_numpy(bool),
        "dispute_date": ddate.to_numpy(),
    }).loc[is_open]
    out["last_cash_date"] = pd.to_datetime(out["last_cash_date"])
    out["dispute_date"] = pd.to_datetime(out["dispute_date"]).where(out["disputed"])
    return out.sort_values(["customer_id", "due_date", "invoice_id"], kind="stable").reset_index(drop=True)


def last_payments(ledger: Ledger, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per customer, the last day cash came in (applied or not) and the amount received that day."""
    pay = ledger.until(as_of).payments
    if not len(pay):
        return pd.DataFrame({"last_payment_date": pd.Series([], dtype="datetime64[ns]"),
                             "last_payment_amount": pd.Series([], dtype="float64")},
                            index=pd.Index([], name="customer_id", dtype="str"))
    p = pay.assign(customer_id=pay["customer_id"].astype("str"))
    last = p.groupby("customer_id")["payment_date"].max().rename("last_payment_date")
    on_last = p.merge(last, left_on="customer_id", right_index=True)
    on_last = on_last.loc[on_last["payment_date"] == on_last["last_payment_date"]]
    amt = on_last.groupby("customer_id")["amount"].sum().rename("last_payment_amount")
    return pd.concat([last, amt], axis=1)


def customer_amounts(ledger: Ledger, as_of: pd.Timestamp, features: pd.DataFrame,
                     items: pd.DataFrame, portfolio_column: str | None = None) -> pd.DataFrame:
    """One row per customer of the master (indexed by ``customer_id``): the engine's figures
    (:data:`FEATURE_FIGURES`), the disputed part of the open and past-due balance, the oldest open item, the last
    payment, the customer's name and portfolio value."""
    as_of = pd.Timestamp(as_of).normalize()
    f = features.assign(customer_id=features["customer_id"].astype("str")).set_index("customer_id")
    out = pd.DataFrame({new: pd.to_numeric(f[old], errors="coerce").astype("float64")
                        for old, new in FEATURE_FIGURES.items()}, index=f.index)
    for col in ("open_balance", "past_due_balance", "past_due_invoices", "not_yet_due", *AGEING_BUCKETS.values(),
                "oldest_dpd", "exposure", "open_orders", "unapplied_cash"):
        out[col] = out[col].fillna(0.0)
    by = items.groupby("customer_id")
    disp = items.loc[items["disputed"]]
    out["disputed_open"] = disp.groupby("customer_id")["open_amount"].sum().reindex(out.index).fillna(0.0)
    dpast = disp.loc[disp["dpd"] > 0]
    out["disputed_past_due"] = dpast.groupby("customer_id")["open_amount"].sum().reindex(out.index).fillna(0.0)
    out["disputed_invoices"] = disp.groupby("customer_id").size().reindex(out.index).fillna(0).astype("int64")
    oldest = items.loc[by["due_date"].idxmin().to_numpy()].set_index("customer_id") if len(items) else None
    if oldest is not None:
        out["oldest_item"] = oldest["invoice_id"].reindex(out.index).astype(object)
        out["oldest_item_due"] = oldest["due_date"].reindex(out.index)
        out["oldest_item_amount"] = oldest["open_amount"].reindex(out.index)
    else:
        out["oldest_item"] = pd.Series(None, index=out.index, dtype=object)
        out["oldest_item_due"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
        out["oldest_item_amount"] = np.nan
    out["oldest_item"] = out["oldest_item"].where(out["oldest_item"].notna(), "")
    last = last_payments(ledger, as_of)
    out["last_payment_date"] = last["last_payment_date"].reindex(out.index)
    out["last_payment_amount"] = last["last_payment_amount"].reindex(out.index)
    master = ledger.customers.assign(customer_id=ledger.customers["customer_id"].astype("str")).set_index("customer_id")
    name = master["name"] if "name" in master.columns else pd.Series("", index=master.index)
    out["name"] = name.reindex(out.index).astype(object).where(lambda s: s.notna(), "")
    if portfolio_column and portfolio_column in master.columns:
        seg = master[portfolio_column].reindex(out.index).astype(object)
        out["portfolio"] = seg.where(seg.notna(), "").astype(str)
    else:
        out["portfolio"] = ""
    return out
