"""Point-in-time aggregates for many as-of dates in one pass over the ledger.

How it stays point-in-time and fast:

* Dates become integer day numbers. The as-of dates sit on a grid of monthly boundaries ``B``
  (calendar month ends when every as-of date is a month end, else ``as_of - k months``); an event on
  day ``t`` falls in bucket ``j`` with ``B[j-1] < t <= B[j]``. Events after the last as-of date fall in
  no bucket, so rows dated after an as-of date cannot change its figures.
* Windowed sums ("last 3/6/12 months") are differences of per-customer cumulative sums over buckets:
  the cost grows with ledger rows plus customers x months, not with rows x as-of dates.
* State at an as-of date (open balance, aging, days past due) comes from expanding each invoice only
  to the as-of dates at which it is still open (usually one to three), and reading what had been paid
  by then from the invoice's cumulative settlements with a binary search.

The result is one row per (customer, as-of date) of named aggregates (``AGGREGATES``), from which
:mod:`riskml.features.definitions` derives the features.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskml.config import FeatureConfig
from riskml.data.keys import positions
from riskml.data.ledger import Ledger
from riskml.features import _kernels

WINDOWS = (3, 6, 12, 24)
LOOKBACK = 25  # monthly buckets kept before the earliest as-of date (24-month windows + 1)
NO_DAY = _kernels.NO_DAY  # "never" (an invoice never settled, an order never closed)
# the hot loops (numba kernels; ``_kernels.REFERENCE`` is their numpy twin, which the tests swap in)
KERNELS = _kernels.FAST
SMALL_TABLE = 300_000  # rows below which a table's bucket sums take numpy's bincount (see ``_Acc.sums``)

AGGREGATES: dict[str, str] = {
    "as_of_day": "the as-of date as a day number",
    "credit_limit_value": "credit limit from the master (NaN = none)",
    "payment_terms": "payment terms in days",
    "start_day": "onboarding day, else the first invoice day known at the as-of date",
    "review_day": "last limit review day from the master",
    **{f"pay_amt_{w}m": f"cash applied to invoices in the last {w} months" for w in WINDOWS},
    **{f"pay_dbt_amt_{w}m": f"sum of amount x days beyond terms of that cash ({w} months)" for w in WINDOWS},
    "pay_dbt_max_12m": "largest days beyond terms of a payment in the last 12 months",
    "dbt_slope_6m": "slope of monthly DBT, last 6 months (days/month)",
    "dbt_slope_12m": "slope of monthly DBT, last 12 months (days/month)",
    "dbt_std_12m": "standard deviation of monthly DBT, last 12 months",
    "settled_cnt_12m": "invoices settled in the last 12 months",
    "settled_amt_12m": "amount of those invoices",
    "late_cnt_12m": "of those, settled after due date + grace",
    "late_amt_12m": "amount of the late ones",
    "late_days_sum_12m": "sum of days late of the late ones",
    "multi_pay_cnt_12m": "of those settled, settled in more than one payment",
    "short_paid_cnt_12m": "of those settled, cash below the settled share of the amount",
    "full_single_cnt_12m": "of those settled, paid in full by a single cash payment (no instalments, no short pay)",
    **{f"{n}_3m": f"{d}, last 3 months" for n, d in (
        ("settled_cnt", "invoices settled"), ("late_cnt", "of those, settled after due date + grace"),
        ("multi_pay_cnt", "of those, settled in more than one payment"),
        ("full_single_cnt", "of those, paid in full by a single cash payment"))},
    "last_full_single_day": "settlement day of the last invoice paid in full by a single cash payment",
    "due_amt_3m": "amount of invoices that fell due in the last 3 months",
    "open_due_3m": "of which still open at the as-of date",
    "open_amt": "open receivables",
    "open_cnt": "open invoices",
    "past_due_amt": "open amount past due",
    "past_due_cnt": "open invoices past due",
    "past_due_dpd_sum": "sum of days past due of past-due invoices",
    "oldest_open_dpd": "days past due of the oldest open invoice (NaN: none open)",
    "aging_current_amt": "open, not yet due",
    "aging_1_30_amt": "open, 1-30 days past due",
    "aging_31_60_amt": "open, 31-60 days past due",
    "aging_61_90_amt": "open, 61-90 days past due",
    "aging_90p_amt": "open, more than 90 days past due",
    "disputed_open_amt": "open amount of invoices disputed by the as-of date",
    "undisputed_past_due_amt": "open amount past due of invoices not disputed by the as-of date",
    "undisputed_oldest_open_dpd": "days past due of the oldest open undisputed invoice (NaN: none open)",
    "ar_prev_month_end": "open receivables at the end of the month before the as-of month",
    "insured_limit_value": "credit insurance limit from the master (NaN = not insured)",
    "insurance_expiry_day": "last day of the insurance cover from the master",
    "open_orders_amt": "orders placed and not closed at the as-of date",
    "ar_hwm_12m": "highest running receivables balance in the last 12 months",
    "ar_3m_ago": "running receivables balance at the end of the day 3 months before the as-of date",
    "ar_12m_ago": "running receivables balance at the end of the day 12 months before the as-of date",
    "inv_cnt_12m": "invoices issued in the last 12 months",
    "inv_amt_3m": "amount invoiced in the last 3 months",
    "inv_amt_12m": "amount invoiced in the last 12 months",
    "sales_slope_12m": "slope of monthly invoiced amount, last 12 months",
    "active_months_12m": "months of the last 12 with an invoice",
    "dispute_cnt_12m": "disputes raised in the last 12 months",
    "credit_note_amt_12m": "credit notes in the last 12 months",
    "deduction_amt_12m": "deductions in the last 12 months",
    "write_off_amt_12m": "write-offs in the last 12 months",
    "unapplied_amt_12m": "unapplied cash received in the last 12 months",
    "unapplied_min_day_12m": "day of the oldest unapplied payment of the last 12 months",
    "last_inv_day": "day of the last invoice",
    "last_pay_day": "day of the last payment (applied or not)",
    "first_inv_day": "day of the first invoice",
    "inv_cnt_total": "invoices issued up to the as-of date",
    "pay_cnt_total": "payments received up to the as-of date",
}


def to_days(values: pd.Series | pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Dates as int64 day numbers since 1970-01-01 (NaT becomes ``NO_DAY``)."""
    arr = np.asarray(values, dtype="datetime64[ns]")
    return _kernels.days_fast(arr) if len(arr) >= 10_000 else _kernels.days_numpy(arr)


