"""Order holds and limit reviews: which customers need a person, and why.

**Order hold** (``order_hold``, ``hold_reason``), any of:

- the oldest open invoice is more than ``hold_past_due_days`` days past due;
- exposure (open receivables plus open orders) exceeds the *current* limit by more than
  ``hold_over_limit_pct`` (customers with no limit set are not checked);
- the suggested action is ``revoke`` (cash in advance until a credit manager decides otherwise).

**Review due** (``review_due``, ``review_reason``), any of:

- the limit was not reviewed for ``review_months`` months (onboarding counts as a review);
- the grade moved ``review_grade_notches`` or more notches, either way, since the previous score;
- DBT jumped: the 3-month DBT is ``review_dbt_jump_days`` or more above the previous score's 3-month DBT
  (when the previous run's figures are known) or above the customer's own 12-month DBT;
- the 12-month high-water mark of open receivables exceeded ``review_utilisation`` x the current limit;
- the customer could not be scored (a person has to look at it).

Reasons are joined with ``"; "``; an empty string means no hold / no review.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from riskml.config import ActionPolicy, Grade
from riskml.scoring.grades import notches

HOLD_COLUMNS = ("oldest_dpd", "exposure", "open_orders_amount", "credit_limit")
REVIEW_COLUMNS = ("months_since_review", "dbt_avg_3m", "dbt_avg_12m", "exposure_hwm_12m", "credit_limit")


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(frame[col], errors="coerce").to_numpy("float64")


def _join(parts: list[np.ndarray], n: int) -> np.ndarray:
    """Row-wise ``"; "``-join of object arrays of texts (empty texts skipped)."""
    out = np.full(n, "", dtype=object)
    for texts in parts:
        has = texts != ""
        both = has & (out != "")
        out = np.where(both, out + "; " + texts, np.where(has, texts, out))
    return out


def _texts(mask: np.ndarray, fmt, *cols: np.ndarray) -> np.ndarray:
    out = np.full(len(mask), "", dtype=object)
    for i in np.flatnonzero(mask):
        out[i] = fmt(*(c[i] for c in cols))
    return out


def order_holds(
    frame: pd.DataFrame, revoked: np.ndarray, revoke_reason: np.ndarray, policy: ActionPolicy
) -> pd.DataFrame:
    """``order_hold`` and ``hold_reason`` for every row of ``frame`` (which holds :data:`HOLD_COLUMNS`)."""
    n = len(frame)
    dpd = _num(frame, "oldest_dpd")
    exposure = np.nan_to_num(_num(frame, "exposure"), nan=0.0)
    orders = np.nan_to_num(_num(frame, "open_orders_amount"), nan=0.0)
    limit = _num(frame, "credit_limit")
    revoked = np.asarray(revoked, dtype=bool)
    with np.errstate(invalid="ignore"):
        past_due = dpd > policy.hold_past_due_days
        over = np.isfinite(limit) & (exposure > limit * (1.0 + policy.hold_over_limit_pct))
    t_past = _texts(past_due, lambda d: f"oldest open invoice {d:.0f} days past due "
                    f"(tolerance {policy.hold_past_due_days} days)", dpd)
    t_over = _texts(over, lambda e, o, lim: f"exposure {e:,.0f} (incl. open orders {o:,.0f}) over the limit {lim:,.0f}"
                    + (f" + {policy.hold_over_limit_pct:.0%}" if policy.hold_over_limit_pct else ""),
                    exposure, orders, limit)
    t_rev = _texts(revoked, lambda r: f"credit terms revoked: {r}", np.asarray(revoke_reason, dtype=object))
    reason = _join([t_past, t_over, t_rev], n)
    return pd.DataFrame({"order_hold": past_due | over | revoked, "hold_reason": reason}, index=frame.index)


def reviews_due(
    frame: pd.DataFrame,
    grades: np.ndarray,
    policy: ActionPolicy,
    master_scale: Sequence[Grade],
    previous: pd.DataFrame | None = None,
    scored: np.ndarray | None = None,
    score_error: np.ndarray | None = None,
) -> pd.DataFrame:
    """``review_due`` and ``review_reason`` for every row of ``frame`` (holding ``customer_id`` and
    :data:`REVIEW_COLUMNS`).

    ``previous`` is the last scores output (``customer_id``, ``grade``, optionally ``as_of`` and
    ``dbt_avg_3m``); customers absent from it are compared with nothing."""
    n = len(frame)
    grades = np.asarray(grades, dtype=object)
    scored = np.ones(n, dtype=bool) if scored is None else np.asarray(scored, dtype=bool)
    months = _num(frame, "months_since_review")
    dbt3 = _num(frame, "dbt_avg_3m")
    dbt12 = _num(frame, "dbt_avg_12m")
    hwm = np.nan_to_num(_num(frame, "exposure_hwm_12m"), nan=0.0)
    limit = _num(frame, "credit_limit")
    parts: list[np.ndarray] = []

    with np.errstate(invalid="ignore"):
        stale = months >= policy.review_months
    parts.append(_texts(stale, lambda m: f"limit not reviewed for {m:.0f} months (policy {policy.review_months})", months))

    prev_grade = np.full(n, None, dtype=object)
    prev_dbt = np.full(n, np.nan)
    prev_when = ""
    if previous is not None and len(previous):
        prev = _index_previous(previous)
        ids = frame["customer_id"].astype("str").to_numpy()
        aligned = prev.reindex(ids)
        prev_grade = aligned["grade"].to_numpy(dtype=object)
        if "dbt_avg_3m" in aligned:
            prev_dbt = pd.to_numeric(aligned["dbt_avg_3m"], errors="coerce").to_numpy("float64")
        if "as_of" in prev and prev["as_of"].notna().any():
            prev_when = f" (previous score {pd.Timestamp(prev['as_of'].dropna().max()).date()})"
    moved = notches(prev_grade, grades, master_scale)
    with np.errstate(invalid="ignore"):
        grade_move = scored & (np.abs(moved) >= policy.review_grade_notches)
    parts.append(_texts(grade_move, lambda a, b, m: f"grade moved {int(abs(m))} notches, from {_grade_text(a)} to {b}"
                        f"{prev_when}", prev_grade, grades, moved))

    jump = policy.review_dbt_jump_days
    with np.errstate(invalid="ignore"):
        jump_prev = (dbt3 - prev_dbt) >= jump
        jump_own = ~jump_prev & ((dbt3 - dbt12) >= jump)
    parts.append(_texts(jump_prev, lambda d, q: f"DBT jumped to {d:.0f} days over 3 months from {q:.0f} at the previous score",
                        dbt3, prev_dbt))
    parts.append(_texts(jump_own, lambda d, q: f"DBT jumped to {d:.0f} days over 3 months against {q:.0f} over 12 months",
                        dbt3, dbt12))

    with np.errstate(invalid="ignore"):
        over = np.isfinite(limit) & (limit > 0) & (hwm > policy.review_utilisation * np.where(np.isfinite(limit), limit, 0))
    parts.append(_texts(over, lambda h, lim: f"open balance reached {h / lim:.0%} of the limit in the last 12 months",
                        hwm, limit))

    errors = np.full(n, "", dtype=object) if score_error is None else np.asarray(score_error, dtype=object)
    parts.append(_texts(~scored, lambda e: f"could not be scored: {e}" if e else "could not be scored", errors))
    reason = _join(parts, n)
    return pd.DataFrame({"review_due": reason != "", "review_reason": reason}, index=frame.index)


def _grade_text(g: object) -> str:
    if isinstance(g, float) and g.is_integer():
        return str(int(g))
    return str(g)


def _index_previous(previous: pd.DataFrame) -> pd.DataFrame:
    """The previous scores keyed by customer id as text (one row per customer, the last one wins)."""
    missing = [c for c in ("customer_id", "grade") if c not in previous.columns]
    if missing:
        raise ValueError(f"previous scores must have columns customer_id and grade; missing {missing}")
    prev = previous.copy()
    prev["customer_id"] = prev["customer_id"].astype("str")
    prev = prev.drop_duplicates("customer_id", keep="last").set_index("customer_id")
    return prev
