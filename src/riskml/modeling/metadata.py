"""``ModelMetadata``: what a fitted :class:`riskml.modeling.model.RiskModel` knows about itself, typed,
validated and frozen.

``RiskModel.fit`` sets the part the fit knows (rows, best iteration); training adds the rest (label
definition, data window and fingerprint, metrics, the configs it was trained with, the master scale and
the number of reasons the served model returns) by making a *new* metadata (:meth:`ModelMetadata.updated`)
and a new model carrying it (``RiskModel.with_metadata``): nothing changes a model's metadata in place.

It is saved as the ``metadata`` object of ``model.json`` and read back by ``RiskModel.load``; every reader
(scoring, the pyfunc, Spark, reports, the backtest) uses its typed attributes. The JSON keys are those
riskml wrote before the metadata was typed, so model directories written then load unchanged; a
``metadata`` object this version cannot read is refused with one line saying to retrain.

Frozen means the attributes cannot be reassigned; the configs inside are riskml's own pydantic sections.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from riskml.config import ExtraAttribute, FeatureConfig, Grade, LabelConfig, ScoringConfig, TrainConfig
from riskml.errors import ModelError

_FROZEN = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
# the number of reasons a model returns when training froze none (the scoring default)
DEFAULT_N_REASONS = ScoringConfig.model_fields["n_reasons"].default


class DataWindow(BaseModel):
    """The data a model was trained on: the ledger's first and last dates, the snapshot dates of the
    training and out-of-time test windows (ISO dates) and the split's description."""

    model_config = _FROZEN

    ledger_first: str = ""
    ledger_last: str = ""
    train_dates: tuple[str, ...] = ()
    oot_dates: tuple[str, ...] = ()
    split: str = ""


class TrainMetrics(BaseModel):
    """Metrics of the training run (a metric that was not finite is ``None``)."""

    model_config = _FROZEN

    # lightgbm / logistic / rule -> metric -> value, on the out-of-time test window
    test: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    valid: dict[str, float | None] = Field(default_factory=dict)
    # isotonic / platt -> log_loss, brier on the test window
    calibration_on_test: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    # logistic / rule -> diff, lo, hi, share_not_better (customer bootstrap of the test AUC difference)
    auc_gain_on_test: dict[str, dict[str, float | None]] = Field(default_factory=dict)


class ModelMetadata(BaseModel):
    """Everything scoring and audits need to know about a fitted model besides its trees."""

    model_config = _FROZEN

    # set by RiskModel.fit
    n_train: int = Field(ge=0)
    n_valid: int = Field(ge=0)
    best_iteration: int = Field(ge=0)
    # set by training (riskml.modeling.train.training_metadata)
    model_name: str = ""
    label_definition: str = ""
    label_source: str = ""
    label_config: LabelConfig | None = None
    data_window: DataWindow | None = None
    data_fingerprint: str = ""
    row_counts: dict[str, int] = Field(default_factory=dict)
    metrics: TrainMetrics | None = None
    training_config: TrainConfig | None = None
    # the feature settings and user attributes the features were built with: scoring builds them the same way
    feature_config: FeatureConfig | None = None
    extra_attributes: dict[str, ExtraAttribute] = Field(default_factory=dict)
    # frozen from the scoring config at training: the served (MLflow pyfunc) model grades and words with them
    master_scale: tuple[Grade, ...] | None = None
    n_reasons: int = Field(default=DEFAULT_N_REASONS, ge=1, le=10)
    # set when the model is exported after registration
    model_version: str | None = None
    run_id: str | None = None

    def updated(self, **changes: Any) -> ModelMetadata:
        """A new metadata with ``changes`` applied, validated like a loaded one (this one is unchanged)."""
        unknown = sorted(set(changes) - set(type(self).model_fields))
        if unknown:
            raise ModelError(f"model metadata has no field(s) {unknown}")
        new = type(self).model_validate({**self.model_dump(mode="python"), **changes})
        return new.model_copy(deep=True)  # a snapshot: later changes to the configs passed in do not reach it

    def grades(self) -> list[Grade]:
        """The master scale frozen at training, else the scoring default."""
        return list(self.master_scale) if self.master_scale else list(ScoringConfig().master_scale)

    def to_json(self) -> dict[str, Any]:
        """The ``metadata`` object of ``model.json``."""
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: object, where: str = "model.json") -> ModelMetadata:
        """Read the ``metadata`` object of ``model.json``; a :class:`ModelError` of one line when this
        riskml cannot read it."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err.get("loc", ())) or "metadata"
            raise ModelError(f"{where}: metadata.{loc}: {err.get('msg', 'invalid')} ({exc.error_count()} problem(s)); "
                             "this model was written by another riskml version: retrain it with this one") from None
