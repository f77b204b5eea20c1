"""The models a backtest scores with: walk-forward models trained at past dates on labels complete by
then, or one given model used only after its training window ended.

A walk-forward model at retrain date ``R`` is trained by :func:`riskml.modeling.train.fit_and_evaluate`
(the pure training step: no MLflow, no files) on the snapshots at month ends whose label window ended by
``R``, labelled from the ledger as it stood at ``R`` (``ledger.until(R)``). Its validation and test dates
are the latest of those month ends; the seed is the training config's, so the same ledger gives the same
models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from riskml.config import BacktestConfig, ExtraAttribute, FeatureConfig, TrainConfig
from riskml.data.ledger import Ledger
from riskml.errors import LabelError, ModelError, RiskmlError
from riskml.modeling.labels import horizon_end, label_snapshots, snapshot_dates
from riskml.modeling.model import RiskModel
from riskml.modeling.results import TrainingData
from riskml.modeling.train import KEYS, _model_columns, fit_and_evaluate


@dataclass
class FittedModel:
    """A model and what the backtest reports about it."""

    model: RiskModel
    trained_at: pd.Timestamp | None  # retrain date (None: a given model)
    knowledge_end: pd.Timestamp  # the last date whose outcomes the model has seen
    train_dates: list[pd.Timestamp] = field(default_factory=list)
    test_auc: float = float("nan")
    rows: int = 0
    positives: int = 0
    source: str = ""

    def describe(self) -> dict[str, Any]:
        return {"trained_at": None if self.trained_at is None else str(self.trained_at.date()),
                "knowledge_end": str(self.knowledge_end.date()), "source": self.source,
                "labeled_dates": len(self.train_dates),
                "first_labeled": str(self.train_dates[0].date()) if self.train_dates else "",
                "last_labeled": str(self.train_dates[-1].date()) if self.train_dates else "",
                "rows": self.rows, "positives": self.positives, "test_auc": self.test_auc}


def walk_forward_config(config: TrainConfig, backtest: BacktestConfig) -> TrainConfig:
    """The training config of a walk-forward fit: the user's, with the backtest's split gap, and no
    bootstrap of the test AUC (the backtest is the out-of-time test)."""
    raw = config.model_dump(mode="json")
    if backtest.train_gap_months is not None:
        raw["split"]["gap_months"] = backtest.train_gap_months
    raw["auc_bootstrap"] = 0
    raw["shap_sample"] = 10
    return TrainConfig.model_validate(raw)


def labeled_dates(ledger: Ledger, at: pd.Timestamp, config: TrainConfig) -> list[pd.Timestamp]:
    """Month ends whose label window ended by ``at`` (after the warm-up)."""
    return snapshot_dates(ledger, config.split.warmup_months, config.label.horizon_months, end=pd.Timestamp(at))


def first_trainable(ledger: Ledger, config: TrainConfig, backtest: BacktestConfig,
                    candidates: list[pd.Timestamp]) -> pd.Timestamp | None:
    """The first of ``candidates`` at which ``min_train_dates`` labeled month ends are complete."""
    for d in candidates:
        if len(labeled_dates(ledger, d, config)) >= backtest.min_train_dates:
            return d
    return None


def train_walk_forward(ledger: Ledger, snapshots: pd.DataFrame, at: pd.Timestamp, config: TrainConfig,
                       backtest: BacktestConfig, feature_config: FeatureConfig,
                       extra: dict[str, ExtraAttribute] | None = None) -> FittedModel:
    """The walk-forward model at retrain date ``at``: nothing dated after ``at`` is read (the labels come
    from ``ledger.until(at)``; ``snapshots`` are point-in-time features at month ends up to ``at``)."""
    at = pd.Timestamp(at)
    cfg = walk_forward_config(config, backtest)
    known = ledger.until(at)
    dates = labeled_dates(known, at, cfg)
    if len(dates) < backtest.min_train_dates:
        raise LabelError(
            f"walk-forward model at {at.date()}: only {len(dates)} month end(s) have a complete "
            f"{cfg.label.horizon_months}-month label window by then (after a {cfg.split.warmup_months}-month "
            f"warm-up); {backtest.min_train_dates} are needed (backtest.min_train_dates). Start later (--from)")
    labels = label_snapshots(known, dates, cfg.label, feature_config.settled_share, end=at)
    snaps = snapshots.loc[snapshots["as_of"].isin(dates)]
    merged = snaps.merge(labels, on=KEYS, how="inner", validate="one_to_one")
    frame = merged.loc[merged["status"] == "labeled"].drop(columns=["status", "event_date", "event_kind"])
    frame = frame.reset_index(drop=True)
    frame["label"] = frame["label"].astype("int64")
    feats, categorical, monotone, specs = _model_columns(feature_config, extra or {})
    data = TrainingData(frame=frame, features=feats, categorical=categorical, monotone=monotone, specs=specs,
                        label_source="definition", label_definition="walk-forward")
    n_pos = int(frame["label"].sum())
    if n_pos < cfg.label.min_positives:
        raise LabelError(f"walk-forward model at {at.date()}: {n_pos} positive(s) among {len(frame):,} labeled "
                         f"snapshots; at least {cfg.label.min_positives} are needed (label.min_positives). "
                         "Start later (--from)")
    try:
        result = fit_and_evaluate(data, cfg)
    except RiskmlError as exc:
        raise type(exc)(f"walk-forward model at {at.date()}: {exc}") from None
    return FittedModel(model=result.model, trained_at=at, knowledge_end=at, train_dates=list(dates),
                       test_auc=float(result.test_metrics["lightgbm"]["auc"]), rows=len(frame),
                       positives=n_pos, source="walk-forward")


def model_knowledge_end(model: RiskModel) -> pd.Timestamp:
    """The last date whose outcomes a trained model has seen: the end of the label window of its latest
    labeled snapshot (``metadata_.data_window`` train and OOT dates, ``metadata_.label_config.horizon_months``),
    else the last date of the ledger it was trained on. Raises :class:`ModelError` when the model records
    neither."""
    meta = model.metadata_
    window = meta.data_window
    dates = [pd.Timestamp(d) for d in [*window.train_dates, *window.oot_dates]] if window is not None else []
    if dates and meta.label_config is not None:
        return horizon_end(max(dates), meta.label_config.horizon_months)
    if window is not None and window.ledger_last:
        return pd.Timestamp(window.ledger_last)
    raise ModelError("the model records no training window (metadata data_window: train and OOT dates, or the "
                     "ledger's last date), so the backtest cannot tell which replay dates it has not seen; "
                     "leave out --model to use walk-forward models")


def given_model(model: RiskModel, uri: str, dates: list[pd.Timestamp]) -> FittedModel:
    """A user's model, refused when a replay date falls within the outcomes it was trained on."""
    end = model_knowledge_end(model)
    early = [d for d in dates if d < end]
    if early:
        raise ModelError(f"--model {uri}: the model was trained on outcomes up to {end.date()}, so replaying "
                         f"{len(early)} date(s) from {early[0].date()} would score with knowledge of the future. "
                         f"Use --from {end.date()} or later, or leave out --model to use walk-forward models")
    return FittedModel(model=model, trained_at=None, knowledge_end=end, source=uri)
