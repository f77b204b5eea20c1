"""Training, pure (no MLflow, no files written): snapshots -> labels -> out-of-time split -> LightGBM +
calibration -> verification -> benchmark and rule -> metrics on the out-of-time test window.

:func:`assemble` builds the labeled snapshot table (from the label definition or a user's labels file),
:func:`fit_and_evaluate` trains and evaluates on it and returns a :class:`TrainResult`, and
:func:`training_metadata` says what the model must carry. :func:`riskml.modeling.pipeline.run_training`
adds tracking, registration and the promotion gate. The result types live in :mod:`riskml.modeling.results`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskml.config import ExtraAttribute, FeatureConfig, ScoringConfig, TrainConfig
from riskml.data.ledger import Ledger
from riskml.errors import LabelError
from riskml.features import build_snapshots, feature_specs, model_features
from riskml.features.registry import FeatureSpec
from riskml.io import read_table
from riskml.modeling.benchmark import LogisticBenchmark, RuleScore
from riskml.modeling.calibration import FITTERS, brier, fit_segment_calibrator, log_loss
from riskml.modeling.labels import (
    describe_definition,
    disputed_left_out,
    label_snapshots,
    ledger_end,
    snapshot_dates,
)
from riskml.modeling.metadata import DataWindow, ModelMetadata, TrainMetrics
from riskml.modeling.metrics import (
    calibration_by_group,
    calibration_table,
    evaluate,
    lift_table,
    paired_auc_difference,
)
from riskml.modeling.model import RiskModel
from riskml.modeling.monotone import verify_monotone
from riskml.modeling.results import TrainingData, TrainResult
from riskml.modeling.split import Split, oot_split

__all__ = ["KEYS", "TrainResult", "TrainingData", "assemble", "fit_and_evaluate", "read_labels_file",
           "training_metadata"]

KEYS = ["customer_id", "as_of"]
LABEL_COLUMNS = ("customer_id", "as_of", "label")
Echo = Callable[[str], None]
# (test rows with every snapshot feature, their PD) -> a group per row (e.g. the collector persona); the
# caller supplies it, so that modeling does not import the scoring stage
Segmenter = Callable[[pd.DataFrame, np.ndarray], np.ndarray]


def _quiet(_: str) -> None:
    return None


def read_labels_file(path: str | Path) -> pd.DataFrame:
    """A user's outcome file: ``customer_id``, ``as_of`` (date), ``label`` (0/1), one row per pair.

    Raises :class:`LabelError` naming the file, the row (1-based, after the header) and the column."""
    path = Path(path)
    if not path.exists():
        raise LabelError(f"{path}: labels file not found")
    try:
        # ids stay text: "00123" must not become the number 123, "NA" stays an id
        raw = read_table(path)
    except Exception as exc:  # noqa: BLE001 - any read failure is the user's file
        raise LabelError(f"{path}: cannot read the labels file ({exc}); expected a .csv or .parquet file "
                         "with columns customer_id, as_of, label") from None
    missing = [c for c in LABEL_COLUMNS if c not in raw.columns]
    if missing:
        raise LabelError(f"{path}: missing column(s) {missing}; a labels file needs customer_id, as_of, label")
    out = pd.DataFrame({"customer_id": raw["customer_id"].astype("str").str.strip()})
    problems = []
    as_of = pd.to_datetime(raw["as_of"], errors="coerce", format="mixed")
    for i in np.flatnonzero(as_of.isna().to_numpy())[:5]:
        problems.append(f"{path}: row {i + 2}, column as_of: expected a date like 2025-06-30 (got {raw['as_of'].iloc[i]!r})")
    lab = raw["label"]
    if lab.dtype == bool:
        lab = lab.astype("int64")
    num = pd.to_numeric(lab.astype("str").str.strip().str.lower().replace({"true": "1", "false": "0"}),
                        errors="coerce")
    for i in np.flatnonzero(~num.isin([0, 1]).to_numpy())[:5]:
        problems.append(f"{path}: row {i + 2}, column label: must be 0 or 1 (got {raw['label'].iloc[i]!r})")
    empty_id = raw["customer_id"].isna().to_numpy() | (out["customer_id"] == "").to_numpy()
    for i in np.flatnonzero(empty_id)[:5]:
        problems.append(f"{path}: row {i + 2}, column customer_id: empty")
    if problems:
        raise LabelError("\n".join(problems))
    out["as_of"] = as_of.dt.normalize().astype("datetime64[ns]")
    out["label"] = num.astype("int64")
    dup = out.duplicated(["customer_id", "as_of"], keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise LabelError(f"{path}: row {i + 2}: customer {out['customer_id'].iloc[i]} appears twice at as_of "
                         f"{out['as_of'].iloc[i].date()} ({int(dup.sum())} duplicate rows); keep one label per pair")
    if len(out) == 0:
        raise LabelError(f"{path}: the labels file has no rows")
    return out


def _model_columns(config: FeatureConfig, extra: dict[str, ExtraAttribute]) -> tuple[
        list[str], list[str], dict[str, int], dict[str, FeatureSpec]]:
    specs = feature_specs(extra)
    feats = model_features(extra, config.exclude)
    categorical = [f for f in feats if specs[f].kind == "categorical"]
    monotone = {f: int(specs[f].monotone) for f in feats if specs[f].monotone and f not in categorical}
    return feats, categorical, monotone, specs


def assemble(ledger: Ledger, config: TrainConfig, feature_config: FeatureConfig | None = None,
             extra: dict[str, ExtraAttribute] | None = None, labels: pd.DataFrame | None = None,
             labels_source: str = "", echo: Echo = _quiet) -> TrainingData:
    """Snapshots joined to labels (from the definition, or ``labels`` when the user supplies them)."""
    feature_config = feature_config or FeatureConfig()
    extra = extra or {}
    feats, categorical, monotone, specs = _model_columns(feature_config, extra)
    lo, hi = ledger.date_range()
    notes: list[str] = []
    disputed = (0, 0)
    if labels is None:
        dates = snapshot_dates(ledger, config.split.warmup_months, config.label.horizon_months)
        if not dates:
            raise LabelError(
                f"the ledger runs from {lo.date()} to {hi.date()}: too short for a {config.split.warmup_months}-"
                f"month warm-up plus a {config.label.horizon_months}-month label horizon. Lower "
                "split.warmup_months or label.horizon_months in configs/train.yaml"
            )
        echo(f"snapshots: {len(dates)} labeled month ends {dates[0].date()}..{dates[-1].date()}")
        snaps = build_snapshots(ledger, dates, feature_config)
        lab = label_snapshots(ledger, dates, config.label, feature_config.settled_share)
        merged = snaps.merge(lab, on=KEYS, how="inner", validate="one_to_one")
        counts = merged["status"].value_counts().to_dict()
        frame = merged.loc[merged["status"] == "labeled"].drop(columns=["status"])
        source, definition = "definition", describe_definition(config.label)
        disputed = disputed_left_out(ledger, config.label)
    else:
        frame, counts, notes = _join_user_labels(ledger, labels, feature_config, labels_source)
        source = labels_source or "labels file"
        definition = f"user-supplied labels from {source} (customer_id, as_of, label)"
    frame = frame.reset_index(drop=True)
    frame["label"] = frame["label"].astype("int64")
    data = TrainingData(frame=frame, features=feats, categorical=categorical, monotone=monotone, specs=specs,
                        label_source=source, label_definition=definition,
                        status_counts={str(k): int(v) for k, v in counts.items()},
                        ledger_window=(str(lo.date()), str(hi.date())), notes=notes, disputed_left_out=disputed)
    _check_positives(data, config, ledger)
    return data


def _join_user_labels(ledger: Ledger, labels: pd.DataFrame, feature_config: FeatureConfig,
                      source: str) -> tuple[pd.DataFrame, dict[str, int], list[str]]:
    known = set(ledger.customers["customer_id"].astype("str"))
    unknown = ~labels["customer_id"].isin(known)
    if unknown.any():
        ids = labels.loc[unknown, "customer_id"].head(5).tolist()
        rows = [int(i) + 2 for i in np.flatnonzero(unknown.to_numpy())[:5]]
        raise LabelError(f"{source}: {int(unknown.sum())} row(s) name customers not in the ledger's master, "
                         f"e.g. rows {rows}: {ids}")
    lo = pd.Timestamp(ledger.date_range()[0]).normalize()
    end = ledger_end(ledger)
    bad = (labels["as_of"] < lo) | (labels["as_of"] > end)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise LabelError(f"{source}: row {i + 2}, column as_of: {labels['as_of'].iloc[i].date()} is outside the "
                         f"ledger's dates ({lo.date()} to {end.date()}); features cannot be built there")
    dates = sorted(labels["as_of"].unique())
    snaps = build_snapshots(ledger, dates, feature_config)
    merged = labels.merge(snaps, on=KEYS, how="left", indicator=True, validate="one_to_one")
    not_started = int((merged["_merge"] == "left_only").sum())
    notes = []
    if not_started:
        notes.append(f"{not_started} labeled row(s) dropped: the customer had no relationship yet at that as_of "
                     "(no onboarding date or invoice on or before it)")
    frame = merged.loc[merged["_merge"] == "both"].drop(columns=["_merge"])
    counts = {"labeled": len(frame), "not_started": not_started}
    return frame, counts, notes


def max_days_past_due(ledger: Ledger) -> float:
    """The most days past due any invoice reached in the ledger: from its due date to its last payment or
    credit, or to the ledger's last date while it is still open (NaN without invoices)."""
    inv = ledger.invoices
    if not len(inv):
        return float("nan")
    settle = pd.concat([ledger.payments[["invoice_id", "payment_date"]].rename(columns={"payment_date": "date"}),
                        ledger.adjustments[["invoice_id", "date"]]]).dropna(subset=["invoice_id"])
    last = settle.groupby("invoice_id")["date"].max()
    end = ledger.date_range()[1]
    settled = pd.Series(last.reindex(inv["invoice_id"]).to_numpy(), index=inv.index).fillna(end)
    return float((settled - inv["due_date"]).dt.days.max())


