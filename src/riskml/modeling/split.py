"""Out-of-time split of labeled snapshots, with no label-window overlap between training and evaluation.

With labeled month ends ``D_1 < ... < D_n``, a label horizon of ``h`` months and a gap of ``g`` months
(default ``g = h``):

* the **out-of-time window** is the latest ``oot_snapshots`` dates ``D_{n-k+1} .. D_n``;
* **training** uses every date ``T`` with ``T + g months <= D_{n-k+1}``: with ``g = h`` each training
  label window ``(T, T + h]`` ends on or before the first OOT date, so no outcome used for training
  happens inside any OOT label window, and the training labels were all *known* when the OOT window
  starts -- as they would be in production;
* the OOT window's customers are split by a seeded hash of ``customer_id`` into **validation**
  (``valid_share``: early stopping, calibration choice, the rule's Platt map) and **test** (the reported
  metrics). A customer is in one of the two only, so a delinquency seen in validation cannot leak into
  the test through the same customer's overlapping windows.
* The dates between the last training date and the OOT window (the gap) are not used.

With a single as-of date (user labels), an out-of-time split is impossible: customers are split
into train / validation / test by the same hash (``group_valid_share``, ``group_test_share``), and the
split says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from riskml.config import SplitConfig
from riskml.errors import LabelError
from riskml.modeling.labels import shift_months


@dataclass(frozen=True)
class Split:
    """Boolean masks over the labeled snapshot rows, and how they were made."""

    kind: Literal["oot", "grouped"]
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    train_dates: list[pd.Timestamp] = field(default_factory=list)
    oot_dates: list[pd.Timestamp] = field(default_factory=list)
    unused_dates: list[pd.Timestamp] = field(default_factory=list)
    gap_months: int = 0
    description: str = ""

    def summary(self, keys: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
        """Rows, customers, positives and date range per part."""
        recs = []
        for name, mask in (("train", self.train), ("valid", self.valid), ("test", self.test)):
            sub = keys.loc[mask]
            recs.append({
                "part": name, "rows": int(mask.sum()), "customers": int(sub["customer_id"].nunique()),
                "positives": int(np.asarray(y)[mask].sum()),
                "event_rate": float(np.asarray(y)[mask].mean()) if mask.any() else float("nan"),
                "first_as_of": sub["as_of"].min(), "last_as_of": sub["as_of"].max(),
            })
        return pd.DataFrame(recs)


def customer_uniform(customer_ids: pd.Series, seed: int) -> np.ndarray:
    """A stable pseudo-random number in [0, 1) per customer id (same id and seed -> same number)."""
    keyed = customer_ids.astype("str") + f"#{seed}"
    h = pd.util.hash_pandas_object(pd.Series(keyed.to_numpy(), dtype="object"), index=False).to_numpy()
    return (h >> np.uint64(11)).astype("float64") / float(2**53)


def stratified_uniform(customer_ids: pd.Series, u: np.ndarray, y: np.ndarray | None,
                       rows: np.ndarray | None = None) -> np.ndarray:
    """``u`` replaced by each customer's rank among customers of the same outcome, as a share in (0, 1].

    A customer's outcome is whether any of its ``rows`` (default: all) is positive. Cutting the result at
    a share then gives every part the same share of delinquent customers (up to one customer), instead of
    leaving it to chance: calibration fitted on the validation customers transfers to the test customers.
    Still one number per customer, so a customer lands in one part only. ``y`` None returns ``u``."""
    if y is None:
        return u
    rows = np.ones(len(u), dtype=bool) if rows is None else np.asarray(rows, dtype=bool)
    frame = pd.DataFrame({"c": customer_ids.astype("str").to_numpy(), "u": u,
                          "pos": np.where(rows, np.asarray(y), 0)})
    per = frame.groupby("c", sort=False).agg(u=("u", "first"), pos=("pos", "max"))
    rank = per.groupby("pos")["u"].rank(method="first")
    share = (rank - 0.5) / per.groupby("pos")["u"].transform("size")
    return frame["c"].map(share).to_numpy("float64")


def oot_split(keys: pd.DataFrame, config: SplitConfig, horizon_months: int, seed: int = 42,
              y: np.ndarray | None = None) -> Split:
    """Split rows (``customer_id``, ``as_of``) out of time; a single as-of date falls back to groups.

    With the labels ``y``, the validation/test assignment is stratified by outcome
    (:func:`stratified_uniform`)."""
    dates = sorted(pd.DatetimeIndex(keys["as_of"]).unique())
    if len(dates) == 0:
        raise LabelError("no labeled snapshots to split")
    if len(dates) == 1:
        return grouped_split(keys, config, seed, y)
    gap = horizon_months if config.gap_months is None else config.gap_months
    k = config.oot_snapshots
    if k >= len(dates):
        raise LabelError(
            f"split.oot_snapshots is {k} but there are only {len(dates)} labeled as-of dates "
            f"({dates[0].date()} to {dates[-1].date()}); lower split.oot_snapshots in configs/train.yaml"
        )
    oot = list(dates[-k:])
    train_dates = [d for d in dates[:-k] if shift_months(d, gap) <= oot[0]]
    if config.max_train_snapshots:
        train_dates = train_dates[-config.max_train_snapshots:]
    if not train_dates:
        raise LabelError(
            f"no training dates: the labeled as-of dates run from {dates[0].date()} to {dates[-1].date()} "
            f"({len(dates)} month ends), and training dates must lie {gap} months (split.gap_months, default "
            f"the label horizon) before the out-of-time window starting {oot[0].date()}. Use a longer "
            "ledger, or lower split.oot_snapshots, split.warmup_months or label.horizon_months in "
            "configs/train.yaml"
        )
    as_of = pd.DatetimeIndex(keys["as_of"])
    in_oot = as_of.isin(oot)
    u = stratified_uniform(keys["customer_id"], customer_uniform(keys["customer_id"], seed), y, np.asarray(in_oot))
    valid = np.asarray(in_oot & (u < config.valid_share))
    test = np.asarray(in_oot & (u >= config.valid_share))
    train = np.asarray(as_of.isin(train_dates))
    unused = [d for d in dates if d not in set(train_dates) and d not in set(oot)]
    overlap = "" if gap >= horizon_months else (
        f" WARNING: the gap ({gap} months) is shorter than the label horizon ({horizon_months} months), "
        "so training label windows overlap the out-of-time ones.")
    desc = (
        f"out-of-time: train on {len(train_dates)} month ends {train_dates[0].date()}..{train_dates[-1].date()}; "
        f"gap of {gap} months ({len(unused)} dates unused); validate and test on the latest {k} month ends "
        f"{oot[0].date()}..{oot[-1].date()}, customers split {config.valid_share:.0%} validation / "
        f"{1 - config.valid_share:.0%} test by a hash of customer_id"
        f"{' within each outcome (stratified)' if y is not None else ''}.{overlap}"
    )
    return Split("oot", train, valid, test, list(train_dates), oot, unused, gap, desc)


def grouped_split(keys: pd.DataFrame, config: SplitConfig, seed: int = 42, y: np.ndarray | None = None) -> Split:
    """Train / validation / test by customer (the fallback when there is a single as-of date); with the
    labels ``y``, stratified by outcome (:func:`stratified_uniform`)."""
    u = stratified_uniform(keys["customer_id"], customer_uniform(keys["customer_id"], seed), y)
    test = u < config.group_test_share
    valid = (u >= config.group_test_share) & (u < config.group_test_share + config.group_valid_share)
    train = ~(test | valid)
    dates = sorted(pd.DatetimeIndex(keys["as_of"]).unique())
    desc = (
        f"grouped by customer (NOT out of time): the labels hold a single as-of date ({dates[0].date()}), "
        f"so customers are split {1 - config.group_valid_share - config.group_test_share:.0%} train / "
        f"{config.group_valid_share:.0%} validation / {config.group_test_share:.0%} test. Test metrics "
        "measure generalisation to other customers, not to a later period."
    )
    return Split("grouped", np.asarray(train), np.asarray(valid), np.asarray(test), list(dates), list(dates),
                 [], 0, desc)
