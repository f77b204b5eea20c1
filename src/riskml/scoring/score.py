"""Batch scoring of the customer master: PD, grade, suggested limit, action, hold, review, persona and
reason codes for every customer, plus each customer's per-feature contributions (long format).

``score_customers(features, model, config, model_info)`` is the whole step, from a feature table (one
row per customer, :func:`riskml.features.build_features`) and a fitted model to the output frames; the
CLI (``riskml score``) adds loading and writing. A row that cannot be scored (a non-numeric or infinite
feature, a model failure on that row, no PD) is still output with ``scored = False`` and the reason in
``score_error``: it keeps its current limit, gets an urgent review and no contributions. Every customer
of the input appears exactly once, in input order.

Rows are scored in blocks of at most ``chunk_size`` rows (bounded memory, a progress callback per
block), ``num_threads`` blocks at a time, each worker thread running LightGBM on one core: LightGBM
releases the GIL, so one block's tree walk runs while another block's reasons and policies are worded,
and every core is busy without oversubscription. Every output is a function of its own row only, so the
blocking and the threads never change a result (a single customer scores exactly as in the batch).

A fitted LightGBM model (a :class:`~riskml.modeling.model.RiskModel`: ``booster_``, ``prepare``,
``pd_from_raw``) is explained by the explainer layer, :func:`riskml.explain.explainer.pd_and_contributions`
with the back end ``config.explainer`` picks: TreeSHAP contributions as LightGBM's ``pred_contrib`` (n x
(k + 1), last column the expected value, log-odds) and the PD from their row sum (one pass, no second tree
walk); ``ScoreResult.explainer`` names the back end used. Any other model is used through its public methods
``feature_names_``, ``predict_pd(X)`` and ``contributions(X)``. The training medians (``medians``) feed
the reason texts.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from riskml.config import ExtraAttribute, FeatureConfig, ScoringConfig
from riskml.errors import DataError, ModelError, RiskmlError
from riskml.explain.explainer import explainer_name, pd_and_contributions
from riskml.explain.explainer import one_thread as one_explainer_thread
from riskml.explain.reasons import reason_arrays
from riskml.features.build import feature_specs
from riskml.features.registry import FeatureSpec
from riskml.io import TABLE_SUFFIXES, atomic_path, read_table, write_frame
from riskml.modeling.model import RiskModel
from riskml.scoring.actions import HOLD_CODES, PRIORITY_NAMES, REVIEW_CODES
from riskml.scoring.grades import UNSCORED, grade_names
from riskml.scoring.limits import ACTIONS
from riskml.scoring.overrides import OVERRIDE_COLUMNS, ActiveOverride, overrides_by_customer
from riskml.scoring.personas import PERSONAS
from riskml.scoring.policy import (
    DECISION_COLUMNS,
    POLICY_INPUTS,
    PREVIOUS_FEATURES,
    apply_policy,
    index_previous,
)

KEYS = ("customer_id", "as_of")
# the columns of the scores output, in order (docs/scoring.md describes each)
BASE_COLUMNS = (
    "customer_id", "as_of", "pd", "grade", "current_limit", "suggested_limit", "limit_change", "action",
    "approval_level", "order_hold", "hold_type", "release_amount", "hold_reason", "collections_track",
    "review_due", "review_reason", "review_priority", "next_review", "expected_loss", "margin_at_risk", "persona", "treatment",
)
TAIL_COLUMNS = ("reason_codes", "model_version", "data_fingerprint", "limit_rationale", "hold_codes", "review_codes",
                "adverse_action_notice", "scored", "score_error")
_TEXT_COLUMNS = ("action", "hold_reason", "review_reason", "persona", "treatment", "reason_codes", "limit_rationale",
                 "hold_codes", "review_codes", "score_error", "hold_type", "approval_level")
_BOOL_COLUMNS = ("order_hold", "review_due", "collections_track", "adverse_action_notice")
_MONEY_COLUMNS = ("current_limit", "suggested_limit", "limit_change", "release_amount", "expected_loss",
                  "margin_at_risk")
CONTRIBUTION_COLUMNS = ("customer_id", "as_of", "feature", "value", "contribution", "family")
# the row of the contributions output that carries the expected value (base value) of the model
BASE_VALUE_FEATURE = "_expected_value"
CONTRIBUTIONS_SUFFIX = ".contributions.parquet"
# blocks smaller than this are not worth a thread of their own
MIN_BLOCK = 2_000


class ScoringModel(Protocol):
    """What scoring needs from a model (:class:`riskml.modeling.model.RiskModel` provides it)."""

    feature_names_: list[str]
    # training medians per numeric feature: the reason texts compare a customer with them
    @property
    def medians(self) -> Mapping[str, float]: ...

    def predict_pd(self, X: pd.DataFrame) -> np.ndarray: ...

    def contributions(self, X: pd.DataFrame) -> np.ndarray: ...


@dataclass(frozen=True)
class ScoreResult:
    """The scores (one row per customer) and the contributions (one row per scored customer and model
    feature, plus one :data:`BASE_VALUE_FEATURE` row; ``None`` when not requested)."""

    scores: pd.DataFrame
    contributions: pd.DataFrame | None
    # the contributions back end used (``fast`` or ``pred_contrib``; "" for a model scoring by its own methods)
    explainer: str = ""

    def summary(self, master_scale: Any = None) -> dict[str, Any]:
        return summarise(self.scores, master_scale)


def output_columns(n_reasons: int = 3) -> list[str]:
    """Column names of the scores output, in order: the decisions, the reasons, the bookkeeping and last
    the :data:`~riskml.scoring.policy.PREVIOUS_FEATURES` (the state the next run compares with)."""
    return [*BASE_COLUMNS, *(f"reason_{j + 1}" for j in range(n_reasons)), *TAIL_COLUMNS, *PREVIOUS_FEATURES]


def model_feature_config(model: RiskModel | None, path: Path | None = None) -> FeatureConfig:
    """Feature settings for scoring with ``model``: ``path`` if given, else those stored with the model
    (features must be built the way training built them), else ``configs/features.yaml`` / defaults."""
    from riskml.config import load_config

    if path is not None:
        return load_config("features", path)
    if model is not None and model.metadata_.feature_config is not None:
        return model.metadata_.feature_config
    return load_config("features")


def model_extra_attributes(model: RiskModel, from_data_config: Mapping[str, ExtraAttribute]) -> dict[str, ExtraAttribute]:
    """The user-declared attribute features: those stored with the model (as trained), else the data
    config's."""
    return dict(model.metadata_.extra_attributes or from_data_config)