def _check_positives(data: TrainingData, config: TrainConfig, ledger: Ledger | None = None) -> None:
    n_pos, n = int(data.frame["label"].sum()), len(data.frame)
    if n_pos >= config.label.min_positives:
        return
    reached = ""
    if ledger is not None and data.label_source == "definition":
        worst = max_days_past_due(ledger)
        if worst == worst:  # not NaN
            reached = (f" The most days past due any invoice of this ledger reached is {worst:.0f}"
                       + (f", below the threshold of {config.label.dpd_threshold}" if worst < config.label.dpd_threshold
                          else "") + ".")
    excluded = data.left_out_text()
    if data.label_source == "definition":
        lab = config.label
        hint = (f"Change the definition in configs/train.yaml: lower label.dpd_threshold (now {lab.dpd_threshold}), "
                f"lengthen label.horizon_months (now {lab.horizon_months}), keep label.include_write_offs true "
                f"(now {str(lab.include_write_offs).lower()}), lower label.min_amount (now {lab.min_amount:g}); "
                "or supply your own outcomes with --labels FILE")
    else:
        hint = f"Supply more positive labels in {data.label_source}"
    found = "the label definition found" if data.label_source == "definition" else f"{data.label_source} holds"
    raise LabelError(
        f"{found} {n_pos} positive(s) among {n:,} labeled snapshots"
        + (f" (left out: {excluded})" if excluded else "")
        + f"; at least {config.label.min_positives} are needed (label.min_positives).{reached} {hint}."
    )


