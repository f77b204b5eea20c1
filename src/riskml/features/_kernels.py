"""The feature engine's hot loops: numba kernels and their pure-numpy references.

Each kernel has a numpy twin computing the same thing the way the engine did before the kernels (bincount,
``ufunc.at``, ``searchsorted``); ``tests/features/test_kernels.py`` holds them equal bit for
bit, and the engine itself can run on either set (:data:`FAST`, :data:`REFERENCE`), which the tests use to
compare whole feature frames. The kernels add in the same order as the numpy code (row order), so float sums
are identical, not merely close.

Why kernels: the numpy versions make a temporary per step (bucket indices, masked copies, packed sort keys)
and ``bincount`` / ``ufunc.at`` scatter one column at a time; a kernel reads each event once and writes all
its sums.
"""

# ruff: noqa: ANN001, ANN202

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

NO_DAY = np.iinfo(np.int64).max  # "never" (an invoice never settled, an order never closed)

# ------------------------------------------------------------------------------------------ dates as days

NS_PER_DAY = 86_400_000_000_000
NAT = np.iinfo(np.int64).min  # numpy's NaT as int64


@numba.njit(nogil=True, cache=True)
def _days_nb(ns, out):
    for i in range(len(ns)):
        x = ns[i]
        out[i] = NO_DAY if x == NAT else x // NS_PER_DAY  # floor division, as numpy's cast to days


def days_fast(ns: np.ndarray) -> np.ndarray:
    """Day numbers since 1970-01-01 of ``datetime64[ns]`` values (NaT: NO_DAY), in one pass."""
    ns = np.ascontiguousarray(ns, dtype="datetime64[ns]").view(np.int64)
    out = np.empty(len(ns), np.int64)
    _days_nb(ns, out)
    return out


def days_numpy(ns: np.ndarray) -> np.ndarray:
    """Reference of :func:`days_fast`: numpy's cast to ``datetime64[D]``."""
    arr = np.asarray(ns, dtype="datetime64[ns]")
    return np.where(np.isnat(arr), NO_DAY, arr.astype("datetime64[D]").astype(np.int64))


# ---------------------------------------------------------------------------------------------- bucket sums


@numba.njit(nogil=True, cache=True)
def _bucket_sums_nb(cust, days, weights, mask, b0, last, table, nb, size):
    """Sums of each array of the tuple ``weights`` per (customer, bucket) cell, rows in order."""
    k = len(weights)
    out = np.zeros((size, k))  # a row's sums side by side: one cache line per row, not one per weight
    use_mask = len(mask) > 0
    for i in range(len(cust)):
        if use_mask and not mask[i]:
            continue
        d = days[i]
        if d > last or cust[i] < 0:
            continue
        b = table[d - b0] if d >= b0 else 0
        cell = cust[i] * nb + b
        for j in range(k):
            out[cell, j] += weights[j][i]
    return out


@numba.njit(nogil=True, cache=True)
def _bucket_counts_nb(cust, days, mask, b0, last, table, nb, size):
    out = np.zeros((size, 1))
    use_mask = len(mask) > 0
    for i in range(len(cust)):
        if use_mask and not mask[i]:
            continue
        d = days[i]
        if d > last or cust[i] < 0:
            continue
        b = table[d - b0] if d >= b0 else 0
        out[cust[i] * nb + b, 0] += 1.0
    return out


def _arr(x: np.ndarray, dtype: str | type) -> np.ndarray:
    """``x`` as a contiguous, writeable array of ``dtype`` (numba compiles one version per array type, and a
    read-only view, e.g. a column pandas hands out, is a type of its own)."""
    a = np.ascontiguousarray(x, dtype=dtype)
    return a if a.flags.writeable else a.copy()


def _as_mask(mask: np.ndarray | None) -> np.ndarray:
    return np.zeros(0, bool) if mask is None else _arr(mask, bool)


def bucket_sums_fast(cust: np.ndarray, days: np.ndarray, weights: tuple[np.ndarray, ...], mask: np.ndarray | None,
                     bounds: np.ndarray, n_cust: int) -> list[np.ndarray]:
    """Per (customer, bucket) sums of each weight (a count when there is none) over the rows where ``mask``
    (all rows when None) whose day falls in a bucket of ``bounds`` (``B[j-1] < day <= B[j]``; days after the
    last bound count nowhere). Returns one (n_cust, len(bounds)) array per weight."""
    nb = len(bounds)
    b0, last = int(bounds[0]), int(bounds[-1])
    table = np.searchsorted(bounds, np.arange(b0, last + 1, dtype=np.int64), side="left")
    cust, days = _arr(cust, np.int64), _arr(days, np.int64)
    if weights:
        w = tuple(_arr(x, np.float64) for x in weights)
        out = _bucket_sums_nb(cust, days, w, _as_mask(mask), b0, last, table, nb, n_cust * nb)
    else:
        out = _bucket_counts_nb(cust, days, _as_mask(mask), b0, last, table, nb, n_cust * nb)
    return [out[:, j].reshape(n_cust, nb) for j in range(out.shape[1])]