# ------------------------------------------------------------------------------------------ checks
def check_features(features: pd.DataFrame, feature_names: list[str]) -> None:
    """Whole-table problems stop the run: missing key, policy or model columns, duplicate customers."""
    missing = [c for c in (*KEYS, *POLICY_INPUTS) if c not in features.columns]
    if missing:
        raise DataError(f"feature table: columns {missing} are missing (needed by the scoring policies); "
                        "build it with `riskml features` from the same riskml version")
    missing_model = [c for c in feature_names if c not in features.columns]
    if missing_model:
        raise ModelError(f"feature table lacks the model's features {missing_model}: the model was trained on "
                         "features this feature table does not have")
    dup = features["customer_id"].duplicated(keep=False)
    if dup.any():
        ids = features.loc[dup, "customer_id"].astype("str").unique()[:5].tolist()
        raise DataError(f"feature table: customer_id must be unique (one row per customer); got duplicates {ids}")


def row_problems(X: pd.DataFrame, categorical: set[str] | frozenset[str] = frozenset()) -> np.ndarray:
    """Per-row reasons a row cannot be scored ("" when it can): a numeric model feature that holds text
    that is not a number, or an infinite value. Missing values are fine (the model handles them)."""
    out = np.full(len(X), "", dtype=object)
    for col in X.columns:
        if col in categorical:
            continue
        s = X[col]
        if s.dtype == bool or str(s.dtype) == "boolean":
            continue
        if s.dtype.kind in "fiu":
            v = s.to_numpy("float64")
            bad = np.isinf(v)
            texts = None
        else:
            num = pd.to_numeric(s, errors="coerce").to_numpy("float64")
            bad = (pd.isna(num) & s.notna().to_numpy()) | np.isinf(num)
            texts = s
        for i in np.flatnonzero(bad):
            shown = X[col].iloc[i] if texts is None else texts.iloc[i]
            shown = repr(float(shown)) if isinstance(shown, int | float | np.number) else repr(shown)
            msg = f"feature {col} = {shown} is not a finite number"
            out[i] = msg if out[i] == "" else f"{out[i]}; {msg}"
    return out


