"""Configuration: one YAML file per pipeline stage, validated with pydantic.

Every setting has a default here. riskml ships its tuned defaults as YAML inside the package
(``riskml/configs/<stage>.yaml``, the repository's ``configs/`` directory), so an installed riskml run
from any directory finds them. The settings of a stage are layered, later over earlier:

1. the pydantic defaults in this module;
2. the shipped ``riskml/configs/<stage>.yaml``;
3. ``configs/<stage>.yaml`` in the working directory, or the file given with ``--config`` (which wins).

A file may hold only the settings it changes: nested sections (``limits:``, ``split:``, ...) are merged
key by key, any other value (a number, a list, a mapping of names such as a column mapping) replaces the
one below it. A wrong value fails with a message that says what was expected and what was given.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from riskml.errors import ConfigError

# a configs/ directory in the working directory overrides the shipped defaults
CONFIG_DIR = Path("configs")
# the defaults shipped inside the package (package data; in a checkout, a link to the repository's configs/)
PACKAGE_CONFIG_DIR = Path(__file__).parent / "configs"


class _Section(BaseModel):
    # infinite or NaN numbers make no sense in a setting (a tolerance of .inf accepts every overpayment);
    # a section where "no bound" is meaningful allows them itself
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


# --------------------------------------------------------------------------------------------- data
class ExtraAttribute(_Section):
    """A user-declared customer-master column passed to the model as a feature."""

    kind: Literal["numeric", "categorical"] = "numeric"
    monotone: Literal[-1, 0, 1] = 0
    description: str = ""
    reason: str = ""


FlatTable = Literal["customers", "invoices", "payments", "adjustments", "orders"]
FLAT_DEFAULT_TABLES: tuple[FlatTable, ...] = ("customers", "invoices", "payments")


class FlatFile(_Section):
    """One file holding several tables of the ledger (the usual AR export: one row per invoice with its
    customer, paid date and paid amount). ``column_map`` says which of its columns feed each table."""

    # the file, relative to the data directory (.csv or .parquet)
    file: str = Field(min_length=1)
    # the tables read from it: customers (one row per distinct customer id, the first seen), invoices
    # (every row) and payments (the rows with a payment date; an empty one is an unpaid invoice)
    tables: list[FlatTable] = Field(default_factory=lambda: list(FLAT_DEFAULT_TABLES), min_length=1)


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

    @field_validator("column_map", "constants", "defaults")
    @classmethod
    def _known_tables(cls, v: dict[str, dict[str, Any]], info: ValidationInfo) -> dict[str, dict[str, Any]]:
        from riskml.data.contract import TABLES

        unknown = sorted(set(v) - set(TABLES))
        if unknown:
            raise ValueError(f"{info.field_name} tables must be among {sorted(TABLES)}; got {unknown}")
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


class SegmentCalibrationConfig(_Section):
    """Calibration by collector persona on top of the model's calibrator, fitted on the calibration
    (validation) window only (``riskml.modeling.calibration.SegmentCalibrator``; docs/model.md)."""

    enabled: bool = True
    # standard deviation of the normal prior on each persona's log-odds shift: smaller = groups move less
    prior_sd: float = Field(default=1.0, gt=0)


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
    # a log-odds shift per collector persona fitted on the validation window, after the calibrator
    segment_calibration: SegmentCalibrationConfig = Field(default_factory=SegmentCalibrationConfig)
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
        problems = check_lightgbm_params(v)
        if problems:
            raise ValueError("; ".join(problems))
        return {**LIGHTGBM_DEFAULTS, **v}


# value rules of the LightGBM settings riskml's model depends on, by canonical name: (kind, low, high, low
# inclusive, high inclusive); checked when the config is read, before any feature is built
_LGB_RULES: dict[str, tuple[str, float, float, bool, bool]] = {
    "learning_rate": ("float", 0.0, float("inf"), False, False),
    "num_leaves": ("int", 2, 131_072, True, True),
    "num_iterations": ("int", 1, 1_000_000, True, True),
    "early_stopping_round": ("int", 1, 1_000_000, True, True),
    "max_depth": ("int", -1, 1_000, True, True),
    "min_data_in_leaf": ("int", 0, 1e12, True, True),
    "min_sum_hessian_in_leaf": ("float", 0.0, float("inf"), True, False),
    "feature_fraction": ("float", 0.0, 1.0, False, True),
    "bagging_fraction": ("float", 0.0, 1.0, False, True),
    "bagging_freq": ("int", 0, 1_000_000, True, True),
    "lambda_l1": ("float", 0.0, float("inf"), True, False),
    "lambda_l2": ("float", 0.0, float("inf"), True, False),
    "min_gain_to_split": ("float", 0.0, float("inf"), True, False),
    "max_bin": ("int", 2, 1_000_000, True, True),
}
# the model is a probability of delinquency: a binary objective only (a regression or multiclass model
# would train, pass a gate on AUC and score nonsense)
_LGB_OBJECTIVES = ("binary",)


def _lightgbm_aliases() -> dict[str, str] | None:
    """LightGBM's parameter aliases (alias -> canonical name), or None when this LightGBM does not expose them."""
    try:
        from lightgbm.basic import _ConfigAliases

        table = _ConfigAliases._get_all_param_aliases()
    except Exception:  # noqa: BLE001 - a private API: without it the names are not checked
        return None
    return {alias: name for name, aliases in table.items() for alias in [name, *aliases]}


