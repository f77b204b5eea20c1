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