# ------------------------------------------------------------------------------------------ scoring
def _explained(model: Any) -> bool:
    """A fitted LightGBM model (a RiskModel) is explained by the explainer layer; other models (wrappers,
    stand-ins) by their own ``predict_pd`` and ``contributions``."""
    return all(hasattr(model, a) for a in ("booster_", "prepare", "pd_from_raw"))


def _predict_block(model: ScoringModel, X: pd.DataFrame, explainer: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    k = len(model.feature_names_)
    if _explained(model):  # PD = calibrator(row sum of the contributions): one pass, no second tree walk
        p, c = pd_and_contributions(model, X, explainer)
    else:
        names = list(model.feature_names_)
        X = X if list(X.columns) == names else X[names]
        p, c = model.predict_pd(X), model.contributions(X)
    p = np.asarray(p, dtype="float64").reshape(-1)
    c = np.asarray(c, dtype="float64")
    if p.shape != (len(X),) or c.shape != (len(X), k + 1):
        raise ModelError(f"model returned PD shape {p.shape} and contributions shape {c.shape} "
                         f"for {len(X)} rows and {k} features")
    return p, c


def _fails(model: ScoringModel, X: pd.DataFrame, explainer: str) -> bool:
    try:
        _predict_block(model, X, explainer)
    except Exception:  # noqa: BLE001
        return True
    return False


def _predict_rows(model: ScoringModel, X: pd.DataFrame, probe: bool = True,
                  explainer: str = "auto") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PD and contributions of ``X``. When the model fails on the block, it is split in halves until the
    failing rows are isolated (a few extra calls per bad row, not one call per row), so one bad row
    does not sink the block. A model that fails on the block *and* on its first, middle and last rows
    alone is broken, not fed a few bad rows: that raises :class:`ModelError` instead of scoring row
    by row.

    Returns (pd, contributions, error texts); failed rows have NaN PD and contributions."""
    k = len(model.feature_names_)
    try:
        p, c = _predict_block(model, X, explainer)
        return p, c, np.full(len(X), "", dtype=object)
    except Exception as exc:  # noqa: BLE001  (a row that cannot be scored is flagged, not fatal)
        if len(X) == 1:
            err = np.array([f"model failed on this row: {type(exc).__name__}: {exc}"], dtype=object)
            return np.full(1, np.nan), np.full((1, k + 1), np.nan), err
        if probe and all(_fails(model, X.iloc[[i]], explainer) for i in sorted({0, len(X) // 2, len(X) - 1})):
            raise ModelError(f"the model fails on every row tried, not just a few ({type(exc).__name__}: {exc}); "
                             "no customer could be scored") from exc
    half = len(X) // 2
    p1, c1, e1 = _predict_rows(model, X.iloc[:half], probe=False, explainer=explainer)
    p2, c2, e2 = _predict_rows(model, X.iloc[half:], probe=False, explainer=explainer)
    return np.concatenate([p1, p2]), np.concatenate([c1, c2]), np.concatenate([e1, e2])


def _contributions_long(ids: np.ndarray, as_of: np.ndarray, values: np.ndarray, contrib: np.ndarray,
                        feature_names: list[str], specs: Mapping[str, FeatureSpec]) -> pd.DataFrame:
    """Long table from stacked arrays: (customer, feature) rows, the expected value as a last row."""
    n, k1 = contrib.shape
    names = [*feature_names, BASE_VALUE_FEATURE]
    fams = [specs[f].family if f in specs else ("" if f == BASE_VALUE_FEATURE else "attributes") for f in names]
    fam_levels = list(dict.fromkeys(fams))
    ids_index = pd.Index(ids)
    if ids_index.is_unique:
        cust = pd.Categorical.from_codes(np.repeat(np.arange(n, dtype=np.int32), k1), categories=ids_index)
    else:
        cust = np.repeat(ids, k1)
    feat_codes = np.tile(np.arange(k1, dtype=np.int16), n)
    fam_codes = np.array([fam_levels.index(f) for f in fams], dtype=np.int16)[feat_codes]
    # the as-of date as a categorical: one date for a whole run, 1 byte per row instead of 8
    day_codes, days = pd.factorize(pd.DatetimeIndex(as_of), sort=True)
    as_of_col = pd.Categorical.from_codes(np.repeat(day_codes.astype(np.int8 if len(days) < 127 else np.int32), k1),
                                          categories=days)
    return pd.DataFrame({
        "customer_id": cust,
        "as_of": as_of_col,
        "feature": pd.Categorical.from_codes(feat_codes, categories=names),
        "value": values.reshape(-1),
        "contribution": contrib.reshape(-1),
        "family": pd.Categorical.from_codes(fam_codes, categories=fam_levels),
    }, copy=False)


@dataclass(frozen=True)
class _Run:
    """Everything a block needs, shared read-only by the worker threads."""

    model: ScoringModel
    names: list[str]
    specs: Mapping[str, FeatureSpec]
    medians: dict[str, float]
    categorical: set[str]
    config: ScoringConfig
    previous: pd.DataFrame | None
    feats: pd.DataFrame
    errors: np.ndarray
    # every row's contributions, (n, k + 1), and its own figures (NaN for categoricals and the expected value):
    # each block writes its own rows (None: not requested)
    contrib: np.ndarray | None
    values: np.ndarray | None = None
    # in worker threads, LightGBM's OpenMP is held to one thread per block (see _one_openmp_thread)
    one_thread: Callable[[], Any] = contextlib.nullcontext
    # the active overrides per customer id and kind (None: no override columns)
    overrides: Mapping[str, Mapping[str, ActiveOverride]] | None = None


@dataclass
class _Block:
    columns: dict[str, np.ndarray]
    model_failures: int


def _score_block(run: _Run, start: int, stop: int) -> _Block:
    """Score rows ``start:stop`` of the feature table: PD, contributions, reasons and every policy."""
    config, names = run.config, run.names
    part = run.feats.iloc[start:stop]
    m, k = stop - start, len(names)
    errors = run.errors[start:stop].copy()
    pd_block = np.full(m, np.nan)
    contrib = np.full((m, k + 1), np.nan)
    n_fail = 0
    todo = np.flatnonzero(errors == "")
    if len(todo):
        X = part if len(todo) == m else part.iloc[todo]
        with run.one_thread():
            p, c, err = _predict_rows(run.model, X, explainer=config.explainer)
        n_fail = int((err != "").sum())
        bad_pd = (err == "") & ~(np.isfinite(p) & (p >= 0) & (p <= 1))
        errors[todo] = np.where(bad_pd, "model returned no valid PD for this row", err)
        pd_block[todo], contrib[todo] = p, c
    scored = errors == ""
    pd_block[~scored] = np.nan
    good = np.flatnonzero(scored)

    n_reasons = config.n_reasons
    reason_cols = [*(f"reason_{j + 1}" for j in range(n_reasons)), "reason_codes"]
    cols: dict[str, Any]
    if len(good) == m:
        cols = dict(reason_arrays(part, contrib, names, run.specs, run.medians, n=n_reasons))
    else:
        cols = {col: np.full(m, "", dtype=object) for col in reason_cols}
        if len(good):
            rc = reason_arrays(part.iloc[good], contrib[good], names, run.specs, run.medians, n=n_reasons)
            for col in reason_cols:
                cols[col][good] = rc[col]
    cols["reason_1"] = np.where(scored, cols["reason_1"],
                                np.array(["Not scored: " + str(e) for e in errors], dtype=object))

    decisions = apply_policy(part, pd_block, config, run.previous, scored, errors, overrides=run.overrides)
    for col in (*DECISION_COLUMNS, *(OVERRIDE_COLUMNS if run.overrides is not None else ())):
        s = decisions[col]
        # texts the policy's frame already holds as strings stay so (no round trip through Python objects)
        cols[col] = s.array if isinstance(s.dtype, pd.StringDtype) else s.to_numpy()
    cols.update({"pd": pd_block, "scored": scored, "score_error": errors})
    if run.contrib is not None:
        run.contrib[start:stop] = contrib  # disjoint rows per block: safe from several threads
    if run.values is not None:
        for i, f in enumerate(names):
            if f not in run.categorical:
                run.values[start:stop, i] = pd.to_numeric(part[f], errors="coerce").to_numpy("float64")
    return _Block(cols, n_fail)


def _blocks(n: int, config: ScoringConfig, threads: int) -> list[tuple[int, int]]:
    """Row ranges of at most ``chunk_size`` rows, small enough that ``threads`` workers share the work."""
    size = min(config.chunk_size, max(MIN_BLOCK, -(-n // (2 * threads))))
    return [(s, min(s + size, n)) for s in range(0, n, size)]


def _one_openmp_thread() -> Callable[[], Any]:
    """A context that holds OpenMP (LightGBM's threads) to one thread *in the calling thread only*.

    Each worker thread then walks the trees on one core instead of every worker starting an OpenMP team
    per core (which oversubscribes the cores and burns them in spin-waits). OpenMP's thread count is a
    per-thread setting, so the caller's own thread keeps its default. Needs threadpoolctl (a scikit-learn
    dependency); without it LightGBM keeps its default."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext
    controller = ThreadpoolController()

    @contextlib.contextmanager
    def one() -> Any:
        with controller.limit(limits=1, user_api="openmp"), one_explainer_thread():
            yield

    return one


def scoring_threads(config: ScoringConfig) -> int:
    """Worker threads: ``num_threads``, or the machine's cores when it is 0 (at most 8)."""
    return config.num_threads or min(os.cpu_count() or 1, 8)


def scores_frame(
    feats: pd.DataFrame,
    columns: Mapping[str, np.ndarray],
    scored: np.ndarray,
    errors: np.ndarray,
    config: ScoringConfig,
    model_info: Mapping[str, Any] | None = None,
    data_fingerprint: str = "",
) -> pd.DataFrame:
    """The scores output (:func:`output_columns`, typed) from the feature rows' keys and the per-row
    arrays: ``pd``, the reasons and the :data:`~riskml.scoring.policy.DECISION_COLUMNS`. Both engines
    build their output here (the Spark engine per batch)."""
    info = dict(model_info or {})
    as_of = pd.to_datetime(feats["as_of"])
    out_cols: dict[str, Any] = {"customer_id": feats["customer_id"].astype("str").reset_index(drop=True),
                                "as_of": as_of.reset_index(drop=True)}
    for col in output_columns(config.n_reasons)[2:]:
        if col == "model_version":
            out_cols[col] = str(info.get("model_version", "") or "")
        elif col == "data_fingerprint":
            out_cols[col] = str(data_fingerprint or "")
        elif col == "scored":
            out_cols[col] = np.asarray(scored, dtype=bool)
        elif col in PREVIOUS_FEATURES:  # the customer's own figure, scored or not (a bad value is NaN)
            out_cols[col] = (pd.to_numeric(feats[col], errors="coerce").to_numpy("float64") if col in feats
                             else np.full(len(feats), np.nan))
        elif col == "score_error":
            out_cols[col] = pd.Series(np.asarray(errors, dtype=object), dtype="str")
        elif col == "grade":
            out_cols[col] = grade_categorical(columns[col], config.master_scale)
        elif col in _TEXT_COLUMNS or col.startswith("reason_"):
            out_cols[col] = _str_column(columns[col])
        elif col in _BOOL_COLUMNS:
            out_cols[col] = np.asarray(columns[col]).astype(bool)
        elif col == "review_priority":
            out_cols[col] = np.asarray(columns[col]).astype(np.int8)
        elif col == "next_review":
            out_cols[col] = np.asarray(columns[col]).astype("datetime64[ns]")
        elif col in _MONEY_COLUMNS:
            out_cols[col] = np.round(np.asarray(columns[col]).astype("float64"), 2)
        else:
            out_cols[col] = np.asarray(columns[col]).astype("float64")
    return pd.DataFrame(out_cols)[output_columns(config.n_reasons)]


_STR = pd.Series([], dtype="str").dtype


def _str_column(values: Any) -> pd.Series:
    """A text column as the ``str`` dtype: strings already in that dtype are taken as they are."""
    if getattr(values, "dtype", None) == _STR and not isinstance(values, np.ndarray):
        return pd.Series(values, copy=False)
    return pd.Series(np.asarray(values, dtype=object), dtype="str")


def score_customers(
    features: pd.DataFrame,
    model: ScoringModel,
    config: ScoringConfig | None = None,
    model_info: Mapping[str, Any] | None = None,
    previous: pd.DataFrame | None = None,
    data_fingerprint: str = "",
    specs: Mapping[str, FeatureSpec] | None = None,
    with_contributions: bool = True,
    progress: Callable[[int, int], None] | None = None,
    overrides: pd.DataFrame | None = None,
) -> ScoreResult:
    """Score every customer of ``features`` (one row per customer, as built by ``build_features``).

    ``model_info["model_version"]`` is written to every row; ``previous`` is the last scores output
    (``customer_id``, ``grade``, optionally ``as_of`` and ``dbt_avg_3m``, see :func:`load_previous`) for the
    grade-move and DBT-jump reviews; ``specs`` the feature specs (default: the registry); ``progress`` is
    called with (rows done, rows total) after each block, in order; ``overrides`` the overrides active on the
    as-of date (:func:`riskml.scoring.overrides.active_overrides`): they go into the policy
    (``apply_policy(..., overrides=)``) and the scores carry :data:`~riskml.scoring.overrides.OVERRIDE_COLUMNS`
    last."""
    config = config or ScoringConfig()
    names = [str(f) for f in model.feature_names_]
    check_features(features, names)
    feats = features.reset_index(drop=True)
    n, k = len(feats), len(names)
    run = _Run(
        model=model, names=names, specs=feature_specs() if specs is None else specs, medians=dict(model.medians),
        categorical=set(getattr(model, "categories_", {}) or {}), config=config,
        previous=index_previous(previous),
        feats=feats, errors=row_problems(feats[names], set(getattr(model, "categories_", {}) or {})),
        contrib=np.full((n, k + 1), np.nan) if with_contributions else None,
        values=np.full((n, k + 1), np.nan) if with_contributions else None,
        overrides=None if overrides is None else overrides_by_customer(overrides),
    )
    threads = scoring_threads(config)
    ranges = _blocks(n, config, threads)
    blocks: list[_Block] = []
    if threads > 1 and len(ranges) > 1:
        run = replace(run, one_thread=_one_openmp_thread())
        pool = ThreadPoolExecutor(max_workers=min(threads, len(ranges)), thread_name_prefix="riskml-score")
        try:
            for (_, stop), block in zip(ranges, pool.map(lambda r: _score_block(run, *r), ranges), strict=True):
                blocks.append(block)
                if progress is not None:
                    progress(stop, n)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        for start, stop in ranges:
            blocks.append(_score_block(run, start, stop))
            if progress is not None:
                progress(stop, n)

    def stack(col: str) -> Any:
        """One output column from the blocks, releasing the blocks' copies as it goes."""
        if not blocks:
            return np.zeros(0, dtype=object)
        parts = [b.columns.pop(col) for b in blocks]
        if isinstance(parts[0], np.ndarray):
            return np.concatenate(parts)
        return parts[0] if len(parts) == 1 else type(parts[0])._concat_same_type(parts)

    scored = stack("scored").astype(bool) if blocks else np.zeros(0, dtype=bool)
    errors = stack("score_error")
    if n and not scored.any() and sum(b.model_failures for b in blocks) == n:
        first = next(e for e in errors if e)
        raise ModelError(f"no customer could be scored; the model fails on every row ({first})")

    out = scores_frame(feats, {col: stack(col) for col in output_columns(config.n_reasons)[2:]
                               if col not in ("model_version", "data_fingerprint", "scored", "score_error",
                                              *PREVIOUS_FEATURES)},
                       scored, errors, config, model_info, data_fingerprint)
    if overrides is not None:
        for col in OVERRIDE_COLUMNS:
            values = stack(col)
            out[col] = (np.asarray(values, dtype=bool) if col in ("override_hold_release", "policy_order_hold")
                        else np.asarray(values, dtype="float64") if col in ("override_limit", "policy_suggested_limit")
                        else pd.Series(np.asarray(values, dtype=object), dtype="str"))
    as_of = out["as_of"]
    contributions = None
    if run.contrib is not None:
        idx = np.flatnonzero(scored)
        contrib = run.contrib if len(idx) == n else run.contrib[idx]
        assert run.values is not None  # filled together with run.contrib
        values = run.values if len(idx) == n else run.values[idx]  # the customers' own figures
        contributions = _contributions_long(out["customer_id"].to_numpy()[idx], as_of.to_numpy()[idx],
                                            values, contrib, names, run.specs)
    return ScoreResult(out, contributions, explainer_name(model, config.explainer) if _explained(model) else "")


def grade_categorical(grades: np.ndarray, master_scale: Any = None) -> pd.Categorical:
    """Grades as an ordered categorical, best grade first, unscored (``""``) last: sorting and comparing
    grades follows the master scale ("10" after "9", not after "1")."""
    levels = [*grade_names(master_scale), UNSCORED]
    return pd.Categorical(np.asarray(grades, dtype=object).astype(str), categories=levels, ordered=True)


# ------------------------------------------------------------------------------------------ summary
def summarise(scores: pd.DataFrame, master_scale: Any = None) -> dict[str, Any]:
    """Run summary: counts by grade (scale order, unscored last), action and persona; limit totals;
    holds by reason; reviews due by priority and by reason."""
    grades = [*grade_names(master_scale), UNSCORED]
    by_grade = scores["grade"].fillna(UNSCORED).astype("str").value_counts()
    by_action = scores["action"].value_counts()
    by_persona = scores["persona"].value_counts()

    def code_counts(col: str, codes: Mapping[str, str]) -> dict[str, int]:
        if col not in scores:
            return {}
        parts = scores[col].fillna("").astype("str").str.split(";").explode()
        counts = parts[parts != ""].value_counts()
        return {c: int(counts.get(c, 0)) for c in codes if counts.get(c, 0)}

    priority = scores["review_priority"] if "review_priority" in scores else pd.Series(dtype="int8")
    set_rows = scores["action"] == "set"

    def total(col: str, mask: Any = None) -> float:
        if col not in scores:
            return 0.0
        v = scores[col].to_numpy("float64") if mask is None else scores.loc[mask, col].to_numpy("float64")
        return round(float(np.nansum(v)), 2)

    hold = scores["order_hold"].astype(bool)
    by_type = scores["hold_type"].value_counts() if "hold_type" in scores else pd.Series(dtype="int64")
    by_level = scores["approval_level"].value_counts() if "approval_level" in scores else pd.Series(dtype="int64")
    return {
        "customers": int(len(scores)),
        "scored": int(scores["scored"].sum()),
        "not_scored": int((~scores["scored"].astype(bool)).sum()),
        "by_grade": {g: int(by_grade.get(g, 0)) for g in grades if by_grade.get(g, 0) or g != UNSCORED},
        "by_action": {a: int(by_action.get(a, 0)) for a in ACTIONS},
        "by_persona": {p: int(by_persona.get(p, 0)) for p in PERSONAS},
        "total_current_limit": total("current_limit"),
        "total_suggested_limit": total("suggested_limit"),
        "total_limit_change": total("limit_change"),
        "total_limit_set": total("suggested_limit", set_rows),
        "order_holds": int(scores["order_hold"].sum()),
        "holds_by_reason": code_counts("hold_codes", HOLD_CODES),
        "reviews_due": int(scores["review_due"].sum()),
        "reviews_by_priority": {name: int((priority == p).sum()) for p, name in PRIORITY_NAMES.items()},
        "reviews_by_reason": code_counts("review_codes", REVIEW_CODES),
        "holds_by_type": {t: int(by_type.get(t, 0)) for t in ("soft", "hard") if by_type.get(t, 0)},
        "collections_track": int(scores["collections_track"].sum()) if "collections_track" in scores else 0,
        "increase_with_hold": int(((scores["action"] == "increase") & hold).sum()),
        "by_approval_level": {str(k): int(v) for k, v in by_level.items() if str(k)},
        "total_release_amount": total("release_amount"),
        "total_expected_loss": total("expected_loss"),
        "total_margin_at_risk": total("margin_at_risk"),
    }


# ------------------------------------------------------------------------------------------- files
def contributions_path(out: str | Path) -> Path:
    """Default contributions file beside the scores file: ``scores.parquet`` ->
    ``scores.contributions.parquet``."""
    out = Path(out)
    return out.with_name(out.name[: -len(out.suffix)] + CONTRIBUTIONS_SUFFIX if out.suffix else out.name + CONTRIBUTIONS_SUFFIX)


def check_output_path(path: str | Path, option: str = "--out") -> Path:
    """An output path must end in .parquet or .csv (checked before any work is done)."""
    path = Path(path)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise RiskmlError(f"{option} {path}: must end in .parquet or .csv; got {path.suffix or 'no suffix'!r}")
    if path.exists() and path.is_dir():
        raise RiskmlError(f"{option} {path}: is a directory; give a file name ending in .parquet or .csv")
    return path


def write_outputs(result: ScoreResult, out: str | Path, contributions: str | Path | None = None) -> list[Path]:
    """Write the scores (and the contributions, when present) atomically: both files are renamed into
    place only after both were written in full, so a killed run leaves neither half file."""
    out = check_output_path(out)
    targets = [(result.scores, out)]
    if result.contributions is not None:
        cpath = check_output_path(contributions if contributions is not None else contributions_path(out),
                                  "--contributions")
        if cpath.resolve() == out.resolve():
            raise RiskmlError(f"--contributions {cpath}: must differ from --out")
        targets.append((result.contributions, cpath))
    with atomic_path(targets[0][1]) as tmp0:
        write_frame(targets[0][0], tmp0, targets[0][1].suffix.lower())
        if len(targets) == 2:
            with atomic_path(targets[1][1]) as tmp1:
                _write_contributions(targets[1][0], tmp1, targets[1][1].suffix.lower())
    return [p for _, p in targets]


def _write_contributions(frame: pd.DataFrame, path: Path, suffix: str) -> None:
    """The long contributions table: Parquet with dictionary encoding for its categorical columns (customer,
    date, feature, family) and plain encoding for the figures and contributions (floats, nearly all distinct,
    which Parquet would otherwise try to dictionary-encode and give up on page after page); CSV as
    :func:`riskml.io.write_frame` writes it."""
    if suffix == ".parquet":
        frame.to_parquet(path, index=False, use_dictionary=[c for c in frame.columns if frame[c].dtype.kind != "f"])
    else:
        write_frame(frame, path, suffix)


def previous_scores(scores: pd.DataFrame, where: str = "previous scores") -> pd.DataFrame:
    """A scores output in the shape ``previous=`` reads: ``customer_id`` (text), ``grade`` (text, ``""`` =
    unscored), ``as_of`` and the :data:`~riskml.scoring.policy.PREVIOUS_FEATURES` the file carries; one
    row per customer, the last one wins. The one place previous scores are read (``--previous``, the
    report's previous review date)."""
    missing = [c for c in ("customer_id", "grade") if c not in scores.columns]
    if missing:
        raise DataError(f"{where}: previous scores need columns customer_id and grade; missing {missing}")
    keep = [c for c in ("customer_id", "grade", "as_of", *PREVIOUS_FEATURES) if c in scores.columns]
    prev = scores[keep].copy()
    prev["customer_id"] = prev["customer_id"].astype("str")
    grade = prev["grade"]
    if grade.dtype.kind == "f":  # a CSV round trip turns grades "1".."10" into numbers and "" into NaN
        prev["grade"] = [("" if pd.isna(g) else str(int(g)) if float(g).is_integer() else str(g)) for g in grade]
    else:
        prev["grade"] = grade.astype("str").fillna("")
    if "as_of" in prev:
        prev["as_of"] = pd.to_datetime(prev["as_of"], errors="coerce")
    for col in PREVIOUS_FEATURES:
        if col in prev:
            prev[col] = pd.to_numeric(prev[col], errors="coerce").astype("float64")
    return prev.drop_duplicates("customer_id", keep="last").reset_index(drop=True)


def load_previous(path: str | Path) -> pd.DataFrame:
    """The previous scores file, as :func:`previous_scores` gives it. A file written before the scores
    carried :data:`~riskml.scoring.policy.PREVIOUS_FEATURES` has none: its DBT jumps are then measured
    against the customer's own 12-month DBT only."""
    path = Path(path)
    return previous_scores(read_table(path), str(path))
