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
   ``thin_file_starter_limit`` and ``thin_file_max_limit``. The sizing never *cuts* an existing thin-file
   limit: it rests on a few months of sales (a new customer is still ramping up), while the existing
   limit was set by a person at onboarding, usually on outside data. Thin files can be increased (up to
   the maximum), set when there is no limit, or revoked by grade; ``thin_file_cut_existing`` lets the
   sizing cut them too.
5. **Round** to the nearest ``round_to``, never above the cap (then rounded down); a positive limit
   rounds to at least one ``round_to`` when the cap allows it.
6. **Hysteresis**: when ``|suggested - current| < min_change_pct x current`` the current limit is kept.
7. **Revoke** (limit 0, cash in advance) for grades at or beyond ``revoke_grade``, for habitual
   debtors (``late_paid_share_12m >= habitual_late_share`` and ``dbt_avg_12m >= habitual_dbt_days`` on at
   least ``habitual_min_invoices`` invoices settled in the last 12 months) and where the break-even cap
   is 0 (no limit pays for itself; not applied to thin files, whose PD rests on little evidence).

A customer with no sales in the basis window (dormant, not thin file) has nothing to size a limit on:
its current limit is kept. A customer that could not be scored keeps its current limit.

**No limit on file** (``credit_limit`` missing) is not a limit of 0: the ERP runs no credit check on the
customer, who buys on open terms without a ceiling. Any limit riskml suggests *adds* a control rather than
extending credit, so the action is ``set`` (not ``increase``), ``limit_change`` is empty (there is no
limit to change from) and the rationale says so; the review rules flag the customer (see
:mod:`riskml.scoring.actions`). Worst grades and habitual debtors are still ``revoke``. A limit of 0 *is*
a limit (cash in advance): a positive suggestion against it is an ``increase``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from riskml.config import Grade, LimitPolicy
from riskml.scoring.grades import grade_positions

# "set": the customer master holds no limit (the customer trades on open terms without a ceiling) and the
# policy suggests one to set; see the module docstring
ACTIONS = ("increase", "keep", "decrease", "revoke", "set")

# feature columns the limit policy reads
LIMIT_COLUMNS = (
    "sales_avg_3m", "sales_avg_12m", "payment_terms_days", "credit_limit",
    "late_paid_share_12m", "dbt_avg_12m", "paid_invoices_12m",
)


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(frame[col], errors="coerce").to_numpy("float64")


def _money(x: float) -> str:
    return f"{x:,.0f}"