def months_back(as_of: pd.Timestamp, k: int) -> pd.Timestamp:
    """``as_of`` minus ``k`` months; month ends map to month ends (so windows are calendar months)."""
    if as_of.is_month_end:
        return (as_of - pd.offsets.MonthEnd(k)) if k else as_of
    return as_of - pd.DateOffset(months=k)


def normalise_dates(as_of_dates: object) -> list[pd.Timestamp]:
    """Sorted unique midnight timestamps from a date, a string or a sequence of them."""
    if isinstance(as_of_dates, str | pd.Timestamp) or not hasattr(as_of_dates, "__iter__"):
        as_of_dates = [as_of_dates]
    out = sorted({pd.Timestamp(d).normalize() for d in as_of_dates})  # type: ignore[union-attr]
    if not out:
        raise ValueError("as_of_dates must hold at least one date; got none")
    return out


@dataclass
class _Grid:
    bounds: np.ndarray  # int64 day numbers, ascending
    snaps: np.ndarray  # positions of the as-of dates in ``bounds``
    dates: list[pd.Timestamp]

    @property
    def nb(self) -> int:
        return len(self.bounds)


def _grids(dates: list[pd.Timestamp]) -> list[_Grid]:
    """One grid for a set of month ends, else one grid per date."""
    if all(d.is_month_end for d in dates):
        first = months_back(dates[0], LOOKBACK)
        bounds = pd.date_range(first, dates[-1], freq="ME")
        days = to_days(bounds)
        return [_Grid(days, np.searchsorted(days, to_days(pd.DatetimeIndex(dates))), dates)]
    grids = []
    for d in dates:
        bounds = pd.DatetimeIndex([months_back(d, k) for k in range(LOOKBACK, -1, -1)])
        grids.append(_Grid(to_days(bounds), np.array([LOOKBACK]), [d]))
    return grids