def check_lightgbm_params(params: dict[str, Any]) -> list[str]:
    """Problems with user LightGBM settings: unknown names, and values LightGBM would refuse late or accept
    silently (a negative learning rate, one leaf, a non-binary objective)."""
    aliases = _lightgbm_aliases() if set(params) - set(LIGHTGBM_DEFAULTS) else {}
    problems = []
    for key, value in params.items():
        name = {"n_estimators": "num_iterations", "early_stopping_rounds": "early_stopping_round",
                "min_child_samples": "min_data_in_leaf"}.get(key, key)
        if aliases is not None and key not in LIGHTGBM_DEFAULTS:
            if key not in aliases:
                problems.append(f"lightgbm.{shorten(key, 60)} is not a LightGBM parameter (a typo?)")
                continue
            name = aliases[key]
        if name == "objective":
            if value not in _LGB_OBJECTIVES:
                problems.append(f"lightgbm.{key} must be binary (the model is a probability of delinquency); "
                                f"got {shorten(repr(value), 60)}")
            continue
        rule = _LGB_RULES.get(name)
        if rule is None:
            continue
        kind, lo, hi, lo_in, hi_in = rule
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if ok and kind == "int":
            ok = float(value).is_integer()
        if ok:
            ok = (value >= lo if lo_in else value > lo) and (value <= hi if hi_in else value < hi)
        if not ok:
            bounds = (f"{'>=' if lo_in else '>'} {lo:g}" + ("" if hi == float("inf") else
                                                              f" and {'<=' if hi_in else '<'} {hi:g}"))
            problems.append(f"lightgbm.{key} must be {'a whole number' if kind == 'int' else 'a number'} {bounds}; "
                            f"got {shorten(repr(value), 60)}")
    return problems


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

    # days beyond terms the need allows at least (and assumes when the customer has no payment history)
    grace_days: int = Field(default=10, ge=0)
    # the need follows how the customer actually pays: terms + its typical days beyond terms (12-month DBT),
    # between grace_days and this cap
    max_days_beyond_terms: float = Field(default=45.0, ge=0)
    # the need includes the open orders (the limit is checked against receivables plus open orders)
    need_includes_open_orders: bool = True
    # acceptable grades (this one and better) are never suggested less than the lower of their current
    # exposure and their need: a cut below what they already owe only blocks orders
    floor_worst_grade: str = "7"
    # grades this one and better, over their limit and not held for past due (undisputed invoices at most the grade's
    # actions.hold_past_due_days_by_grade, or a strong late payer's usual pattern), are suggested a limit that covers
    # the exposure where the break-even cap allows it (approving it releases the orders), whatever the grade
    # multiplier and the step cap say; thin files up to thin_file_cover_max_limit
    cover_exposure_worst_grade: str | None = "9"
    # step caps per review cycle against an existing positive limit (revokes excepted)
    max_increase_pct: float = Field(default=0.50, ge=0)
    max_decrease_pct: float = Field(default=0.25, ge=0, le=1)
    # no increase (nor a first limit) while undisputed invoices are more than this many days past due
    no_increase_past_due_days: float = Field(default=30.0, ge=0)
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
    # personas that may lose open terms (by grade, as habitual debtors or as unprofitable); strong late payers
    # keep their terms and get terms or price actions instead (riskml.scoring.treatment)
    revocable_personas: list[str] = Field(default_factory=lambda: ["weak_late_payer", "distressed"])
    # revoke inactive accounts too (no sales in the basis window and nothing open); by default their terms are
    # decided when they order again
    revoke_inactive: bool = False
    # a revoke by grade or habit needs the ledger to show deterioration too (false: grade or habit alone): paying at
    # least revoke_min_dbt_shift_days later than the customer's own norm (dbt_shift_12m or dbt_shift_24m) ...
    revoke_needs_evidence: bool = True
    revoke_min_dbt_shift_days: float = Field(default=15.0, ge=0)
    # ... and not a steady full payer (monthly DBT varying by at most revoke_steady_max_volatility days and at
    # least revoke_steady_min_paid_in_full of invoices paid in full): those get a decrease and terms, not a revoke
    revoke_steady_max_volatility: float = Field(default=7.0, ge=0)
    revoke_steady_min_paid_in_full: float = Field(default=0.85, ge=0, le=1)
    # ... nor a full payer: at least this share of its invoices paid in full in one payment, whatever the volatility
    # (it pays what it owes, later: a decrease and a hold, not a revoke; above 1: off)
    revoke_full_payer_min_paid_in_full: float = Field(default=0.90, ge=0)
    # a decrease (not a revoke) is made only when the expected loss it removes, PD x LGD x (current - suggested),
    # is at least this amount: smaller cuts are noise (kept); acceptable grades are never cut below their exposure
    min_decrease_expected_loss: float = Field(default=0.0, ge=0)
    # ... and (true) at least the margin the cut puts at risk (the share of the need it no longer covers)
    decrease_pays_margin: bool = True
    # ... and only for grades at or beyond this one (null: any grade): better grades keep their limit, the restrictions
    # go where the PD is (revokes and the freeze have their own grades)
    decrease_from_grade: str | None = "5"
    # between routine reviews an increase is proposed only to a customer using at least this share of its current
    # limit (exposure / limit): headroom it does not use waits for its review (0: increases at any time)
    increase_min_utilisation: float = Field(default=0.8, ge=0)
    # freeze: grades at or beyond this one with no restriction yet (no hold, no cut, no revoke) have their limit cut
    # to the exposure (rounded up to round_to): the unused headroom a defaulter would draw is removed, orders within
    # the exposure still flow; only where it removes at least min_decrease_expected_loss (null: off; docs/scoring.md
    # has the sweep behind grade 9) ...
    freeze_grade: str | None = "8"
    # ... and only for these personas (the ones the issue restricts: weak late payers and distressed customers;
    # strong late payers keep their sales flowing, disorganised ones get their paperwork fixed)
    freeze_personas: list[str] = Field(default_factory=lambda: ["weak_late_payer", "distressed"])
    # thin files over their limit are covered like the others (cover_exposure_worst_grade), up to this amount:
    # a new customer outgrowing the limit set at onboarding goes to the approval queue, not to an order hold
    thin_file_cover_max_limit: float = Field(default=250_000.0, ge=0)
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
    "not_scored": 1, "grade_down": 1, "dbt_jump": 1, "revoke": 1, "limit_pending": 0, "no_limit_exposed": 1,
    "grade_up": 2, "no_limit": 2, "over_utilised": 2, "scheduled": 3,
}


