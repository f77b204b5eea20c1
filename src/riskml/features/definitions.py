"""Feature definitions: one small function per feature, named after the column it produces.

Parameters name the point-in-time aggregates computed by :mod:`riskml.features.engine` (documented in
``engine.AGGREGATES``) or other features. Every aggregate already respects the as-of date, so these
functions only combine them; they never see a date beyond ``as_of``.

Conventions: a share over an empty base is NaN (no evidence), never 0; "no history" is carried by the
explicit flags and counts of the ``history`` family.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from riskml.features.registry import feature

DAYS_PER_MONTH = 30.4375


def _div(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den, NaN where den is 0 or missing."""
    den = den.astype("float64")
    return num.astype("float64") / den.where(den > 0)


# ------------------------------------------------------------------------------------- days beyond terms
def _dbt_avg(window: int) -> None:
    @feature(
        name=f"dbt_avg_{window}m", family="dbt", unit="days", window=f"{window}m", monotone=1,
        description=f"Amount-weighted days beyond terms of the payments received in the last {window} months "
        "(payments on or before the due date count as 0)",
        reason=f"Paid on average {{value:.0f}} days beyond terms over the last {window} months",
        missing=f"No payment received in the last {window} months",
        # the shorter windows cite the customer's own 12-month figure beside the current one
        comparison=("dbt_avg_12m", "over 12 months") if window < 12 else None,
        inputs=(f"pay_dbt_amt_{window}m", f"pay_amt_{window}m"),
    )
    def _f(pay_dbt_amt: pd.Series, pay_amt: pd.Series) -> pd.Series:
        return _div(pay_dbt_amt, pay_amt)


for _w in (3, 6, 12):
    _dbt_avg(_w)


@feature(
    family="dbt", unit="days", window="12m", monotone=1,
    description="Largest days beyond terms of any payment received in the last 12 months",
    reason="Paid one invoice {value:.0f} days beyond terms within the last 12 months",
    missing="No payment received in the last 12 months",
)
def dbt_max_12m(pay_dbt_max_12m: pd.Series) -> pd.Series:
    return pay_dbt_max_12m


@feature(
    family="dbt", unit="days per month", window="6m", monotone=1,
    description="Slope of monthly amount-weighted DBT over the last 6 months (least squares, months with payments)",
    reason="Days beyond terms rising by {value:.1f} days a month over the last 6 months "
    "(now {dbt_avg_3m:.0f} days)",
)
def dbt_trend_6m(dbt_slope_6m: pd.Series) -> pd.Series:
    return dbt_slope_6m


@feature(
    family="dbt", unit="days per month", window="12m", monotone=1,
    description="Slope of monthly amount-weighted DBT over the last 12 months (least squares, months with payments)",
    reason="Days beyond terms rising by {value:.1f} days a month over the last 12 months "
    "(12-month average {dbt_avg_12m:.0f} days)",
)
def dbt_trend_12m(dbt_slope_12m: pd.Series) -> pd.Series:
    return dbt_slope_12m


@feature(
    family="dbt", unit="days", window="12m", monotone=0,
    description="Standard deviation of monthly amount-weighted DBT over the last 12 months",
    reason="Payment timing erratic: monthly days beyond terms vary by {value:.0f} days", adverse=1,
)
def dbt_volatility_12m(dbt_std_12m: pd.Series) -> pd.Series:
    return dbt_std_12m


# ------------------------------------------------------- steadiness and deviation from the customer's own norm
# The 24-month figures need two years of ledger: training snapshots (early month ends) mostly lack them, so
# they feed the personas and reports, not the model (as the all-history counts below).
@feature(
    family="dbt", unit="days", window="24m", monotone=1, model=False,
    description="Amount-weighted days beyond terms of the payments received in the last 24 months "
    "(payments on or before the due date count as 0)",
    reason="Paid on average {value:.0f} days beyond terms over the last 24 months",
)
def dbt_avg_24m(pay_dbt_amt_24m: pd.Series, pay_amt_24m: pd.Series) -> pd.Series:
    return _div(pay_dbt_amt_24m, pay_amt_24m)


