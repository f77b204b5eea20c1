"""Stage 2: point-in-time payment-behaviour features.

``build_features(ledger, as_of)`` gives one row per customer of the master as of a date;
``build_snapshots(ledger, dates)`` gives the same for many dates at once (training snapshots), in one
pass over the ledger. ``REGISTRY`` holds every feature's meaning, unit, window, monotone direction and
reason text.
"""

from riskml.features import definitions as _definitions  # noqa: F401  (registers the features)
from riskml.features.build import build_features, build_snapshots, feature_specs, month_ends
from riskml.features.registry import FAMILIES, REGISTRY, FeatureSpec, model_features

__all__ = [
    "FAMILIES",
    "REGISTRY",
    "FeatureSpec",
    "build_features",
    "build_snapshots",
    "feature_specs",
    "model_features",
    "month_ends",
]
