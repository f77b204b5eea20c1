"""Money on every decision: the expected loss a customer's credit carries and the margin a restriction
puts at risk, so that bad debt can be weighed against lost sales.

- **Segment rates** (:func:`segment_rates`): the LGD and gross margin of each customer, from the first
  matching segment of ``money.segments`` (industry, country, monthly sales band; field by field), else
  the limit policy's ``lgd`` and ``gross_margin``. The break-even cap of the limit policy uses them too.
- **Expected loss** (:func:`expected_loss`): ``PD x LGD x (EAD - insured cover)``. The exposure at
  default ``EAD`` is the larger of the exposure and the suggested limit (``ead_basis: max``: what the
  customer may draw) or the exposure alone (``ead_basis: exposure``; always so for a revoke or the
  collections track, which extend no new credit). Where the customer is insured (customer-master columns
  ``insured_limit``, ``insurance_expiry``), the insurer pays ``cover_share x (min(EAD, insured_limit) -
  deductible)``, provided the cover runs at the as-of date and the oldest undisputed invoice is at most
  ``non_qualifying_overdue_days`` past due (an overdue account not declared in time loses the cover).
- **Margin at risk** (:func:`margin_at_risk`): the margin on the sales a restriction blocks. A hold blocks
  ``soft_hold_blocked_months`` (soft) or ``hard_hold_blocked_months`` (hard, also the collections track)
  of sales; a revoke blocks the sales on terms of the whole horizon; a cut blocks the share of the need the
  new limit no longer covers over the horizon: ``margin x S x H x (min(current, need) - new) / need``.
  A customer with several restrictions counts the largest (they block the same sales).

Worked example (defaults: LGD 60%, margin 20%, horizon 12 months, cover 90%): PD 5%, exposure 40,000,
suggested limit 50,000, insured up to 30,000 -> EAD 50,000, cover 0.9 x 30,000 = 27,000, expected loss
0.05 x 0.6 x 23,000 = 690. The same customer held (soft, sales 20,000 a month): margin at risk
0.2 x 20,000 x 0.5 = 2,000.

Amounts are rounded to cents.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskml.config import LimitPolicy, MoneyPolicy

# optional columns: read when the feature table has them (insurance features; industry / country attached
# from the customer master by riskml score)
OPTIONAL_COLUMNS = ("insured_limit", "insurance_days_left", "industry", "country")


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy("float64")


def _text(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame:
        return np.full(len(frame), None, dtype=object)
    return frame[col].astype("object").where(frame[col].notna(), None).to_numpy(dtype=object)


def cents(x: np.ndarray) -> np.ndarray:
    """Amounts rounded to cents (no ``3787067.1500000004``)."""
    return np.round(np.asarray(x, dtype="float64"), 2)


def segment_rates(frame: pd.DataFrame, sales: np.ndarray, limits: LimitPolicy,
                  money: MoneyPolicy) -> tuple[np.ndarray, np.ndarray]:
    """(LGD, gross margin) per row: the first segment of ``money.segments`` matching the row sets each
    field it gives (industry and country compared as text, case-insensitive; monthly sales in
    ``[min_monthly_sales, max_monthly_sales)``); the rest keep the limit policy's."""
    n = len(frame)
    lgd = np.full(n, np.nan)
    margin = np.full(n, np.nan)
    if money.segments:
        industry = np.array([str(v).lower() if v is not None else None for v in _text(frame, "industry")], dtype=object)
        country = np.array([str(v).lower() if v is not None else None for v in _text(frame, "country")], dtype=object)
        s = np.asarray(sales, dtype="float64")
        for seg in money.segments:
            m = np.ones(n, dtype=bool)
            if seg.industry is not None:
                m &= industry == seg.industry.lower()
            if seg.country is not None:
                m &= country == seg.country.lower()
            if seg.min_monthly_sales is not None:
                m &= s >= seg.min_monthly_sales
            if seg.max_monthly_sales is not None:
                m &= s < seg.max_monthly_sales
            if seg.lgd is not None:
                lgd = np.where(m & np.isnan(lgd), seg.lgd, lgd)
            if seg.gross_margin is not None:
                margin = np.where(m & np.isnan(margin), seg.gross_margin, margin)
    return np.where(np.isnan(lgd), limits.lgd, lgd), np.where(np.isnan(margin), limits.gross_margin, margin)


