"""The paperwork queue: for billing and sales, not for collectors. The disorganised are fixed, not chased.

One line per item to clear, each with its reason, its amount, the documents to request from the customer
and who works it (``collections.paperwork_owner``):

- ``unapplied_cash`` (one line per account): cash received in the last 12 months not applied to any invoice
  (the engine's ``unapplied_cash_12m``);
- ``disputed_invoice``: an open invoice under dispute;
- ``deduction``: a deduction the customer took in the last ``deduction_lookback_days``;
- ``short_payment``: an open, undisputed invoice paid in part, with no cash on it for ``short_payment_days``.

Held accounts whose hold would be released by applying their own unapplied cash (unapplied cash at least the
release amount) come first, then the rest by amount. Unapplied cash is never netted against deductions: each
stays its own line at its full amount until the customer's documents say what it pays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskml.config import ScoringConfig
from riskml.data.ledger import Ledger
from riskml.features.engine import months_back

PAPERWORK_COLUMNS = (
    "queue_rank", "customer_id", "name", "kind", "item_id", "item_date", "amount", "reason", "documents_to_request",
    "owner", "releases_hold", "order_hold", "release_amount", "unapplied_cash",
)
NO_NETTING = ("apply it only to the invoices the remittance names; never net it against deductions or disputed "
              "invoices without their documents")


def _fmt(x: float) -> str:
    return f"{x:,.0f}"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def paperwork_queue(ledger: Ledger, as_of: pd.Timestamp, items: pd.DataFrame, merged: pd.DataFrame,
                    config: ScoringConfig) -> pd.DataFrame:
    """The queue (:data:`PAPERWORK_COLUMNS`), ordered as the module docstring says.

    ``items`` is :func:`riskml.collect.amounts.open_items`; ``merged`` is
    :func:`riskml.collect.worklist.merge_inputs` (one row per customer: name, unapplied cash, order hold,
    release amount)."""
    c = config.collections
    as_of = pd.Timestamp(as_of).normalize()
    led = ledger.until(as_of)
    acct = merged.set_index("customer_id")
    frames = []

    # unapplied cash per account (the engine's 12-month window: after months_back(as_of, 12))
    pay = led.payments
    start = months_back(as_of, 12)
    un = pay.loc[pay["invoice_id"].isna() & (pay["payment_date"] > start)]
    un = un.assign(customer_id=un["customer_id"].astype("str"))
    g = un.groupby("customer_id")
    if len(un):
        u = pd.DataFrame({"n": g.size(), "first": g["payment_date"].min(), "raw": g["amount"].sum()})
        u["amount"] = acct["unapplied_cash"].reindex(u.index).fillna(u["raw"])
        u = u.loc[u["amount"] > 0]
        age = (as_of - u["first"]).dt.days
        frames.append(pd.DataFrame({
            "customer_id": u.index.to_numpy(), "kind": "unapplied_cash", "item_id": "",
            "item_date": u["first"].to_numpy(), "amount": u["amount"].to_numpy("float64"),
            "reason": [f"{n} payment(s) totalling {_fmt(a)} received in the last 12 months are not applied to any "
                       f"invoice (oldest {_days(d)} ago): {NO_NETTING}"
                       for n, a, d in zip(u["n"], u["amount"], age, strict=True)],
        }))

    # open disputed invoices
    d = items.loc[items["disputed"]]
    if len(d):
        days = (as_of - d["dispute_date"]).dt.days
        frames.append(pd.DataFrame({
            "customer_id": d["customer_id"].to_numpy(), "kind": "disputed_invoice", "item_id": d["invoice_id"].to_numpy(),
            "item_date": d["dispute_date"].to_numpy(), "amount": d["open_amount"].to_numpy("float64"),
            "reason": [f"invoice {i} disputed {_days(n)} ago (since {dd.date()}): {_fmt(a)} open of {_fmt(t)}, "
                       + (f"{p:.0f} days past due" if p > 0 else "not yet due")
                       for i, n, dd, a, t, p in zip(d["invoice_id"], days, d["dispute_date"], d["open_amount"],
                                                    d["amount"], d["dpd"], strict=True)],
        }))

    # deductions taken recently
    adj = led.adjustments
    ded = adj.loc[(adj["kind"].astype("str") == "deduction")
                  & (adj["date"] > as_of - pd.Timedelta(days=c.deduction_lookback_days))]
    if len(ded):
        inv = ded["invoice_id"].astype("str").where(ded["invoice_id"].notna(), "")
        frames.append(pd.DataFrame({
            "customer_id": ded["customer_id"].astype("str").to_numpy(), "kind": "deduction",
            "item_id": ded["adjustment_id"].astype("str").to_numpy(), "item_date": ded["date"].to_numpy(),
            "amount": ded["amount"].to_numpy("float64"),
            "reason": [f"deduction of {_fmt(a)} taken {_days((as_of - dt).days)} ago"
                       + (f" on invoice {i}" if i else " (no invoice named)") + ": accept it only with its documents"
                       for a, dt, i in zip(ded["amount"], ded["date"], inv, strict=True)],
        }))

    # short payments: open, undisputed, paid in part, nothing on it for short_payment_days
    sp = items.loc[~items["disputed"] & (items["cash_applied"] > 0)
                   & (items["last_cash_date"] <= as_of - pd.Timedelta(days=c.short_payment_days))]
    if len(sp):
        frames.append(pd.DataFrame({
            "customer_id": sp["customer_id"].to_numpy(), "kind": "short_payment", "item_id": sp["invoice_id"].to_numpy(),
            "item_date": sp["last_cash_date"].to_numpy(), "amount": sp["open_amount"].to_numpy("float64"),
            "reason": [f"invoice {i} of {_fmt(t)} paid {_fmt(cash)} (last on {lc.date()}), {_fmt(a)} still open"
                       for i, t, cash, lc, a in zip(sp["invoice_id"], sp["amount"], sp["cash_applied"],
                                                    sp["last_cash_date"], sp["open_amount"], strict=True)],
        }))

    if not frames:
        return pd.DataFrame({col: pd.Series([], dtype=object) for col in PAPERWORK_COLUMNS})
    q = pd.concat(frames, ignore_index=True)
    q["item_date"] = pd.to_datetime(q["item_date"])
    q["documents_to_request"] = q["kind"].map(c.documents)
    q["owner"] = q["kind"].map(c.paperwork_owner)
    q["name"] = acct["name"].reindex(q["customer_id"]).fillna("").to_numpy(dtype=object)
    q["order_hold"] = acct["order_hold"].reindex(q["customer_id"]).fillna(False).to_numpy(bool)
    q["release_amount"] = acct["release_amount"].reindex(q["customer_id"]).to_numpy("float64")
    q["unapplied_cash"] = acct["unapplied_cash"].reindex(q["customer_id"]).fillna(0.0).to_numpy("float64")
    rel = q["release_amount"].to_numpy("float64")
    with np.errstate(invalid="ignore"):
        q["releases_hold"] = (q["order_hold"].to_numpy(bool) & np.isfinite(rel) & (rel > 0)
                              & (q["unapplied_cash"].to_numpy("float64") >= rel - 1e-9))
    top = q["releases_hold"].to_numpy(bool) & (q["kind"] == "unapplied_cash").to_numpy()
    q.loc[top, "reason"] = [f"applying this account's own unapplied cash ({_fmt(u)}) releases its held orders "
                            f"(release amount {_fmt(r)}); " + t
                            for u, r, t in zip(q.loc[top, "unapplied_cash"], q.loc[top, "release_amount"],
                                               q.loc[top, "reason"], strict=True)]
    q["_top"] = top
    q = q.sort_values(["_top", "releases_hold", "amount", "customer_id", "kind", "item_id"],
                      ascending=[False, False, False, True, True, True], kind="stable").reset_index(drop=True)
    q["queue_rank"] = np.arange(1, len(q) + 1)
    return q[list(PAPERWORK_COLUMNS)]


def documents_by_customer(queue: pd.DataFrame) -> pd.DataFrame:
    """Per customer (index ``customer_id``): ``documents_missing`` (each kind's documents once, with the count
    of items) and ``paperwork_items``, for the collector's script."""
    if not len(queue):
        return pd.DataFrame({"documents_missing": pd.Series([], dtype=object),
                             "paperwork_items": pd.Series([], dtype="int64")},
                            index=pd.Index([], name="customer_id", dtype="str"))
    g = queue.groupby(["customer_id", "kind"], sort=False)
    per = g.agg(n=("amount", "size"), docs=("documents_to_request", "first"), first=("queue_rank", "min")).reset_index()
    per = per.sort_values(["customer_id", "first"], kind="stable")
    what = per["kind"].str.replace("_", " ", regex=False)
    per["text"] = (per["docs"] + " (" + per["n"].astype(str) + " " + what
                   + np.where(per["n"] != 1, "s", "") + ")")
    out = per.groupby("customer_id", sort=True).agg(documents_missing=("text", "; ".join),
                                                    paperwork_items=("n", "sum"))
    out["paperwork_items"] = out["paperwork_items"].astype("int64")
    out.index = out.index.astype("str").rename("customer_id")
    return out
