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


class FlatFile(_Section):
    """One file holding several tables of the ledger (the usual AR export: one row per invoice with its
    customer, paid date and paid amount). ``column_map`` says which of its columns feed each table."""

    # the file, relative to the data directory (.csv or .parquet)
    file: str = Field(min_length=1)
    # the tables read from it: customers (one row per distinct customer id, the first seen), invoices
    # (every row) and payments (the rows with a payment date; an empty one is an unpaid invoice)
    tables: list[Literal["customers", "invoices", "payments", "adjustments", "orders"]] = Field(
        default_factory=lambda: ["customers", "invoices", "payments"], min_length=1)


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
    # text encoding of the CSV files, e.g. cp1252 for many Windows ERP exports (a UTF-8 BOM is accepted)
    encoding: str = "utf-8"
    # CSV field separator, e.g. ";" for many European ERP exports
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    # one flat file instead of one file per table (see FlatFile); None = one file per table
    flat_file: FlatFile | None = None
    # per table, a column given one value on every row, e.g. {customers: {payment_terms_days: 30}} (null: empty)
    constants: dict[str, dict[str, str | int | float | bool | None]] = Field(default_factory=dict)
    # per table, the value of a column where the file leaves it empty (or has no such column)
    defaults: dict[str, dict[str, str | int | float | bool | None]] = Field(default_factory=dict)

    @field_validator("as_of", mode="before")
    @classmethod
    def _date_as_text(cls, v: object) -> object:
        import datetime as dt

        # YAML reads an unquoted 2026-09-30 as a date: keep it as its ISO text
        return v.isoformat() if isinstance(v, dt.date) else v

    @field_validator("constants", "defaults")
    @classmethod
    def _known_value_tables(cls, v: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
        from riskml.data.contract import TABLES

        unknown = sorted(set(v) - set(TABLES))
        if unknown:
            raise ValueError(f"tables must be among {sorted(TABLES)}; got {unknown}")
        return v

    @field_validator("column_map")
    @classmethod
    def _known_tables(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        from riskml.data.contract import TABLES

        unknown = sorted(set(v) - set(TABLES))
        if unknown:
            raise ValueError(f"column_map tables must be among {sorted(TABLES)}; got {unknown}")
        return v

    @field_validator("fx_rates")
    @classmethod
    def _positive_rates(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: r for k, r in v.items() if not r > 0 or r == float("inf")}
        if bad:
            raise ValueError(f"fx_rates must be positive finite units of base currency per unit; got {bad}")
        return v

    @field_validator("date_format")
    @classmethod
    def _date_format_keys(cls, v: dict[str, str]) -> dict[str, str]:
        from riskml.data.contract import TABLES

        unknown = sorted(set(v) - set(TABLES) - {"*"})
        if unknown:
            raise ValueError(f"date_format keys must be table names {sorted(TABLES)} or '*'; got {unknown}")
        bad = {k: f for k, f in v.items() if "%" not in f}
        if bad:
            raise ValueError(f"date_format values must be strftime formats such as '%d.%m.%Y'; got {bad}")
        return v

    @model_validator(mode="after")
    def _known_columns(self) -> DataConfig:
        from riskml.data.contract import TABLES

        for field_name, values in (("constants", self.constants), ("defaults", self.defaults)):
            for table, cols in values.items():
                known = TABLES[table].column_names + (list(self.extra_attributes) if table == "customers" else [])
                bad = sorted(set(cols) - set(known))
                if bad:
                    raise ValueError(f"{field_name}.{table} keys must be riskml column names {known}; got {bad}")
        for table, mapping in self.column_map.items():
            known = TABLES[table].column_names + (list(self.extra_attributes) if table == "customers" else [])
            ours = sorted(set(mapping) - set(known))
            if ours:
                raise ValueError(
                    f"column_map.{table} keys must be riskml column names {known} "
                    f"(map ours -> yours); got {ours}"
                )
        return self

    @field_validator("extra_attributes")
    @classmethod
    def _extras_not_contract_ids(cls, v: dict[str, ExtraAttribute]) -> dict[str, ExtraAttribute]:
        from riskml.data.contract import CUSTOMERS

        types = {c.name: c.type for c in CUSTOMERS.columns}
        for name, attr in v.items():
            ctype = types.get(name)
            if ctype is None:
                continue
            if ctype in ("id", "date", "bool") or (attr.kind == "numeric" and ctype == "string"):
                raise ValueError(
                    f"extra attribute {name!r} is the contract column of type {ctype}; "
                    "declare numeric attributes on number columns and categorical ones on text columns"
                )
        return v

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        import codecs

        try:
            codecs.lookup(v)
        except LookupError:
            raise ValueError(f"encoding must be a Python codec name such as utf-8 or cp1252; got {v!r}") from None
        return v


# ----------------------------------------------------------------------------------------- features
class FeatureConfig(_Section):
    """Feature-building settings (``configs/features.yaml``)."""

    # a payment this many days or fewer after the due date is not "late"
    late_grace_days: int = Field(default=0, ge=0)
    # an invoice counts as settled when payments and credits reach this share of its amount
    settled_share: float = Field(default=0.99, gt=0, le=1)
    # features left out of the model, by name
    exclude: list[str] = Field(default_factory=list)


# ------------------------------------------------------------------------------------------ training
class LabelConfig(_Section):
    """The delinquency definition (see ``riskml.modeling.labels`` and ``docs/model.md``)."""

    # outcome window after the as-of date, in months
    horizon_months: int = Field(default=12, ge=1)
    # an invoice still open at the end of day due_date + dpd_threshold is a delinquency event
    dpd_threshold: int = Field(default=90, ge=1)
    # a write-off within the window is a delinquency event too
    include_write_offs: bool = True
    # an invoice under dispute by the day it would reach the threshold is a paperwork problem, not a credit
    # event: it does not count (its write-off still does)
    exclude_disputed: bool = True
    # ignore tiny items: an invoice counts only while more than this is open; write-offs above it only
    min_amount: float = Field(default=0.0, ge=0)
    # accounts with no invoice in this many months and nothing open are outside the population (0 = keep)
    dormant_months: int = Field(default=12, ge=0)
    # training stops with a clear message when the definition yields fewer positives than this
    min_positives: int = Field(default=30, ge=1)


class SplitConfig(_Section):
    """Out-of-time split of the labeled snapshots (see ``riskml.modeling.split``)."""

    # snapshot dates are month ends; the first ``warmup_months`` of history give no snapshot
    warmup_months: int = Field(default=6, ge=0)
    # the latest ``oot_snapshots`` labeled month ends form the out-of-time (OOT) window
    oot_snapshots: int = Field(default=3, ge=1)
    # share of the OOT window's customers used for validation (early stopping, calibration); the rest is
    # the test set. Assignment is by a hash of customer_id, so a customer is in one of the two only
    valid_share: float = Field(default=0.5, gt=0, lt=1)
    # months between the last training date and the first OOT date; None = the label horizon, so that
    # no training label window overlaps the OOT label windows
    gap_months: int | None = Field(default=None, ge=0)
    # keep only the latest N eligible training dates; None = all
    max_train_snapshots: int | None = Field(default=None, ge=1)
    # fallback for a single as-of date (user labels): customers split into train / valid / test
    group_valid_share: float = Field(default=0.2, gt=0, lt=1)
    group_test_share: float = Field(default=0.2, gt=0, lt=1)
    # each of train, validation and test needs at least this many positives
    min_split_positives: int = Field(default=10, ge=1)


class PromotionConfig(_Section):
    """The gate a new model version passes to get the ``champion`` alias."""

    min_auc: float = Field(default=0.70, ge=0, le=1)
    max_brier: float = Field(default=0.25, ge=0, le=1)
    # the new model may trail the champion's AUC on the same test window by at most this much
    auc_tolerance: float = Field(default=0.0, ge=0)


class MonotoneCheckConfig(_Section):
    """Post-training verification that constrained features never move the score the wrong way."""

    grid_points: int = Field(default=20, ge=2)
    sample_rows: int = Field(default=300, ge=1)
    # raw-score (log-odds) moves smaller than this are numerical noise
    tolerance: float = Field(default=1e-9, ge=0)


# LightGBM parameters of the delinquency model; a ``lightgbm`` section in configs/train.yaml overrides them
# key by key (keys it does not name keep these values)
LIGHTGBM_DEFAULTS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "max_depth": 5,
    "min_child_samples": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    # randomised split thresholds: a regulariser that helps on a few thousand customers (docs/model.md)
    "extra_trees": True,
    "n_estimators": 600,
    "early_stopping_rounds": 50,
    # "basic" held the constraints in every trial; "intermediate" once broke one with extra_trees, and
    # "advanced" is reported to (LightGBM issues #5358, #6155): docs/model.md
    "monotone_constraints_method": "basic",
}
# LightGBM parameters riskml sets itself, with where their value comes from
LIGHTGBM_RESERVED: dict[str, str] = {
    **dict.fromkeys(("monotone_constraints", "monotone_constraint", "mc"),
                    "the feature registry's monotone directions"),
    **dict.fromkeys(("categorical_feature", "cat_feature", "categorical_column", "cat_column"),
                    "the feature registry's categorical features"),
    **dict.fromkeys(("seed", "random_seed", "random_state"), "the top-level seed"),
    **dict.fromkeys(("num_threads", "num_thread", "nthread", "nthreads", "n_jobs"), "the top-level num_threads"),
    "deterministic": "riskml (always true)",
    "verbosity": "riskml (always quiet)",
}


class TrainConfig(_Section):
    """Label definition, split, model and promotion gate (``configs/train.yaml``)."""

    seed: int = 42
    # LightGBM threads, fixed (1 is fastest for ledgers of a few thousand customers; raise it for large ones)
    num_threads: int = Field(default=1, ge=1)
    label: LabelConfig = Field(default_factory=LabelConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    lightgbm: dict[str, Any] = Field(default_factory=lambda: dict(LIGHTGBM_DEFAULTS))
    # "balanced" weights positives by n_neg/n_pos; "none" leaves the classes as they are
    class_weight: Literal["balanced", "none"] = "none"
    calibration: Literal["auto", "isotonic", "platt", "none"] = "auto"
    # quantile bins per feature of the logistic benchmark
    benchmark_bins: int = Field(default=10, ge=2)
    # the plain rule reported beside the model: this feature is the score (higher = riskier)
    rule_feature: str = "dbt_avg_6m"
    # bootstrap replicates (resampling customers) of the AUC differences model - benchmark and model - rule
    # on the test window; 0 = not computed
    auc_bootstrap: int = Field(default=500, ge=0)
    monotone_check: MonotoneCheckConfig = Field(default_factory=MonotoneCheckConfig)
    # rows of the test set used for the SHAP summary plot
    shap_sample: int = Field(default=1000, ge=10)
    model_name: str = "riskml-delinquency"
    experiment: str = "riskml"
    promotion: PromotionConfig = Field(default_factory=PromotionConfig)

    @field_validator("lightgbm", mode="before")
    @classmethod
    def _lightgbm_over_defaults(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        reserved = {k: LIGHTGBM_RESERVED[k] for k in v if k in LIGHTGBM_RESERVED}
        if reserved:
            raise ValueError("lightgbm must not set " + "; ".join(
                f"{k} (riskml takes it from {src})" for k, src in reserved.items()))
        return {**LIGHTGBM_DEFAULTS, **v}


# ------------------------------------------------------------------------------------------- scoring
class Grade(_Section):
    """One grade of the PD master scale: PDs up to ``max_pd`` (and above the previous grade's) get it."""

    grade: str = Field(min_length=1)
    max_pd: float = Field(gt=0, le=1)


def _default_scale() -> list[Grade]:
    bounds = [0.002, 0.005, 0.01, 0.02, 0.035, 0.06, 0.10, 0.18, 0.30, 1.0]
    return [Grade(grade=str(i + 1), max_pd=b) for i, b in enumerate(bounds)]


class ThinFileRule(_Section):
    """Who has too little history to be judged on it (persona ``thin_file`` and the starter limit):
    no payment received yet, at most ``max_invoices`` invoices on record, or a relationship of at most
    ``max_tenure_months``."""

    max_invoices: int = Field(default=5, ge=0)
    max_tenure_months: float = Field(default=6.0, ge=0)


class LimitPolicy(_Section):
    """Suggested credit limit: need x grade multiplier, capped where expected loss exceeds expected margin."""

    grace_days: int = Field(default=15, ge=0)
    # monthly sales the need is sized on: the 3-month average, the 12-month average, or the higher of both
    sales_basis: Literal["3m", "12m", "max"] = "max"
    # multiplier of the need by grade (grades not listed use 1.0)
    grade_multiplier: dict[str, float] = Field(
        default_factory=lambda: {
            "1": 1.5, "2": 1.4, "3": 1.3, "4": 1.2, "5": 1.1, "6": 1.0, "7": 0.8, "8": 0.6, "9": 0.4, "10": 0.0
        }
    )
    # loss given default: share of the exposure lost when the customer defaults
    lgd: float = Field(default=0.6, gt=0, le=1)
    # margin earned on each unit of sales (contribution margin)
    gross_margin: float = Field(default=0.20, gt=0, le=1)
    # months of sales whose margin the limit's expected loss is weighed against (the PD horizon)
    margin_horizon_months: float = Field(default=12.0, gt=0)
    # grades at or beyond this one lose open terms (cash in advance)
    revoke_grade: str = "10"
    # habitual debtors (revoke): share of paid invoices late over 12 months and average DBT over 12 months,
    # both reached, on at least habitual_min_invoices invoices settled in the last 12 months
    habitual_late_share: float = Field(default=0.8, ge=0, le=1)
    habitual_dbt_days: float = Field(default=45.0, ge=0)
    habitual_min_invoices: int = Field(default=6, ge=1)
    round_to: float = Field(default=1000.0, gt=0)
    # changes below this share of the current limit are not worth a review (hysteresis)
    min_change_pct: float = Field(default=0.10, ge=0)
    # thin-file customers: at least the starter limit, never more than the thin-file maximum
    thin_file_starter_limit: float = Field(default=5000.0, ge=0)
    thin_file_max_limit: float = Field(default=25000.0, ge=0)
    # let the sizing cut an existing thin-file limit (default: a limit a person set is not cut on a few months
    # of history; thin files are still increased, set or revoked)
    thin_file_cut_existing: bool = False

    @model_validator(mode="after")
    def _thin_file_bounds(self) -> LimitPolicy:
        if self.thin_file_max_limit < self.thin_file_starter_limit:
            raise ValueError(
                "thin_file_max_limit must be >= thin_file_starter_limit; got "
                f"{self.thin_file_max_limit} < {self.thin_file_starter_limit}"
            )
        bad = {g: m for g, m in self.grade_multiplier.items() if not m >= 0}
        if bad:
            raise ValueError(f"grade_multiplier values must be >= 0; got {bad}")
        return self


# review reason -> priority (1 urgent, 2 soon, 3 routine); docs/scoring.md explains each reason
_DEFAULT_REVIEW_PRIORITY: dict[str, int] = {
    "not_scored": 1, "grade_down": 1, "dbt_jump": 1, "revoke": 1, "limit_pending": 1, "no_limit_exposed": 1,
    "grade_up": 2, "no_limit": 2, "over_utilised": 3, "stale_limit": 3,
}


class ActionPolicy(_Section):
    """Order hold and review-due rules, and how urgent each review reason is."""

    # hold orders when the oldest open invoice is more than this many days past due
    hold_past_due_days: int = Field(default=30, ge=0)
    # hold orders when exposure (open receivables + open orders) exceeds the current limit by more than this share
    hold_over_limit_pct: float = Field(default=0.10, ge=0)
    # exposure over the current limit but within a suggested increase is not held: the review is urgent instead
    # ("approve the increase to release the orders")
    release_within_suggested: bool = True
    # review due when the limit was not reviewed for this many months
    review_months: int = Field(default=24, ge=1)
    # review due when the grade moved this many notches (either way) since the previous score
    review_grade_notches: int = Field(default=2, ge=1)
    # review due when the 3-month DBT rose this many days over the previous score's, or over the 12-month DBT
    review_dbt_jump_days: float = Field(default=15.0, ge=0)
    # review due when the 12-month high-water mark of open receivables exceeded this share of the limit
    review_utilisation: float = Field(default=1.0, gt=0)
    # priority of each review reason: 1 urgent, 2 soon, 3 routine; a customer's review_priority is the most
    # urgent of its reasons (riskml.scoring.actions.REVIEW_CODES lists the reasons)
    review_priority: dict[str, int] = Field(default_factory=lambda: dict(_DEFAULT_REVIEW_PRIORITY))

    @field_validator("review_priority")
    @classmethod
    def _known_review_codes(cls, v: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(v) - set(_DEFAULT_REVIEW_PRIORITY))
        if unknown:
            raise ValueError(f"review_priority keys must be among {list(_DEFAULT_REVIEW_PRIORITY)}; got {unknown}")
        bad = {k: p for k, p in v.items() if p not in (1, 2, 3)}
        if bad:
            raise ValueError(f"review_priority values must be 1 (urgent), 2 (soon) or 3 (routine); got {bad}")
        return {**_DEFAULT_REVIEW_PRIORITY, **v}


class PersonaPolicy(_Section):
    """Persona thresholds for collectors (first matching rule wins, see docs/scoring.md)."""

    prompt_max_dbt: float = Field(default=5.0, ge=0)
    stretch_min_dbt: float = Field(default=10.0, ge=0)
    stretch_max_pd: float = Field(default=0.05, gt=0, le=1)
    deteriorating_min_trend: float = Field(default=2.0, gt=0)  # DBT days per month over 6 months
    distressed_min_pd: float = Field(default=0.18, gt=0, le=1)
    # or this many days past due on the oldest open invoice
    distressed_min_dpd: float = Field(default=90.0, gt=0)
    disputing_min_share: float = Field(default=0.15, gt=0, le=1)


class ApprovalLevel(_Section):
    """One approval level (an authority): the largest limit it may grant, the largest change it may make in
    one decision, the worst grade it may increase, and whether it may revoke terms or release a hard hold."""

    name: str = Field(min_length=1)
    max_limit: float = Field(ge=0)
    max_change: float = Field(ge=0)
    # increases for grades worse than this need a higher level (None: any grade)
    worst_grade_for_increase: str | None = None
    may_revoke: bool = False
    may_release_hard_hold: bool = False


def _default_approval_levels() -> list[ApprovalLevel]:
    inf = float("inf")
    return [
        ApprovalLevel(name="analyst", max_limit=50_000, max_change=25_000, worst_grade_for_increase="6"),
        ApprovalLevel(name="credit_manager", max_limit=500_000, max_change=250_000, worst_grade_for_increase="8",
                      may_revoke=True, may_release_hard_hold=True),
        ApprovalLevel(name="finance_director", max_limit=inf, max_change=inf, may_revoke=True,
                      may_release_hard_hold=True),
    ]


class ApprovalPolicy(_Section):
    """Who approves what (``riskml.scoring.approvals``): levels from the lowest authority to the highest;
    a decision needs the first level whose bounds admit it (the last level admits everything)."""

    levels: list[ApprovalLevel] = Field(default_factory=_default_approval_levels, min_length=1)

    @model_validator(mode="after")
    def _levels_ordered(self) -> ApprovalPolicy:
        names = [lv.name for lv in self.levels]
        if len(set(names)) != len(names):
            raise ValueError(f"approvals.levels names must be unique; got {names}")
        last = self.levels[-1]
        if not (last.max_limit == float("inf") and last.max_change == float("inf") and last.may_revoke
                and last.may_release_hard_hold and last.worst_grade_for_increase is None):
            raise ValueError("approvals.levels: the last (highest) level must admit every decision: max_limit and "
                             "max_change .inf, may_revoke and may_release_hard_hold true, no worst_grade_for_increase")
        return self


class ScoringConfig(_Section):
    """Master scale, limit policy, actions and personas (``configs/scoring.yaml``)."""

    master_scale: list[Grade] = Field(default_factory=_default_scale)
    thin_file: ThinFileRule = Field(default_factory=ThinFileRule)
    limits: LimitPolicy = Field(default_factory=LimitPolicy)
    actions: ActionPolicy = Field(default_factory=ActionPolicy)
    personas: PersonaPolicy = Field(default_factory=PersonaPolicy)
    approvals: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    n_reasons: int = Field(default=3, ge=1, le=10)
    # at most this many customers are scored per block (bounds memory; the progress bar advances per block)
    chunk_size: int = Field(default=100_000, ge=1)
    # blocks scored at a time, in threads (LightGBM releases the GIL while it walks the trees); 0 = one per
    # core (at most 8). Results never depend on it
    num_threads: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _scale_increasing(self) -> ScoringConfig:
        bounds = [g.max_pd for g in self.master_scale]
        if not bounds or any(b2 <= b1 for b1, b2 in zip(bounds, bounds[1:], strict=False)) or bounds[-1] != 1.0:
            raise ValueError(
                "master_scale max_pd must be strictly increasing and end at 1.0; got " + str(bounds)
            )
        names = [g.grade for g in self.master_scale]
        if len(set(names)) != len(names):
            raise ValueError(f"master_scale grade names must be unique; got {names}")
        if self.limits.revoke_grade not in names:
            raise ValueError(f"limits.revoke_grade must be a grade of master_scale {names}; got {self.limits.revoke_grade!r}")
        unknown = sorted(set(self.limits.grade_multiplier) - set(names))
        if unknown:
            raise ValueError(f"limits.grade_multiplier keys must be grades of master_scale {names}; got {unknown}")
        bad = [lv.worst_grade_for_increase for lv in self.approvals.levels
               if lv.worst_grade_for_increase is not None and lv.worst_grade_for_increase not in names]
        if bad:
            raise ValueError(f"approvals.levels worst_grade_for_increase must be grades of master_scale {names}; got {bad}")
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
