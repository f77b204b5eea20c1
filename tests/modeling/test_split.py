"""The out-of-time split: no training label window reaches into the out-of-time window, validation and
test hold different customers, and a single as-of date falls back to a grouped split that says so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskml.config import SplitConfig
from riskml.errors import LabelError
from riskml.modeling.labels import shift_months
from riskml.modeling.split import customer_uniform, grouped_split, oot_split


def _keys(n_customers: int, dates: list[pd.Timestamp]) -> pd.DataFrame:
    ids = [f"C{i:04d}" for i in range(n_customers)]
    return pd.DataFrame({"customer_id": np.repeat(ids, len(dates)),
                         "as_of": np.tile(np.array(dates, dtype="datetime64[ns]"), n_customers)})


def _check_no_leakage(keys: pd.DataFrame, split, horizon: int) -> None:
    as_of = pd.DatetimeIndex(keys["as_of"])
    oot = as_of[split.valid | split.test]
    first_oot = oot.min()
    # every training label window (T, T + horizon] ends on or before the first out-of-time as-of date
    for t in as_of[split.train].unique():
        assert shift_months(t, horizon) <= first_oot
    # the parts are disjoint row sets, and validation and test share no customer
    assert not (split.train & split.valid).any() and not (split.train & split.test).any()
    assert not (split.valid & split.test).any()
    assert not set(keys.loc[split.valid, "customer_id"]) & set(keys.loc[split.test, "customer_id"])
    # the out-of-time rows are exactly the latest dates
    assert set(oot.unique()) == set(split.oot_dates)
    assert as_of[split.train].max() < first_oot


@settings(max_examples=60, deadline=None)
@given(n_months=st.integers(2, 40), horizon=st.integers(1, 12), k=st.integers(1, 4),
       valid_share=st.floats(0.2, 0.8), seed=st.integers(0, 1000))
def test_oot_split_never_leaks(n_months: int, horizon: int, k: int, valid_share: float, seed: int) -> None:
    dates = list(pd.date_range("2023-01-31", periods=n_months, freq="ME"))
    keys = _keys(40, dates)
    config = SplitConfig(oot_snapshots=k, valid_share=valid_share)
    if k >= n_months or n_months - k < 1 or shift_months(dates[0], horizon) > dates[-k]:
        with pytest.raises(LabelError):
            oot_split(keys, config, horizon, seed)
        return
    split = oot_split(keys, config, horizon, seed)
    assert split.kind == "oot" and split.gap_months == horizon
    _check_no_leakage(keys, split, horizon)
    # nothing in the gap is used
    used = set(split.train_dates) | set(split.oot_dates)
    assert set(split.unused_dates) == set(dates) - used


def test_gap_on_monthly_demo_dates() -> None:
    """The demo's shape: 19 labeled month ends, 3 out of time, a 12-month gap -> 5 training month ends."""
    dates = list(pd.date_range("2024-03-31", "2025-09-30", freq="ME"))
    keys = _keys(200, dates)
    split = oot_split(keys, SplitConfig(), 12, seed=42)
    assert [str(d.date()) for d in split.train_dates] == [
        "2024-03-31", "2024-04-30", "2024-05-31", "2024-06-30", "2024-07-31"]
    assert [str(d.date()) for d in split.oot_dates] == ["2025-07-31", "2025-08-31", "2025-09-30"]
    assert len(split.unused_dates) == 11
    _check_no_leakage(keys, split, 12)
    assert "gap of 12 months" in split.description and "WARNING" not in split.description
    # each out-of-time customer is in validation or test at all three dates
    part = pd.Series(np.where(split.valid, "v", np.where(split.test, "t", "")), index=keys.index)
    per_customer = part[split.valid | split.test].groupby(keys["customer_id"]).nunique()
    assert (per_customer == 1).all()
    assert 0.35 < split.valid.sum() / (split.valid | split.test).sum() < 0.65


def test_max_train_snapshots_and_short_gap_warning() -> None:
    dates = list(pd.date_range("2022-01-31", periods=30, freq="ME"))
    keys = _keys(20, dates)
    split = oot_split(keys, SplitConfig(max_train_snapshots=2), 12)
    assert len(split.train_dates) == 2 and split.train_dates[-1] == pd.Timestamp("2023-04-30")
    short = oot_split(keys, SplitConfig(gap_months=6), 12)
    assert "WARNING" in short.description and "overlap" in short.description


def test_too_few_dates_says_what_to_change() -> None:
    keys = _keys(10, list(pd.date_range("2024-01-31", periods=8, freq="ME")))
    with pytest.raises(LabelError, match="split.oot_snapshots.*warmup_months|no training dates"):
        oot_split(keys, SplitConfig(), 12)
    with pytest.raises(LabelError, match="only 8 labeled as-of dates"):
        oot_split(keys, SplitConfig(oot_snapshots=8), 1)


def test_single_date_falls_back_to_a_grouped_split() -> None:
    keys = _keys(500, [pd.Timestamp("2025-06-30")])
    split = oot_split(keys, SplitConfig(), 12, seed=3)
    assert split.kind == "grouped"
    assert "NOT out of time" in split.description
    assert (split.train | split.valid | split.test).all()
    parts = [set(keys.loc[m, "customer_id"]) for m in (split.train, split.valid, split.test)]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert 0.5 < split.train.mean() < 0.7  # 60% by default
    assert grouped_split(keys, SplitConfig(), seed=3).test.tolist() == split.test.tolist()


def test_customer_hash_is_stable_and_seeded() -> None:
    ids = pd.Series(["A", "B", "C", "A"])
    u = customer_uniform(ids, 1)
    assert u[0] == u[3] and ((u >= 0) & (u < 1)).all()
    assert customer_uniform(ids, 1).tolist() == u.tolist()
    assert customer_uniform(ids, 2).tolist() != u.tolist()


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 1000), rate=st.floats(0.02, 0.3))
def test_labels_stratify_validation_and_test_without_mixing_customers(seed: int, rate: float) -> None:
    dates = list(pd.date_range("2023-01-31", periods=30, freq="ME"))
    keys = _keys(400, dates)
    rng = np.random.default_rng(seed)
    y = (rng.random(len(keys)) < rate).astype(int)
    split = oot_split(keys, SplitConfig(), 12, seed=seed, y=y)
    assert "stratified" in split.description
    valid_c = set(keys.loc[split.valid, "customer_id"])
    test_c = set(keys.loc[split.test, "customer_id"])
    assert not valid_c & test_c
    # customers with a positive in the out-of-time window are shared evenly (up to one customer)
    oot = split.valid | split.test
    pos = set(keys.loc[oot & (y == 1), "customer_id"])
    assert abs(len(pos & valid_c) - len(pos & test_c)) <= 1
    # without labels the assignment is the plain hash, as before
    plain = oot_split(keys, SplitConfig(), 12, seed=seed)
    assert (plain.valid | plain.test).tolist() == oot.tolist() and "stratified" not in plain.description
