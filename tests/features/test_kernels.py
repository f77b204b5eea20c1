"""The feature engine's numba kernels equal their numpy references bit for bit, and the whole feature frame
built on the kernels (and the fixed-form key lookup) equals the one built on the numpy references (and
Arrow's hash lookup): every column, exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskml.data import keys
from riskml.features import _kernels as K
from riskml.features import build_features, build_snapshots, engine, month_ends

from .ledgers import random_ledger

BOUNDS = np.array([19_000, 19_031, 19_059, 19_090, 19_120, 19_151], dtype=np.int64)


def _events(seed: int, n: int, n_cust: int) -> dict[str, np.ndarray]:
    """Events with days before the first bound, on bounds, after the last one and never (NO_DAY), customers
    without any event, NaN and infinite values, repeated cells."""
    rng = np.random.default_rng(seed)
    days = rng.integers(18_950, 19_200, n).astype(np.int64)
    days[rng.random(n) < 0.05] = engine.NO_DAY
    days[: min(n, 6)] = BOUNDS[: min(n, 6)]
    cust = rng.integers(0, max(n_cust - 3, 1), n).astype(np.int64)  # the last customers have no event
    vals = rng.normal(0, 1_000, n).round(2)
    vals[rng.random(n) < 0.03] = np.nan
    vals[rng.random(n) < 0.01] = np.inf
    return {"cust": cust, "days": days, "v1": vals, "v2": rng.uniform(0, 90, n),
            "mask": rng.random(n) < 0.7}


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("n", [0, 1, 7, 5_000])
def test_bucket_sums_equal_bincount(n: int) -> None:
    e, nc = _events(n, n, 40), 40
    for weights in [(), (e["v1"],), (e["v1"], e["v2"], np.ones(n))]:
        for mask in (None, e["mask"]):
            fast = K.bucket_sums_fast(e["cust"], e["days"], weights, mask, BOUNDS, nc)
            ref = K.bucket_sums_numpy(e["cust"], e["days"], weights, mask, BOUNDS, nc)
            assert len(fast) == len(ref) == max(len(weights), 1)
            assert all(_same(f, r) for f, r in zip(fast, ref, strict=True))


@pytest.mark.filterwarnings("ignore:invalid value encountered in multiply")  # inf x 0 in the reference
@pytest.mark.parametrize("n", [0, 1, 7, 5_000])
def test_table_flows_equal_one_bincount_per_figure(n: int) -> None:
    """The one-pass figures of the payments, invoices and settled invoices equal the masked copies + one
    bincount / ufunc.at per figure, bit for bit (days before, on and after the bounds, never; NaN amounts)."""
    e, nc = _events(n + 3, n, 40), 40
    rng = np.random.default_rng(n)
    n_inv = max(n, 1)
    due = rng.integers(18_950, 19_200, n_inv).astype(np.int64)
    inv = np.where(rng.random(n) < 0.2, -1, rng.integers(0, n_inv, n))
    fast = K.payment_flows_fast(e["cust"], e["days"], e["v1"], inv, due, BOUNDS, nc)
    ref = K.payment_flows_numpy(e["cust"], e["days"], e["v1"], inv, due, BOUNDS, nc)
    assert list(fast) == list(ref) == list(K.PAYMENT_FLOWS)
    assert all(_same(fast[k], ref[k]) for k in ref)

    due_day = np.where(e["days"] == engine.NO_DAY, 19_000, e["days"] + rng.integers(-40, 60, n))
    dispute = np.where(rng.random(n) < 0.3, e["days"] + 3, engine.NO_DAY)
    fast = K.invoice_flows_fast(e["cust"], e["days"], e["v1"], due_day, dispute, BOUNDS, nc)
    ref = K.invoice_flows_numpy(e["cust"], e["days"], e["v1"], due_day, dispute, BOUNDS, nc)
    assert list(fast) == list(ref) == list(K.INVOICE_FLOWS)
    assert all(_same(fast[k], ref[k]) for k in ref)

    amt = np.abs(e["v1"])
    cash = amt * rng.choice([0.5, 0.94, 1.0], n)
    ncash = rng.integers(0, 4, n).astype("float64")
    fast = K.settled_flows_fast(e["cust"], e["days"], amt, due_day, cash, ncash, 5, 0.95, BOUNDS, nc)
    ref = K.settled_flows_numpy(e["cust"], e["days"], amt, due_day, cash, ncash, 5, 0.95, BOUNDS, nc)
    assert list(fast) == list(ref) == list(K.SETTLED_FLOWS)
    assert all(_same(fast[k], ref[k]) for k in ref)
    if n > 100:
        assert all(np.nansum(np.abs(ref[k])) > 0 for k in ref)


def test_days_equal_numpys_cast() -> None:
    rng = np.random.default_rng(3)
    ns = rng.integers(-(10**18), 10**18, 20_000)
    ns[::7] = ns[::7] // K.NS_PER_DAY * K.NS_PER_DAY  # midnights, before and after 1970
    ns[:4] = [0, -1, K.NS_PER_DAY - 1, -K.NS_PER_DAY]
    dates = ns.view("datetime64[ns]").copy()
    dates[rng.random(len(dates)) < 0.1] = np.datetime64("NaT")
    assert _same(K.days_fast(dates), K.days_numpy(dates))
    assert K.days_fast(np.array(["1969-12-31T23:59", "NaT", "2026-06-30"], dtype="datetime64[ns]")).tolist() == [
        -1, engine.NO_DAY, 20_634]


@pytest.mark.parametrize("n", [0, 1, 5_000])
def test_group_cumsum_int_equals_reduceat(n: int) -> None:
    rng = np.random.default_rng(n)
    groups = np.sort(rng.integers(-1, 50, n))
    q = rng.integers(-10**12, 10**12, n)
    assert _same(K.group_cumsum_int_fast(groups, q), K.group_cumsum_int_numpy(groups, q))


@pytest.mark.parametrize("n", [0, 1, 5_000])
def test_lookup_last_equals_searchsorted(n: int) -> None:
    rng = np.random.default_rng(n + 7)
    n_groups = 60
    group = rng.integers(-1, n_groups - 5, n)  # -1: events of no known group; the last groups have none
    day = rng.integers(19_000, 19_400, n)
    order = np.lexsort((day, group))
    group, day = group[order], day[order]
    cum = rng.normal(0, 100, n).round(4)
    qg = rng.integers(-1, n_groups, 3_000)
    qd = rng.integers(18_990, 19_410, 3_000)
    fast = K.lookup_last_fast(group, day, cum, qg, qd, n_groups)
    ref = K.lookup_last_numpy(group, day, cum, qg, qd, n_groups)
    # the reference has no notion of the group range: a query of group -1 finds the events of group -1
    known = qg >= 0
    assert _same(fast[known], ref[known])
    assert (fast[~known] == 0).all()


@pytest.mark.parametrize("rows", [0, 1, 300])
def test_cum_at_equals_cumsum(rows: int) -> None:
    rng = np.random.default_rng(rows)
    wide = rng.normal(0, 1e6, (rows, 26 * 3)) * rng.choice([1e-9, 1.0, 1e9], (rows, 26 * 3))
    strided = wide[:, ::3]  # a column of a row-major block of sums, as the bucket sums hand them out
    block = np.ascontiguousarray(wide.reshape(rows, 26, 3).transpose(1, 0, 2))  # bucket-major (bucket, row, k)
    bucket_major = block[:, :, 1].T  # as the table flows hand them out
    assert _same(bucket_major, wide[:, 1::3])
    for per_bucket in (np.ascontiguousarray(strided), strided, bucket_major, np.ascontiguousarray(strided.T).T,
                       strided[:, ::-1], np.broadcast_to(strided[:1], strided.shape)):
        for cols in ([25], [0, 13, 22, 25], list(range(26)), [1, 1, 5]):
            assert _same(K.cum_at_fast(per_bucket, np.array(cols)), K.cum_at_numpy(per_bucket, np.array(cols)))
    with pytest.raises(ValueError, match="ascending"):
        K.cum_at_fast(strided, np.array([3, 2]))


@pytest.mark.parametrize("n", [0, 1, 7, 5_000])
@pytest.mark.parametrize("grid", ["one date", "many dates"])
def test_balances_equal_the_sorted_running_sums(n: int, grid: str) -> None:
    """The per-customer day scan equals the sort + running sums + binary search way, bit for bit: amounts of
    both signs (credit invoices, negative adjustments), zero amounts, many events on one day, days before
    the first bound, on bounds, after the last one, customers without events and unknown ones (-1)."""
    rng = np.random.default_rng(n + 11)
    n_cust = 30
    bounds = np.cumsum(rng.integers(28, 32, 40)).astype(np.int64) + 19_000
    snaps = np.array([25]) if grid == "one date" else np.arange(25, 40)
    if grid == "one date":
        bounds = bounds[:26]
    n_ev = n
    inv_cust = rng.integers(-1, n_cust - 3, n)
    inv_day = rng.integers(18_900, int(bounds[-1]) + 40, n)
    inv_amt = rng.normal(500, 800, n).round(2)
    inv_amt[rng.random(n) < 0.05] = 0.0
    ev_cust = rng.integers(-1, n_cust - 3, n_ev)
    ev_day = rng.integers(18_900, int(bounds[-1]) + 40, n_ev)
    ev_day[: n_ev // 3] = inv_day[: n_ev // 3]  # settlements on the day of an invoice
    ev_amt = rng.normal(520, 700, n_ev).round(2)
    for day in (inv_day, ev_day):  # a third of the days on a bound
        on = rng.random(len(day)) < 0.3
        day[on] = rng.choice(bounds, int(on.sum()))
    args = (inv_cust, inv_day, inv_amt, ev_cust, ev_day, ev_amt, n_cust, bounds, snaps)
    fast, ref = K.balances_fast(*args), K.balances_numpy(*args)
    with pytest.MonkeyPatch.context() as m:  # blocks of 7 days: the walk crosses many chunks
        m.setattr(K, "BALANCE_BLOCK", 7 * n_cust)
        chunked = K.balances_fast(*args)
    assert chunked is not None and all(_same(chunked[k], ref[k]) for k in ref)
    assert fast is not None and ref is not None and fast.keys() == ref.keys()
    for name in ref:
        assert fast[name].shape == (n_cust, len(snaps))
        assert _same(fast[name], ref[name]), name
    if n > 100:
        assert (ref["ar_hwm_12m"] > 0).any() and (ref["ar_3m_ago"] < 0).any()


def test_balances_leave_huge_amounts_to_the_exact_way() -> None:
    bounds = np.arange(26, dtype=np.int64) * 30 + 19_000
    one = np.array([0], dtype=np.int64)
    args = (one, one + 19_500, np.array([1e15]), one, one + 19_600, np.array([-1e15]), 1, bounds, np.array([25]))
    assert K.balances_fast(*args) is None and K.balances_numpy(*args) is None
    exact = K.balances_numpy(*args, cumsum=engine.group_cumsum)
    assert exact is not None and exact["ar_hwm_12m"][0, 0] == 2e15


@pytest.mark.parametrize("n", [0, 1, 7, 5_000])
def test_settlements_equal_the_sorted_running_sums(n: int) -> None:
    """Counting sort + one pass equals the stable sort + running sums + candidates way, bit for bit: events
    out of day order, several on one day, cash and adjustments mixed, negative amounts, unapplied cash
    (-1), invoices never reached, reached exactly at the share."""
    rng = np.random.default_rng(n + 5)
    n_inv = max(n // 4, 1)
    inv_amt = rng.uniform(10, 5_000, n_inv).round(2)
    inv_amt[: n_inv // 10] = 0.0
    pay_inv = rng.integers(-1, n_inv, n)
    pay_day = rng.integers(19_000, 19_060, n)
    pay_amt = inv_amt[np.clip(pay_inv, 0, None)] * rng.choice([0.25, 0.5, 1.0, 0.3], n)
    pay_amt[rng.random(n) < 0.05] *= -1
    n_adj = n // 5
    adj_inv = rng.integers(-1, n_inv, n_adj)
    adj_day = rng.integers(19_000, 19_060, n_adj)
    adj_amt = rng.normal(100, 300, n_adj).round(2)
    for share in (0.95, 1.0):
        args = (pay_inv, pay_day, pay_amt, adj_inv, adj_day, adj_amt, inv_amt, share)
        fast, ref = K.settlements_fast(*args), K.settlements_numpy(*args)
        assert fast is not None and ref is not None and fast.keys() == ref.keys()
        for name in ref:
            assert _same(fast[name], ref[name]), name
        if n > 100:
            settled = fast["settle_day"] != engine.NO_DAY
            assert settled.any() and not settled.all() and (fast["settle_ncash"][settled] >= 2).any()


def test_settlements_leave_huge_amounts_to_the_exact_way() -> None:
    none = np.array([], dtype=np.int64)
    args = (np.array([0, 0]), np.array([19_000, 19_001]), np.array([1e15, -1e15]), none, none, np.array([]),
            np.array([1e15]), 0.95)
    assert K.settlements_fast(*args) is None and K.settlements_numpy(*args) is None
    exact = K.settlements_numpy(*args, cumsum=engine.group_cumsum)
    assert exact is not None and exact["settle_day"].tolist() == [19_000] and exact["ev_cum"].tolist() == [1e15, 0.0]


def _frames(ledger, fast: bool, monkeypatch: pytest.MonkeyPatch) -> list[pd.DataFrame]:
    monkeypatch.setattr(engine, "KERNELS", K.FAST if fast else K.REFERENCE)
    # the fixed-form key lookup on every size (it starts at 100,000 rows), else Arrow's hash lookup only
    monkeypatch.setattr(keys, "FAST_MIN_ROWS", 0 if fast else 10**18)
    return [build_features(ledger, "2026-06-30"), build_features(ledger, "2026-05-17"),
            build_snapshots(ledger, month_ends("2025-01-31", "2026-09-30"))]


@pytest.mark.parametrize("which", ["small", "random"])
def test_whole_feature_frame_equals_the_numpy_reference(which: str, small_ledger,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = small_ledger if which == "small" else random_ledger(3, n_customers=9, n_invoices=400,
                                                                   start="2024-06-01", days=800)
    fast = _frames(ledger, True, monkeypatch)
    ref = _frames(ledger, False, monkeypatch)
    for f, r in zip(fast, ref, strict=True):
        assert len(f) and f.shape == r.shape
        pd.testing.assert_frame_equal(f, r, check_exact=True)