class _Acc:
    """Per-customer x per-bucket accumulators and their windowed read-outs at the as-of dates."""

    def __init__(self, n_cust: int, grid: _Grid):
        self.nc, self.g = n_cust, grid

    def sums(self, cust: np.ndarray, days: np.ndarray, *weights: np.ndarray,
             mask: np.ndarray | None = None) -> list[np.ndarray]:
        """Per (customer, bucket) sums of each weight (one count when none is given) over the rows where
        ``mask``, all in one pass over the rows (a small table, e.g. the adjustments, by numpy's ``bincount``,
        the kernel's reference: quicker than loading the compiled kernel on a process's first build)."""
        sums = KERNELS.bucket_sums if len(cust) >= SMALL_TABLE else _kernels.bucket_sums_numpy
        return sums(cust, days, weights, mask, self.g.bounds, self.nc)

    def total(self, cust: np.ndarray, days: np.ndarray, weights: np.ndarray | None = None,
              mask: np.ndarray | None = None) -> np.ndarray:
        """One weight's (or the count's) per (customer, bucket) sums."""
        return self.sums(cust, days, *(() if weights is None else (weights,)), mask=mask)[0]

    def window(self, per_bucket: np.ndarray, w: int) -> np.ndarray:
        """Sum over the last ``w`` buckets at each as-of date: shape (n_cust, n_dates)."""
        return self.windows(per_bucket, (w,))[0]

    def windows(self, per_bucket: np.ndarray, ws: tuple[int, ...]) -> list[np.ndarray]:
        """:meth:`window` for each of ``ws``: differences of the running sums over the buckets (read once)."""
        s = self.g.snaps
        cols = np.unique(np.concatenate([s, *(s - w for w in ws)]))
        c = KERNELS.cum_at(per_bucket, cols)
        at = c[:, np.searchsorted(cols, s)]
        return [at - c[:, np.searchsorted(cols, s - w)] for w in ws]

    def window_ext(self, per_bucket: np.ndarray, w: int, kind: str) -> np.ndarray:
        s = self.g.snaps
        stack = np.stack([per_bucket[:, s - i] for i in range(w)], axis=0)
        out = stack.max(axis=0) if kind == "max" else stack.min(axis=0)
        return np.where(np.isfinite(out), out, np.nan)

    def to_date(self, per_bucket: np.ndarray) -> np.ndarray:
        """Cumulative (all history) sum up to each as-of date."""
        return KERNELS.cum_at(per_bucket, self.g.snaps)

    def running_ext(self, per_bucket: np.ndarray, kind: str) -> np.ndarray:
        acc = np.maximum.accumulate if kind == "max" else np.minimum.accumulate
        out = acc(per_bucket, axis=1)[:, self.g.snaps]
        return np.where(np.isfinite(out), out, np.nan)


