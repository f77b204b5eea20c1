"""The suggested credit limit: size it to the customer's need, scale it by grade, cap it where the
expected loss would eat the expected margin, round it, and leave it alone when the change is small.

The policy, step by step (``docs/scoring.md`` has a worked example):

1. **Need** ``N = S x (T + g) / 30``: monthly sales ``S`` (``sales_basis``: 3-month average, 12-month
   average, or the higher of both), payment terms ``T`` days plus ``grace_days`` ``g``. A customer
   buying ``S`` a month on net ``T`` owes about that much at any time.
2. **Scaled** ``N x multiplier(grade)``: good grades get headroom, poor grades less than their need.
3. **Break-even cap.** A limit ``L`` enables the customer's sales in proportion ``min(L, N) / N``;
   over the horizon of ``H`` months (the PD horizon) those sales earn the margin
   ``M(L) = m x S x H x (1 - PD / 2) x min(L, N) / N`` (a customer who defaults stops buying, on average
   half-way through the horizon), while the limit carries the expected loss ``EL(L) = PD x LGD x L``.
   The cap is the largest ``L`` with ``EL(L) <= M(L)``:

   - if ``PD x LGD x N <= m x S x H x (1 - PD/2)`` (the full need pays for itself), the cap is
     ``L* = m x S x H x (1 - PD / 2) / (PD x LGD)`` (``>= N``: above the need the margin stops growing
     while the expected loss keeps rising, so they cross at ``L*``);
   - otherwise every positive limit loses money (both sides are linear in ``L`` below ``N``) and the
     cap is 0.

   With ``PD = 0`` there is no cap.
4. **Thin file** (too little history to trust the sizing): the limit is kept between
   ``thin_file_starter_limit`` and ``thin_file_max_limit``.
5. **Round** to the nearest ``round_to``, never above the cap (then rounded down); a positive limit
   rounds to at least one ``round_to`` when the cap allows it.
6. **Hysteresis**: when ``|suggested - current| < min_change_pct x current`` the current limit is kept.
7. **Revoke** (limit 0, cash in advance) for grades at or beyond ``revoke_grade``, for habitual
   debtors (``late_paid_share_12m >= habitual_late_share`` and ``dbt_avg_12m >= habitual_dbt_days`` on at
   least ``habitual_min_invoices`` invoices settled in the last 12 months) and where the break-even cap
   is 0 (no limit pays for itself; not applied to thin files, whose PD rests on little evidence).

A customer with no sales in the basis window (dormant, not thin file) has nothing to size a limit on:
its current limit is kept. A customer that could not be scored keeps its current limit. A missing
current limit ("no limit set") counts as 0 for the change and the action.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from riskml.config import Grade, LimitPolicy
from riskml.scoring.grades import grade_positions

ACTIONS = ("increase", "keep", "decrease", "revoke")

# feature columns the limit policy reads
LIMIT_COLUMNS = (
    "sales_avg_3m", "sales_avg_12m", "payment_terms_days", "credit_limit",
    "late_paid_share_12m", "dbt_avg_12m", "paid_invoices_12m",
)


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(frame[col], errors="coerce").to_numpy("float64")


def _money(x: float) -> str:
    return f"{x:,.0f}"


def monthly_sales(frame: pd.DataFrame, basis: str) -> np.ndarray:
    """Monthly sales the need is sized on (missing or not finite = 0)."""
    s3, s12 = _num(frame, "sales_avg_3m"), _num(frame, "sales_avg_12m")
    s3, s12 = np.where(np.isfinite(s3), s3, 0.0), np.where(np.isfinite(s12), s12, 0.0)
    if basis == "3m":
        return s3
    if basis == "12m":
        return s12
    return np.maximum(s3, s12)


def need(sales: np.ndarray, terms_days: np.ndarray, grace_days: float) -> np.ndarray:
    """Credit need ``S x (T + g) / 30``."""
    return sales * (np.nan_to_num(terms_days, nan=0.0) + grace_days) / 30.0


def break_even_cap(pd_: np.ndarray, sales: np.ndarray, need_: np.ndarray, policy: LimitPolicy) -> np.ndarray:
    """Largest limit whose expected loss ``PD x LGD x L`` the expected margin on the enabled sales covers.

    ``inf`` where PD is 0 (or not known); 0 where even the need does not pay for itself."""
    p = np.asarray(pd_, dtype="float64")
    margin = policy.gross_margin * sales * policy.margin_horizon_months * (1.0 - np.clip(p, 0.0, 1.0) / 2.0)
    loss_rate = np.where(np.isfinite(p), p, 0.0) * policy.lgd
    with np.errstate(all="ignore"):
        cap = np.where(loss_rate > 0, margin / loss_rate, np.inf)
    pays = loss_rate * need_ <= margin
    return np.where(pays, cap, 0.0)


def round_limit(x: np.ndarray, upper: np.ndarray, step: float) -> np.ndarray:
    """Nearest multiple of ``step``, never above ``upper`` (then rounded down); positive amounts give at
    least one ``step`` when ``upper`` allows it."""
    r = np.floor(x / step + 0.5) * step
    r = np.where((x > 0) & (r == 0), step, r)
    down = np.floor(np.where(np.isfinite(upper), upper, 0.0) / step) * step
    return np.where(r > upper, down, r)


def habitual_debtors(frame: pd.DataFrame, policy: LimitPolicy) -> np.ndarray:
    """Customers late on most invoices by a wide margin, on enough evidence."""
    late = _num(frame, "late_paid_share_12m")
    dbt = _num(frame, "dbt_avg_12m")
    n = np.nan_to_num(_num(frame, "paid_invoices_12m"), nan=0.0)
    with np.errstate(invalid="ignore"):
        return (late >= policy.habitual_late_share) & (dbt >= policy.habitual_dbt_days) & (n >= policy.habitual_min_invoices)


def suggest_limits(
    frame: pd.DataFrame,
    pd_values: np.ndarray,
    grades: np.ndarray,
    policy: LimitPolicy,
    master_scale: Sequence[Grade],
    thin_file: np.ndarray | None = None,
    scored: np.ndarray | None = None,
) -> pd.DataFrame:
    """The limit policy for every row of ``frame`` (which holds :data:`LIMIT_COLUMNS`).

    Returns, on ``frame``'s index: ``current_limit``, ``suggested_limit``, ``limit_change`` (suggested
    minus current, a missing current limit counting as 0), ``action`` (one of :data:`ACTIONS`),
    ``revoked`` (bool), ``revoke_reason`` and ``limit_rationale`` (the computation in words)."""
    n = len(frame)
    p = np.asarray(pd_values, dtype="float64")
    grades = np.asarray(grades, dtype=object)
    thin = np.zeros(n, dtype=bool) if thin_file is None else np.asarray(thin_file, dtype=bool)
    ok = np.isfinite(p) if scored is None else (np.asarray(scored, dtype=bool) & np.isfinite(p))

    current = _num(frame, "credit_limit")
    has_current = np.isfinite(current)
    current0 = np.where(has_current, current, 0.0)
    terms = _num(frame, "payment_terms_days")
    sales = monthly_sales(frame, policy.sales_basis)
    need_ = need(sales, terms, policy.grace_days)
    mult = np.array([policy.grade_multiplier.get(str(g), 1.0) for g in grades], dtype="float64") if n else np.zeros(0)
    scaled = need_ * mult
    cap = break_even_cap(p, sales, need_, policy)
    capped = np.minimum(scaled, cap)
    cap_binds = cap < scaled
    thin_lo, thin_hi = policy.thin_file_starter_limit, policy.thin_file_max_limit
    limit = np.where(thin, np.clip(capped, thin_lo, thin_hi), capped)
    upper = np.where(thin, thin_hi, cap)
    rounded = round_limit(limit, upper, policy.round_to)

    dormant = ok & ~thin & (sales <= 0)
    suggested = np.where(dormant, current0, rounded)

    # hysteresis: small changes against an existing limit are not worth a review
    with np.errstate(all="ignore"):
        rel = np.where(current0 > 0, (suggested - current0) / current0, np.where(suggested > 0, np.inf, 0.0))
    small = has_current & (current0 > 0) & (np.abs(suggested - current0) < policy.min_change_pct * current0)
    suggested = np.where(small, current0, suggested)

    # revoke: worst grades and habitual debtors
    pos = grade_positions(grades, master_scale)
    revoke_pos = [g.grade for g in master_scale].index(policy.revoke_grade)
    by_grade = ok & (pos >= revoke_pos)
    habitual = ok & habitual_debtors(frame, policy)
    unprofitable = ok & ~thin & ~dormant & (need_ > 0) & (cap <= 0)
    revoked = by_grade | habitual | unprofitable
    suggested = np.where(revoked, 0.0, suggested)
    suggested = np.where(ok, suggested, current0)

    change = suggested - current0
    action = np.where(change > 0, "increase", np.where(change < 0, "decrease", "keep")).astype(object)
    action[revoked] = "revoke"

    late = _num(frame, "late_paid_share_12m")
    dbt12 = _num(frame, "dbt_avg_12m")
    revoke_reason = np.full(n, "", dtype=object)
    for i in np.flatnonzero(revoked):
        parts = []
        if by_grade[i]:
            parts.append(f"grade {grades[i]} is at or beyond the revoke grade {policy.revoke_grade}")
        if habitual[i]:
            parts.append(f"habitual late payer ({late[i]:.0%} of invoices settled late, "
                         f"{dbt12[i]:.0f} days beyond terms over 12 months)")
        if unprofitable[i]:
            parts.append(f"no limit pays for itself: at PD {p[i]:.1%} the expected loss exceeds the expected margin "
                         "on the sales it enables")
        revoke_reason[i] = " and ".join(parts)

    rationale = np.empty(n, dtype=object)
    step = _money(policy.round_to)
    for i in range(n):
        if not ok[i]:
            rationale[i] = "not scored: current limit left as is"
            continue
        if revoked[i]:
            rationale[i] = f"revoke (cash in advance): {revoke_reason[i]}"
            continue
        if dormant[i]:
            rationale[i] = f"no sales over the {policy.sales_basis} basis: nothing to size a limit on; current limit left as is"
            continue
        text = (f"need {_money(need_[i])} = sales {_money(sales[i])}/month x ({terms[i]:.0f} + {policy.grace_days}) days / 30;"
                f" x{mult[i]:g} for grade {grades[i]} = {_money(scaled[i])}")
        if cap_binds[i]:
            text += (f"; capped at break-even {_money(cap[i])} (expected loss PD {p[i]:.1%} x LGD {policy.lgd:.0%}"
                     f" = expected margin on {policy.margin_horizon_months:g} months of sales)")
        if thin[i]:
            text += f"; thin file: kept between {_money(thin_lo)} and {_money(thin_hi)}"
        text += f"; rounded to {step}: {_money(rounded[i])}"
        if small[i]:
            text += (f"; change {rel[i]:+.0%} is below {policy.min_change_pct:.0%} of the current limit"
                     f" {_money(current0[i])}: kept")
        elif not has_current[i]:
            text += "; no current limit"
        else:
            text += f"; {rel[i]:+.0%} vs current {_money(current0[i])}" if current0[i] > 0 else f"; current {_money(0)}"
        rationale[i] = text

    return pd.DataFrame(
        {
            "current_limit": current,
            "suggested_limit": suggested,
            "limit_change": change,
            "action": action,
            "revoked": revoked,
            "revoke_reason": revoke_reason,
            "limit_rationale": rationale,
        },
        index=frame.index,
    )
