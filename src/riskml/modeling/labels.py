"""Delinquency labels: did a customer become seriously delinquent within the horizon after an as-of date?

The default definition (``configs/train.yaml``, section ``label``), for a snapshot at as-of date ``T``
with horizon end ``E = T + horizon_months`` (month ends map to month ends):

* **DPD event** -- an invoice *reaches* ``dpd_threshold`` days past due while unpaid: it is still open
  at the end of day ``due_date + dpd_threshold`` (its payments, credit notes, deductions and write-offs
  dated on or before that day are below ``settled_share`` of its amount -- the same rule the features
  use -- and more than ``min_amount`` is still open). An invoice paid on day 90 past due therefore does
  **not** reach 90 DPD; one paid on day 91, or never, does (the bureaus' "91+ days beyond terms").
  With ``exclude_disputed``, an invoice disputed on or before that day does not count: a dispute is a
  paperwork problem (pricing, delivery, quantity), not a sign the customer cannot pay.
* **Write-off event** (``include_write_offs``) -- a write-off of more than ``min_amount`` on any date.

``label = 1`` when an event falls in ``(T, E]``, else 0. A snapshot is *not* labeled when:

* ``censored`` -- ``E`` is after the ledger's last date: the outcome is not known yet;
* ``delinquent_at_as_of`` -- the customer is already delinquent at ``T``: an invoice that reached the
  threshold on or before ``T`` is still open at ``T`` (more than ``min_amount`` open), or a write-off was
  booked in the ``horizon_months`` before ``T`` (``(T - horizon, T]``). Predicting what has already
  happened is not the model's job; revoking terms of a customer who is currently delinquent is a
  collections decision;
* ``dormant`` -- (``dormant_months`` > 0) no invoice in the last ``dormant_months`` months and nothing open
  at ``T``: no exposure, so nothing can go past due. These accounts are outside the scored population.

Everything is vectorised over (customer, as-of) pairs with day numbers and sorted composite keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskml.config import LabelConfig
from riskml.data.keys import positions
from riskml.data.ledger import Ledger
from riskml.features.engine import NO_DAY, group_cumsum, sort_order, to_days

STATUSES = ("labeled", "censored", "delinquent_at_as_of", "dormant")
# the statuses in words (messages and the model card); "not_started" comes from a user's labels file
STATUS_WORDS = {"delinquent_at_as_of": "already delinquent at the as-of date", "dormant": "dormant",
                "censored": "censored (window not over yet)", "not_started": "not yet customers"}
EVENT_DPD = "dpd"
EVENT_WRITE_OFF = "write_off"


def shift_months(day: pd.Timestamp, months: int) -> pd.Timestamp:
    """``day`` moved by ``months`` calendar months; month ends stay month ends."""
    day = pd.Timestamp(day)
    if months == 0:
        return day
    if day.is_month_end:
        return day + pd.offsets.MonthEnd(months)
    return day + pd.DateOffset(months=months)


def horizon_end(as_of: pd.Timestamp, horizon_months: int) -> pd.Timestamp:
    """Last day of the label window ``(as_of, as_of + horizon]``."""
    return shift_months(as_of, horizon_months)


def ledger_end(ledger: Ledger) -> pd.Timestamp:
    """The ledger's last known date (its latest event): outcomes after it are unknown."""
    return pd.Timestamp(ledger.date_range()[1]).normalize()


def snapshot_dates(ledger: Ledger, warmup_months: int, horizon_months: int,
                   end: pd.Timestamp | None = None) -> list[pd.Timestamp]:
    """Month ends at which a labeled training snapshot can be taken.

    The first is the first month end at least ``warmup_months`` after the first invoice (so windowed
    features have history); the last is the latest month end whose label window ends by ``end``
    (default: the ledger's last date)."""
    first = pd.Timestamp(ledger.date_range()[0]).normalize()
    end = ledger_end(ledger) if end is None else pd.Timestamp(end)
    earliest = first + pd.DateOffset(months=warmup_months) - pd.Timedelta(days=1)
    lo = earliest + pd.offsets.MonthEnd(0)
    dates = pd.date_range(lo, end, freq="ME")
    return [d for d in dates if horizon_end(d, horizon_months) <= end]


@dataclass(frozen=True)
class _Events:
    """Per-customer event days, sorted by (customer, day)."""

    cust: np.ndarray
    day: np.ndarray
    kind: np.ndarray


@dataclass(frozen=True)
class _InvoiceState:
    """Per invoice: customer code, the day it reaches the threshold and the day it is cured."""

    cust: np.ndarray
    reach: np.ndarray
    cure: np.ndarray  # first day the invoice is settled (or its residual <= min_amount); NO_DAY = never


