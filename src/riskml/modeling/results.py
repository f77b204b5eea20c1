"""What training produces, as plain data: :class:`TrainingData` (the labeled snapshots and what the model
uses of them), :class:`TrainResult` (one fit and its evaluation, before tracking) and
:class:`TrainOutcome` (a finished ``riskml train``: where it was logged and what the gate decided).

Their own module, below everything that reads them (``train``, ``card``, ``tracking``, ``registry``,
``pipeline``), so that none of those needs another to name its argument types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskml.features.registry import FeatureSpec
from riskml.modeling.gate import Decision
from riskml.modeling.labels import STATUS_WORDS
from riskml.modeling.metadata import ModelMetadata
from riskml.modeling.model import RiskModel
from riskml.modeling.split import Split


@dataclass
class TrainingData:
    """Labeled snapshots (one row per customer and as-of date) and what the model uses of them."""

    frame: pd.DataFrame  # customer_id, as_of, label and every snapshot feature
    features: list[str]
    categorical: list[str]
    monotone: dict[str, int]
    specs: dict[str, FeatureSpec]
    label_source: str  # "definition" or the labels file
    label_definition: str
    status_counts: dict[str, int] = field(default_factory=dict)
    ledger_window: tuple[str, str] = ("", "")
    notes: list[str] = field(default_factory=list)
    disputed_left_out: tuple[int, int] = (0, 0)  # see riskml.modeling.labels.disputed_left_out

    def left_out_text(self) -> str:
        """What the label definition removed, counted and named (empty when nothing)."""
        parts = [f"{v:,} {STATUS_WORDS.get(k, k)}" for k, v in self.status_counts.items()
                 if k != "labeled" and v]
        n_disp, n_nodate = self.disputed_left_out
        if n_disp:
            parts.append(f"{n_disp:,} disputed invoices that never count as delinquent (label.exclude_disputed)"
                         + (f", {n_nodate:,} of them without a dispute_date and so disputed from their invoice date "
                            "(export the dispute_date, or set label.exclude_disputed: false)" if n_nodate else ""))
        return "; ".join(parts)

    @property
    def y(self) -> np.ndarray:
        return self.frame["label"].to_numpy("int64")


@dataclass
class TrainResult:
    """Everything one training run produced (before tracking)."""

    model: RiskModel
    data: TrainingData
    split: Split
    split_summary: pd.DataFrame
    test_metrics: dict[str, dict[str, float]]  # lightgbm / logistic / rule -> metric -> value
    valid_metrics: dict[str, float]
    calibration_on_test: dict[str, dict[str, float]]  # isotonic / platt -> log_loss, brier
    calibration_table: pd.DataFrame
    lift_table: pd.DataFrame
    test_frame: pd.DataFrame  # test rows: keys, label, pd_lightgbm, pd_logistic, rule_score
    monotone_checked: int
    params: dict[str, Any]
    shap_values: np.ndarray  # contributions of a sample of test rows (n, k), log-odds
    shap_rows: pd.DataFrame  # those rows' feature values (categoricals as codes), for the summary plot
    importance: pd.Series  # mean |contribution| per feature on that sample, descending
    # LightGBM minus logistic / rule test AUC with a customer-bootstrap interval (empty if auc_bootstrap = 0)
    comparisons: dict[str, dict[str, float]] = field(default_factory=dict)
    # mean PD vs observed rate per persona on the test window (empty without a segmenter)
    persona_calibration: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the same before the calibration by persona (the model's calibrator alone; personas from that PD);
    # empty without a segmenter or a calibration by persona
    persona_calibration_before: pd.DataFrame = field(default_factory=pd.DataFrame)

    def with_metadata(self, metadata: ModelMetadata) -> TrainResult:
        """This result with its model carrying ``metadata`` (a new model and result; this one is unchanged)."""
        from dataclasses import replace

        return replace(self, model=self.model.with_metadata(metadata))

    def metrics_table(self) -> pd.DataFrame:
        """Test metrics, one row per model."""
        cols = ["auc", "gini", "ks", "pr_auc", "brier", "log_loss", "capture_top10", "lift_top10"]
        return pd.DataFrame(self.test_metrics).T.loc[:, cols]


@dataclass
class TrainOutcome:
    """A finished ``riskml train``: the result, where it was logged and what the gate decided."""

    result: TrainResult
    run_id: str
    model_uri: str
    tracking_uri: str
    decision: Decision
    card: str
    exported: Path | None = None