@feature(
    family="dbt", unit="days", window="13-24m", monotone=0, model=False,
    description="The customer's own earlier norm: amount-weighted days beyond terms of the payments received "
    "13 to 24 months before the as-of date (NaN: no payment then)",
    reason="A year earlier it paid on average {value:.0f} days beyond terms",
)
def dbt_baseline_24m(pay_dbt_amt_24m: pd.Series, pay_dbt_amt_12m: pd.Series, pay_amt_24m: pd.Series,
                     pay_amt_12m: pd.Series) -> pd.Series:
    return _div(pay_dbt_amt_24m - pay_dbt_amt_12m, (pay_amt_24m - pay_amt_12m).round(4))


@feature(
    family="dbt", unit="days", window="3m vs 13-24m", monotone=1, model=False,
    description="Days beyond terms of the last 3 months minus the customer's own norm of 13-24 months "
    "before (dbt_baseline_24m): positive = paying later than it used to",
    reason="Paying {value:.0f} days later than its own norm of a year earlier (now {dbt_avg_3m:.0f} days)",
)
def dbt_shift_24m(dbt_avg_3m: pd.Series, dbt_baseline_24m: pd.Series) -> pd.Series:
    return dbt_avg_3m - dbt_baseline_24m


@feature(
    family="dbt", unit="days", window="3m vs 4-12m", monotone=1,
    description="Days beyond terms of the last 3 months minus those of the payments received 4 to 12 months "
    "before (the customer's own recent norm): positive = paying later than it used to",
    reason="Paying {value:.0f} days later than its own norm of the months before (now {dbt_avg_3m:.0f} days)",
)
def dbt_shift_12m(dbt_avg_3m: pd.Series, pay_dbt_amt_12m: pd.Series, pay_dbt_amt_3m: pd.Series,
                  pay_amt_12m: pd.Series, pay_amt_3m: pd.Series) -> pd.Series:
    return dbt_avg_3m - _div(pay_dbt_amt_12m - pay_dbt_amt_3m, (pay_amt_12m - pay_amt_3m).round(4))


# The personas' deviation from the customer's own norm as one model input: the 24-month shift alone is not
# a model input (training snapshots lack two years of history), the larger of the two is. Where the 24-month
# norm is missing it equals dbt_shift_12m, so the model learns it on short histories and reads the longer norm
# when there is one.
@feature(
    family="dbt", unit="days", window="3m vs 4-24m", monotone=1,
    description="The larger deviation from the customer's own norm: dbt_shift_24m or dbt_shift_12m, whichever "
    "is higher (either may be missing; NaN when both are); the persona rules read the same figure",
    reason="Paying {value:.0f} days later than its own norm (now {dbt_avg_3m:.0f} days)",
)
def dbt_shift_max(dbt_shift_24m: pd.Series, dbt_shift_12m: pd.Series) -> pd.Series:
    return pd.Series(np.fmax(dbt_shift_24m.to_numpy("float64"), dbt_shift_12m.to_numpy("float64")),
                     index=dbt_shift_12m.index)


@feature(
    family="dbt", unit="ratio", window="12m", monotone=1,
    description="Steadiness of the lateness: standard deviation of monthly DBT over the last 12 months relative "
    "to the 12-month DBT (plus 5 days, so that prompt payers' small wobbles stay small); low = late by a "
    "steady, habitual amount",
    reason="Payment timing erratic for its level: monthly DBT varies by {dbt_volatility_12m:.0f} days around "
    "an average of {dbt_avg_12m:.0f}",
)
def dbt_variation_12m(dbt_volatility_12m: pd.Series, dbt_avg_12m: pd.Series) -> pd.Series:
    return dbt_volatility_12m / (dbt_avg_12m.clip(lower=0.0) + 5.0)