class ActionPolicy(_Section):
    """Order hold and review-due rules, and how urgent each review reason is."""

    # hold orders when the oldest open invoice is more than this many days past due
    hold_past_due_days: int = Field(default=30, ge=0)
    # days past due before a past-due hold, per grade (grades not listed use hold_past_due_days): a customer of a
    # good grade is chased by the collectors' worklist, not held, until the collections track (restrictions follow
    # the PD, which already carries the lateness)
    hold_past_due_days_by_grade: dict[str, float] = Field(
        default_factory=lambda: {"1": 89.0, "2": 89.0, "3": 89.0, "4": 89.0, "5": 89.0, "6": 89.0, "7": 89.0})
    # hold orders when exposure (open receivables + open orders) exceeds the current limit by more than this share
    hold_over_limit_pct: float = Field(default=0.10, ge=0)
    # over-limit tolerance per grade (grades not listed use hold_over_limit_pct)
    hold_over_limit_pct_by_grade: dict[str, float] = Field(
        default_factory=lambda: {"1": 0.25, "2": 0.25, "3": 0.20, "4": 0.20, "5": 0.15, "6": 0.15, "7": 0.10,
                                 "8": 0.05, "9": 0.0, "10": 0.0})
    # a past-due hold needs undisputed past-due amounts above the larger of this amount and this share of
    # the open balance (disputed invoices are a paperwork problem: never a hold)
    hold_min_amount: float = Field(default=1000.0, ge=0)
    hold_min_share: float = Field(default=0.10, ge=0, le=1)
    # strong late payers are held for lateness only beyond their usual pattern: the largest days beyond
    # terms they paid in the last 12 months plus this margin
    strong_pattern_margin_days: float = Field(default=15.0, ge=0)
    # a past-due hold is hard (a credit manager releases it) from this many days past due; soft before
    hard_hold_past_due_days: float = Field(default=60.0, ge=0)
    # undisputed invoices this many days past due (above the hold minimum): the collections track (hard
    # hold, everything owed asked for, no model-driven limit decision)
    collections_past_due_days: float = Field(default=90.0, ge=1)
    # exposure over the current limit but within a suggested increase is not held: the review is urgent instead
    # ("approve the increase to release the orders")
    release_within_suggested: bool = True
    # outer bound: no limit goes unreviewed longer than this many months (interval of auto-renewals too)
    review_months: int = Field(default=24, ge=1)
    # review calendar: months between routine reviews per grade (grades not listed: review_months)
    review_interval_months: dict[str, int] = Field(
        default_factory=lambda: {"1": 12, "2": 12, "3": 12, "4": 12, "5": 6, "6": 6, "7": 6, "8": 3, "9": 3,
                                 "10": 3})
    # limits and exposures both at most this amount are renewed automatically every review_months (no person)
    auto_renew_max_exposure: float = Field(default=10_000.0, ge=0)
    # overdue routine reviews (the backlog) are spread over the coming months by a stable hash of the
    # customer id so that at most this share of them falls due in one month
    max_routine_share_per_month: float = Field(default=0.10, gt=0, le=1)
    # over-limit event review: exposure at least this multiple of the limit at the as-of date and at the
    # previous month end (sustained for two months)
    review_over_limit_ratio: float = Field(default=1.0, gt=0)
    # review due when the grade moved this many notches (either way) since the previous score
    review_grade_notches: int = Field(default=2, ge=1)
    # review due when the 3-month DBT rose this many days over the previous score's, or over the 12-month DBT
    review_dbt_jump_days: float = Field(default=15.0, ge=0)
    # priority of each review reason: 1 urgent, 2 soon, 3 routine, 0 not a review (approval queue only); a
    # customer's review_priority is the most urgent of its reasons (riskml.scoring.actions.REVIEW_CODES lists the reasons)
    review_priority: dict[str, int] = Field(default_factory=lambda: dict(_DEFAULT_REVIEW_PRIORITY))

    @field_validator("review_priority")
    @classmethod
    def _known_review_codes(cls, v: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(v) - set(_DEFAULT_REVIEW_PRIORITY))
        if unknown:
            raise ValueError(f"review_priority keys must be among {list(_DEFAULT_REVIEW_PRIORITY)}; got {unknown}")
        bad = {k: p for k, p in v.items() if p not in (0, 1, 2, 3)}
        if bad:
            raise ValueError("review_priority values must be 1 (urgent), 2 (soon), 3 (routine) or 0 (not a review: the "
                             f"decision goes to the approval queue only); got {bad}")
        return {**_DEFAULT_REVIEW_PRIORITY, **v}


