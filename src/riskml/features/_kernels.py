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


@numba.njit(nogil=True, cache=True)
def _bucket_extreme_nb(cust, days, values, mask, b0, last, table, nb, size, is_max):
    fill = -np.inf if is_max else np.inf
    out = np.full(size, fill)
    use_mask = len(mask) > 0
    for i in range(len(cust)):
        if use_mask and not mask[i]:
            continue
        d = days[i]
        if d > last or cust[i] < 0:
            continue
        b = table[d - b0] if d >= b0 else 0
        cell = cust[i] * nb + b
        cur = out[cell]
        v = values[i]
        # np.maximum / np.minimum: NaN wins, else the larger / smaller
        if cur != cur:
            continue
        if v != v or (v > cur if is_max else v < cur):
            out[cell] = v
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


def bucket_extreme_fast(cust: np.ndarray, days: np.ndarray, values: np.ndarray, mask: np.ndarray | None,
                        bounds: np.ndarray, n_cust: int, kind: str) -> np.ndarray:
    """Per (customer, bucket) largest (``kind="max"``) or smallest value; -inf / inf where there is none."""
    nb = len(bounds)
    b0, last = int(bounds[0]), int(bounds[-1])
    table = np.searchsorted(bounds, np.arange(b0, last + 1, dtype=np.int64), side="left")
    out = _bucket_extreme_nb(_arr(cust, np.int64), _arr(days, np.int64), _arr(values, np.float64), _as_mask(mask), b0, last, table, nb, n_cust * nb,
                             kind == "max")
    return out.reshape(n_cust, nb)


def bucket_extreme_numpy(cust: np.ndarray, days: np.ndarray, values: np.ndarray, mask: np.ndarray | None,
                         bounds: np.ndarray, n_cust: int, kind: str) -> np.ndarray:
    """Reference of :func:`bucket_extreme_fast`: ``np.maximum.at`` / ``np.minimum.at``."""
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


@dataclass(frozen=True)
class Kernels:
    """One implementation of every hot loop of the engine."""

    bucket_sums: Any
    bucket_extreme: Any
    group_cumsum_int: Any
    lookup_last: Any


FAST = Kernels(bucket_sums_fast, bucket_extreme_fast, group_cumsum_int_fast, lookup_last_fast)
REFERENCE = Kernels(bucket_sums_numpy, bucket_extreme_numpy, group_cumsum_int_numpy, lookup_last_numpy)