@feature(
    family="partial", unit="share", window="12m", monotone=-1,
    description="Share of invoices settled in the last 12 months that were paid in full by a single payment "
    "(no instalments, nothing deducted or credited short)",
    reason="Only {value:.0%} of invoices settled in the last 12 months were paid in full in one payment",
)
def paid_in_full_share_12m(full_single_cnt_12m: pd.Series, settled_cnt_12m: pd.Series) -> pd.Series:
    return _div(full_single_cnt_12m, settled_cnt_12m)


@feature(
    family="aging", unit="months of sales", window="3m", monotone=0,
    description="Change of the open balance over the last 3 months, in months of sales (12-month average): "
    "a balance growing faster than sales is being financed by the seller",
    reason="Open balance grew by {value:.1f} months of sales over the last 3 months",
)
def balance_growth_3m(open_amt: pd.Series, ar_3m_ago: pd.Series, inv_amt_12m: pd.Series) -> pd.Series:
    return _div(open_amt - ar_3m_ago, inv_amt_12m / 12.0)


@feature(
    family="aging", unit="months of sales", window="12m", monotone=0, model=False,
    description="Change of the open balance over the last 12 months, in months of sales (12-month average)",
    reason="Open balance grew by {value:.1f} months of sales over the last 12 months",
)
def balance_growth_12m(open_amt: pd.Series, ar_12m_ago: pd.Series, inv_amt_12m: pd.Series) -> pd.Series:
    return _div(open_amt - ar_12m_ago, inv_amt_12m / 12.0)


# -------------------------------------------------------------------------------------- partial payments
@feature(
    family="partial", unit="share", window="12m", monotone=1,
    description="Share of invoices settled in the last 12 months that took more than one payment",
    reason="{value:.0%} of invoices settled in the last 12 months were paid in instalments",
)
def multi_payment_share_12m(multi_pay_cnt_12m: pd.Series, settled_cnt_12m: pd.Series) -> pd.Series:
    return _div(multi_pay_cnt_12m, settled_cnt_12m)


@feature(
    family="partial", unit="share", window="3m", monotone=1,
    description="Share of invoices settled in the last 3 months that took more than one payment",
    reason="{value:.0%} of invoices settled in the last 3 months were paid in instalments",
    missing="No invoice settled in the last 3 months",
    comparison=("multi_payment_share_12m", "over 12 months"),
)
def multi_payment_share_3m(multi_pay_cnt_3m: pd.Series, settled_cnt_3m: pd.Series) -> pd.Series:
    return _div(multi_pay_cnt_3m, settled_cnt_3m)


@feature(
    family="partial", unit="share", window="3m vs 12m", monotone=1,
    description="Growth of partial payments: the share of invoices settled in instalments over the last 3 "
    "months minus that share over 12 months (positive = paying in pieces more often than it used to)",
    reason="Paying in instalments more often: {multi_payment_share_3m:.0%} of invoices settled in the last 3 "
    "months against {multi_payment_share_12m:.0%} over 12 months",
    missing="No invoice settled in the last 3 months",
)
def partial_payment_growth(multi_payment_share_3m: pd.Series, multi_payment_share_12m: pd.Series) -> pd.Series:
    return multi_payment_share_3m - multi_payment_share_12m


@feature(
    family="partial", unit="days", window="as of", monotone=1,
    description="Days since the customer last settled an invoice in full by a single payment (NaN: never)",
    reason="Last invoice paid in full in one payment {value:.0f} days ago",
    missing="No invoice paid in full in one payment yet",
)
def days_since_full_payment(last_full_single_day: pd.Series, as_of_day: pd.Series) -> pd.Series:
    return (as_of_day - last_full_single_day).astype("float64")


@feature(
    family="partial", unit="share", window="12m", monotone=1,
    description="Share of invoices closed in the last 12 months with cash below the invoiced amount "
    "(the rest credited, deducted or written off)",
    reason="{value:.0%} of invoices closed in the last 12 months were paid short",
)
def short_paid_share_12m(short_paid_cnt_12m: pd.Series, settled_cnt_12m: pd.Series) -> pd.Series:
    return _div(short_paid_cnt_12m, settled_cnt_12m)