def _check_split(split: Split, y: np.ndarray, config: TrainConfig, left_out: str = "") -> None:
    need = config.split.min_split_positives
    sc = config.split
    if split.kind == "oot":
        hint = (f"Change split.oot_snapshots (now {sc.oot_snapshots}) or split.valid_share (now "
                f"{sc.valid_share}) in configs/train.yaml, or use a longer ledger")
    else:
        hint = (f"Change split.group_valid_share (now {sc.group_valid_share}) or split.group_test_share (now "
                f"{sc.group_test_share}) in configs/train.yaml, or supply more labels")
    for name, mask in (("train", split.train), ("validation", split.valid), ("test", split.test)):
        pos, n = int(y[mask].sum()), int(mask.sum())
        if pos < need or n - pos < need:
            raise LabelError(
                f"the {name} part of the {split.kind} split holds {pos} positive(s) and {n - pos} negative(s) "
                f"among {n:,} rows; at least {need} of each are needed (split.min_split_positives)."
                + (f" The label definition left out: {left_out}." if left_out else "") + f" {hint}"
            )


# ------------------------------------------------------------------------------------- the training
def lightgbm_params(config: TrainConfig) -> dict[str, Any]:
    return {**config.lightgbm, "num_threads": config.num_threads}


def fit_and_evaluate(data: TrainingData, config: TrainConfig, echo: Echo = _quiet,
                     segmenter: Segmenter | None = None, segment_order: list[str] | None = None,
                     scoring_config: ScoringConfig | None = None) -> TrainResult:
    """Split, train LightGBM + calibrator (+ the calibration by persona of ``config.segment_calibration``,
    with the persona thresholds of ``scoring_config``, on the validation rows only), verify monotonicity,
    fit benchmark and rule, evaluate on test; with a ``segmenter``, also the calibration per segment
    (persona) of the test rows, before and after the calibration by persona."""
    frame, y = data.frame, data.y
    split = oot_split(frame[KEYS], config.split, config.label.horizon_months, config.seed, data.y)
    if split.kind == "grouped":
        echo(f"WARNING: {split.description}")
    else:
        echo(f"split: {split.description}")
    _check_split(split, y, config, data.left_out_text())
    X = frame[data.features]
    Xtr, Xva, Xte = X.loc[split.train], X.loc[split.valid], X.loc[split.test]
    ytr, yva, yte = y[split.train], y[split.valid], y[split.test]

    params = lightgbm_params(config)
    echo(f"training LightGBM on {len(ytr):,} rows ({int(ytr.sum()):,} positives), {len(data.features)} features, "
         f"{len(data.monotone)} monotone constraints")
    model = RiskModel(params, data.monotone, data.categorical, config.calibration, config.seed,
                      config.class_weight).fit(Xtr, ytr, Xva, yva)
    echo(f"best iteration {model.best_iteration_}; calibration: {model.calibration_method_}")
    if config.segment_calibration.enabled and model.calibration_method_ != "none":
        sc = scoring_config or ScoringConfig()
        model.segment_calibrator_ = fit_segment_calibrator(
            Xva, yva, model.calibrator_.predict(model.predict_raw(Xva)), sc.personas, sc.thin_file,
            config.segment_calibration.prior_sd)
        echo("calibration by persona (log-odds shift, validation window): " + ", ".join(
            f"{k} {v:+.2f}" for k, v in model.segment_calibrator_.offsets.items()))
    mc = config.monotone_check
    checked = verify_monotone(model, Xte, data.monotone, grid_points=mc.grid_points, sample_rows=mc.sample_rows,
                              tolerance=mc.tolerance, seed=config.seed, grid_from=Xtr)
    echo(f"monotonicity verified on {checked} constrained features")

    bench = LogisticBenchmark([f for f in data.features if f not in data.categorical], data.categorical,
                              config.benchmark_bins, config.class_weight, config.seed).fit(Xtr, ytr, Xva, yva)
    rule = RuleScore(config.rule_feature).fit(frame.loc[split.train], ytr, frame.loc[split.valid], yva)
    test_rows = frame.loc[split.test]
    p_lgb = model.predict_pd(Xte)
    p_log = bench.predict_pd(Xte)
    r_score = rule.score(test_rows)
    test_metrics = {
        "lightgbm": evaluate(yte, p_lgb),
        "logistic": evaluate(yte, p_log),
        "rule": evaluate(yte, rule.predict_pd(test_rows), rank_score=r_score),
    }
    raw_va, raw_te = model.predict_raw(Xva), model.predict_raw(Xte)
    cal_test = {}
    for name, fitter in FITTERS.items():
        p = fitter(raw_va, yva).predict(raw_te)
        cal_test[name] = {"log_loss": log_loss(yte, p), "brier": brier(yte, p)}
    shap_values, shap_rows, importance = _shap_sample(model, Xte, config.shap_sample, config.seed)
    test_frame = frame.loc[split.test, KEYS].assign(label=yte, pd_lightgbm=p_lgb, pd_logistic=p_log,
                                                     rule_score=r_score).reset_index(drop=True)
    comparisons = {}
    if config.auc_bootstrap:
        for name, col in (("logistic", "pd_logistic"), ("rule", "rule_score")):
            comparisons[name] = paired_auc_difference(
                yte, p_lgb, test_frame[col].to_numpy(), test_frame["customer_id"].to_numpy(),
                n_boot=config.auc_bootstrap, seed=config.seed)
        echo("test AUC gain over the benchmark {:+.4f} (95% CI {:+.4f} to {:+.4f}), over the rule {:+.4f} "
             "(95% CI {:+.4f} to {:+.4f}), customers resampled".format(
                 *(comparisons[k][s] for k in ("logistic", "rule") for s in ("diff", "lo", "hi"))))
    persona_calibration, persona_before = pd.DataFrame(), pd.DataFrame()
    if segmenter is not None:
        groups = np.asarray(segmenter(test_rows.reset_index(drop=True), p_lgb), dtype=object)
        persona_calibration = calibration_by_group(yte, p_lgb, groups, segment_order)
        if model.segment_calibrator_ is not None:  # the model's own calibrator alone, personas from its PD
            p_base = model.calibrator_.predict(raw_te)
            before_groups = np.asarray(segmenter(test_rows.reset_index(drop=True), p_base), dtype=object)
            persona_before = calibration_by_group(yte, p_base, before_groups, segment_order)
        test_frame["persona"] = groups
    return TrainResult(
        model=model, data=data, split=split, split_summary=split.summary(frame[KEYS], y),
        test_metrics=test_metrics, valid_metrics=evaluate(yva, model.predict_pd(Xva)),
        calibration_on_test=cal_test, calibration_table=calibration_table(yte, p_lgb),
        lift_table=lift_table(yte, p_lgb), test_frame=test_frame, monotone_checked=checked, params=params,
        shap_values=shap_values, shap_rows=shap_rows, importance=importance, comparisons=comparisons,
        persona_calibration=persona_calibration, persona_calibration_before=persona_before,
    )