def bucket_sums_numpy(cust: np.ndarray, days: np.ndarray, weights: tuple[np.ndarray, ...], mask: np.ndarray | None,
                      bounds: np.ndarray, n_cust: int) -> list[np.ndarray]:
    """Reference of :func:`bucket_sums_fast`: ``searchsorted`` and one ``bincount`` per weight."""
    if mask is not None:
        cust, days = cust[mask], days[mask]
        weights = tuple(np.asarray(w)[mask] for w in weights)
    nb = len(bounds)
    b = np.searchsorted(bounds, days, side="left")
    ok = days <= bounds[-1]
    flat = cust[ok] * nb + b[ok]
    outs = []
    for w in weights or (None,):
        ww = None if w is None else np.asarray(w, dtype="float64")[ok]
        outs.append(np.bincount(flat, weights=ww, minlength=n_cust * nb).astype("float64").reshape(n_cust, nb))
    return outs


def bucket_extreme_numpy(cust: np.ndarray, days: np.ndarray, values: np.ndarray, mask: np.ndarray | None,
                         bounds: np.ndarray, n_cust: int, kind: str) -> np.ndarray:
    """Per (customer, bucket) largest (``kind="max"``) or smallest value, -inf / inf where there is none, by
    ``np.maximum.at`` / ``np.minimum.at`` (NaN wins): the reference of the flow kernels' extremes."""
    v = np.asarray(values, dtype="float64")
    if mask is not None:
        cust, days, v = cust[mask], days[mask], v[mask]
    nb = len(bounds)
    b = np.searchsorted(bounds, days, side="left")
    ok = days <= bounds[-1]
    out = np.full(n_cust * nb, -np.inf if kind == "max" else np.inf)
    with np.errstate(invalid="ignore"):
        (np.maximum if kind == "max" else np.minimum).at(out, cust[ok] * nb + b[ok], v[ok])
    return out.reshape(n_cust, nb)


# -------------------------------------------------------------------------------------- running group sums


@numba.njit(nogil=True, cache=True)
def _group_cumsum_nb(groups, q):
    out = np.empty_like(q)
    run = np.int64(0)
    for i in range(len(q)):
        if i > 0 and groups[i] != groups[i - 1]:
            run = 0
        run += q[i]
        out[i] = run
    return out