@feature(
    family="partial", unit="share", window="3m", monotone=-1,
    description="Share of the amount of invoices that fell due in the last 3 months that is paid or credited by the as-of date",
    reason="Only {value:.0%} of the amount that fell due in the last 3 months has been paid",
)
def paid_share_due_3m(open_due_3m: pd.Series, due_amt_3m: pd.Series) -> pd.Series:
    return (1.0 - _div(open_due_3m, due_amt_3m)).clip(lower=0.0)


# -------------------------------------------------------------------------------------- lateness history
@feature(
    family="lateness", unit="invoices", window="12m", monotone=1,
    description="Number of invoices settled in the last 12 months that were settled after their due date",
    reason="{value:.0f} invoices settled late in the last 12 months",
)
def late_paid_count_12m(late_cnt_12m: pd.Series) -> pd.Series:
    return late_cnt_12m.astype("float64")


@feature(
    family="lateness", unit="share", window="12m", monotone=1,
    description="Share of invoices settled in the last 12 months that were settled late",
    reason="{value:.0%} of invoices settled in the last 12 months were late",
    missing="No invoice settled in the last 12 months",
)
def late_paid_share_12m(late_cnt_12m: pd.Series, settled_cnt_12m: pd.Series) -> pd.Series:
    return _div(late_cnt_12m, settled_cnt_12m)


@feature(
    family="lateness", unit="share", window="3m", monotone=1,
    description="Share of invoices settled in the last 3 months that were settled late",
    reason="{value:.0%} of invoices settled in the last 3 months were late",
    missing="No invoice settled in the last 3 months",
    comparison=("late_paid_share_12m", "over 12 months"),
)
def late_paid_share_3m(late_cnt_3m: pd.Series, settled_cnt_3m: pd.Series) -> pd.Series:
    return _div(late_cnt_3m, settled_cnt_3m)


@feature(
    family="lateness", unit="share", window="12m", monotone=1,
    description="Share of the amount settled in the last 12 months that was settled late",
    reason="{value:.0%} of the amount settled in the last 12 months was paid late",
    missing="No invoice settled in the last 12 months",
)
def late_amount_share_12m(late_amt_12m: pd.Series, settled_amt_12m: pd.Series) -> pd.Series:
    return _div(late_amt_12m, settled_amt_12m)


@feature(
    family="lateness", unit="days", window="12m", monotone=1,
    description="Average days late of the invoices settled late in the last 12 months",
    reason="Late invoices were settled on average {value:.0f} days after the due date",
    missing="No invoice settled late in the last 12 months",
)
def late_days_avg_12m(late_days_sum_12m: pd.Series, late_cnt_12m: pd.Series) -> pd.Series:
    return _div(late_days_sum_12m, late_cnt_12m)


@feature(
    family="lateness", unit="share", window="as of", monotone=1,
    description="Share of the open invoices that are past due",
    reason="{value:.0%} of open invoices are past due",
)
def open_late_share(past_due_cnt: pd.Series, open_cnt: pd.Series) -> pd.Series:
    return _div(past_due_cnt, open_cnt)


@feature(
    family="lateness", unit="days", window="as of", monotone=1,
    description="Average days past due of the open invoices that are past due",
    reason="Past-due invoices are on average {value:.0f} days past due",
)
def open_late_days_avg(past_due_dpd_sum: pd.Series, past_due_cnt: pd.Series) -> pd.Series:
    return _div(past_due_dpd_sum, past_due_cnt)


# ------------------------------------------------------------------------------------------------- aging
@feature(
    family="aging", unit="amount", window="as of", monotone=0,
    description="Open receivables: invoiced amount not yet paid, credited or written off",
    reason="Open balance {value:,.0f}",
)
def open_balance(open_amt: pd.Series) -> pd.Series:
    return open_amt