def insured_cover(frame: pd.DataFrame, ead: np.ndarray, money: MoneyPolicy) -> np.ndarray:
    """What the credit insurer would pay on a default at ``ead`` (0 where not insured or not covered)."""
    ins = money.insurance
    insured = np.nan_to_num(_num(frame, "insured_limit"), nan=0.0)
    days_left = _num(frame, "insurance_days_left")
    dpd_u = np.nan_to_num(_num(frame, "undisputed_oldest_dpd"), nan=0.0)
    with np.errstate(invalid="ignore"):
        runs = ~(days_left < 0)  # no expiry on file: the cover runs
        valid = (insured > 0) & runs & (dpd_u <= ins.non_qualifying_overdue_days)
    cover = ins.cover_share * np.clip(np.minimum(ead, insured) - ins.deductible, 0.0, None)
    return np.where(valid, cover, 0.0)


def exposure_at_default(exposure: np.ndarray, suggested: np.ndarray, action: np.ndarray, money: MoneyPolicy) -> np.ndarray:
    """The exposure at default: see the module docstring."""
    exposure = np.clip(np.nan_to_num(np.asarray(exposure, dtype="float64"), nan=0.0), 0.0, None)
    suggested = np.nan_to_num(np.asarray(suggested, dtype="float64"), nan=0.0)
    no_new_credit = np.isin(np.asarray(action, dtype=object), ["revoke", "collections"])
    if money.ead_basis == "exposure":
        return exposure
    return np.where(no_new_credit, exposure, np.maximum(exposure, suggested))


def expected_loss(pd_values: np.ndarray, lgd: np.ndarray, ead: np.ndarray, cover: np.ndarray) -> np.ndarray:
    """``PD x LGD x max(EAD - cover, 0)`` in cents; NaN where there is no PD."""
    p = np.asarray(pd_values, dtype="float64")
    return cents(p * lgd * np.clip(ead - cover, 0.0, None))


def margin_at_risk(
    action: np.ndarray,
    current: np.ndarray,
    suggested: np.ndarray,
    need_: np.ndarray,
    hold_type: np.ndarray,
    sales: np.ndarray,
    margin: np.ndarray,
    limits: LimitPolicy,
    money: MoneyPolicy,
) -> np.ndarray:
    """The margin on the sales a hold, cut or revoke blocks (see the module docstring), in cents."""
    action = np.asarray(action, dtype=object)
    hold_type = np.asarray(hold_type, dtype=object)
    sales = np.nan_to_num(np.asarray(sales, dtype="float64"), nan=0.0)
    need_ = np.nan_to_num(np.asarray(need_, dtype="float64"), nan=0.0)
    cur = np.nan_to_num(np.asarray(current, dtype="float64"), nan=0.0)
    new = np.nan_to_num(np.asarray(suggested, dtype="float64"), nan=0.0)
    per_month = margin * sales
    h = limits.margin_horizon_months
    hold_months = np.where(hold_type == "hard", money.hard_hold_blocked_months,
                           np.where(hold_type == "soft", money.soft_hold_blocked_months, 0.0))
    on_hold = per_month * hold_months
    revoke = np.where(action == "revoke", per_month * h, 0.0)
    with np.errstate(all="ignore"):
        cut_share = np.where((action == "decrease") & (need_ > 0),
                             np.clip(np.minimum(cur, need_) - new, 0.0, None) / need_, 0.0)
    cut = per_month * h * np.nan_to_num(cut_share)
    return cents(np.maximum.reduce([on_hold, revoke, cut]))


def decision_money(
    frame: pd.DataFrame,
    pd_values: np.ndarray,
    limits: pd.DataFrame,
    holds: pd.DataFrame,
    sales: np.ndarray,
    lgd: np.ndarray,
    margin: np.ndarray,
    limit_policy: LimitPolicy,
    money: MoneyPolicy,
) -> pd.DataFrame:
    """``expected_loss`` and ``margin_at_risk`` of every row, from the limit and hold decisions."""
    action = limits["action"].to_numpy(dtype=object)
    suggested = limits["suggested_limit"].to_numpy("float64")
    exposure = _num(frame, "exposure")
    ead = exposure_at_default(exposure, suggested, action, money)
    cover = insured_cover(frame, ead, money)
    return pd.DataFrame({
        "expected_loss": expected_loss(pd_values, lgd, ead, cover),
        "margin_at_risk": margin_at_risk(action, limits["current_limit"].to_numpy("float64"), suggested,
                                         limits["need"].to_numpy("float64"), holds["hold_type"].to_numpy(dtype=object),
                                         sales, margin, limit_policy, money),
    }, index=frame.index)
