"""Configuration: one YAML file per pipeline stage under ``configs/``, validated with pydantic.

Every setting has a default here, so riskml runs with no config file at all; the YAML files in
``configs/`` document those defaults and are what a user edits (a test keeps the two in step).
A wrong value fails with a message that says what was expected and what was given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from riskml.errors import ConfigError

CONFIG_DIR = Path("configs")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# --------------------------------------------------------------------------------------------- data
class ExtraAttribute(_Section):
    """A user-declared customer-master column passed to the model as a feature."""

    kind: Literal["numeric", "categorical"] = "numeric"
    monotone: Literal[-1, 0, 1] = 0
    description: str = ""
    reason: str = ""


class DataConfig(_Section):
    """How to read and validate a ledger directory (``configs/data.yaml``)."""

    # table -> {our column name: the column name in the user's file}
    column_map: dict[str, dict[str, str]] = Field(default_factory=dict)
    # strftime format for dates, per table or "*" for all; None = ISO 8601 (YYYY-MM-DD)
    date_format: dict[str, str] = Field(default_factory=dict)
    # the data's own as-of (export date): event dates after it are rejected; None = not checked
    as_of: str | None = None
    base_currency: str | None = None
    fx_rates: dict[str, float] = Field(default_factory=dict)
    # applied payments may exceed the invoice amount by this much before a payment is rejected
    overpayment_tolerance_pct: float = Field(default=0.01, ge=0)
    overpayment_tolerance_abs: float = Field(default=1.0, ge=0)
    # extra customer-master columns used as features, keyed by column name
    extra_attributes: dict[str, ExtraAttribute] = Field(default_factory=dict)

    @field_validator("column_map")
    @classmethod
    def _known_tables(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        from riskml.data.contract import TABLES

        unknown = sorted(set(v) - set(TABLES))
        if unknown:
            raise ValueError(f"column_map tables must be among {sorted(TABLES)}; got {unknown}")
        return v


# ----------------------------------------------------------------------------------------- features
class FeatureConfig(_Section):
    """Feature-building settings (``configs/features.yaml``)."""

    windows_months: list[int] = Field(default_factory=lambda: [3, 6, 12])
    trend_windows_months: list[int] = Field(default_factory=lambda: [6, 12])
    # a payment this many days or fewer after the due date is not "late"
    late_grace_days: int = Field(default=0, ge=0)
    # an invoice counts as settled when payments and credits reach this share of its amount
    settled_share: float = Field(default=0.99, gt=0, le=1)
    # features left out of the model, by name
    exclude: list[str] = Field(default_factory=list)


# ------------------------------------------------------------------------------------------ training
class LabelConfig(_Section):
    horizon_months: int = Field(default=12, ge=1)
    dpd_threshold: int = Field(default=90, ge=1)
    include_write_offs: bool = True
    # ignore tiny items when checking the DPD threshold (amount open at the threshold date)
    min_amount: float = Field(default=0.0, ge=0)
    min_positives: int = Field(default=30, ge=1)


class SplitConfig(_Section):
    # snapshot dates: month ends; the first ``warmup_months`` of history give no snapshot
    warmup_months: int = Field(default=6, ge=0)
    test_snapshots: int = Field(default=3, ge=1)
    valid_snapshots: int = Field(default=3, ge=1)
    # gap between the train and validation windows and between validation and test (months)
    # None = the label horizon, so that no label window overlaps
    gap_months: int | None = None
    group_valid_share: float = Field(default=0.2, gt=0, lt=1)
    group_test_share: float = Field(default=0.2, gt=0, lt=1)


class PromotionConfig(_Section):
    min_auc: float = Field(default=0.70, ge=0, le=1)
    max_brier: float = Field(default=0.25, ge=0, le=1)
    # the new model may trail the champion's AUC on the same test window by at most this much
    auc_tolerance: float = Field(default=0.0, ge=0)


class TrainConfig(_Section):
    """Label definition, split, model and promotion gate (``configs/train.yaml``)."""

    seed: int = 42
    label: LabelConfig = Field(default_factory=LabelConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    lightgbm: dict[str, Any] = Field(
        default_factory=lambda: {
            "objective": "binary",
            "learning_rate": 0.05,
            "num_leaves": 15,
            "max_depth": 5,
            "min_child_samples": 50,
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "n_estimators": 600,
            "early_stopping_rounds": 50,
            "monotone_constraints_method": "advanced",
        }
    )
    # "balanced" weights positives by n_neg/n_pos; "none" leaves the classes as they are
    class_weight: Literal["balanced", "none"] = "none"
    calibration: Literal["auto", "isotonic", "platt", "none"] = "auto"
    benchmark_bins: int = Field(default=10, ge=2)
    model_name: str = "riskml-delinquency"
    experiment: str = "riskml"
    promotion: PromotionConfig = Field(default_factory=PromotionConfig)


# ------------------------------------------------------------------------------------------- scoring
class Grade(_Section):
    grade: str
    max_pd: float = Field(gt=0, le=1)


def _default_scale() -> list[Grade]:
    bounds = [0.002, 0.005, 0.01, 0.02, 0.035, 0.06, 0.10, 0.18, 0.30, 1.0]
    return [Grade(grade=str(i + 1), max_pd=b) for i, b in enumerate(bounds)]


class LimitPolicy(_Section):
    grace_days: int = Field(default=15, ge=0)
    trailing_months: int = Field(default=6, ge=1)
    # multiplier of the need by grade (missing grades use 1.0)
    grade_multiplier: dict[str, float] = Field(
        default_factory=lambda: {
            "1": 1.5, "2": 1.4, "3": 1.3, "4": 1.2, "5": 1.1, "6": 1.0, "7": 0.8, "8": 0.6, "9": 0.4, "10": 0.0
        }
    )
    lgd: float = Field(default=0.6, gt=0, le=1)
    gross_margin: float = Field(default=0.20, gt=0, le=1)
    # grades at or beyond this one lose open terms
    revoke_grade: str = "10"
    # habitual debtors: share of paid invoices late over 12 months and average DBT
    habitual_late_share: float = Field(default=0.8, ge=0, le=1)
    habitual_dbt_days: float = Field(default=45.0, ge=0)
    round_to: float = Field(default=1000.0, gt=0)
    # changes below this share of the current limit are not worth a review (hysteresis)
    min_change_pct: float = Field(default=0.10, ge=0)
    min_limit_for_thin_file: float = Field(default=0.0, ge=0)


class ActionPolicy(_Section):
    hold_past_due_days: int = Field(default=30, ge=0)
    hold_over_limit_pct: float = Field(default=0.0, ge=0)
    review_months: int = Field(default=24, ge=1)
    review_grade_notches: int = Field(default=2, ge=1)
    review_dbt_jump_days: float = Field(default=15.0, ge=0)


class PersonaPolicy(_Section):
    prompt_max_dbt: float = 5.0
    stretch_min_dbt: float = 10.0
    stretch_max_pd: float = 0.05
    deteriorating_min_trend: float = 2.0  # DBT days per month
    distressed_min_pd: float = 0.18
    disputing_min_share: float = 0.15
    thin_file_max_invoices: int = 5
    thin_file_max_tenure_months: int = 6


class ScoringConfig(_Section):
    """Master scale, limit policy, actions and personas (``configs/scoring.yaml``)."""

    master_scale: list[Grade] = Field(default_factory=_default_scale)
    limits: LimitPolicy = Field(default_factory=LimitPolicy)
    actions: ActionPolicy = Field(default_factory=ActionPolicy)
    personas: PersonaPolicy = Field(default_factory=PersonaPolicy)
    n_reasons: int = Field(default=3, ge=1, le=10)

    @model_validator(mode="after")
    def _scale_increasing(self) -> ScoringConfig:
        bounds = [g.max_pd for g in self.master_scale]
        if not bounds or any(b2 <= b1 for b1, b2 in zip(bounds, bounds[1:], strict=False)) or bounds[-1] != 1.0:
            raise ValueError(
                "master_scale max_pd must be strictly increasing and end at 1.0; got " + str(bounds)
            )
        return self


SECTIONS: dict[str, type[_Section]] = {
    "data": DataConfig,
    "features": FeatureConfig,
    "train": TrainConfig,
    "scoring": ScoringConfig,
}


def load_config(section: str, path: str | Path | None = None) -> Any:
    """Load one stage's config: ``path`` if given, else ``configs/<section>.yaml`` when present,
    else the defaults. Raises :class:`ConfigError` with the file and the offending key."""
    model = SECTIONS.get(section)
    if model is None:
        raise ConfigError(f"config section must be one of {sorted(SECTIONS)}; got {section!r}")
    if path is None:
        candidate = CONFIG_DIR / f"{section}.yaml"
        if not candidate.exists():
            return model()
        path = candidate
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings; got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            given = err.get("input")
            lines.append(f"{path}: {loc}: {err['msg']} (got {given!r})")
        raise ConfigError("\n".join(lines)) from None


def dump_defaults(section: str) -> str:
    """The YAML text of a section's defaults (used to write and check ``configs/``)."""
    return yaml.safe_dump(SECTIONS[section]().model_dump(mode="json"), sort_keys=False)