def _aging_bucket(bucket: str, label: str, monotone: Literal[-1, 0, 1]) -> None:
    @feature(
        name=f"aging_{bucket}_amount", family="aging", unit="amount", window="as of", monotone=0, model=False,
        description=f"Open amount {label}", reason=f"{{value:,.0f}} open {label}",
        inputs=(f"aging_{bucket}_amt",),
    )
    def _amt(amt: pd.Series) -> pd.Series:
        return amt

    @feature(
        name=f"aging_{bucket}_share", family="aging", unit="share", window="as of", monotone=monotone,
        description=f"Share of the open balance {label}",
        # a low current share is the adverse case: say so ("only"), the past-due share says the rest
        reason=(f"Only {{value:.0%}} of the open balance is {label}" if bucket == "current"
                else f"{{value:.0%}} of the open balance is {label}"),
        adverse=-1 if bucket == "current" else 0,
        inputs=(f"aging_{bucket}_amt", "open_amt"),
    )
    def _share(amt: pd.Series, open_amt: pd.Series) -> pd.Series:
        return _div(amt, open_amt)


_BUCKETS: tuple[tuple[str, str, Literal[-1, 0, 1]], ...] = (
    ("current", "not yet due", 0),
    ("1_30", "1-30 days past due", 1),
    ("31_60", "31-60 days past due", 1),
    ("61_90", "61-90 days past due", 1),
    ("90p", "more than 90 days past due", 1),
)
for _b, _label, _m in _BUCKETS:
    _aging_bucket(_b, _label, _m)


@feature(
    family="aging", unit="share", window="as of", monotone=1,
    description="Share of the open balance that is past due",
    reason="{value:.0%} of the open balance is past due",
)
def past_due_share(past_due_amt: pd.Series, open_amt: pd.Series) -> pd.Series:
    return _div(past_due_amt, open_amt)


@feature(
    family="aging", unit="amount", window="as of", monotone=0, model=False,
    description="Open amount past due",
    reason="{value:,.0f} past due",
)
def past_due_amount(past_due_amt: pd.Series) -> pd.Series:
    return past_due_amt


@feature(
    family="aging", unit="days", window="as of", monotone=1,
    description="Days past due of the oldest open item (0 when nothing is past due)",
    reason="Oldest open invoice is {value:.0f} days past due",
)
def oldest_dpd(oldest_open_dpd: pd.Series) -> pd.Series:
    return oldest_open_dpd.fillna(0.0).clip(lower=0.0)


@feature(
    family="aging", unit="invoices", window="as of", monotone=1,
    description="Number of open invoices past due",
    reason="{value:.0f} invoices past due",
)
def past_due_count(past_due_cnt: pd.Series) -> pd.Series:
    return past_due_cnt.astype("float64")


@feature(
    family="aging", unit="amount", window="as of", monotone=0, model=False,
    description="Open amount past due on invoices not under dispute (what an order hold may ask for)",
    reason="{value:,.0f} past due and not disputed",
)
def undisputed_past_due_amount(undisputed_past_due_amt: pd.Series) -> pd.Series:
    return undisputed_past_due_amt


@feature(
    family="aging", unit="days", window="as of", monotone=0, model=False,
    description="Days past due of the oldest open invoice not under dispute (0 when none is past due)",
    reason="Oldest undisputed open invoice is {value:.0f} days past due",
)
def undisputed_oldest_dpd(undisputed_oldest_open_dpd: pd.Series) -> pd.Series:
    return undisputed_oldest_open_dpd.fillna(0.0).clip(lower=0.0)


# -------------------------------------------------------------------------------------- exposure and limit
@feature(
    family="exposure", unit="amount", window="as of", monotone=0, model=False,
    description="Open sales orders not yet invoiced",
    reason="{value:,.0f} in open orders",
)
def open_orders_amount(open_orders_amt: pd.Series) -> pd.Series:
    return open_orders_amt


@feature(
    family="exposure", unit="amount", window="as of", monotone=0, model=False,
    description="Exposure: open receivables plus open orders",
    reason="Exposure {value:,.0f}",
)
def exposure(open_amt: pd.Series, open_orders_amt: pd.Series) -> pd.Series:
    return open_amt + open_orders_amt


@feature(
    family="exposure", unit="amount", window="as of", monotone=0, model=False,
    description="Credit limit from the customer master (NaN = no limit set)",
    reason="Credit limit {value:,.0f}",
)
def credit_limit(credit_limit_value: pd.Series) -> pd.Series:
    return credit_limit_value