def _regression(acc: _Acc, y: np.ndarray, valid: np.ndarray, ws: tuple[int, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Least-squares slope and standard deviation of ``y`` over the last ``w`` buckets where ``valid``
    (at least 3 points, else NaN), for each ``w`` of ``ws``. x is the bucket index, so the slope is per month."""
    x = np.broadcast_to(np.arange(y.shape[1], dtype="float64"), y.shape)
    v = valid.astype("float64")
    yv = np.where(valid, y, 0.0)
    sums = [acc.windows(a, ws) for a in (v, x * v, yv, x * yv, x * x * v, yv * yv)]
    out = []
    for i in range(len(ws)):
        n, sx, sy, sxy, sxx, syy = (s[i] for s in sums)
        with np.errstate(invalid="ignore", divide="ignore"):
            den = n * sxx - sx * sx
            slope = np.where((n >= 3) & (den > 0), (n * sxy - sx * sy) / den, np.nan)
            var = (syy - sy * sy / n) / (n - 1)
            std = np.where(n >= 3, np.sqrt(np.clip(var, 0.0, None)), np.nan)
        out.append((slope, std))
    return out


@dataclass
class _Prepared:
    """Ledger arrays in day numbers and integer codes, shared by every grid."""

    cust_ids: pd.Index
    limit: np.ndarray
    terms: np.ndarray
    onboard_day: np.ndarray
    review_day: np.ndarray
    insured_limit: np.ndarray
    insurance_expiry_day: np.ndarray
    inv_cust: np.ndarray
    inv_day: np.ndarray
    due_day: np.ndarray
    inv_amt: np.ndarray
    dispute_day: np.ndarray
    # the settlements (``_kernels.settlements_fast``), found on the second thread while the aggregation starts:
    # events (cash + adjustments on invoices) sorted by (invoice, day), ``ev_cum`` the cumulative settled
    # amount of the invoice after the event; per invoice ``settle_day`` (NO_DAY if never settled), cash and
    # payment count by then. Read through the properties below, which wait for them.
    settlements: Future[dict[str, np.ndarray]]
    pay_cust: np.ndarray  # cash payments
    pay_day: np.ndarray
    pay_amt: np.ndarray
    pay_inv: np.ndarray  # -1 = unapplied
    adj_cust: np.ndarray
    adj_day: np.ndarray
    adj_amt: np.ndarray
    adj_kind: np.ndarray
    ord_cust: np.ndarray
    ord_day: np.ndarray
    ord_close: np.ndarray
    ord_amt: np.ndarray

    ev_inv = property(lambda self: self.settlements.result()["ev_inv"])
    ev_day = property(lambda self: self.settlements.result()["ev_day"])
    ev_amt = property(lambda self: self.settlements.result()["ev_amt"])
    ev_cum = property(lambda self: self.settlements.result()["ev_cum"])
    settle_day = property(lambda self: self.settlements.result()["settle_day"])
    settle_cash = property(lambda self: self.settlements.result()["settle_cash"])
    settle_ncash = property(lambda self: self.settlements.result()["settle_ncash"])


def _codes(index: pd.Index, values: list[pd.Series]) -> list[np.ndarray]:
    """Position of each value in ``index`` (-1: absent or missing), hashed on Arrow strings: the keys are
    hashed once for all the columns looked up."""
    out = positions([v.astype("str") for v in values], pd.Series(index.astype("str")))
    assert isinstance(out, list)  # a list of Series in, a list of arrays out
    return out


def sort_order(major: np.ndarray, day: np.ndarray, minor: np.ndarray | None = None) -> np.ndarray:
    """Stable order by (major, day[, minor in {0, 1}]) through one int64 key (faster than lexsort).

    When the key and the row number fit in 63 bits together, the row number is packed below the key
    and the packed values sorted (a plain sort, several times faster than a stable argsort, and faster
    than a counting sort in numba; ties keep input order because the row number decides them)."""
    n = len(major)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    base, span = int(day.min()), int(day.max() - day.min()) + 1
    key = major.astype(np.int64) * span + (day - base)
    if minor is not None:
        key = key * 2 + minor.astype(np.int64)
    row_bits = max(1, (n - 1).bit_length())
    lo, hi = int(key.min()), int(key.max())
    if lo >= 0 and hi.bit_length() + row_bits <= 63:
        packed = np.sort((key << row_bits) | np.arange(n, dtype=np.int64))
        return packed & ((1 << row_bits) - 1)
    return np.argsort(key, kind="stable")


def _balances(p: _Prepared, grid: _Grid) -> dict[str, np.ndarray]:
    """The running receivables balance (+invoice, -settlement) at and before the as-of dates: 12-month
    high-water mark, balances 3 and 12 months back and at the previous month end (``_kernels.balances_fast``).
    Amounts too large for exact int64 sums take the reference way with exact Python-integer running sums."""
    args = (p.inv_cust, p.inv_day, p.inv_amt, p.inv_cust[p.ev_inv], p.ev_day, p.ev_amt, len(p.cust_ids),
            grid.bounds, grid.snaps)
    out = KERNELS.balances(*args)
    if out is None:
        out = _kernels.balances_numpy(*args, cumsum=group_cumsum)
    return out


_SettlementArgs = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]


def _settlements(args: _SettlementArgs) -> dict[str, np.ndarray]:
    ev = KERNELS.settlements(*args)
    if ev is None:  # amounts too large for exact int64 sums: exact Python-integer running sums
        ev = _kernels.settlements_numpy(*args, cumsum=group_cumsum)
    return ev


def prepare(ledger: Ledger, config: FeatureConfig, pool: ThreadPoolExecutor | None = None) -> _Prepared:
    """Turn the ledger into the integer arrays the aggregation needs (done once per build).

    On ``pool``'s thread (one worker; its own when None): the customer codes are looked up meanwhile, then the
    settlements found (the kernels release the GIL), which the returned arrays hand out when they are ready."""
    if pool is not None:
        return _prepare(ledger, config, pool)
    with ThreadPoolExecutor(max_workers=1) as own:
        prepared = _prepare(ledger, config, own)
        prepared.settlements.result()
        return prepared


def _prepare(ledger: Ledger, config: FeatureConfig, pool: ThreadPoolExecutor) -> _Prepared:
    cust = ledger.customers
    ids = pd.Index(cust["customer_id"].astype("str"))
    inv = ledger.invoices
    inv_ids = pd.Index(inv["invoice_id"].astype("str"))
    pay, adj, orders = ledger.payments, ledger.adjustments, ledger.orders
    cust_codes = pool.submit(
        _codes, ids, [inv["customer_id"], pay["customer_id"], adj["customer_id"], orders["customer_id"]])
    pay_inv, adj_inv = _codes(inv_ids, [pay["invoice_id"], adj["invoice_id"]])
    inv_day, due_day = to_days(inv["invoice_date"]), to_days(inv["due_date"])
    inv_amt = inv["amount"].to_numpy("float64")
    disputed = inv["disputed"].fillna(False).to_numpy(bool) if "disputed" in inv else np.zeros(len(inv), bool)
    ddate = inv["dispute_date"] if "dispute_date" in inv else pd.Series(pd.NaT, index=inv.index)
    ddays = to_days(ddate)  # a disputed invoice without a dispute date: disputed since its invoice day
    dispute_day = np.where(disputed, np.where(ddays == NO_DAY, inv_day, ddays), NO_DAY)

    pay_inv = np.where(pay["invoice_id"].isna().to_numpy(), -1, pay_inv)
    pay_day, pay_amt = to_days(pay["payment_date"]), pay["amount"].to_numpy("float64")

    adj_inv = np.where(adj["invoice_id"].isna().to_numpy(), -1, adj_inv)
    adj_day, adj_amt = to_days(adj["date"]), adj["amount"].to_numpy("float64")

    # settlement events per invoice (cash and adjustments tied to an invoice) and each invoice's settlement,
    # on the second thread after the customer codes
    settlements = pool.submit(_settlements, (pay_inv, pay_day, pay_amt, adj_inv, adj_day, adj_amt, inv_amt,
                                             config.settled_share))
    inv_cust, pay_cust, adj_cust, ord_cust = cust_codes.result()

    limit = pd.to_numeric(cust["credit_limit"], errors="coerce").to_numpy("float64")
    return _Prepared(
        cust_ids=ids,
        limit=limit,
        terms=cust["payment_terms_days"].to_numpy("float64"),
        onboard_day=to_days(cust["onboarded_date"]) if "onboarded_date" in cust else np.full(len(cust), NO_DAY),
        review_day=to_days(cust["last_review_date"]) if "last_review_date" in cust else np.full(len(cust), NO_DAY),
        insured_limit=(pd.to_numeric(cust["insured_limit"], errors="coerce").to_numpy("float64")
                       if "insured_limit" in cust else np.full(len(cust), np.nan)),
        insurance_expiry_day=(to_days(cust["insurance_expiry"]) if "insurance_expiry" in cust
                              else np.full(len(cust), NO_DAY)),
        inv_cust=inv_cust, inv_day=inv_day, due_day=due_day, inv_amt=inv_amt, dispute_day=dispute_day,
        settlements=settlements,
        pay_cust=pay_cust, pay_day=pay_day, pay_amt=pay_amt, pay_inv=pay_inv,
        adj_cust=adj_cust, adj_day=adj_day, adj_amt=adj_amt,
        adj_kind=adj["kind"].astype("str").to_numpy(),
        ord_cust=ord_cust, ord_day=to_days(orders["order_date"]),
        ord_close=to_days(orders["closed_date"]) if "closed_date" in orders else np.full(len(orders), NO_DAY),
        ord_amt=orders["amount"].to_numpy("float64"),
    )


# running sums are exact integer sums of amounts in units of 1/10,000: a customer's figures then never
# depend on which other customers were summed before it (float running totals would carry their rounding)
CUMSUM_SCALE = _kernels.CUMSUM_SCALE


def group_starts(groups: np.ndarray) -> np.ndarray:
    """Positions where a run of equal (sorted) ``groups`` starts."""
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])


def group_cumsum(groups: np.ndarray, values: np.ndarray, starts: np.ndarray | None = None) -> np.ndarray:
    """Cumulative sum of ``values`` within runs of equal (sorted) ``groups``, exact to 1/10,000
    (``starts``: :func:`group_starts` of ``groups`` when already known)."""
    if len(values) == 0:
        return np.zeros(0)
    qf = np.round(np.asarray(values, dtype="float64") * CUMSUM_SCALE)
    # one running sum that restarts at each run: the first value of a run carries minus the previous run's
    # total. int64 is exact while the absolute sum of all amounts stays below 2**62 (no partial sum can
    # overflow); beyond that the sums are taken in Python integers, exact at any size
    huge = float(np.abs(qf).sum()) >= 2.0**62
    if not huge:
        return KERNELS.group_cumsum_int(groups, qf.astype(np.int64)) / CUMSUM_SCALE
    q = np.array([int(x) for x in qf], dtype=object)
    starts = group_starts(groups) if starts is None else starts
    totals = np.add.reduceat(q, starts)
    q[starts[1:]] -= totals[:-1]
    total = np.cumsum(q)
    return np.array([x / CUMSUM_SCALE for x in total], dtype="float64")


def _expand(start: np.ndarray, stop: np.ndarray, snap_days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (item, as-of position) for every as-of day with start <= day < stop."""
    lo = np.searchsorted(snap_days, start, side="left")
    hi = np.searchsorted(snap_days, stop, side="left")
    cnt = np.clip(hi - lo, 0, None)
    item = np.repeat(np.arange(len(start)), cnt)
    offs = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    return item, np.repeat(lo, cnt) + offs


def _lookup_cum(keys_group: np.ndarray, keys_day: np.ndarray, cum: np.ndarray,
                q_group: np.ndarray, q_day: np.ndarray, n_groups: int) -> np.ndarray:
    """Value of ``cum`` at the last event with the same group and day <= the query day (0 if none); events
    sorted by (group, day), groups ``0..n_groups-1``."""
    return KERNELS.lookup_last(keys_group, keys_day, cum, q_group, q_day, n_groups)


def _flows(p: _Prepared, grid: _Grid, config: FeatureConfig) -> dict[str, np.ndarray]:
    """Sums, extremes and trends of the ledger's events over the monthly buckets, read at the as-of dates (the
    payments first: they do not wait for the settlements)."""
    acc = _Acc(len(p.cust_ids), grid)
    out: dict[str, np.ndarray] = {}

    # ---- cash applied to invoices: days beyond terms, amount weighted
    pay = KERNELS.payment_flows(p.pay_cust, p.pay_day, p.pay_amt, p.pay_inv, p.due_day, grid.bounds, acc.nc)
    amt_b, dbt_b = pay["pay_amt"], pay["pay_dbt_amt"]
    for w, amt_w, dbt_w in zip(WINDOWS, acc.windows(amt_b, WINDOWS), acc.windows(dbt_b, WINDOWS), strict=True):
        out[f"pay_amt_{w}m"], out[f"pay_dbt_amt_{w}m"] = amt_w, dbt_w
    out["pay_dbt_max_12m"] = acc.window_ext(pay["pay_dbt_max"], 12, "max")
    monthly = amt_b > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.where(monthly, dbt_b / np.where(monthly, amt_b, 1.0), 0.0)
    (out["dbt_slope_6m"], _), (out["dbt_slope_12m"], out["dbt_std_12m"]) = _regression(acc, y, monthly, (6, 12))

    # ---- invoices settled: lateness, instalments, short payment (known on the settlement day)
    settled = KERNELS.settled_flows(p.inv_cust, p.settle_day, p.inv_amt, p.due_day, p.settle_cash, p.settle_ncash,
                                    config.late_grace_days, config.settled_share, grid.bounds, acc.nc)
    last_full_single = settled.pop("full_single_day_max")
    for name, per_bucket in settled.items():
        out[f"{name}_12m"] = acc.window(per_bucket, 12)
    for name in ("settled_cnt", "late_cnt", "multi_pay_cnt", "full_single_cnt"):
        out[f"{name}_3m"] = acc.window(settled[name], 3)
    out["last_full_single_day"] = acc.running_ext(last_full_single, "max")

    # ---- invoices issued: volume, frequency, trend
    inv = KERNELS.invoice_flows(p.inv_cust, p.inv_day, p.inv_amt, p.due_day, p.dispute_day, grid.bounds, acc.nc)
    cnt_b, sales_b = inv["inv_cnt"], inv["inv_amt"]
    out["inv_cnt_12m"] = acc.window(cnt_b, 12)
    out["inv_amt_3m"], out["inv_amt_12m"] = acc.windows(sales_b, (3, 12))
    out["active_months_12m"] = acc.window((cnt_b > 0).astype("float64"), 12)
    xb = np.arange(grid.nb, dtype="float64")
    sxy = acc.window(sales_b * xb, 12)
    x0 = grid.snaps.astype("float64") - 11.0  # first bucket of the window
    out["sales_slope_12m"] = (sxy - (x0 + 5.5) * out["inv_amt_12m"]) / (12 * (12**2 - 1) / 12.0)
    out["inv_cnt_total"] = acc.to_date(cnt_b)
    out["last_inv_day"] = acc.running_ext(inv["inv_day_max"], "max")
    out["first_inv_day"] = acc.running_ext(inv["inv_day_min"], "min")
    out["due_amt_3m"] = acc.window(inv["due_amt"], 3)
    out["dispute_cnt_12m"] = acc.window(inv["dispute_cnt"], 12)  # NO_DAY: in no bucket

    # ---- all cash received (applied or not) and unapplied cash
    out["pay_cnt_total"] = acc.to_date(pay["pay_cnt"])
    out["last_pay_day"] = acc.running_ext(pay["pay_day_max"], "max")
    out["unapplied_amt_12m"] = acc.window(pay["unapplied_amt"], 12)
    out["unapplied_min_day_12m"] = acc.window_ext(pay["unapplied_day_min"], 12, "min")

    # ---- adjustments
    for kind, name in (("credit_note", "credit_note_amt_12m"), ("deduction", "deduction_amt_12m"),
                       ("write_off", "write_off_amt_12m")):
        k = p.adj_kind == kind
        out[name] = acc.window(acc.total(p.adj_cust, p.adj_day, p.adj_amt, mask=k), 12)
    return out


def _state(p: _Prepared, grid: _Grid) -> dict[str, np.ndarray]:
    """Open invoices, open orders and receivables balances at (and before) each as-of date."""
    nc = len(p.cust_ids)
    snap_days = grid.bounds[grid.snaps]
    nd = len(snap_days)
    out: dict[str, np.ndarray] = {}

    # ---- state of open invoices at each as-of date
    item, pos = _expand(p.inv_day, p.settle_day, snap_days)
    sday = snap_days[pos]
    paid = _lookup_cum(p.ev_inv, p.ev_day, p.ev_cum, item, sday, len(p.inv_day))
    open_amt = np.clip(p.inv_amt[item] - paid, 0.0, None)
    dpd = (sday - p.due_day[item]).astype("float64")
    flat = p.inv_cust[item] * nd + pos
    size = nc * nd

    def per(weights: np.ndarray | None, mask: np.ndarray | None = None) -> np.ndarray:
        f = flat if mask is None else flat[mask]
        w = weights if (weights is None or mask is None) else weights[mask]
        return np.bincount(f, weights=w, minlength=size).astype("float64").reshape(nc, nd)

    past = dpd > 0
    out["open_amt"] = per(open_amt)
    out["open_cnt"] = per(None)
    out["past_due_amt"] = per(open_amt, past)
    out["past_due_cnt"] = per(None, past)
    out["past_due_dpd_sum"] = per(dpd, past)
    oldest = np.full(size, -np.inf)
    np.maximum.at(oldest, flat, dpd)
    out["oldest_open_dpd"] = np.where(np.isfinite(oldest), oldest, np.nan).reshape(nc, nd)
    for name, lo, hi in (("aging_current_amt", -np.inf, 0), ("aging_1_30_amt", 0, 30),
                         ("aging_31_60_amt", 30, 60), ("aging_61_90_amt", 60, 90),
                         ("aging_90p_amt", 90, np.inf)):
        out[name] = per(open_amt, (dpd > lo) & (dpd <= hi))
    disputed_now = p.dispute_day[item] <= sday
    out["disputed_open_amt"] = per(open_amt, disputed_now)
    out["undisputed_past_due_amt"] = per(open_amt, past & ~disputed_now)
    oldest_u = np.full(size, -np.inf)
    np.maximum.at(oldest_u, flat[~disputed_now], dpd[~disputed_now])
    out["undisputed_oldest_open_dpd"] = np.where(np.isfinite(oldest_u), oldest_u, np.nan).reshape(nc, nd)
    win3_start = grid.bounds[grid.snaps - 3][pos]
    out["open_due_3m"] = per(open_amt, (p.due_day[item] > win3_start) & (p.due_day[item] <= sday))

    # ---- open orders
    o_item, o_pos = _expand(p.ord_day, p.ord_close, snap_days)
    out["open_orders_amt"] = np.bincount(
        p.ord_cust[o_item] * nd + o_pos, weights=p.ord_amt[o_item], minlength=size
    ).astype("float64").reshape(nc, nd)

    # ---- running receivables balance: 12-month high-water mark, balances at past dates
    out.update(_balances(p, grid))
    return out


def _aggregate_grid(p: _Prepared, grid: _Grid, config: FeatureConfig,
                    pool: ThreadPoolExecutor | None = None) -> dict[str, np.ndarray]:
    """Every aggregate on one grid. The flows (windowed sums) and the state at the as-of dates are independent:
    the state is computed on ``pool``'s thread (its own when None) meanwhile, after whatever is queued there (the
    settlements; the kernels and numpy's loops on large arrays release the GIL); each part fills its own names,
    so the result does not depend on the threads."""
    if pool is None:
        with ThreadPoolExecutor(max_workers=1) as own:
            return _aggregate_grid(p, grid, config, own)
    state = pool.submit(_state, p, grid)
    out = _flows(p, grid, config)
    out.update(state.result())
    nc = len(p.cust_ids)
    snap_days = grid.bounds[grid.snaps]
    nd = len(snap_days)

    # ---- customer master, point in time
    out["as_of_day"] = np.broadcast_to(snap_days.astype("float64"), (nc, nd))
    out["credit_limit_value"] = np.broadcast_to(p.limit[:, None], (nc, nd))
    out["payment_terms"] = np.broadcast_to(p.terms[:, None], (nc, nd))
    onboard = np.where(p.onboard_day == NO_DAY, np.nan, p.onboard_day.astype("float64"))[:, None]
    out["start_day"] = np.where(np.isnan(onboard), out["first_inv_day"], onboard)
    review = np.where(p.review_day == NO_DAY, np.nan, p.review_day.astype("float64"))
    out["review_day"] = np.broadcast_to(review[:, None], (nc, nd))
    out["insured_limit_value"] = np.broadcast_to(p.insured_limit[:, None], (nc, nd))
    expiry = np.where(p.insurance_expiry_day == NO_DAY, np.nan, p.insurance_expiry_day.astype("float64"))
    out["insurance_expiry_day"] = np.broadcast_to(expiry[:, None], (nc, nd))
    return out


def compute_aggregates(ledger: Ledger, as_of_dates: object, config: FeatureConfig | None = None) -> pd.DataFrame:
    """Aggregates for every customer of the master at every as-of date.

    Returns one row per (as_of, customer) in date-major order with columns ``customer_id``, ``as_of``
    and every name in ``AGGREGATES``."""
    config = config or FeatureConfig()
    dates = normalise_dates(as_of_dates)
    frames = []
    # one second thread for the whole build: customer codes, settlements, then each grid's state
    with ThreadPoolExecutor(max_workers=1) as pool:
        prepared = prepare(ledger, config, pool)
        for grid in _grids(dates):
            agg = _aggregate_grid(prepared, grid, config, pool)
            nc, nd = len(prepared.cust_ids), len(grid.dates)
            cols = {
                "customer_id": np.tile(prepared.cust_ids.to_numpy(), nd),
                "as_of": np.repeat(pd.DatetimeIndex(grid.dates).to_numpy("datetime64[ns]"), nc),
            }
            for name in AGGREGATES:
                cols[name] = np.ascontiguousarray(np.asarray(agg[name], dtype="float64").T).ravel()
            frames.append(pd.DataFrame(cols))
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    out["customer_id"] = out["customer_id"].astype("str")
    return out
