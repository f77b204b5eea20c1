"""A customer's features depend on its own rows only: not on which other customers share the ledger (the
Spark engine builds features on groups of customers, a single-customer call must equal the batch)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from riskml.features import build_features, build_snapshots, month_ends


def _only(ledger, ids):
    keep = {name: df.loc[df["customer_id"].isin(ids)] for name, df in ledger.tables().items()}
    return replace(ledger, **keep)


def test_features_of_a_customer_do_not_depend_on_the_others(small_ledger) -> None:
    ids = small_ledger.customers["customer_id"].iloc[[3, 50, 123, 250, 299]].tolist()
    full = build_features(small_ledger, "2026-06-30").set_index("customer_id").loc[ids]
    alone = pd.concat([build_features(_only(small_ledger, [c]), "2026-06-30") for c in ids])
    pd.testing.assert_frame_equal(alone.set_index("customer_id"), full, check_exact=True)


def test_snapshots_of_a_group_equal_those_of_the_whole_ledger(small_ledger) -> None:
    ids = small_ledger.customers["customer_id"].iloc[::7].tolist()
    dates = month_ends("2025-01-31", "2026-09-30")
    full = build_snapshots(small_ledger, dates)
    part = build_snapshots(_only(small_ledger, ids), dates)
    full = full.loc[full["customer_id"].isin(ids)].reset_index(drop=True)
    pd.testing.assert_frame_equal(part.reset_index(drop=True), full, check_exact=True)


def test_sort_order_is_stable_on_both_paths() -> None:
    """The packed-key sort and the argsort fallback give the same stable order (ties in input order)."""
    import numpy as np

    from riskml.features.engine import sort_order

    rng = np.random.default_rng(0)
    major, day, minor = rng.integers(0, 5, 2000), rng.integers(20000, 20010, 2000), rng.integers(0, 2, 2000)
    key = (major * 10 + (day - 20000)) * 2 + minor
    want = np.argsort(key, kind="stable")
    assert np.array_equal(sort_order(major, day, minor), want)
    # a negative major (absent key) takes the argsort path: same order
    neg = major - 1
    assert np.array_equal(sort_order(neg, day, minor), np.argsort((neg * 10 + (day - 20000)) * 2 + minor, kind="stable"))


def test_group_cumsum_restarts_per_group() -> None:
    import numpy as np

    from riskml.features.engine import group_cumsum

    g = np.array([0, 0, 0, 2, 2, 5])
    v = np.array([1.5, 2.25, -1.0, 10.0, 0.0001, 7.0])
    assert np.array_equal(group_cumsum(g, v), np.array([1.5, 3.75, 2.75, 10.0, 10.0001, 7.0]))