@feature(
    family="exposure", unit="flag", window="", monotone=0, kind="flag",
    description="1 when the customer master holds no credit limit for the customer",
    reason="No credit limit has been set",
    adverse=1,
)
def no_credit_limit(credit_limit_value: pd.Series) -> pd.Series:
    return credit_limit_value.isna().astype("float64")


@feature(
    family="exposure", unit="share", window="as of", monotone=1,
    description="Utilisation: exposure (open receivables + open orders) over the credit limit",
    reason="Exposure is {value:.0%} of the credit limit",
    missing="No credit limit on file to measure the exposure against",
)
def utilisation(exposure: pd.Series, credit_limit_value: pd.Series) -> pd.Series:
    return _div(exposure, credit_limit_value)


@feature(
    family="exposure", unit="amount", window="12m", monotone=0, model=False,
    description="Highest open receivables balance over the last 12 months",
    reason="Open balance peaked at {value:,.0f} in the last 12 months",
)
def exposure_hwm_12m(ar_hwm_12m: pd.Series) -> pd.Series:
    return ar_hwm_12m


@feature(
    family="exposure", unit="share", window="12m", monotone=1,
    description="12-month high-water mark of open receivables over the credit limit",
    reason="Open balance reached {value:.0%} of the credit limit in the last 12 months",
    missing="No credit limit on file to measure the open balance against",
)
def utilisation_hwm_12m(ar_hwm_12m: pd.Series, credit_limit_value: pd.Series) -> pd.Series:
    return _div(ar_hwm_12m, credit_limit_value)


@feature(
    family="exposure", unit="share", window="1m", monotone=0, model=False,
    description="The lower of utilisation at the as-of date and open receivables over the limit at the previous "
    "month end (over 1 = over the limit for two month ends running)",
    reason="Over the credit limit two month ends running ({value:.0%})",
)
def utilisation_sustained_2m(exposure: pd.Series, ar_prev_month_end: pd.Series,
                             credit_limit_value: pd.Series) -> pd.Series:
    return np.fmin(_div(exposure, credit_limit_value), _div(ar_prev_month_end, credit_limit_value))


@feature(
    family="exposure", unit="amount", window="as of", monotone=0, model=False,
    description="Credit insurance limit from the customer master (NaN = not insured)",
    reason="Insured up to {value:,.0f}",
)
def insured_limit(insured_limit_value: pd.Series) -> pd.Series:
    return insured_limit_value


@feature(
    family="exposure", unit="days", window="as of", monotone=0, model=False,
    description="Days of credit insurance cover left after the as-of date (negative: expired; NaN: none on file)",
    reason="Insurance cover runs {value:.0f} more days",
)
def insurance_days_left(insurance_expiry_day: pd.Series, as_of_day: pd.Series) -> pd.Series:
    return (insurance_expiry_day - as_of_day).astype("float64")


# ------------------------------------------------------------------------- disputes, credits, unapplied cash
@feature(
    family="disputes", unit="share", window="12m", monotone=0,
    description="Disputes raised in the last 12 months over invoices issued in the last 12 months",
    reason="{value:.0%} of recent invoices were disputed",
    adverse=1,
)
def dispute_share_12m(dispute_cnt_12m: pd.Series, inv_cnt_12m: pd.Series) -> pd.Series:
    return _div(dispute_cnt_12m, inv_cnt_12m).clip(upper=1.0)


@feature(
    family="disputes", unit="share", window="as of", monotone=0,
    description="Share of the open balance under dispute",
    reason="{value:.0%} of the open balance is disputed",
    adverse=1,
)
def disputed_open_share(disputed_open_amt: pd.Series, open_amt: pd.Series) -> pd.Series:
    return _div(disputed_open_amt, open_amt)