def _first_reaching(groups: np.ndarray, days: np.ndarray, cum: np.ndarray, need: np.ndarray,
                    n_groups: int) -> np.ndarray:
    """Per group, the first day whose end-of-day cumulative amount reaches ``need[group]``."""
    out = np.full(n_groups, NO_DAY, dtype=np.int64)
    if len(groups) == 0:
        return out
    last_of_day = np.r_[(groups[1:] != groups[:-1]) | (days[1:] != days[:-1]), True]
    hit = np.flatnonzero((cum >= need[groups] - 1e-9) & last_of_day)
    g, first = np.unique(groups[hit], return_index=True)
    out[g] = days[hit[first]]
    return out


def _invoice_state(ledger: Ledger, cust_index: pd.Index, config: LabelConfig,
                   settled_share: float) -> _InvoiceState:
    """When each invoice reaches the DPD threshold and when it stops being delinquent."""
    inv = ledger.invoices
    inv_ids = pd.Index(inv["invoice_id"].astype("str"))
    amount = inv["amount"].to_numpy("float64")
    cust = positions(inv["customer_id"], pd.Series(cust_index))

    pay, adj = ledger.payments, ledger.adjustments
    ev_inv = np.concatenate([
        *positions([pay["invoice_id"].astype("str"), adj["invoice_id"].astype("str")], pd.Series(inv_ids)),
    ])
    ev_inv = np.where(np.concatenate([pay["invoice_id"].isna().to_numpy(), adj["invoice_id"].isna().to_numpy()]),
                      -1, ev_inv)
    ev_day = np.concatenate([to_days(pay["payment_date"]), to_days(adj["date"])])
    ev_amt = np.concatenate([pay["amount"].to_numpy("float64"), adj["amount"].to_numpy("float64")])
    on = ev_inv >= 0
    ev_inv, ev_day, ev_amt = ev_inv[on], ev_day[on], ev_amt[on]
    order = sort_order(ev_inv, ev_day)
    ev_inv, ev_day, ev_amt = ev_inv[order], ev_day[order], ev_amt[order]
    cum = group_cumsum(ev_inv, ev_amt)
    # delinquent while less than the settled share is covered AND more than min_amount is open
    need = np.minimum(settled_share * amount, amount - config.min_amount)
    cure = _first_reaching(ev_inv, ev_day, cum, need, len(inv))
    # an invoice of min_amount or less never has more than min_amount open: not delinquent from day one
    small = need <= 1e-9
    cure[small] = to_days(inv["invoice_date"])[small]
    reach = to_days(inv["due_date"]) + config.dpd_threshold
    if config.exclude_disputed and "disputed" in inv:
        disputed = inv["disputed"].fillna(False).to_numpy(bool)
        ddate = inv["dispute_date"] if "dispute_date" in inv else pd.Series(pd.NaT, index=inv.index)
        dday = np.where(ddate.isna().to_numpy(), to_days(inv["invoice_date"]), to_days(ddate))
        reach = np.where(disputed & (dday <= reach), NO_DAY, reach)  # never reaches the threshold
    return _InvoiceState(cust=cust, reach=reach, cure=cure)


def _events(state: _InvoiceState, ledger: Ledger, cust_index: pd.Index, config: LabelConfig) -> _Events:
    """Delinquency events: threshold reached while open, and (optionally) write-offs."""
    dpd = (state.cure > state.reach) & (state.cust >= 0)
    cust = [state.cust[dpd]]
    day = [state.reach[dpd]]
    kind = [np.full(int(dpd.sum()), EVENT_DPD, dtype=object)]
    if config.include_write_offs:
        wo_cust, wo_day = _write_offs(ledger, cust_index, config)
        cust.append(wo_cust)
        day.append(wo_day)
        kind.append(np.full(len(wo_cust), EVENT_WRITE_OFF, dtype=object))
    c, d, k = np.concatenate(cust), np.concatenate(day), np.concatenate(kind)
    order = sort_order(c, d)
    return _Events(cust=c[order], day=d[order], kind=k[order])


def _write_offs(ledger: Ledger, cust_index: pd.Index, config: LabelConfig) -> tuple[np.ndarray, np.ndarray]:
    adj = ledger.adjustments
    wo = adj.loc[(adj["kind"].astype("str") == "write_off") & (adj["amount"] > config.min_amount)]
    cust = positions(wo["customer_id"], pd.Series(cust_index))
    ok = cust >= 0
    return cust[ok], to_days(wo["date"])[ok]