class PersonaPolicy(_Section):
    """Persona thresholds for collectors (first matching rule wins, see ``riskml.scoring.personas`` and
    docs/scoring.md). Personas come from the ledger; the PD only breaks ties."""

    prompt_max_dbt: float = Field(default=5.0, ge=0)
    # distressed: the oldest open invoice at least this many days past due (already seriously delinquent),
    # or (when the ledger does not show the strong pattern) a broken payment pattern: paying at least
    # distressed_min_shift days later than its own norm, or at least distressed_min_aged_share of the balance
    # 31+ days past due (null: that trigger off). Ledger facts only: the PD plays no part (the calibration by
    # persona stays meaningful)
    distressed_min_dpd: float = Field(default=90.0, gt=0)
    distressed_min_shift: float | None = Field(default=20.0, gt=0)  # days later than its own norm (dbt_shift_max)
    distressed_min_aged_share: float | None = Field(default=0.3, gt=0, le=1)  # share of the balance 31+ days past due
    # strong late payer: late, steadily, over a long history, paying in full, nothing growing or ageing
    strong_min_dbt: float = Field(default=14.0, ge=0)  # 12-month DBT at least this
    strong_min_tenure_months: float = Field(default=9.0, ge=0)
    strong_max_volatility: float = Field(default=7.0, gt=0)  # std of monthly DBT over 12 months, days
    strong_max_shift: float = Field(default=7.0, gt=0)  # DBT now minus its own norm, days
    strong_min_paid_in_full: float = Field(default=0.85, ge=0, le=1)
    strong_max_balance_growth: float = Field(default=3.0, gt=0)  # months of sales over 3 months
    strong_dpd_margin: float = Field(default=30.0, ge=0)  # oldest DPD at most its 12-month DBT + this
    # weak late payer: later than its own norm, instalments, a growing or ageing balance
    weak_min_shift: float = Field(default=7.0, gt=0)  # days later than its own norm
    weak_min_trend: float = Field(default=2.0, gt=0)  # DBT days per month over 6 months
    weak_min_partial_share: float = Field(default=0.25, gt=0, le=1)
    weak_min_balance_growth: float = Field(default=3.0, gt=0)
    weak_min_aged_share: float = Field(default=0.2, gt=0, le=1)  # share of the balance 61+ days past due
    # disorganised: disputes, deductions, unapplied cash, short payments tied to billing
    disorganised_min_share: float = Field(default=0.15, gt=0, le=1)
    disorganised_min_deduction_share: float = Field(default=0.02, gt=0, le=1)
    disorganised_min_unapplied_months: float = Field(default=0.5, gt=0)
    disorganised_min_short_share: float = Field(default=0.2, gt=0, le=1)