def _shap_sample(model: RiskModel, X: pd.DataFrame, size: int, seed: int) -> tuple[
        np.ndarray, pd.DataFrame, pd.Series]:
    """TreeSHAP contributions (LightGBM ``pred_contrib``) of a seeded sample of rows."""
    idx = np.arange(len(X))
    if len(X) > size:
        idx = np.sort(np.random.default_rng(seed).choice(len(X), size=size, replace=False))
    rows = model.prepare(X.iloc[idx])
    contrib = model.contributions(rows)[:, :-1]
    numeric = pd.DataFrame({c: (rows[c].cat.codes.where(rows[c].notna()).astype("float64")
                                if c in model.categories_ else rows[c]) for c in rows.columns})
    imp = pd.Series(np.abs(contrib).mean(axis=0), index=model.feature_names_).sort_values(ascending=False,
                                                                                         kind="stable")
    return contrib, numeric.reset_index(drop=True), imp


# ------------------------------------------------------------------------------------- the metadata
def training_metadata(result: TrainResult, ledger: Ledger, config: TrainConfig, feature_config: FeatureConfig,
                      extra: dict[str, ExtraAttribute], scoring_config: ScoringConfig) -> ModelMetadata:
    """What scoring and audits need to know about ``result.model``, beyond what its fit set: label
    definition, data window and fingerprint, metrics, configs, master scale and number of reasons (a new
    metadata: ``result.with_metadata(...)`` gives the result whose model carries it)."""
    split = result.split
    return result.model.metadata_.updated(
        model_name=config.model_name,
        label_definition=result.data.label_definition,
        label_source=result.data.label_source,
        label_config=config.label,
        data_window=DataWindow(
            ledger_first=result.data.ledger_window[0], ledger_last=result.data.ledger_window[1],
            train_dates=tuple(str(d.date()) for d in split.train_dates),
            oot_dates=tuple(str(d.date()) for d in split.oot_dates),
            split=split.description,
        ),
        data_fingerprint=ledger.fingerprint(),
        row_counts=ledger.row_counts(),
        metrics=TrainMetrics(test=_finite(result.test_metrics), valid=_finite(result.valid_metrics),
                             calibration_on_test=_finite(result.calibration_on_test),
                             auc_gain_on_test=_finite(result.comparisons)),
        training_config=config,
        feature_config=feature_config,
        extra_attributes=dict(extra),
        master_scale=tuple(scoring_config.master_scale),
        n_reasons=scoring_config.n_reasons,
    )


def _finite(metrics: Any) -> Any:
    """Metrics with every non-finite number as None (the metadata, like JSON, holds no NaN)."""
    if isinstance(metrics, dict):
        return {str(k): _finite(v) for k, v in metrics.items()}
    v = float(metrics)
    return v if np.isfinite(v) else None
