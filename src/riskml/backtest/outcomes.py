"""What happened after each replay date, read from the ledger: the outcome side of the backtest.

Per customer and replay date ``T`` (pure, vectorised over customers x dates):

* ``status`` -- the label definition's (``riskml.modeling.labels``): ``labeled``, ``delinquent_at_as_of``
  (already seriously delinquent at ``T``: a collections case, not a risk to predict) or ``dormant``;
* ``bad`` -- a delinquency event (an invoice open at due date + ``dpd_threshold``, or a write-off) in
  ``(T, T + horizon]``, observed by the ledger's last date; ``event_date``; ``outcome_months`` how many
  months of that window the ledger covers (fewer than the horizon near its end);
* the period a decision at ``T`` governs, ``(T, P]`` with ``P`` the next replay date (never beyond the
  ledger): ``invoiced`` (amount invoiced in it), ``settled`` (cash and credits received in it) and
  ``loss`` (the realised loss on the invoices issued in it: amounts written off, plus amounts still open
  at the ledger's end at ``dpd_threshold`` or more days past due, disputed ones excepted when the label
  definition excludes disputes); ``invoiced_hold`` and ``loss_hold``, the same over the first
  ``hold_days`` days of the period (how long an order hold lasts; the whole period when not given).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from riskml.config import LabelConfig
from riskml.data.keys import positions
from riskml.data.ledger import Ledger
from riskml.features.engine import sort_order, to_days
from riskml.modeling.labels import horizon_end, label_snapshots, ledger_end

OUTCOME_COLUMNS = ("customer_id", "as_of", "status", "bad", "event_date", "outcome_months", "period_end",
                   "invoiced", "settled", "loss", "invoiced_hold", "loss_hold")


def window_sums(cust: np.ndarray, day: np.ndarray, amount: np.ndarray, q_cust: np.ndarray, lo: np.ndarray,
                hi: np.ndarray) -> np.ndarray:
    """Per query, the sum of ``amount`` over items of the same customer with ``lo < day <= hi``."""
    if len(cust) == 0 or len(q_cust) == 0:
        return np.zeros(len(q_cust))
    order = sort_order(cust, day)
    cust, day, amount = cust[order], day[order], np.asarray(amount, dtype="float64")[order]
    base = int(min(day.min(), lo.min())) - 1
    span = int(max(day.max(), hi.max())) - base + 2
    key = cust.astype(np.int64) * span + (day - base)
    # exact sums in units of 1/10,000 (a customer's figure never depends on the customers summed before it)
    cum = np.r_[np.int64(0), np.cumsum(np.round(amount * 10_000).astype(np.int64))]
    a = np.searchsorted(key, q_cust.astype(np.int64) * span + (lo - base), side="right")
    b = np.searchsorted(key, q_cust.astype(np.int64) * span + (hi - base), side="right")
    return (cum[b] - cum[a]) / 10_000


def invoice_losses(ledger: Ledger, config: LabelConfig) -> np.ndarray:
    """Per invoice, the realised loss: written-off amounts, plus the amount still open at the ledger's last
    date when the invoice is ``dpd_threshold`` or more days past due by then (not when disputed, if the
    label definition excludes disputes)."""
    inv = ledger.invoices
    ids = pd.Series(inv["invoice_id"].astype("str").to_numpy())
    adj = ledger.adjustments
    pay = ledger.payments
    n = len(inv)
    amount = inv["amount"].to_numpy("float64")

    def per_invoice(frame: pd.DataFrame, mask: np.ndarray | None = None) -> np.ndarray:
        f = frame if mask is None else frame.loc[mask]
        f = f.loc[f["invoice_id"].notna()]
        pos = positions(f["invoice_id"].astype("str"), ids)
        ok = pos >= 0
        return np.bincount(pos[ok], weights=f["amount"].to_numpy("float64")[ok], minlength=n)

    written_off = per_invoice(adj, (adj["kind"].astype("str") == "write_off").to_numpy())
    settled = per_invoice(pay) + per_invoice(adj)
    open_end = np.clip(amount - settled, 0.0, None)
    end_day = to_days(pd.DatetimeIndex([ledger_end(ledger)]))[0]
    serious = to_days(inv["due_date"]) + config.dpd_threshold <= end_day
    if config.exclude_disputed and "disputed" in inv:
        serious &= ~inv["disputed"].fillna(False).to_numpy(bool)
    open_end = np.where(open_end > config.min_amount, open_end, 0.0)
    return written_off + np.where(serious, open_end, 0.0)


def outcome_table(ledger: Ledger, dates: Sequence[pd.Timestamp], every_months: int, config: LabelConfig,
                  settled_share: float = 0.99, hold_days: int | None = None) -> pd.DataFrame:
    """The outcomes of every customer of the master at every replay date (:data:`OUTCOME_COLUMNS`,
    customer-major like :func:`riskml.modeling.labels.label_snapshots`)."""
    from riskml.backtest.dates import next_step

    dates = sorted(pd.Timestamp(d).normalize() for d in dates)
    end = ledger_end(ledger)
    # no censoring: every window is read as far as the ledger goes (events after its end are unseen)
    far = horizon_end(max(dates), config.horizon_months) + pd.Timedelta(days=1)
    lab = label_snapshots(ledger, dates, config, settled_share, end=max(far, end))
    observed = lab["event_date"].notna() & (lab["event_date"] <= end)
    bad = (lab["label"].fillna(0).astype("int64") == 1) & observed & (lab["status"] == "labeled")

    cust_index = pd.Index(ledger.customers["customer_id"].astype("str"))
    nc, nd = len(cust_index), len(dates)
    q_cust = np.repeat(np.arange(nc), nd)
    t_day = np.tile(to_days(pd.DatetimeIndex(dates)), nc)
    period_end = [min(next_step(d, every_months), end) for d in dates]
    p_day = np.tile(to_days(pd.DatetimeIndex(period_end)), nc)
    window_end = [min(horizon_end(d, config.horizon_months), end) for d in dates]
    months = [max(0.0, (w - d).days / 30.4375) for d, w in zip(dates, window_end, strict=True)]

    inv = ledger.invoices
    i_cust = positions(inv["customer_id"].astype("str"), pd.Series(cust_index))
    i_day = to_days(inv["invoice_date"])
    ok = i_cust >= 0
    amount, losses = inv["amount"].to_numpy("float64")[ok], invoice_losses(ledger, config)[ok]
    invoiced = window_sums(i_cust[ok], i_day[ok], amount, q_cust, t_day, p_day)
    loss = window_sums(i_cust[ok], i_day[ok], losses, q_cust, t_day, p_day)
    if hold_days is None:
        invoiced_hold, loss_hold = invoiced, loss
    else:
        h_day = np.minimum(t_day + int(hold_days), p_day)
        invoiced_hold = window_sums(i_cust[ok], i_day[ok], amount, q_cust, t_day, h_day)
        loss_hold = window_sums(i_cust[ok], i_day[ok], losses, q_cust, t_day, h_day)
    s_cust, s_day, s_amt = [], [], []
    for frame, col in ((ledger.payments, "payment_date"), (ledger.adjustments, "date")):
        c = positions(frame["customer_id"].astype("str"), pd.Series(cust_index))
        k = c >= 0
        s_cust.append(c[k])
        s_day.append(to_days(frame[col])[k])
        s_amt.append(frame["amount"].to_numpy("float64")[k])
    settled = window_sums(np.concatenate(s_cust), np.concatenate(s_day), np.concatenate(s_amt), q_cust, t_day, p_day)
    return pd.DataFrame({
        "customer_id": lab["customer_id"].to_numpy(),
        "as_of": lab["as_of"].to_numpy(),
        "status": lab["status"].to_numpy(),
        "bad": bad.to_numpy(bool),
        "event_date": lab["event_date"].where(bad),
        "outcome_months": np.tile(np.round(months, 1), nc),
        "period_end": np.tile(pd.DatetimeIndex(period_end).to_numpy("datetime64[ns]"), nc),
        "invoiced": invoiced,
        "settled": settled,
        "loss": loss,
        "invoiced_hold": invoiced_hold,
        "loss_hold": loss_hold,
    })