class TreatmentPolicy(_Section):
    """Terms and price actions offered to strong late payers (``riskml.scoring.treatment``), quoted in the
    treatment text: a late-payment fee, an early-payment discount and shorter terms at renewal."""

    late_fee_monthly_rate: float = Field(default=0.01, ge=0, le=1)  # fee per month late, share of the overdue
    early_discount_rate: float = Field(default=0.02, ge=0, le=1)  # discount for paying within the days below
    early_discount_days: int = Field(default=10, ge=0)
    shorter_terms_days: int = Field(default=15, ge=0)  # cut the payment terms by this many days at renewal


class ApprovalLevel(_Section):
    """One approval level (an authority): the largest limit it may grant, the largest change it may make in
    one decision, the worst grade it may increase, and whether it may revoke terms or release a hard hold."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=True)  # .inf = no bound

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


# collections (riskml.collect): paperwork kinds, their default owner and the documents to request
PAPERWORK_KINDS = ("unapplied_cash", "disputed_invoice", "deduction", "short_payment")
_DEFAULT_PAPERWORK_OWNER = {"unapplied_cash": "billing", "disputed_invoice": "sales", "deduction": "billing",
                            "short_payment": "billing"}
_DEFAULT_DOCUMENTS = {
    "unapplied_cash": "remittance advice naming the invoices the payment covers",
    "disputed_invoice": "the customer's written dispute reason, proof of delivery (signed delivery note) and "
                        "the purchase order",
    "deduction": "the deduction claim with its backing (promotion agreement, return authorisation or "
                 "pricing proof)",
    "short_payment": "remittance advice explaining the difference between the invoice and the amount paid",
}


class EscalationRules(_Section):
    """When an account passes to a collection agency or legal (``riskml.collect.worklist``); any rule flags it."""

    # terms revoked (action revoke or hold code revoked) and the oldest open item at least this many days past
    # due (0 = rule off)
    revoked_open_days: int = Field(default=60, ge=0)
    # a broken instalment of a payment plan (needs a promises file)
    broken_plan: bool = True
    # PD at least this with money more than 90 days past due (1.0 = rule off)
    high_pd: float = Field(default=0.30, gt=0, le=1)


class CollectionsConfig(_Section):
    """The collector worklist, assignment, escalation and paperwork queue (``riskml worklist``,
    docs/collections.md)."""

    # customers with a past-due balance above this (or a hold that a payment would release) are listed
    min_past_due: float = Field(default=0.0, ge=0)
    # urgency = 1 + sum of weight x share of the open balance in each ageing bucket (days past due) + broken_promise_weight x
    # broken promises (at most max_broken_promises); priority = expected loss x urgency
    ageing_weights: dict[str, float] = Field(
        default_factory=lambda: {"1-30": 0.25, "31-60": 0.5, "61-90": 1.0, "90+": 2.0})
    broken_promise_weight: float = Field(default=0.5, ge=0)
    max_broken_promises: int = Field(default=3, ge=0)
    # PD assumed for customers that could not be scored (their expected loss ranks them)
    unscored_pd: float = Field(default=0.10, gt=0, le=1)
    # phone (not e-mail) when the PD or the amount to collect reaches these, for these personas, after a broken
    # promise and for accounts to escalate
    phone_min_pd: float = Field(default=0.10, gt=0, le=1)
    phone_min_amount: float = Field(default=25_000.0, ge=0)
    phone_personas: list[str] = Field(default_factory=lambda: ["distressed", "weak_late_payer"])
    # a promise is broken when the cash received between the day it was made and promised_date + grace is below
    # the amount promised (less this share)
    promise_grace_days: int = Field(default=3, ge=0)
    promise_shortfall_pct: float = Field(default=0.01, ge=0, lt=1)
    # collectors' loads (amount to collect and accounts) must each lie within target x (1 +- tolerance), target
    # proportional to capacity
    balance_tolerance: float = Field(default=0.15, gt=0, le=1)
    # customer-master column a collector's portfolio is matched against (collectors file, column portfolio)
    portfolio_column: str = "country"
    # paperwork queue: deductions taken in this many days; open invoices partly paid with no cash on them for
    # short_payment_days are short payments
    deduction_lookback_days: int = Field(default=180, ge=1)
    short_payment_days: int = Field(default=30, ge=0)
    paperwork_owner: dict[str, str] = Field(default_factory=lambda: dict(_DEFAULT_PAPERWORK_OWNER))
    documents: dict[str, str] = Field(default_factory=lambda: dict(_DEFAULT_DOCUMENTS))
    escalation: EscalationRules = Field(default_factory=EscalationRules)

    @field_validator("ageing_weights")
    @classmethod
    def _known_buckets(cls, v: dict[str, float]) -> dict[str, float]:
        known = ("1-30", "31-60", "61-90", "90+")
        unknown = sorted(set(v) - set(known))
        if unknown:
            raise ValueError(f"ageing_weights keys must be among {list(known)}; got {unknown}")
        bad = {k: w for k, w in v.items() if not w >= 0}
        if bad:
            raise ValueError(f"ageing_weights values must be >= 0; got {bad}")
        return v

    @field_validator("paperwork_owner", "documents")
    @classmethod
    def _known_kinds(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(PAPERWORK_KINDS))
        if unknown:
            raise ValueError(f"keys must be among {list(PAPERWORK_KINDS)}; got {unknown}")
        return v

    @field_validator("paperwork_owner")
    @classmethod
    def _owner_defaults(cls, v: dict[str, str]) -> dict[str, str]:
        return {**_DEFAULT_PAPERWORK_OWNER, **v}

    @field_validator("documents")
    @classmethod
    def _document_defaults(cls, v: dict[str, str]) -> dict[str, str]:
        return {**_DEFAULT_DOCUMENTS, **v}
class SegmentOverride(_Section):
    """LGD and gross margin of a segment: customers matching every matcher given (industry, country, monthly
    sales band) use this segment's values; the first matching segment wins, field by field."""

    industry: str | None = None
    country: str | None = None
    min_monthly_sales: float | None = Field(default=None, ge=0)
    max_monthly_sales: float | None = Field(default=None, ge=0)
    lgd: float | None = Field(default=None, gt=0, le=1)
    gross_margin: float | None = Field(default=None, gt=0, le=1)


