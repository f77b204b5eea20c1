"""Replay dates and the walk-forward retraining calendar.

A replay date ``T`` is a month end. The first one a walk-forward model allows is the first month end by
which ``min_train_dates`` labeled month ends have complete label windows (``snapshot_dates(..., end=T)``);
the last one must leave at least one replay step of outcomes before the ledger's last date.
"""

from __future__ import annotations

import re

import pandas as pd

from riskml.errors import RiskmlError
from riskml.modeling.labels import shift_months

_EVERY = re.compile(r"^\s*(\d+)\s*(m|mo|month|months)?\s*$", re.I)


def parse_every(text: str | int, option: str = "--every") -> int:
    """``"1m"``, ``"3m"``, ``"6"`` -> months (at least 1)."""
    m = _EVERY.match(str(text))
    if not m or int(m.group(1)) < 1:
        raise RiskmlError(f"{option} must be a number of months such as 1m, 3m or 6m; got {text!r}")
    return int(m.group(1))


def month_end(day: pd.Timestamp) -> pd.Timestamp:
    """The month end on or after ``day``."""
    return pd.Timestamp(day).normalize() + pd.offsets.MonthEnd(0)


def month_end_before(day: pd.Timestamp) -> pd.Timestamp:
    """The month end on or before ``day``."""
    day = pd.Timestamp(day).normalize()
    return day if day.is_month_end else day - pd.offsets.MonthEnd(1)


def replay_dates(start: pd.Timestamp, end: pd.Timestamp, every_months: int) -> list[pd.Timestamp]:
    """Month ends from ``start`` (rounded up to a month end) to ``end``, ``every_months`` apart."""
    first, last = month_end(start), month_end_before(end)
    out = []
    d = first
    while d <= last:
        out.append(d)
        d = shift_months(d, every_months)
    return out


def retrain_schedule(dates: list[pd.Timestamp], retrain_months: int) -> dict[pd.Timestamp, pd.Timestamp]:
    """For each replay date, the retrain date whose model it uses: the first replay date, then the first
    replay date at least ``retrain_months`` after the previous retrain date, and so on."""
    out: dict[pd.Timestamp, pd.Timestamp] = {}
    current: pd.Timestamp | None = None
    for d in dates:
        if current is None or d >= shift_months(current, retrain_months):
            current = d
        out[d] = current
    return out


def next_step(day: pd.Timestamp, every_months: int) -> pd.Timestamp:
    """The end of the period a decision at ``day`` governs (the next replay date)."""
    return shift_months(pd.Timestamp(day), every_months)
