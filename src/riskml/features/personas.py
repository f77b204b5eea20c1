"""Collector personas: who this customer is, in one word, so a collector knows how to approach them.

The pure classification of a feature table lives here, below modeling and scoring, so that both use the
same rule: scoring assigns the persona of each scored customer (``riskml.scoring.personas`` re-exports
these functions), and training fits its calibration by persona on the same segments
(``riskml.modeling.calibration.SegmentCalibrator``).

Personas are read from the ledger only, never from the PD: a model that over-predicts customers who pay
late but steadily (strong customers stretching terms) must not hide them, and a persona defined by the PD
would make the calibration of the PD by persona circular (a high-PD group is over-predicted by
construction). The same customer gets the same persona whatever model scores it.

Rules are checked in this order and the first that matches wins (precedence: too little history to
judge first; already seriously delinquent next; the steady pattern before a broken one; paperwork problems
before a money trend; a trend before a steady level):

=====================  ==================================================================================
persona                rule (thresholds in ``PersonaPolicy`` / ``ThinFileRule``)
=====================  ==================================================================================
``thin_file``          no payment received yet, or ``invoices_total <= max_invoices``, or
                       ``tenure_months <= max_tenure_months``
``distressed``         already seriously delinquent: ``oldest_dpd >= distressed_min_dpd``
``strong_late_payer``  strong / strategic: late (``dbt_avg_12m >= strong_min_dbt``) over a long history
                       (``tenure_months >= strong_min_tenure_months``), steadily
                       (``dbt_volatility_12m <= strong_max_volatility``), no deterioration against its own
                       norm (``dbt_shift_max``: ``dbt_shift_24m`` and ``dbt_shift_12m`` <= ``strong_max_shift``,
                       ``dbt_trend_6m < weak_min_trend``), pays invoices in full
                       (``paid_in_full_share_12m >= strong_min_paid_in_full``), no growing balance
                       (``balance_growth_3m <= strong_max_balance_growth``), nothing ageing beyond its
                       usual pattern (``oldest_dpd <= dbt_avg_12m + strong_dpd_margin`` and the share of
                       the balance 61+ days past due below ``weak_min_aged_share``), no paperwork problem
                       (the ``disorganised`` rule does not hold)
``distressed``         a broken payment pattern (only when not strong by the ledger): paying far later than
                       its own norm (``dbt_shift_max >= distressed_min_shift`` days), or severe ageing (the
                       share of the balance 31+ days past due >= ``distressed_min_aged_share``); a threshold
                       set to None switches its trigger off
``disorganised``       paperwork, not money: ``dispute_share_12m`` or ``disputed_open_share`` >=
                       ``disorganised_min_share``, or deductions >= ``disorganised_min_deduction_share`` of
                       sales, or unapplied cash >= ``disorganised_min_unapplied_months`` of monthly sales,
                       or short payments (``short_paid_share_12m >= disorganised_min_short_share``) with
                       disputes or credit notes behind them (either at least a third of its threshold)
``weak_late_payer``    weak: paying later than its own norm (``dbt_shift_max``: ``dbt_shift_24m`` or ``dbt_shift_12m`` >=
                       ``weak_min_shift`` days, or ``dbt_trend_6m >= weak_min_trend`` days a month) while
                       late (``dbt_avg_3m > prompt_max_dbt``); or paying in instalments
                       (``multi_payment_share_12m >= weak_min_partial_share``); or a growing balance
                       (``balance_growth_3m >= weak_min_balance_growth`` months of sales) with something
                       past due; or an ageing balance (61+ days past due share >= ``weak_min_aged_share``)
``prompt_payer``       ``dbt_avg_6m <= prompt_max_dbt``
``regular``            none of the above (pays a few days late, without a pattern)
=====================  ==================================================================================

Broken promises to pay would be weak evidence too; the ledger contract holds no promises yet, so they
are not read. A missing figure is no evidence: it meets no threshold. A feature column absent from the
frame counts as missing for every row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskml.config import PersonaPolicy, ThinFileRule

STRONG_LATE_PAYER = "strong_late_payer"
PERSONAS: dict[str, str] = {
    "thin_file": "new / thin file",
    "distressed": "distressed / seriously delinquent",
    "disorganised": "disorganised (disputes, deductions, unapplied cash)",
    "weak_late_payer": "weak late payer",
    "strong_late_payer": "strong late payer (stretches terms, steadily)",
    "prompt_payer": "prompt payer",
    "regular": "regular payer",
}

THIN_FILE_COLUMNS = ("no_payment_history", "invoices_total", "tenure_months")
PERSONA_COLUMNS = (
    *THIN_FILE_COLUMNS, "oldest_dpd", "dispute_share_12m", "disputed_open_share", "deduction_share_12m",
    "credit_note_share_12m", "short_paid_share_12m", "unapplied_cash_12m", "sales_avg_12m",
    "dbt_avg_3m", "dbt_avg_6m", "dbt_avg_12m", "dbt_volatility_12m", "dbt_trend_6m", "dbt_shift_12m",
    "dbt_shift_24m", "dbt_shift_max", "paid_in_full_share_12m", "multi_payment_share_12m", "balance_growth_3m",
    "aging_31_60_share", "aging_61_90_share", "aging_90p_share", "past_due_share",
)


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    """A feature column as float64 (NaN where missing; all NaN when the column is absent)."""
    if col not in frame.columns:
        return np.full(len(frame), np.nan)
    v = frame[col]
    if isinstance(v, np.ndarray) and v.dtype == np.float64:  # numpy rows (riskml.serving.book.Rows)
        return np.asarray(v)
    return pd.to_numeric(v, errors="coerce").to_numpy("float64")


def _at_least(values: np.ndarray, threshold: float | None) -> np.ndarray:
    """``values >= threshold`` (NaN meets nothing); all False when the threshold is None (the trigger is off)."""
    if threshold is None:
        return np.zeros(len(values), dtype=bool)
    with np.errstate(invalid="ignore"):
        return np.asarray(values >= threshold, dtype=bool)


def thin_file_mask(frame: pd.DataFrame, rule: ThinFileRule) -> np.ndarray:
    """Customers with too little history to be judged on it (see :class:`riskml.config.ThinFileRule`)."""
    no_pay = np.nan_to_num(_num(frame, "no_payment_history"), nan=1.0) >= 0.5
    invoices = np.nan_to_num(_num(frame, "invoices_total"), nan=0.0)
    tenure = np.nan_to_num(_num(frame, "tenure_months"), nan=0.0)
    return no_pay | (invoices <= rule.max_invoices) | (tenure <= rule.max_tenure_months)


def persona_evidence(frame: pd.DataFrame, policy: PersonaPolicy) -> dict[str, np.ndarray]:
    """The ledger evidence behind each persona, one boolean array per rule (before precedence):
    ``seriously_delinquent``, ``broken`` (the payment pattern broken: far later than its own norm, or
    severe ageing), ``disorganised``, ``weak``, ``strong``, ``prompt``. (The lateness the decision
    rules tolerate for a strong late payer is :func:`usual_lateness_days`.)"""
    with np.errstate(invalid="ignore"):
        dpd = np.nan_to_num(_num(frame, "oldest_dpd"), nan=0.0)
        dbt3, dbt6, dbt12 = _num(frame, "dbt_avg_3m"), _num(frame, "dbt_avg_6m"), _num(frame, "dbt_avg_12m")
        trend = _num(frame, "dbt_trend_6m")
        # the larger of the two deviations from the customer's own norm (either may be missing): the feature
        # dbt_shift_max, or the two it is made of (the same figure; a frame may hold either)
        shift = np.fmax(np.fmax(_num(frame, "dbt_shift_24m"), _num(frame, "dbt_shift_12m")),
                        _num(frame, "dbt_shift_max"))
        aged = np.nan_to_num(_num(frame, "aging_61_90_share"), nan=0.0) + np.nan_to_num(
            _num(frame, "aging_90p_share"), nan=0.0)
        aged31 = aged + np.nan_to_num(_num(frame, "aging_31_60_share"), nan=0.0)
        growth = _num(frame, "balance_growth_3m")
        past_due = np.nan_to_num(_num(frame, "past_due_share"), nan=0.0) > 0
        disputes = np.fmax(_num(frame, "dispute_share_12m"), _num(frame, "disputed_open_share"))
        credits = _num(frame, "credit_note_share_12m")
        sales = _num(frame, "sales_avg_12m")
        unapplied_months = np.where(sales > 0, _num(frame, "unapplied_cash_12m") / np.where(sales > 0, sales, 1.0),
                                    np.nan)
        short_with_billing = (_num(frame, "short_paid_share_12m") >= policy.disorganised_min_short_share) & (
            (disputes >= policy.disorganised_min_share / 3)
            | (credits >= policy.disorganised_min_deduction_share / 3))
        disorganised = ((disputes >= policy.disorganised_min_share)
                        | (_num(frame, "deduction_share_12m") >= policy.disorganised_min_deduction_share)
                        | (unapplied_months >= policy.disorganised_min_unapplied_months)
                        | short_with_billing)
        weak = ((((shift >= policy.weak_min_shift) | (trend >= policy.weak_min_trend)) & (dbt3 > policy.prompt_max_dbt))
                | (_num(frame, "multi_payment_share_12m") >= policy.weak_min_partial_share)
                | ((growth >= policy.weak_min_balance_growth) & past_due)
                | (aged >= policy.weak_min_aged_share))
        strong = ((dbt12 >= policy.strong_min_dbt)
                  & (np.nan_to_num(_num(frame, "tenure_months"), nan=0.0) >= policy.strong_min_tenure_months)
                  & (_num(frame, "dbt_volatility_12m") <= policy.strong_max_volatility)
                  & ~(shift > policy.strong_max_shift)
                  & ~(trend >= policy.weak_min_trend)
                  & (_num(frame, "paid_in_full_share_12m") >= policy.strong_min_paid_in_full)
                  & ~(growth > policy.strong_max_balance_growth)
                  & (dpd <= dbt12 + policy.strong_dpd_margin)
                  & (aged < policy.weak_min_aged_share)
                  & ~disorganised)
    return {
        "seriously_delinquent": dpd >= policy.distressed_min_dpd,
        "broken": _at_least(shift, policy.distressed_min_shift) | _at_least(aged31, policy.distressed_min_aged_share),
        "disorganised": disorganised,
        "weak": weak,
        "strong": strong,
        "prompt": dbt6 <= policy.prompt_max_dbt,
    }


def assign_personas(
    frame: pd.DataFrame, pd_values: np.ndarray | None, policy: PersonaPolicy, thin_file: np.ndarray
) -> np.ndarray:
    """The persona code of each row (keys of :data:`PERSONAS`), by the rules in the module docstring.

    ``pd_values`` is not read (personas come from the ledger only); the parameter stays so that callers
    that pass the PD keep working."""
    del pd_values
    ev = persona_evidence(frame, policy)
    rules = [
        ("thin_file", np.asarray(thin_file, dtype=bool)),
        ("distressed", ev["seriously_delinquent"]),
        ("strong_late_payer", ev["strong"]),
        ("distressed", ev["broken"]),
        ("disorganised", ev["disorganised"]),
        ("weak_late_payer", ev["weak"]),
        ("prompt_payer", ev["prompt"]),
    ]
    out = np.full(len(frame), "regular", dtype=object)
    done = np.zeros(len(frame), dtype=bool)
    for name, mask in rules:
        hit = mask & ~done
        out[hit] = name
        done |= hit
    return out