class InsurancePolicy(_Section):
    """Credit insurance (customer-master columns insured_limit, insurer, insurance_expiry): the insurer pays
    cover_share of the insured debt above the deductible, while the policy runs and the customer is not
    past due beyond the non-qualifying overdue days (overdue accounts not declared in time lose the cover)."""

    cover_share: float = Field(default=0.90, ge=0, le=1)
    deductible: float = Field(default=0.0, ge=0)
    non_qualifying_overdue_days: float = Field(default=60.0, ge=0)


class MoneyPolicy(_Section):
    """Money on every decision (riskml.scoring.money): expected loss net of insurance, margin at risk."""

    # exposure at default: "max" = the larger of the exposure and the suggested limit (what the customer
    # may draw), "exposure" = the exposure at the as-of date
    ead_basis: Literal["max", "exposure"] = "max"
    # months of sales a hold blocks (soft: released within weeks; hard: a credit manager decides)
    soft_hold_blocked_months: float = Field(default=0.5, ge=0)
    hard_hold_blocked_months: float = Field(default=2.0, ge=0)
    # segment-level LGD and margin (industry / country / monthly sales band); the limit policy's lgd and
    # gross_margin apply elsewhere
    segments: list[SegmentOverride] = Field(default_factory=list)
    insurance: InsurancePolicy = Field(default_factory=InsurancePolicy)


class NoticePolicy(_Section):
    """Which letters carry the ECOA / Regulation B statement of specific reasons (US law): customers in
    these countries (codes as in the customer master) get it with an adverse decision; elsewhere the
    letter carries a neutral statement of the reasons."""

    adverse_action_countries: list[str] = Field(default_factory=lambda: ["US"])
    # customers with no country on file
    unknown_country_applies: bool = True