def _frame(cols: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    """A frame of policy columns; texts stay Python objects (no string-dtype inference per block)."""
    return pd.DataFrame({c: pd.Series(v, index=index, dtype=object if np.asarray(v).dtype == object else None)
                         for c, v in cols.items()})


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
    minus current; empty when no limit is on file), ``action`` (one of :data:`ACTIONS`), ``revoked``
    (bool), ``revoke_reason`` and ``limit_rationale`` (the computation in words)."""
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
    mult_of = {g.grade: float(policy.grade_multiplier.get(g.grade, 1.0)) for g in master_scale}
    mult = pd.Series(grades, dtype=object).map(mult_of).fillna(1.0).to_numpy("float64") if n else np.zeros(0)
    scaled = need_ * mult
    cap = break_even_cap(p, sales, need_, policy)
    capped = np.minimum(scaled, cap)
    cap_binds = cap < scaled
    thin_lo, thin_hi = policy.thin_file_starter_limit, policy.thin_file_max_limit
    limit = np.where(thin, np.clip(capped, thin_lo, thin_hi), capped)
    upper = np.where(thin, thin_hi, cap)
    rounded = round_limit(limit, upper, policy.round_to)
    # thin file: sizing on a few months of sales does not cut a limit a person set
    thin_kept = thin & has_current & (rounded < current0) & (not policy.thin_file_cut_existing)
    sized = np.where(thin_kept, current0, rounded)

    dormant = ok & ~thin & (sales <= 0)
    suggested = np.where(dormant, current, sized)

    # hysteresis: small changes against an existing limit are not worth a review
    with np.errstate(all="ignore"):
        rel = np.where(current0 > 0, (sized - current0) / current0, 0.0)
    small = has_current & (current0 > 0) & ~dormant & (np.abs(sized - current0) < policy.min_change_pct * current0)
    suggested = np.where(small, current0, suggested)

    # revoke: worst grades, habitual debtors, and customers no limit pays for
    pos = grade_positions(grades, master_scale)
    revoke_pos = [g.grade for g in master_scale].index(policy.revoke_grade)
    by_grade = ok & (pos >= revoke_pos)
    habitual = ok & habitual_debtors(frame, policy)
    unprofitable = ok & ~thin & ~dormant & (need_ > 0) & (cap <= 0)
    revoked = by_grade | habitual | unprofitable
    suggested = np.where(revoked, 0.0, suggested)
    suggested = np.where(ok, suggested, current)

    change = suggested - current  # NaN when no limit is on file
    action = np.where(change > 0, "increase", np.where(change < 0, "decrease", "keep")).astype(object)
    action[ok & ~has_current & ~dormant & (suggested > 0)] = "set"
    action[revoked] = "revoke"
    change = np.where(ok | has_current, change, np.nan)
    change = np.where(~ok & has_current, 0.0, change)

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

    rationale = _rationale(policy, ok, revoked, revoke_reason, dormant, has_current, current0, terms, sales, need_,
                           mult, grades, scaled, cap, cap_binds, p, thin, thin_kept, rounded, small, rel, suggested)
    return _frame(
        {
            "current_limit": current,
            "suggested_limit": suggested,
            "limit_change": change,
            "action": action,
            "revoked": revoked,
            "revoke_reason": revoke_reason,
            "limit_rationale": rationale,
        },
        frame.index,
    )


def _amounts(x: np.ndarray) -> np.ndarray:
    """Amounts as text with thousands separators (object array), one format per distinct value."""
    r = np.round(np.asarray(x, dtype="float64"))
    uniq, inv = np.unique(r, return_inverse=True)
    return np.array([f"{u:,.0f}" for u in uniq.tolist()], dtype=object)[inv.reshape(-1)]


def _cat(*parts: object) -> np.ndarray:
    """Element-wise concatenation of object arrays and strings."""
    out = parts[0] if isinstance(parts[0], np.ndarray) else np.asarray(parts[0], dtype=object)
    for p in parts[1:]:
        out = out + p
    return out


def _rationale(policy: LimitPolicy, ok, revoked, revoke_reason, dormant, has_current, current0, terms, sales, need_,
               mult, grades, scaled, cap, cap_binds, p, thin, thin_kept, rounded, small, rel, suggested) -> np.ndarray:
    """The limit computation in words, one text per row, built piece by piece over whole arrays."""
    n = len(ok)
    out = np.empty(n, dtype=object)
    out[~ok] = "not scored: current limit left as is"
    out[ok & revoked] = [f"revoke (cash in advance): {r}" for r in revoke_reason[ok & revoked]]
    dorm = ok & ~revoked & dormant
    out[dorm & has_current] = (f"no sales over the {policy.sales_basis} basis: nothing to size a limit on; "
                               "current limit left as is")
    out[dorm & ~has_current] = (f"no sales over the {policy.sales_basis} basis: nothing to size a limit on; "
                                "no limit on file, none suggested")
    i = np.flatnonzero(ok & ~revoked & ~dormant)
    if not len(i):
        return out
    g = policy.grace_days
    t = terms[i]
    terms_txt = np.where(np.isfinite(t), _amounts(np.nan_to_num(t)), "terms unknown").astype(object)
    mult_txt = np.array([f"{m:g}" for m in mult[i].tolist()], dtype=object)
    text = _cat("need ", _amounts(need_[i]), " = sales ", _amounts(sales[i]), "/month x (", terms_txt,
                f" + {g}) days / 30; x", mult_txt, " for grade ", grades[i].astype(str).astype(object), " = ",
                _amounts(scaled[i]))
    binds = cap_binds[i]
    if binds.any():
        j = np.flatnonzero(binds)
        pd_txt = np.array([f"{x:.1%}" for x in p[i][j].tolist()], dtype=object)
        text[j] = _cat(text[j], "; capped at break-even ", _amounts(cap[i][j]), " (expected loss PD ", pd_txt,
                       f" x LGD {policy.lgd:.0%} = expected margin on {policy.margin_horizon_months:g} months of sales)")
    th = thin[i]
    text[th] = text[th] + (f"; thin file: kept between {_money(policy.thin_file_starter_limit)} and "
                           f"{_money(policy.thin_file_max_limit)}")
    text = _cat(text, f"; rounded to {_money(policy.round_to)}: ", _amounts(rounded[i]))
    cur_txt = _amounts(current0[i])
    rel_txt = np.array([f"{x:+.0%}" for x in np.nan_to_num(rel[i]).tolist()], dtype=object)
    kept, sm, has, pos = thin_kept[i], small[i] & ~thin_kept[i], has_current[i], current0[i] > 0
    tail = np.full(len(i), "; current limit 0 (cash in advance)", dtype=object)
    tail[has & pos] = _cat("; ", rel_txt[has & pos], " vs current ", cur_txt[has & pos])
    no_lim = ~has
    positive = suggested[i] > 0
    tail[no_lim & positive] = _cat("; no limit on file (open terms without a ceiling): set ",
                                   _amounts(suggested[i][no_lim & positive]))
    tail[no_lim & ~positive] = "; no limit on file, none suggested"
    tail[sm] = _cat("; change ", rel_txt[sm], f" is below {policy.min_change_pct:.0%} of the current limit ", cur_txt[sm],
                    ": kept")
    tail[kept] = _cat("; thin file: the current limit ", cur_txt[kept], " is not cut on so little history: kept")
    out[i] = text + tail
    return out