def _count_between(cust: np.ndarray, day: np.ndarray, q_cust: np.ndarray, lo: np.ndarray,
                   hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per query, the number of (cust, day) items with ``lo < day <= hi``, and the position of the first.

    ``cust``/``day`` must be sorted by (cust, day)."""
    if len(cust) == 0:
        return np.zeros(len(q_cust), np.int64), np.full(len(q_cust), -1)
    base = int(min(day.min(), lo.min())) - 1
    span = int(max(day.max(), hi.max())) - base + 2
    key = cust.astype(np.int64) * span + (day - base)
    a = np.searchsorted(key, q_cust.astype(np.int64) * span + (lo - base), side="right")
    b = np.searchsorted(key, q_cust.astype(np.int64) * span + (hi - base), side="right")
    return b - a, np.where(b > a, a, -1)


def _open_invoice_counts(start: np.ndarray, stop: np.ndarray, cust: np.ndarray, q_cust: np.ndarray,
                         q_day: np.ndarray) -> np.ndarray:
    """Per query (customer, day): items with ``start <= day < stop`` (open / delinquent on that day)."""
    keep = (stop > start) & (cust >= 0)
    cust, start, stop = cust[keep], start[keep], stop[keep]
    ends = stop != NO_DAY  # never stopped: counted as started, never as stopped
    return _count_upto(cust, start, q_cust, q_day) - _count_upto(cust[ends], stop[ends], q_cust, q_day)


def _count_upto(cust: np.ndarray, day: np.ndarray, q_cust: np.ndarray, q_day: np.ndarray) -> np.ndarray:
    """Per query, items of the same customer with ``day <= q_day`` (composite sorted keys, no loop)."""
    if len(cust) == 0:
        return np.zeros(len(q_cust), np.int64)
    base = int(min(day.min(), q_day.min())) - 1
    span = int(max(day.max(), q_day.max())) - base + 2
    key = np.sort(cust.astype(np.int64) * span + (day - base))
    run_start = np.searchsorted(key, q_cust.astype(np.int64) * span, side="left")
    upto = np.searchsorted(key, q_cust.astype(np.int64) * span + (q_day - base), side="right")
    return upto - run_start


def label_snapshots(
    ledger: Ledger,
    as_of_dates: Sequence[object],
    config: LabelConfig | None = None,
    settled_share: float = 0.99,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Labels of every customer of the master at every as-of date.

    Returns ``customer_id``, ``as_of``, ``status`` (one of :data:`STATUSES`), ``label`` (nullable
    ``Int8``: 0/1 when ``status == "labeled"``, else NA), ``event_date`` and ``event_kind`` (the first
    event in the window). ``settled_share`` should be the features' ``FeatureConfig.settled_share``;
    ``end`` defaults to the ledger's last date."""
    config = config or LabelConfig()
    end = ledger_end(ledger) if end is None else pd.Timestamp(end)
    dates = sorted({pd.Timestamp(d).normalize() for d in as_of_dates})
    cust_index = pd.Index(ledger.customers["customer_id"].astype("str"))
    nc, nd = len(cust_index), len(dates)
    q_cust = np.repeat(np.arange(nc), nd)
    t_day = np.tile(to_days(pd.DatetimeIndex(dates)), nc)
    e_day = np.tile(to_days(pd.DatetimeIndex([horizon_end(d, config.horizon_months) for d in dates])), nc)
    back = np.tile(to_days(pd.DatetimeIndex([shift_months(d, -config.horizon_months) for d in dates])), nc)

    state = _invoice_state(ledger, cust_index, config, settled_share)
    events = _events(state, ledger, cust_index, config)
    n_ev, first = _count_between(events.cust, events.day, q_cust, t_day, e_day)

    delinquent = _open_invoice_counts(state.reach, state.cure, state.cust, q_cust, t_day) > 0
    if config.include_write_offs:
        wo_cust, wo_day = _write_offs(ledger, cust_index, config)
        order = sort_order(wo_cust, wo_day)
        recent_wo, _ = _count_between(wo_cust[order], wo_day[order], q_cust, back, t_day)
        delinquent |= recent_wo > 0

    status = np.full(nc * nd, "labeled", dtype=object)
    if config.dormant_months > 0:
        status[_dormant(ledger, cust_index, config, settled_share, q_cust, t_day, nd, dates)] = "dormant"
    status[delinquent] = "delinquent_at_as_of"
    status[e_day > to_days(pd.DatetimeIndex([end]))[0]] = "censored"

    labeled = status == "labeled"
    label = pd.array(np.where(n_ev > 0, 1, 0), dtype="Int8")
    label[~labeled] = pd.NA
    has = (n_ev > 0) & labeled
    ev_day = np.where(has, events.day[np.clip(first, 0, None)] if len(events.day) else 0, 0)
    event_date = pd.to_datetime(np.where(has, ev_day, 0), unit="D").where(has, pd.NaT)
    kind = np.where(has, events.kind[np.clip(first, 0, None)] if len(events.kind) else "", None)
    return pd.DataFrame({
        "customer_id": pd.Series(cust_index.to_numpy()[q_cust], dtype="str"),
        "as_of": pd.DatetimeIndex(np.array(dates, dtype="datetime64[ns]")[np.tile(np.arange(nd), nc)]),
        "status": pd.Series(status, dtype="str"),
        "label": label,
        "event_date": event_date.astype("datetime64[ns]"),
        "event_kind": pd.Series(kind, dtype="str"),
    })


def _dormant(ledger: Ledger, cust_index: pd.Index, config: LabelConfig, settled_share: float,
             q_cust: np.ndarray, t_day: np.ndarray, nd: int, dates: list[pd.Timestamp]) -> np.ndarray:
    """No invoice in the last ``dormant_months`` months and no invoice open at the as-of date."""
    inv = ledger.invoices
    cust = positions(inv["customer_id"], pd.Series(cust_index))
    inv_day = to_days(inv["invoice_date"])
    ok = cust >= 0
    cust, inv_day = cust[ok], inv_day[ok]
    lo = np.tile(to_days(pd.DatetimeIndex([shift_months(d, -config.dormant_months) for d in dates])),
                 len(cust_index))
    order = sort_order(cust, inv_day)
    recent, _ = _count_between(cust[order], inv_day[order], q_cust, lo, t_day)
    settled = _settle_days(ledger, settled_share)[ok]
    open_now = _open_invoice_counts(inv_day, settled, cust, q_cust, t_day)
    return (recent == 0) & (open_now == 0)


def _settle_days(ledger: Ledger, settled_share: float) -> np.ndarray:
    """Per invoice, the day it is settled (settled share reached), NO_DAY if never."""
    state = _invoice_state(ledger, pd.Index(ledger.customers["customer_id"].astype("str")),
                           LabelConfig(min_amount=0.0), settled_share)
    return state.cure


def disputed_left_out(ledger: Ledger, config: LabelConfig | None = None) -> tuple[int, int]:
    """(invoices the label never counts because they were disputed before reaching the DPD threshold, of
    which without a ``dispute_date``: treated as disputed from their invoice date). (0, 0) when
    ``exclude_disputed`` is off or the ledger has no ``disputed`` column."""
    config = config or LabelConfig()
    inv = ledger.invoices
    if not config.exclude_disputed or "disputed" not in inv or not len(inv):
        return 0, 0
    disputed = inv["disputed"].fillna(False).to_numpy(bool)
    ddate = inv["dispute_date"] if "dispute_date" in inv else pd.Series(pd.NaT, index=inv.index)
    no_date = ddate.isna().to_numpy()
    dday = np.where(no_date, to_days(inv["invoice_date"]), to_days(ddate))
    reach = to_days(inv["due_date"]) + config.dpd_threshold
    left_out = disputed & (dday <= reach)
    return int(left_out.sum()), int((left_out & no_date).sum())


def describe_definition(config: LabelConfig) -> str:
    """The label definition in one paragraph (for the model card, MLflow and the CLI)."""
    wo = " or an amount is written off" if config.include_write_offs else ""
    disp = " (invoices disputed by then do not count)" if config.exclude_disputed else ""
    amt = f" (more than {config.min_amount:,.2f} open)" if config.min_amount > 0 else ""
    dormant = (f"; dormant accounts (no invoice in {config.dormant_months} months and nothing open) are "
               "outside the population" if config.dormant_months > 0 else "")
    return (
        f"Delinquent within {config.horizon_months} months after the as-of date T: an invoice is still "
        f"unpaid{amt} at the end of day due_date + {config.dpd_threshold} (i.e. paid "
        f"{config.dpd_threshold + 1}+ days past due or never){disp}{wo}, in (T, T + {config.horizon_months} months]. "
        f"Customers already delinquent at T (an invoice at {config.dpd_threshold}+ DPD still open, or a "
        f"write-off in the {config.horizon_months} months before T) are excluded{dormant}; snapshots whose "
        "window ends after the ledger's last date are unlabeled."
    )