@feature(
    family="disputes", unit="share", window="12m", monotone=0,
    description="Credit notes in the last 12 months over the amount invoiced in the last 12 months",
    reason="Credit notes equal to {value:.1%} of sales in the last 12 months",
    adverse=1,
)
def credit_note_share_12m(credit_note_amt_12m: pd.Series, inv_amt_12m: pd.Series) -> pd.Series:
    return _div(credit_note_amt_12m, inv_amt_12m)


@feature(
    family="disputes", unit="share", window="12m", monotone=0,
    description="Deductions taken in the last 12 months over the amount invoiced in the last 12 months",
    reason="Deductions equal to {value:.1%} of sales in the last 12 months",
    adverse=1,
)
def deduction_share_12m(deduction_amt_12m: pd.Series, inv_amt_12m: pd.Series) -> pd.Series:
    return _div(deduction_amt_12m, inv_amt_12m)


@feature(
    family="disputes", unit="amount", window="12m", monotone=1,
    description="Amount written off in the last 12 months",
    reason="{value:,.0f} written off in the last 12 months",
)
def write_off_amount_12m(write_off_amt_12m: pd.Series) -> pd.Series:
    return write_off_amt_12m


@feature(
    family="disputes", unit="amount", window="12m", monotone=0,
    description="Cash received in the last 12 months not applied to any invoice",
    reason="{value:,.0f} of cash received is unapplied",
    adverse=1,
)
def unapplied_cash_12m(unapplied_amt_12m: pd.Series) -> pd.Series:
    return unapplied_amt_12m


@feature(
    family="disputes", unit="days", window="12m", monotone=0,
    description="Age in days of the oldest unapplied payment of the last 12 months (NaN: none)",
    reason="Unapplied cash has been waiting {value:.0f} days",
    adverse=1,
)
def unapplied_cash_age_days(unapplied_min_day_12m: pd.Series, as_of_day: pd.Series) -> pd.Series:
    return (as_of_day - unapplied_min_day_12m).astype("float64")


# -------------------------------------------------------------------------------- volume and relationship
@feature(
    family="volume", unit="amount per month", window="3m", monotone=0,
    description="Average monthly amount invoiced over the last 3 months",
    reason="Sales of {value:,.0f} a month over the last 3 months",
    comparison=("sales_avg_12m", "a month over 12 months"),
)
def sales_avg_3m(inv_amt_3m: pd.Series) -> pd.Series:
    return inv_amt_3m / 3.0


@feature(
    family="volume", unit="amount per month", window="12m", monotone=0,
    description="Average monthly amount invoiced over the last 12 months",
    reason="Sales of {value:,.0f} a month over the last 12 months",
)
def sales_avg_12m(inv_amt_12m: pd.Series) -> pd.Series:
    return inv_amt_12m / 12.0


@feature(
    family="volume", unit="share per month", window="12m", monotone=-1,
    description="Slope of monthly sales over the last 12 months relative to their average (least squares)",
    reason="Sales changing by {value:+.0%} a month over the last 12 months",
)
def sales_trend_12m(sales_slope_12m: pd.Series, inv_amt_12m: pd.Series) -> pd.Series:
    return _div(sales_slope_12m, inv_amt_12m / 12.0)


@feature(
    family="volume", unit="ratio", window="3m/12m", monotone=-1,
    description="Monthly sales of the last 3 months over monthly sales of the last 12 months",
    reason="Sales of the last 3 months are {value:.0%} of the 12-month level",
)
def sales_ratio_3m_12m(sales_avg_3m: pd.Series, sales_avg_12m: pd.Series) -> pd.Series:
    return _div(sales_avg_3m, sales_avg_12m)


@feature(
    family="volume", unit="invoices", window="12m", monotone=0,
    description="Number of invoices issued in the last 12 months",
    reason="{value:.0f} invoices in the last 12 months",
    adverse=-1,
)
def invoice_count_12m(inv_cnt_12m: pd.Series) -> pd.Series:
    return inv_cnt_12m.astype("float64")


@feature(
    family="volume", unit="months", window="12m", monotone=0,
    description="Months of the last 12 with at least one invoice (purchase frequency)",
    reason="Bought in {value:.0f} of the last 12 months",
    adverse=-1,
)
def active_months_12m(active_months_12m: pd.Series) -> pd.Series:
    return active_months_12m.astype("float64")


