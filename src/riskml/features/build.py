"""Feature tables: the registry's features computed from the engine's point-in-time aggregates."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from riskml.config import ExtraAttribute, FeatureConfig
from riskml.data.ledger import Ledger
from riskml.features import definitions as _definitions  # noqa: F401  (registers the features)
from riskml.features.engine import compute_aggregates, normalise_dates
from riskml.features.registry import REGISTRY, FeatureSpec, extra_attribute_specs, resolve

KEYS = ["customer_id", "as_of"]


def feature_specs(extra: dict[str, ExtraAttribute] | None = None) -> dict[str, FeatureSpec]:
    """Every feature's spec: the registry's plus the user-declared customer attributes."""
    return {**REGISTRY, **extra_attribute_specs(extra or {})}


def _attach_extras(df: pd.DataFrame, ledger: Ledger) -> pd.DataFrame:
    if not ledger.extra_attributes:
        return df
    extra = ledger.customers[["customer_id", *ledger.extra_attributes]].copy()
    extra["customer_id"] = extra["customer_id"].astype("str")
    return df.merge(extra, on="customer_id", how="left", validate="many_to_one")


def _features_from_aggregates(agg: pd.DataFrame, ledger: Ledger) -> pd.DataFrame:
    feats = resolve(agg)
    out = pd.concat([agg[KEYS], feats], axis=1)
    return _attach_extras(out, ledger)


def build_features(ledger: Ledger, as_of: object, config: FeatureConfig | None = None) -> pd.DataFrame:
    """Features of every customer in the master as of the end of day ``as_of``.

    Only rows dated on or before ``as_of`` are used. Every customer appears exactly once, including
    customers with no invoices yet (their history flags say so)."""
    dates = normalise_dates(as_of)
    if len(dates) != 1:
        raise ValueError(f"as_of must be a single date; got {len(dates)} dates (use build_snapshots)")
    agg = compute_aggregates(ledger, dates, config)
    return _features_from_aggregates(agg, ledger)


def build_snapshots(
    ledger: Ledger, as_of_dates: Sequence[object], config: FeatureConfig | None = None
) -> pd.DataFrame:
    """Features at many as-of dates (e.g. every month end), computed in one pass over the ledger.

    A customer appears at a date once the relationship has started (onboarding date, else first
    invoice, on or before that date). Values equal those of :func:`build_features` at each date."""
    agg = compute_aggregates(ledger, as_of_dates, config)
    started = agg["start_day"].notna() & (agg["start_day"] <= agg["as_of_day"])
    agg = agg.loc[started].reset_index(drop=True)
    return _features_from_aggregates(agg, ledger)


def month_ends(first: object, last: object) -> list[pd.Timestamp]:
    """Month ends from the one on or after ``first`` to the one on or before ``last``."""
    lo = pd.Timestamp(first) + pd.offsets.MonthEnd(0)
    hi = pd.Timestamp(last)
    hi = hi if hi.is_month_end else hi - pd.offsets.MonthEnd(1)
    return list(pd.date_range(lo, hi, freq="ME"))