class ScoringConfig(_Section):
    """Master scale, limit policy, actions and personas (``configs/scoring.yaml``)."""

    master_scale: list[Grade] = Field(default_factory=_default_scale)
    thin_file: ThinFileRule = Field(default_factory=ThinFileRule)
    limits: LimitPolicy = Field(default_factory=LimitPolicy)
    actions: ActionPolicy = Field(default_factory=ActionPolicy)
    personas: PersonaPolicy = Field(default_factory=PersonaPolicy)
    treatments: TreatmentPolicy = Field(default_factory=TreatmentPolicy)
    approvals: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    collections: CollectionsConfig = Field(default_factory=CollectionsConfig)
    money: MoneyPolicy = Field(default_factory=MoneyPolicy)
    notices: NoticePolicy = Field(default_factory=NoticePolicy)
    n_reasons: int = Field(default=3, ge=1, le=10)
    # at most this many customers are scored per block (bounds memory; the progress bar advances per block)
    chunk_size: int = Field(default=100_000, ge=1)
    # blocks scored at a time, in threads (LightGBM releases the GIL while it walks the trees); 0 = one per
    # core (at most 8). Results never depend on it
    num_threads: int = Field(default=0, ge=0)
    # per-feature contributions (reason codes): "fast" exact TreeSHAP by decision patterns, LightGBM's
    # "pred_contrib", or "auto" = fast when it matches pred_contrib on a probe of the model (else pred_contrib)
    explainer: Literal["auto", "pred_contrib", "fast"] = "auto"

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
        cover = [self.limits.cover_exposure_worst_grade] if self.limits.cover_exposure_worst_grade else []
        freeze = [self.limits.freeze_grade] if self.limits.freeze_grade else []
        freeze += [self.limits.decrease_from_grade] if self.limits.decrease_from_grade else []
        for key, field in (("limits.floor_worst_grade", [self.limits.floor_worst_grade]),
                           ("limits.cover_exposure_worst_grade", cover),
                           ("limits.freeze_grade / decrease_from_grade", freeze),
                           ("actions.hold_over_limit_pct_by_grade", list(self.actions.hold_over_limit_pct_by_grade)),
                           ("actions.hold_past_due_days_by_grade", list(self.actions.hold_past_due_days_by_grade)),
                           ("actions.review_interval_months", list(self.actions.review_interval_months))):
            unknown = sorted(set(field) - set(names))
            if unknown:
                raise ValueError(f"{key} must name grades of master_scale {names}; got {unknown}")
        long = {g: m for g, m in self.actions.review_interval_months.items()
                if not 1 <= m <= self.actions.review_months}
        if long:
            raise ValueError(f"actions.review_interval_months must be between 1 and review_months "
                             f"({self.actions.review_months}); got {long}")
        bad = [lv.worst_grade_for_increase for lv in self.approvals.levels
               if lv.worst_grade_for_increase is not None and lv.worst_grade_for_increase not in names]
        if bad:
            raise ValueError(f"approvals.levels worst_grade_for_increase must be grades of master_scale {names}; got {bad}")
        return self


# ------------------------------------------------------------------------------------------ backtest
class BacktestConfig(_Section):
    """Policy backtest settings (``configs/backtest.yaml``, ``riskml backtest``, docs/backtest.md)."""

    # months between replay dates (``--every``)
    every_months: int = Field(default=1, ge=1)
    # the walk-forward model is retrained every this many months (on labels complete by the retrain date)
    retrain_months: int = Field(default=6, ge=1)
    # a walk-forward model needs at least this many labeled month ends whose label windows ended by the
    # replay date (the last split.oot_snapshots of them validate and test it)
    min_train_dates: int = Field(default=4, ge=2)
    # months between the walk-forward training dates and its validation dates; the backtest itself is the
    # out-of-time test, so no gap is needed (None = train.yaml's split.gap_months)
    train_gap_months: int | None = Field(default=0, ge=0)
    # days an order hold blocks invoices after the replay date (the customer pays its arrears, the orders are
    # released); None = until the next replay date. A revoke always lasts until the next replay date
    hold_days: int | None = Field(default=None, ge=1)


SECTIONS: dict[str, type[_Section]] = {
    "data": DataConfig,
    "features": FeatureConfig,
    "train": TrainConfig,
    "scoring": ScoringConfig,
    "backtest": BacktestConfig,
}


def shipped_config(section: str) -> Path:
    """The defaults file of ``section`` shipped inside the package."""
    return PACKAGE_CONFIG_DIR / f"{section}.yaml"