@feature(
    family="volume", unit="days", window="as of", monotone=0,
    description="Days since the last invoice (NaN: never invoiced)",
    reason="Last purchase {value:.0f} days ago",
    adverse=1, missing="Never invoiced",
)
def days_since_last_invoice(last_inv_day: pd.Series, as_of_day: pd.Series) -> pd.Series:
    return (as_of_day - last_inv_day).astype("float64")


@feature(
    family="volume", unit="days", window="as of", monotone=1,
    description="Days since the last payment received (NaN: never paid)",
    reason="Last payment received {value:.0f} days ago",
    missing="No payment received yet",
)
def days_since_last_payment(last_pay_day: pd.Series, as_of_day: pd.Series) -> pd.Series:
    return (as_of_day - last_pay_day).astype("float64")


@feature(
    family="volume", unit="months", window="as of", monotone=-1,
    description="Months since the relationship started (onboarding date, else first invoice)",
    reason="Customer for {value:.0f} months",
)
def tenure_months(start_day: pd.Series, as_of_day: pd.Series) -> pd.Series:
    return ((as_of_day - start_day) / DAYS_PER_MONTH).clip(lower=0.0).astype("float64")


@feature(
    family="volume", unit="months", window="as of", monotone=0, model=False,
    description="Months since the credit limit was last reviewed (onboarding counts as a review; "
    "a review dated after the as-of date is not yet known)",
    reason="Limit last reviewed {value:.0f} months ago",
)
def months_since_review(review_day: pd.Series, start_day: pd.Series, as_of_day: pd.Series) -> pd.Series:
    known = review_day.where(review_day <= as_of_day, start_day)
    return ((as_of_day - known) / DAYS_PER_MONTH).clip(lower=0.0).astype("float64")


@feature(
    family="volume", unit="days", window="", monotone=0,
    description="Agreed payment terms in days",
    reason="Payment terms of {value:.0f} days",
)
def payment_terms_days(payment_terms: pd.Series) -> pd.Series:
    return payment_terms.astype("float64")


# ------------------------------------------------------------------------------------------------ history
# The two "all history" counts below grow with how far back the ledger goes, not only with the customer's
# history: training snapshots (early month ends) see shorter ledgers than scoring does, so the model would
# score them outside their training range. They feed the thin-file rule, personas and reports instead.
@feature(
    family="history", unit="invoices", window="all", monotone=0, model=False,
    description="Number of invoices issued up to the as-of date (in the ledger supplied)",
    reason="{value:.0f} invoices on record",
    adverse=-1,
)
def invoices_total(inv_cnt_total: pd.Series) -> pd.Series:
    return inv_cnt_total.astype("float64")


@feature(
    family="history", unit="invoices", window="12m", monotone=0,
    description="Number of invoices settled in the last 12 months (the evidence behind the DBT and lateness figures)",
    reason="Only {value:.0f} invoices settled in the last 12 months",
    adverse=-1,
)
def paid_invoices_12m(settled_cnt_12m: pd.Series) -> pd.Series:
    return settled_cnt_12m.astype("float64")


@feature(
    family="history", unit="flag", window="all", monotone=0, kind="flag",
    description="1 when no payment has been received yet (no payment history: a thin file)",
    reason="No payment history yet",
    adverse=1,
)
def no_payment_history(pay_cnt_total: pd.Series) -> pd.Series:
    return (pay_cnt_total == 0).astype("float64")


@feature(
    family="history", unit="months", window="all", monotone=0, model=False,
    description="Months since the first invoice in the ledger supplied (NaN: never invoiced)",
    reason="{value:.0f} months of invoice history",
    adverse=-1, missing="Never invoiced",
)
def history_months(first_inv_day: pd.Series, as_of_day: pd.Series) -> pd.Series:
    return ((as_of_day - first_inv_day) / DAYS_PER_MONTH).astype("float64")


__all__ = ["DAYS_PER_MONTH", "np"]