def group_cumsum_int_fast(groups: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Running int64 sums of ``q`` restarting where the (sorted) ``groups`` change."""
    return _group_cumsum_nb(_arr(groups, np.int64), _arr(q, np.int64))


def group_cumsum_int_numpy(groups: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Reference of :func:`group_cumsum_int_fast`: one cumulative sum with each run's first value carrying
    minus the previous runs' total."""
    if len(q) == 0:
        return np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    q = np.array(q, dtype=np.int64)
    totals = np.add.reduceat(q, starts)
    q[starts[1:]] -= totals[:-1]
    return np.cumsum(q)


# ------------------------------------------------------------------------------ last value at or before a day


@numba.njit(nogil=True, cache=True)
def _lookup_last_nb(seg, key_day, cum, q_group, q_day, out):
    n_groups = len(seg) - 1
    for i in range(len(q_group)):
        g = q_group[i]
        out[i] = 0.0
        if g < 0 or g >= n_groups:
            continue
        lo, hi = seg[g], seg[g + 1]
        d = q_day[i]
        # the first event of the group with day > d
        while lo < hi:
            mid = (lo + hi) >> 1
            if key_day[mid] <= d:
                lo = mid + 1
            else:
                hi = mid
        if lo > seg[g]:
            out[i] = cum[lo - 1]


def lookup_last_fast(keys_group: np.ndarray, keys_day: np.ndarray, cum: np.ndarray,
                     q_group: np.ndarray, q_day: np.ndarray, n_groups: int) -> np.ndarray:
    """Value of ``cum`` at the last event with the same group and day <= the query day (0 if none); events
    sorted by (group, day), groups in ``0..n_groups-1``."""
    # each group's run of events (events of a group outside 0..n_groups-1 sort before or after them all)
    first = int(np.searchsorted(keys_group, 0, side="left"))
    last = int(np.searchsorted(keys_group, n_groups, side="left"))
    counts = np.bincount(keys_group[first:last], minlength=n_groups)
    seg = np.concatenate([[first], first + np.cumsum(counts)]).astype(np.int64)
    out = np.empty(len(q_group))
    _lookup_last_nb(seg, _arr(keys_day, np.int64), _arr(cum, np.float64), _arr(q_group, np.int64),
                    _arr(q_day, np.int64), out)
    return out


def lookup_last_numpy(keys_group: np.ndarray, keys_day: np.ndarray, cum: np.ndarray,
                      q_group: np.ndarray, q_day: np.ndarray, n_groups: int) -> np.ndarray:
    """Reference of :func:`lookup_last_fast`: one ``searchsorted`` on a combined (group, day) key."""
    if len(keys_group) == 0 or len(q_group) == 0:
        return np.zeros(len(q_group))
    base = int(min(keys_day.min(), q_day.min())) - 1
    span = int(max(keys_day.max(), q_day.max())) - base + 1
    k = keys_group.astype(np.int64) * span + (keys_day - base)
    q = q_group.astype(np.int64) * span + (q_day - base)
    pos = np.searchsorted(k, q, side="right") - 1
    ok = (pos >= 0) & (keys_group[np.clip(pos, 0, None)] == q_group)
    return np.where(ok, cum[np.clip(pos, 0, None)], 0.0)


# ------------------------------------------------------------------------------------- running sums by row


@numba.njit(nogil=True, cache=True)
def _cum_at_nb(buf, s_row, s_col, n, nb, cols, out):
    """Running sums along the rows of the (n, nb) array whose element (i, j) is ``buf[i * s_row + j * s_col]``,
    read at ``cols``: one compiled version for every layout (row-major, bucket-major, strided views)."""
    nc = len(cols)
    if s_row < s_col:  # bucket-major: walk the buckets, a running sum per row
        run = np.zeros(n)
        k = 0
        for j in range(nb):
            base = j * s_col
            for i in range(n):
                run[i] += buf[base + i * s_row]
            while k < nc and cols[k] == j:
                out[:, k] = run
                k += 1
        return
    for i in range(n):
        acc = 0.0
        k = 0
        base = i * s_row
        for j in range(nb):
            acc += buf[base + j * s_col]
            while k < nc and cols[k] == j:
                out[i, k] = acc
                k += 1


def cum_at_fast(per_bucket: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Running sums along each row read at the (ascending) columns ``cols``: shape (rows, len(cols)). Adds in
    row order, as ``np.cumsum`` does, with no full copy of the running sums nor of the input: the kernel reads
    the array's own memory through its strides (a bucket-major input bucket by bucket)."""
    cols = np.asarray(cols, dtype=np.int64)
    if len(cols) > 1 and (np.diff(cols) < 0).any():
        raise ValueError("cum_at_fast: cols must be ascending")
    a = per_bucket
    if a.ndim != 2 or a.dtype != np.float64 or min(a.strides) < 0 or any(st % 8 for st in a.strides):
        a = np.ascontiguousarray(a, dtype=np.float64).reshape(len(per_bucket), -1)
    n, nb = a.shape
    out = np.zeros((n, len(cols)))
    if n == 0 or nb == 0:
        return out
    s_row, s_col = a.strides[0] // 8, a.strides[1] // 8
    span = (n - 1) * s_row + (nb - 1) * s_col + 1
    buf = np.lib.stride_tricks.as_strided(a, shape=(span,), strides=(8,), writeable=False)
    _cum_at_nb(np.ascontiguousarray(buf), s_row, s_col, n, nb, cols, out)
    return out


def cum_at_numpy(per_bucket: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Reference of :func:`cum_at_fast`."""
    return np.cumsum(per_bucket, axis=1)[:, np.asarray(cols, dtype=np.int64)]


# ------------------------------------------------------------------------ receivables balances at past dates

CUMSUM_SCALE = 10_000  # running balances are exact integer sums of amounts in units of 1/10,000
HUGE = 2.0**62  # beyond this absolute sum of all amounts, int64 sums could overflow
BALANCE_BLOCK = 16_000_000  # int64 cells (128 MB) of the day x customer block of the balances' scan


@numba.njit(nogil=True, cache=True)
def _add_days(cust, day, amt, sign, n_cust, d0, t0, t1, scale, run, net):
    """Add each event's amount (x ``sign``, units of 1/scale) to its customer's ``run`` when it falls on or
    before ``d0``, to ``net[day - d0 - t0 - 1, customer]`` when ``t0 < day - d0 <= t1``."""
    for i in range(len(cust)):
        c = cust[i]
        if c < 0 or c >= n_cust:
            continue
        t = day[i] - d0
        if t <= t0 and t0 == 0:
            run[c] += np.int64(np.rint(sign * amt[i] * scale))
        elif t0 < t <= t1:
            net[t - t0 - 1, c] += np.int64(np.rint(sign * amt[i] * scale))


@numba.njit(nogil=True, cache=True)
def _balances_nb(inv_cust, inv_day, inv_amt, ev_cust, ev_day, ev_amt, n_cust, d0, d1, b0, table, nb, qdays,
                 scale, chunk, eod, bmax):
    """End-of-day receivables balances (integer units) of every customer at the sorted ``qdays`` (``eod``,
    query x customer) and the largest end-of-day balance of the days of each bucket in (d0, d1] (``bmax``,
    bucket x customer). The days are walked in chunks of ``chunk`` days, each a day x customer block of the
    chunk's net changes filled by one pass over the events (in date order the writes of a day stay in one
    row). Returns False (outputs untouched) when the amounts are too large for exact int64 sums."""
    total = 0.0
    for i in range(len(inv_amt)):
        total += abs(np.rint(inv_amt[i] * scale))
    for i in range(len(ev_amt)):
        total += abs(np.rint(-ev_amt[i] * scale))
    if not total < 2.0**62:
        return False
    run = np.zeros(n_cust, np.int64)
    lo = np.iinfo(np.int64).min
    for b in range(nb):
        for c in range(n_cust):
            bmax[b, c] = lo
    ndays = d1 - d0
    net = np.zeros((min(chunk, max(ndays, 1)), n_cust), np.int64)
    # everything up to d0 (t0 = 0 also adds the first chunk's days)
    qi = 0
    t0 = 0
    while True:
        t1 = min(t0 + chunk, ndays)
        _add_days(inv_cust, inv_day, inv_amt, 1.0, n_cust, d0, t0, t1, scale, run, net)
        _add_days(ev_cust, ev_day, ev_amt, -1.0, n_cust, d0, t0, t1, scale, run, net)
        if t0 == 0:
            while qi < len(qdays) and qdays[qi] == d0:
                eod[qi, :] = run
                qi += 1
        for t in range(t0 + 1, t1 + 1):
            row = net[t - t0 - 1]
            b = table[d0 + t - b0]
            top = bmax[b]
            for c in range(n_cust):
                r = run[c] + row[c]
                run[c] = r
                row[c] = 0
                if r > top[c]:
                    top[c] = r
            while qi < len(qdays) and qdays[qi] == d0 + t:
                eod[qi, :] = run
                qi += 1
        if t1 >= ndays:
            break
        t0 = t1
    return True


def _window_max(per_bucket: np.ndarray, snaps: np.ndarray, w: int) -> np.ndarray:
    """Largest value of the last ``w`` buckets at each as-of position."""
    return np.stack([per_bucket[:, snaps - i] for i in range(w)], axis=0).max(axis=0)


def balances_fast(inv_cust: np.ndarray, inv_day: np.ndarray, inv_amt: np.ndarray, ev_cust: np.ndarray,
                  ev_day: np.ndarray, ev_amt: np.ndarray, n_cust: int, bounds: np.ndarray,
                  snaps: np.ndarray) -> dict[str, np.ndarray] | None:
    """The receivables balance (+invoices, -settlements, per customer) at past dates, shape (n_cust, n_dates):
    ``ar_hwm_12m`` (highest running balance of the 12 months to the as-of date, at least the balance at their
    start, at least 0), ``ar_3m_ago`` / ``ar_12m_ago`` (end of the day 3 / 12 month bounds back) and
    ``ar_prev_month_end`` (one bound back, at least 0). None when the amounts are too large for exact int64
    sums.

    One walk over the windows' days with a running balance per customer, no sort (the events are added to a
    day x customer block, chunk by chunk of days: ``BALANCE_BLOCK`` bounds its memory; a test sets it small
    to cover several chunks): the highest running balance of a window
    is the highest end-of-day balance of its days or the balance at its start (within a day the reference
    order puts decreases before increases, so no point inside a day exceeds both the previous day's end and
    the day's own end)."""
    ks = (12, 3, 1)
    qpos = np.unique(np.concatenate([snaps - k for k in ks]))
    qdays = bounds[qpos].astype(np.int64)
    d0, d1 = int(qdays[0]), int(bounds[snaps].max())
    b0 = int(bounds[0])
    table = np.searchsorted(bounds, np.arange(b0, d1 + 1, dtype=np.int64), side="left")
    nb = len(bounds)
    eod = np.zeros((len(qdays), n_cust), np.int64)
    bmax = np.empty((nb, n_cust), np.int64)
    chunk = max(1, BALANCE_BLOCK // max(n_cust, 1))  # days per day x customer block of net changes
    ok = _balances_nb(_arr(inv_cust, np.int64), _arr(inv_day, np.int64), _arr(inv_amt, np.float64),
                      _arr(ev_cust, np.int64), _arr(ev_day, np.int64), _arr(ev_amt, np.float64), n_cust, d0, d1,
                      b0, table, nb, qdays, float(CUMSUM_SCALE), chunk, eod, bmax)
    if not ok:
        return None

    def at(k: int) -> np.ndarray:
        return eod[np.searchsorted(qpos, snaps - k)].T

    hwm = np.maximum(_window_max(bmax.T, snaps, 12), at(12))
    return {"ar_hwm_12m": (hwm / CUMSUM_SCALE).clip(min=0.0),
            "ar_3m_ago": at(3) / CUMSUM_SCALE,
            "ar_12m_ago": at(12) / CUMSUM_SCALE,
            "ar_prev_month_end": (at(1) / CUMSUM_SCALE).clip(min=0.0)}


def balances_numpy(inv_cust: np.ndarray, inv_day: np.ndarray, inv_amt: np.ndarray, ev_cust: np.ndarray,
                   ev_day: np.ndarray, ev_amt: np.ndarray, n_cust: int, bounds: np.ndarray, snaps: np.ndarray,
                   cumsum: Any = None) -> dict[str, np.ndarray] | None:
    """Reference of :func:`balances_fast`, the way the engine did it before: every change of the balance
    sorted by (customer, day, decreases before increases), running sums per customer, the largest per
    bucket and the running sums at past dates by binary search. ``cumsum(groups, amounts)``: the exact
    running sums when the int64 ones would overflow (else None is returned for such amounts)."""
    bal_cust = np.concatenate([inv_cust, ev_cust]).astype(np.int64)
    bal_day = np.concatenate([inv_day, ev_day]).astype(np.int64)
    bal_amt = np.concatenate([inv_amt, -np.asarray(ev_amt, dtype="float64")])
    known = bal_cust >= 0  # events of no known customer count for nobody
    bal_cust, bal_day, bal_amt = bal_cust[known], bal_day[known], bal_amt[known]
    order = np.lexsort(((bal_amt > 0), bal_day, bal_cust))
    bal_cust, bal_day, bal_amt = bal_cust[order], bal_day[order], bal_amt[order]
    if cumsum is None:
        qf = np.round(bal_amt * CUMSUM_SCALE)
        if not float(np.abs(qf).sum()) < HUGE:
            return None
        run = group_cumsum_int_numpy(bal_cust, qf.astype(np.int64)) / CUMSUM_SCALE
    else:
        run = cumsum(bal_cust, bal_amt)
    bal_max = _window_max(bucket_extreme_numpy(bal_cust, bal_day, run, None, bounds, n_cust, "max"), snaps, 12)
    bal_max = np.where(np.isfinite(bal_max), bal_max, np.nan)
    nd = len(snaps)
    cust_grid = np.repeat(np.arange(n_cust), nd)

    def at(k: int) -> np.ndarray:
        days = np.tile(bounds[snaps - k], n_cust)
        return lookup_last_numpy(bal_cust, bal_day, run, cust_grid, days, n_cust).reshape(n_cust, nd)

    start_bal = at(12)
    return {"ar_hwm_12m": np.fmax(np.nan_to_num(bal_max, nan=-np.inf), start_bal).clip(min=0.0),
            "ar_3m_ago": at(3), "ar_12m_ago": start_bal,
            "ar_prev_month_end": at(1).clip(min=0.0)}


# ------------------------------------------------------------ the flows of each table, all figures in one pass


@numba.njit(nogil=True, cache=True)
def _cell(c, d, b0, last, table, n_cust):
    """The cell of an event in a bucket-major block (bucket x customer): -1 when it falls in none (after the
    last bound, no customer). Bucket-major because ledgers come in date order: the rows of a month then write
    to one bucket's slab, which stays in the cache, instead of all over a customer-major block."""
    if d > last or c < 0:
        return -1
    return (table[d - b0] if d >= b0 else 0) * n_cust + c


@numba.njit(nogil=True, cache=True)
def _put_ext(out, cell, j, v, is_max):
    """``out[cell, j]`` = the larger (smaller) of it and ``v``; NaN wins (as np.maximum / np.minimum)."""
    cur = out[cell, j]
    if cur != cur:
        return
    if v != v or (v > cur if is_max else v < cur):
        out[cell, j] = v


@numba.njit(nogil=True, cache=True)
def _payment_flows_nb(cust, day, amt, inv, due_day, b0, last, table, n_cust, size):
    sums = np.zeros((size, 4))  # applied amount, applied amount x DBT, count (all), unapplied amount
    ext = np.empty((size, 3))  # applied DBT max, day max (all), unapplied day min
    for i in range(size):
        ext[i, 0], ext[i, 1], ext[i, 2] = -np.inf, -np.inf, np.inf
    for i in range(len(cust)):
        d = day[i]
        cell = _cell(cust[i], d, b0, last, table, n_cust)
        if cell < 0:
            continue
        a = amt[i]
        v = inv[i]
        sums[cell, 2] += 1.0
        _put_ext(ext, cell, 1, np.float64(d), True)
        if v >= 0:
            dbt = np.float64(max(d - due_day[v], 0))
            sums[cell, 0] += a
            sums[cell, 1] += a * dbt
            _put_ext(ext, cell, 0, dbt, True)
        else:
            sums[cell, 3] += a
            _put_ext(ext, cell, 2, np.float64(d), False)
    return sums, ext


PAYMENT_FLOWS = ("pay_amt", "pay_dbt_amt", "pay_cnt", "unapplied_amt", "pay_dbt_max", "pay_day_max",
                 "unapplied_day_min")


def _bucket_table(bounds: np.ndarray) -> tuple[int, int, np.ndarray]:
    b0, last = int(bounds[0]), int(bounds[-1])
    return b0, last, np.searchsorted(bounds, np.arange(b0, last + 1, dtype=np.int64), side="left")


def _split(blocks: tuple[np.ndarray, ...], names: tuple[str, ...], n_cust: int, nb: int) -> dict[str, np.ndarray]:
    """Each column of bucket-major blocks as a (customer, bucket) array (a transposed view, no copy)."""
    cols = [b[:, j].reshape(nb, n_cust).T for b in blocks for j in range(b.shape[1])]
    return dict(zip(names, cols, strict=True))


def payment_flows_fast(cust: np.ndarray, day: np.ndarray, amt: np.ndarray, inv: np.ndarray, due_day: np.ndarray,
                       bounds: np.ndarray, n_cust: int) -> dict[str, np.ndarray]:
    """Per (customer, bucket) figures of the cash payments (``inv``: the invoice each is applied to, -1:
    unapplied; DBT = days from the invoice's due date, at least 0), named in :data:`PAYMENT_FLOWS`: the applied
    amount, its sum of amount x DBT, the count of all payments, the unapplied amount, the largest DBT, the
    last payment day and the first unapplied payment day (-inf / inf where there is none)."""
    b0, last, table = _bucket_table(bounds)
    nb = len(bounds)
    blocks = _payment_flows_nb(_arr(cust, np.int64), _arr(day, np.int64), _arr(amt, np.float64),
                               _arr(inv, np.int64), _arr(due_day, np.int64), b0, last, table, n_cust, n_cust * nb)
    return _split(blocks, PAYMENT_FLOWS, n_cust, nb)


def payment_flows_numpy(cust: np.ndarray, day: np.ndarray, amt: np.ndarray, inv: np.ndarray, due_day: np.ndarray,
                        bounds: np.ndarray, n_cust: int) -> dict[str, np.ndarray]:
    """Reference of :func:`payment_flows_fast`: masked copies, one ``bincount`` / ``ufunc.at`` per figure."""
    ap = inv >= 0
    pc, pd_, pa = cust[ap], day[ap], amt[ap]
    dbt = np.clip(pd_ - due_day[inv[ap]], 0, None).astype("float64")
    amt_b, dbt_b = bucket_sums_numpy(pc, pd_, (pa, pa * dbt), None, bounds, n_cust)
    un = ~ap
    return {"pay_amt": amt_b, "pay_dbt_amt": dbt_b,
            "pay_cnt": bucket_sums_numpy(cust, day, (), None, bounds, n_cust)[0],
            "unapplied_amt": bucket_sums_numpy(cust, day, (amt,), un, bounds, n_cust)[0],
            "pay_dbt_max": bucket_extreme_numpy(pc, pd_, dbt, None, bounds, n_cust, "max"),
            "pay_day_max": bucket_extreme_numpy(cust, day, day, None, bounds, n_cust, "max"),
            "unapplied_day_min": bucket_extreme_numpy(cust, day, day, un, bounds, n_cust, "min")}


@numba.njit(nogil=True, cache=True)
def _invoice_flows_nb(cust, day, amt, due_day, dispute_day, b0, last, table, n_cust, size):
    sums = np.zeros((size, 2))  # count, amount (by invoice day)
    due = np.zeros((size, 1))  # amount (by due day)
    disp = np.zeros((size, 1))  # count (by dispute day)
    ext = np.empty((size, 2))  # day max, day min
    for i in range(size):
        ext[i, 0], ext[i, 1] = -np.inf, np.inf
    for i in range(len(cust)):
        c, d, a = cust[i], day[i], amt[i]
        cell = _cell(c, d, b0, last, table, n_cust)
        if cell >= 0:
            sums[cell, 0] += 1.0
            sums[cell, 1] += a
            _put_ext(ext, cell, 0, np.float64(d), True)
            _put_ext(ext, cell, 1, np.float64(d), False)
        cell = _cell(c, due_day[i], b0, last, table, n_cust)
        if cell >= 0:
            due[cell, 0] += a
        cell = _cell(c, dispute_day[i], b0, last, table, n_cust)
        if cell >= 0:
            disp[cell, 0] += 1.0
    return sums, due, disp, ext


INVOICE_FLOWS = ("inv_cnt", "inv_amt", "due_amt", "dispute_cnt", "inv_day_max", "inv_day_min")


def invoice_flows_fast(cust: np.ndarray, day: np.ndarray, amt: np.ndarray, due_day: np.ndarray,
                       dispute_day: np.ndarray, bounds: np.ndarray, n_cust: int) -> dict[str, np.ndarray]:
    """Per (customer, bucket) figures of the invoices, named in :data:`INVOICE_FLOWS`: count and amount by
    invoice day, amount by due day, count by dispute day (NO_DAY: none), last and first invoice day."""
    b0, last, table = _bucket_table(bounds)
    nb = len(bounds)
    blocks = _invoice_flows_nb(_arr(cust, np.int64), _arr(day, np.int64), _arr(amt, np.float64),
                               _arr(due_day, np.int64), _arr(dispute_day, np.int64), b0, last, table, n_cust,
                               n_cust * nb)
    return _split(blocks, INVOICE_FLOWS, n_cust, nb)


def invoice_flows_numpy(cust: np.ndarray, day: np.ndarray, amt: np.ndarray, due_day: np.ndarray,
                        dispute_day: np.ndarray, bounds: np.ndarray, n_cust: int) -> dict[str, np.ndarray]:
    """Reference of :func:`invoice_flows_fast`."""
    cnt_b, sales_b = bucket_sums_numpy(cust, day, (np.ones(len(cust)), amt), None, bounds, n_cust)
    return {"inv_cnt": cnt_b, "inv_amt": sales_b,
            "due_amt": bucket_sums_numpy(cust, due_day, (amt,), None, bounds, n_cust)[0],
            "dispute_cnt": bucket_sums_numpy(cust, dispute_day, (), None, bounds, n_cust)[0],
            "inv_day_max": bucket_extreme_numpy(cust, day, day, None, bounds, n_cust, "max"),
            "inv_day_min": bucket_extreme_numpy(cust, day, day, None, bounds, n_cust, "min")}


@numba.njit(nogil=True, cache=True)
def _settled_flows_nb(cust, settle_day, amt, due_day, settle_cash, settle_ncash, grace, share, b0, last, table,
                      n_cust, size):
    out = np.zeros((size, 8))
    ext = np.empty((size, 1))  # settlement day of the last invoice paid in full by a single cash payment
    for i in range(size):
        ext[i, 0] = -np.inf
    for i in range(len(cust)):
        sd = settle_day[i]
        if sd == NO_DAY:
            continue
        cell = _cell(cust[i], sd, b0, last, table, n_cust)
        if cell < 0:
            continue
        a = amt[i]
        late_days = np.float64(sd - due_day[i])
        late = 1.0 if late_days > grace else 0.0
        is_short = settle_cash[i] < share * a - 1e-9
        out[cell, 0] += 1.0
        out[cell, 1] += a
        out[cell, 2] += late
        out[cell, 3] += a * late
        out[cell, 4] += late_days * late
        out[cell, 5] += 1.0 if settle_ncash[i] >= 2 else 0.0
        out[cell, 6] += 1.0 if is_short else 0.0
        if settle_ncash[i] == 1 and not is_short:
            out[cell, 7] += 1.0
            _put_ext(ext, cell, 0, np.float64(sd), True)
    return out, ext


SETTLED_FLOWS = ("settled_cnt", "settled_amt", "late_cnt", "late_amt", "late_days_sum", "multi_pay_cnt",
                 "short_paid_cnt", "full_single_cnt", "full_single_day_max")


def settled_flows_fast(cust: np.ndarray, settle_day: np.ndarray, amt: np.ndarray, due_day: np.ndarray,
                       settle_cash: np.ndarray, settle_ncash: np.ndarray, grace: float, share: float,
                       bounds: np.ndarray, n_cust: int) -> dict[str, np.ndarray]:
    """Per (customer, bucket of the settlement day) figures of the settled invoices (``settle_day`` not
    NO_DAY), named in :data:`SETTLED_FLOWS`: count, amount; late ones (more than ``grace`` days after the due
    date): count, amount, days late; settled in two or more cash payments; short paid (cash below ``share``
    of the amount); paid in full by a single cash payment, and the last settlement day of those (-inf: none)."""
    b0, last, table = _bucket_table(bounds)
    nb = len(bounds)
    blocks = _settled_flows_nb(_arr(cust, np.int64), _arr(settle_day, np.int64), _arr(amt, np.float64),
                               _arr(due_day, np.int64), _arr(settle_cash, np.float64),
                               _arr(settle_ncash, np.float64), float(grace), float(share), b0, last, table,
                               n_cust, n_cust * nb)
    return _split(blocks, SETTLED_FLOWS, n_cust, nb)


def settled_flows_numpy(cust: np.ndarray, settle_day: np.ndarray, amt: np.ndarray, due_day: np.ndarray,
                        settle_cash: np.ndarray, settle_ncash: np.ndarray, grace: float, share: float,
                        bounds: np.ndarray, n_cust: int) -> dict[str, np.ndarray]:
    """Reference of :func:`settled_flows_fast`: masked copies and one ``bincount`` per figure."""
    st = settle_day != NO_DAY
    sc, sd, sa = cust[st], settle_day[st], amt[st]
    late_days = (sd - due_day[st]).astype("float64")
    late = late_days > grace
    short = settle_cash[st] < share * sa - 1e-9
    full_single = (settle_ncash[st] == 1) & ~short
    sums = bucket_sums_numpy(sc, sd, (np.ones(len(sc)), sa, late.astype("float64"), sa * late, late_days * late,
                                      (settle_ncash[st] >= 2).astype("float64"), short.astype("float64"),
                                      full_single.astype("float64")), None, bounds, n_cust)
    last_full = bucket_extreme_numpy(sc, sd, sd, full_single, bounds, n_cust, "max")
    return dict(zip(SETTLED_FLOWS, (*sums, last_full), strict=True))


# ----------------------------------------------------------------------- settlements (cash applied to invoices)



@numba.njit(nogil=True, cache=True)
def _settlements_nb(pay_inv, pay_day, pay_amt, adj_inv, adj_day, adj_amt, inv_amt, share, scale):
    n_inv = len(inv_amt)
    # sum of the amounts in units of 1/scale: beyond 2**62 the int64 running sums could overflow
    total = 0.0
    for i in range(len(pay_inv)):
        if pay_inv[i] >= 0:
            total += abs(np.rint(pay_amt[i] * scale))
    for i in range(len(adj_inv)):
        if adj_inv[i] >= 0:
            total += abs(np.rint(adj_amt[i] * scale))
    ok = total < 2.0**62
    # counting sort by invoice, payments before adjustments, each in input order ...
    start = np.zeros(n_inv + 1, np.int64)
    for i in range(len(pay_inv)):
        if pay_inv[i] >= 0:
            start[pay_inv[i] + 1] += 1
    for i in range(len(adj_inv)):
        if adj_inv[i] >= 0:
            start[adj_inv[i] + 1] += 1
    for v in range(n_inv):
        start[v + 1] += start[v]
    n = start[n_inv]
    ev_inv = np.empty(n, np.int64)
    ev_day = np.empty(n, np.int64)
    ev_amt = np.empty(n, np.float64)
    ev_cash = np.empty(n, np.bool_)
    fill = start[:-1].copy()
    for i in range(len(pay_inv)):
        v = pay_inv[i]
        if v >= 0:
            j = fill[v]
            ev_inv[j], ev_day[j], ev_amt[j], ev_cash[j] = v, pay_day[i], pay_amt[i], True
            fill[v] = j + 1
    for i in range(len(adj_inv)):
        v = adj_inv[i]
        if v >= 0:
            j = fill[v]
            ev_inv[j], ev_day[j], ev_amt[j], ev_cash[j] = v, adj_day[i], adj_amt[i], False
            fill[v] = j + 1
    # ... then a stable insertion sort by day within each invoice (a handful of events, mostly in order)
    for v in range(n_inv):
        for j in range(start[v] + 1, start[v + 1]):
            d, a, c = ev_day[j], ev_amt[j], ev_cash[j]
            k = j
            while k > start[v] and ev_day[k - 1] > d:
                ev_day[k], ev_amt[k], ev_cash[k] = ev_day[k - 1], ev_amt[k - 1], ev_cash[k - 1]
                k -= 1
            ev_day[k], ev_amt[k], ev_cash[k] = d, a, c
    ev_cum = np.empty(n, np.float64)
    settle_day = np.full(n_inv, NO_DAY, np.int64)
    settle_cash = np.zeros(n_inv)
    settle_ncash = np.zeros(n_inv)
    if not ok:
        return False, ev_inv, ev_day, ev_amt, ev_cum, settle_day, settle_cash, settle_ncash
    for v in range(n_inv):
        run = np.int64(0)
        cash = np.int64(0)
        ncash = np.int64(0)
        need = share * inv_amt[v] - 1e-9
        done = False
        for j in range(start[v], start[v + 1]):
            q = np.int64(np.rint(ev_amt[j] * scale))
            run += q
            if ev_cash[j]:
                cash += q
                ncash += np.int64(scale)
            cum = run / scale
            ev_cum[j] = cum
            # the settlement: the last event of the first day on which the cumulative amount reaches the share
            if not done and cum >= need and (j + 1 == start[v + 1] or ev_day[j + 1] != ev_day[j]):
                settle_day[v] = ev_day[j]
                settle_cash[v] = cash / scale
                settle_ncash[v] = ncash / scale
                done = True
    return True, ev_inv, ev_day, ev_amt, ev_cum, settle_day, settle_cash, settle_ncash


def settlements_fast(pay_inv: np.ndarray, pay_day: np.ndarray, pay_amt: np.ndarray, adj_inv: np.ndarray,
                     adj_day: np.ndarray, adj_amt: np.ndarray, inv_amt: np.ndarray,
                     share: float) -> dict[str, np.ndarray] | None:
    """The settlement events (cash and adjustments tied to an invoice, ``*_inv`` >= 0) sorted by (invoice,
    day), ties in input order with the payments first: ``ev_inv``, ``ev_day``, ``ev_amt``, ``ev_cum`` (the
    invoice's cumulative settled amount after the event, exact to 1/10,000); and per invoice the
    settlement (the last event of the first day on which ``ev_cum`` reaches ``share`` of the amount):
    ``settle_day`` (NO_DAY: never), ``settle_cash`` (cash applied by then) and ``settle_ncash`` (cash
    payments by then). One pass after a counting sort. None when the amounts are too large for int64 sums."""
    ok, ev_inv, ev_day, ev_amt, ev_cum, sday, scash, sncash = _settlements_nb(
        _arr(pay_inv, np.int64), _arr(pay_day, np.int64), _arr(pay_amt, np.float64), _arr(adj_inv, np.int64),
        _arr(adj_day, np.int64), _arr(adj_amt, np.float64), _arr(inv_amt, np.float64), float(share),
        float(CUMSUM_SCALE))
    if not ok:
        return None
    return {"ev_inv": ev_inv, "ev_day": ev_day, "ev_amt": ev_amt, "ev_cum": ev_cum, "settle_day": sday,
            "settle_cash": scash, "settle_ncash": sncash}


def settlements_numpy(pay_inv: np.ndarray, pay_day: np.ndarray, pay_amt: np.ndarray, adj_inv: np.ndarray,
                      adj_day: np.ndarray, adj_amt: np.ndarray, inv_amt: np.ndarray, share: float,
                      cumsum: Any = None) -> dict[str, np.ndarray] | None:
    """Reference of :func:`settlements_fast`, the way the engine did it before: a stable sort, three running
    sums, the candidates and the first of each invoice by array operations. ``cumsum(groups, amounts)``:
    the exact running sums when the int64 ones would overflow (else None is returned for such amounts)."""
    a_on, p_on = adj_inv >= 0, pay_inv >= 0
    ev_inv = np.concatenate([pay_inv[p_on], adj_inv[a_on]]).astype(np.int64)
    ev_day = np.concatenate([pay_day[p_on], adj_day[a_on]]).astype(np.int64)
    ev_amt = np.concatenate([pay_amt[p_on], adj_amt[a_on]]).astype(np.float64)
    ev_cash = np.concatenate([np.ones(p_on.sum(), bool), np.zeros(a_on.sum(), bool)])
    order = np.lexsort((ev_day, ev_inv))
    ev_inv, ev_day, ev_amt, ev_cash = ev_inv[order], ev_day[order], ev_amt[order], ev_cash[order]

    def run(values: np.ndarray) -> np.ndarray | None:
        if cumsum is not None:
            return cumsum(ev_inv, values)
        qf = np.round(values * CUMSUM_SCALE)
        if not float(np.abs(qf).sum()) < HUGE:
            return None
        return group_cumsum_int_numpy(ev_inv, qf.astype(np.int64)) / CUMSUM_SCALE

    ev_cum = run(ev_amt)
    if ev_cum is None:
        return None
    cash_cum = run(np.where(ev_cash, ev_amt, 0.0))
    ncash_cum = run(ev_cash.astype("float64"))
    n_inv = len(inv_amt)
    settle_day = np.full(n_inv, NO_DAY, dtype=np.int64)
    settle_cash, settle_ncash = np.zeros(n_inv), np.zeros(n_inv)
    if len(ev_inv):
        assert cash_cum is not None and ncash_cum is not None
        reached = ev_cum >= share * inv_amt[ev_inv] - 1e-9
        last_of_day = np.r_[(ev_inv[1:] != ev_inv[:-1]) | (ev_day[1:] != ev_day[:-1]), True]
        cand = np.flatnonzero(reached & last_of_day)
        cinv = ev_inv[cand]
        first_pos = np.flatnonzero(np.r_[True, cinv[1:] != cinv[:-1]]) if len(cinv) else np.zeros(0, np.int64)
        first_inv, pos = cinv[first_pos], cand[first_pos]
        settle_day[first_inv] = ev_day[pos]
        settle_cash[first_inv] = cash_cum[pos]
        settle_ncash[first_inv] = ncash_cum[pos]
    return {"ev_inv": ev_inv, "ev_day": ev_day, "ev_amt": ev_amt, "ev_cum": ev_cum, "settle_day": settle_day,
            "settle_cash": settle_cash, "settle_ncash": settle_ncash}


@dataclass(frozen=True)
class Kernels:
    """One implementation of every hot loop of the engine."""

    bucket_sums: Any
    group_cumsum_int: Any
    lookup_last: Any
    balances: Any
    cum_at: Any
    settlements: Any
    payment_flows: Any
    invoice_flows: Any
    settled_flows: Any


FAST = Kernels(bucket_sums_fast, group_cumsum_int_fast, lookup_last_fast, balances_fast,
               cum_at_fast, settlements_fast, payment_flows_fast, invoice_flows_fast, settled_flows_fast)
REFERENCE = Kernels(bucket_sums_numpy, group_cumsum_int_numpy, lookup_last_numpy,
                    balances_numpy, cum_at_numpy, settlements_numpy, payment_flows_numpy, invoice_flows_numpy,
                    settled_flows_numpy)