def config_files(section: str, path: str | Path | None = None) -> list[Path]:
    """The files ``load_config`` reads for ``section``, lowest layer first: the shipped defaults (when
    installed), then ``path`` if given, else ``configs/<section>.yaml`` of the working directory when
    present (the same file as the shipped one when run from a checkout's root: read once)."""
    files = [f for f in (shipped_config(section),) if f.is_file()]
    top = Path(path) if path is not None else CONFIG_DIR / f"{section}.yaml"
    same = bool(files) and top.is_file() and top.resolve() == files[0].resolve()
    if (path is not None or top.is_file()) and not same:
        files.append(top)
    return files


def _layer(model: type[BaseModel], base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: nested config sections merged key by key, any other value replaced."""
    out = dict(base)
    for key, value in over.items():
        field = model.model_fields.get(key)
        sub = field.annotation if field is not None else None
        if (isinstance(value, dict) and isinstance(out.get(key), dict) and isinstance(sub, type)
                and issubclass(sub, BaseModel)):
            out[key] = _layer(sub, out[key], value)
        else:
            out[key] = value
    return out


def load_config(section: str, path: str | Path | None = None) -> Any:
    """Load one stage's config: the pydantic defaults, under the shipped ``riskml/configs/<section>.yaml``,
    under ``path`` if given, else ``configs/<section>.yaml`` of the working directory when present (see the
    module docstring). Raises :class:`ConfigError` with the file and the offending key."""
    model = SECTIONS.get(section)
    if model is None:
        raise ConfigError(f"config section must be one of {sorted(SECTIONS)}; got {section!r}")
    files = config_files(section, path)
    if not files:
        return model()
    raw: dict[str, Any] = {}
    for file in files:
        layer = read_yaml(file)
        if not isinstance(layer, dict):
            raise ConfigError(f"{file}: expected a mapping of settings; got {type(layer).__name__}")
        raw = _layer(model, raw, layer)
    path = files[-1]  # a problem is reported against the top file (the shipped ones are tested to validate)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors()[:MAX_ERRORS_SHOWN]:
            loc = shorten(".".join(str(p) for p in err["loc"]))
            given = err.get("input")
            lines.append(f"{path}: {loc}: {shorten(err['msg'])} (got {shorten(repr(given))})")
        if len(exc.errors()) > MAX_ERRORS_SHOWN:
            lines.append(f"{path}: and {len(exc.errors()) - MAX_ERRORS_SHOWN} more problems")
        raise ConfigError("\n".join(lines)) from None


# a config file is a few kilobytes: these bounds refuse a hostile one (a 289-byte YAML alias bomb expands
# to gigabytes) before it costs anything, and keep error messages one readable line
MAX_CONFIG_BYTES = 1_000_000
MAX_CONFIG_NODES = 100_000  # YAML nodes once every alias is expanded
MAX_ECHO_CHARS = 200
MAX_ERRORS_SHOWN = 20


def shorten(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """``text`` cut to ``limit`` characters (with the length said), for echoing user values in errors."""
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _expanded_nodes(root: yaml.Node | None, limit: int) -> int:
    """Nodes of the YAML tree with every alias expanded (stops counting past ``limit``); a recursive
    alias counts as over the limit."""
    if root is None:
        return 0
    memo: dict[int, int] = {}
    active: set[int] = set()

    def count(node: yaml.Node) -> int:
        key = id(node)
        if key in memo:
            return memo[key]
        if key in active:
            return limit + 1
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for child in node.value:
                total += count(child)
                if total > limit:
                    break
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += count(k) + count(v)
                if total > limit:
                    break
        active.discard(key)
        memo[key] = min(total, limit + 1)
        return memo[key]

    return count(root)


def read_yaml(path: str | Path) -> Any:
    """A YAML config file's content (``{}`` when empty), read with the safe loader after checking its size
    and its size with aliases expanded; :class:`ConfigError` otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: {size:,} bytes; a config file may hold at most {MAX_CONFIG_BYTES:,}")
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"{path}: cannot be read as UTF-8 text ({shorten(str(exc))})") from None
    try:
        nodes = _expanded_nodes(yaml.compose(text, Loader=yaml.SafeLoader), MAX_CONFIG_NODES)
        if nodes > MAX_CONFIG_NODES:
            raise ConfigError(f"{path}: expands to more than {MAX_CONFIG_NODES:,} values through YAML aliases "
                              "(&anchor/*alias); write the settings out")
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({shorten(str(exc)).replace(chr(10), ' ')})") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a config file") from None


def dump_defaults(section: str) -> str:
    """The YAML text of a section's pydantic defaults (a starting point for a config file of one's own)."""
    return yaml.safe_dump(SECTIONS[section]().model_dump(mode="json"), sort_keys=False)
