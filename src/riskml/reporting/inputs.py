"""What the reports read: the scoring output, the long contributions table and a model summary.

The reports never re-score or re-explain: every figure comes from the scoring output (one row per
customer) and the contributions scoring stored (one row per customer and feature, LightGBM's own
``pred_contrib`` in log-odds, plus the base value). This module checks those tables, names the file and
the column when something is missing, and puts them in the shape the report builders use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from riskml.errors import RiskmlError
from riskml.modeling.metadata import ModelMetadata
from riskml.modeling.model import RiskModel
from riskml.reporting.psi import BinnedReference

SCORE_COLUMNS = (
    "customer_id", "as_of", "pd", "grade", "current_limit", "suggested_limit", "limit_change", "action",
    "order_hold", "hold_reason", "review_due", "review_reason", "persona", "reason_codes", "model_version",
)
OPTIONAL_SCORE_COLUMNS = ("limit_rationale", "scored", "score_error", "data_fingerprint", "hold_codes", "review_codes",
                          "review_priority")
CONTRIBUTION_COLUMNS = ("customer_id", "feature", "value", "contribution")
# how a base (expected) value may be stored in the long table: a row with one of these feature names
BASE_FEATURE_NAMES = ("__base__", "_base", "_base_value", "base_value", "expected_value", "_expected_value", "bias")


class ReportInputError(RiskmlError):
    """A scores or contributions table is missing something the reports need."""


def _bool(s: pd.Series) -> pd.Series:
    if s.dtype == bool:
        return s
    text = s.astype("str").str.strip().str.lower()
    return text.isin(["true", "1", "1.0", "yes", "y", "t"]) & s.notna()


def _text(s: pd.Series) -> pd.Series:
    return s.astype("object").where(s.notna(), "").astype("str")


def grade_text(value: object) -> str:
    """A grade as text: ``3`` and ``3.0`` (read back from CSV) become ``"3"``; missing becomes ``""``."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or value is pd.NA:
        return ""
    if isinstance(value, (int, float, np.integer, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def prepare_scores(scores: pd.DataFrame, source: str = "scores") -> pd.DataFrame:
    """The scoring output with typed columns: ids and texts as ``str``, flags as ``bool``, numbers as
    ``float64``, grades as text. Raises :class:`ReportInputError` naming ``source`` and the columns missing."""
    missing = [c for c in SCORE_COLUMNS if c not in scores.columns]
    if missing:
        raise ReportInputError(f"{source}: missing column(s) {', '.join(missing)} (the output of `riskml score`)")
    out = scores.copy()
    out["customer_id"] = out["customer_id"].astype("str")
    if out["customer_id"].duplicated().any():
        dup = out.loc[out["customer_id"].duplicated(), "customer_id"].iloc[0]
        raise ReportInputError(f"{source}: column customer_id must be unique; {dup!r} appears more than once")
    out["as_of"] = pd.to_datetime(out["as_of"])
    for c in ("pd", "current_limit", "suggested_limit", "limit_change"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    out["grade"] = [grade_text(g) for g in out["grade"]]
    out["grade"] = out["grade"].astype("str")
    for c in ("order_hold", "review_due"):
        out[c] = _bool(out[c])
    out["scored"] = _bool(out["scored"]) if "scored" in out else out["pd"].notna()
    for c in ("action", "hold_reason", "review_reason", "persona", "reason_codes", "model_version",
              "limit_rationale", "score_error", "data_fingerprint", "hold_codes", "review_codes"):
        out[c] = _text(out[c]) if c in out else ""
    # 1 urgent, 2 soon, 3 routine; 0 when no review is due (older scores files have no priority: NaN)
    out["review_priority"] = (pd.to_numeric(out["review_priority"], errors="coerce").astype("float64")
                              if "review_priority" in out else np.nan)
    # the overrides of ``riskml score --overrides-db`` (absent from scores made without it)
    for c in ("override_hold_release", "policy_order_hold"):
        if c in out:
            out[c] = _bool(out[c])
    for c in ("override_limit", "policy_suggested_limit"):
        if c in out:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    for c in ("override_ids", "override_kinds", "override_action", "override_reason", "override_approver",
              "override_expires_on", "override_skipped", "policy_action"):
        if c in out:
            out[c] = _text(out[c])
    reason_cols = sorted((c for c in out.columns if c.startswith("reason_") and c[7:].isdigit()),
                         key=lambda c: int(c[7:]))
    for c in reason_cols:
        out[c] = _text(out[c])
    return out.reset_index(drop=True)


def reason_columns(scores: pd.DataFrame) -> list[str]:
    """``reason_1``, ``reason_2``, ... in order."""
    return sorted((c for c in scores.columns if c.startswith("reason_") and c[7:].isdigit()), key=lambda c: int(c[7:]))


@dataclass(frozen=True)
class Contributions:
    """Per-feature contributions (long: ``customer_id, feature, value, contribution[, family]``) and the
    base value per customer (log-odds; equal for every customer of one model)."""

    long: pd.DataFrame
    base: pd.Series  # indexed by customer_id

    @property
    def features(self) -> list[str]:
        """The features the model used (those scoring attributed contributions to), in table order."""
        return list(dict.fromkeys(self.long["feature"]))

    @cached_property
    def _by_customer(self) -> dict[str, pd.DataFrame]:
        return {str(k): g for k, g in self.long.groupby("customer_id", sort=False)}

    def of(self, customer_id: str) -> pd.DataFrame:
        """One customer's rows in the stored feature order (empty when the customer was not scored)."""
        return self._by_customer.get(str(customer_id), self.long.iloc[0:0])

    def raw_score(self) -> pd.Series:
        """Base value plus the sum of contributions: the model's raw score (log-odds) per customer."""
        total = self.long.groupby("customer_id")["contribution"].sum()
        return self.base.reindex(total.index).fillna(0.0) + total


def prepare_contributions(contrib: pd.DataFrame, source: str = "contributions") -> Contributions:
    """Check the long contributions table and split off the base value.

    The base value may be a ``base_value`` column or rows whose ``feature`` is one of
    ``BASE_FEATURE_NAMES`` (value in ``contribution``)."""
    missing = [c for c in CONTRIBUTION_COLUMNS if c not in contrib.columns]
    if missing:
        raise ReportInputError(
            f"{source}: missing column(s) {', '.join(missing)} (the contributions output of `riskml score`)"
        )
    df = contrib.copy()
    df["customer_id"] = df["customer_id"].astype("str")
    df["feature"] = df["feature"].astype("str")
    df["contribution"] = pd.to_numeric(df["contribution"], errors="coerce").astype("float64")
    is_base = df["feature"].isin(BASE_FEATURE_NAMES)
    if "base_value" in df.columns:
        base = pd.to_numeric(df["base_value"], errors="coerce").groupby(df["customer_id"]).first()
    elif is_base.any():
        base = df.loc[is_base].groupby("customer_id")["contribution"].first()
    else:
        raise ReportInputError(
            f"{source}: no base value: expected a base_value column or rows with feature in {list(BASE_FEATURE_NAMES)}"
        )
    long = df.loc[~is_base].drop(columns=[c for c in ("base_value",) if c in df.columns]).reset_index(drop=True)
    if long.duplicated(["customer_id", "feature"]).any():
        raise ReportInputError(f"{source}: (customer_id, feature) must be unique")
    base.index = base.index.astype("str")
    return Contributions(long=long, base=base.astype("float64"))


@dataclass(frozen=True)
class ModelSummary:
    """What the reports show about the model: version, test metrics, the features it uses and the
    training distributions for the stability (PSI) table. ``problem`` says why it is incomplete."""

    uri: str = ""
    version: str = ""
    name: str = ""
    metrics: Mapping[str, float] = field(default_factory=dict)
    benchmarks: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    details: Mapping[str, str] = field(default_factory=dict)
    feature_names: tuple[str, ...] = ()
    feature_references: Mapping[str, BinnedReference] = field(default_factory=dict)
    score_reference: BinnedReference | None = None
    problem: str = ""
    # what the population stability compares against (see riskml.reporting.run.stability_reference)
    reference_label: str = "the training data"
    oot_dates: tuple[str, ...] = ()  # the model's out-of-time test dates (ISO)


def _numeric_items(d: Mapping[str, object]) -> dict[str, float]:
    out = {}
    for k, v in d.items():
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            out[str(k)] = float(v)
    return out


def references_from_model(reference: Mapping[str, object] | None) -> tuple[dict[str, BinnedReference],
                                                                             BinnedReference | None]:
    """Training distributions from a model's ``reference_``: per feature ``edges`` (numeric) or
    ``categories`` with ``shares`` of the non-missing values and a ``missing_share``; the score's
    ``edges`` and ``shares``. Entries without bins are skipped."""
    ref = dict(reference or {})
    feats: dict[str, BinnedReference] = {}
    for name, r in dict(ref.get("features", {}) or {}).items():  # type: ignore[call-overload]
        if not isinstance(r, Mapping) or "shares" not in r:
            continue
        shares = np.asarray(r.get("shares") or [], dtype="float64")
        miss = float(r.get("missing_share") or 0.0)
        all_shares = np.append(shares * (1.0 - miss), miss)
        if r.get("kind") == "categorical" or "categories" in r:
            cats = tuple(str(c) for c in r.get("categories") or [])
            if len(cats) != len(shares) or not cats:
                continue
            feats[str(name)] = BinnedReference(str(name), tuple(all_shares.tolist()), categories=cats)
        else:
            edges = tuple(float(e) for e in r.get("edges") or [])
            if len(shares) != len(edges) + 1:
                continue
            feats[str(name)] = BinnedReference(str(name), tuple(all_shares.tolist()), cuts=edges)
    score = None
    s = ref.get("score")
    if isinstance(s, Mapping) and "shares" in s:
        edges = tuple(float(e) for e in s.get("edges") or [])
        shares = np.asarray(s.get("shares") or [], dtype="float64")
        miss = float(s.get("missing_share") or 0.0)
        if len(shares) == len(edges) + 1:
            score = BinnedReference("score", tuple(np.append(shares * (1.0 - miss), miss).tolist()), cuts=edges)
    return feats, score


def model_test_metrics(metadata: ModelMetadata | None,
                       info: Mapping[str, object] | None = None) -> dict[str, dict[str, float]]:
    """Out-of-time test metrics per model (``lightgbm`` first, then the benchmarks), from the model's
    metadata (``metrics.test`` as written by training) or, failing that, from the registry info
    (``metrics``, ``test_metrics`` or ``test_*`` keys)."""
    if metadata is not None and metadata.metrics is not None:
        nested = {k: _numeric_items(v) for k, v in metadata.metrics.test.items()}
        nested = {k: v for k, v in nested.items() if v}
        if nested:
            return {k: nested[k] for k in sorted(nested, key=lambda k: (k != "lightgbm", k))}
    source = info or {}
    candidates = []
    m = source.get("metrics")
    if isinstance(m, Mapping):
        candidates.append(m.get("test"))
        candidates.append(m)
    candidates.append(source.get("test_metrics"))
    for c in candidates:
        if not isinstance(c, Mapping) or not c:
            continue
        nested = {str(k): _numeric_items(v) for k, v in c.items() if isinstance(v, Mapping)}
        nested = {k: v for k, v in nested.items() if v}
        if nested:
            order = sorted(nested, key=lambda k: (k != "lightgbm", k))
            return {k: nested[k] for k in order}
        flat = _numeric_items(c)
        if flat:
            return {"lightgbm": {k.removeprefix("test_"): v for k, v in flat.items()}}
    flat = {k.removeprefix("test_"): v for k, v in _numeric_items(source).items() if k.startswith("test_")}
    return {"lightgbm": flat} if flat else {}


def _model_details(metadata: ModelMetadata) -> dict[str, str]:
    """A few facts worth printing beside the metrics (label definition, data windows, calibration)."""
    out: dict[str, str] = {}
    if metadata.label_definition:
        out["Label"] = metadata.label_definition
    window = metadata.data_window
    if window is not None:
        train, oot = list(window.train_dates), list(window.oot_dates)
        if train:
            out["Training snapshots"] = f"{train[0]} to {train[-1]} ({len(train)} month ends)"
        if oot:
            out["Out-of-time test window"] = f"{oot[0]} to {oot[-1]}"
    if metadata.data_fingerprint:
        out["Training data fingerprint"] = metadata.data_fingerprint
    return out


def model_summary(model: RiskModel | None, info: Mapping[str, object] | None = None, uri: str = "",
                  problem: str = "") -> ModelSummary:
    """What the reports show about a loaded model (:class:`riskml.modeling.model.RiskModel` and the
    info :func:`riskml.modeling.registry.load_model` returns with it)."""
    info = dict(info or {})
    if model is None:
        return ModelSummary(uri=uri, version=str(info.get("model_version", info.get("version", "")) or ""),
                            name=str(info.get("name", "") or ""),
                            problem=problem or "No model loaded: test metrics and population stability are not shown.")
    metadata = model.metadata_
    feats, score = references_from_model(model.reference_)
    version = info.get("model_version", info.get("version", metadata.model_version or ""))
    metrics = model_test_metrics(metadata, info)
    details = _model_details(metadata)
    calibration = model.calibration_method_
    if calibration:
        details["Calibration"] = str(calibration)
    oot = metadata.data_window.oot_dates if metadata.data_window is not None else ()
    return ModelSummary(
        oot_dates=oot,
        uri=uri or str(info.get("uri", "") or ""),
        version=str(version or ""),
        name=str(info.get("name", "") or metadata.model_name),
        metrics=metrics.get("lightgbm", next(iter(metrics.values()), {})),
        benchmarks={k: v for k, v in metrics.items() if k != "lightgbm"},
        details=details,
        feature_names=tuple(str(f) for f in model.feature_names_),
        feature_references=feats,
        score_reference=score,
        problem=problem,
    )
