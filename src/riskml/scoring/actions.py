"""Order holds and limit reviews: which customers need a person, why, and how urgently.

**Order hold** (``order_hold``, ``hold_reason``, ``hold_codes``), any of:

- ``past_due``: the oldest open invoice is more than ``hold_past_due_days`` days past due;
- ``over_limit``: exposure (open receivables plus open orders) exceeds the *current* limit by more than
  ``hold_over_limit_pct`` -- unless the policy suggests an increase that covers it
  (``release_within_suggested``): then the orders are not held but the review is urgent
  (``limit_pending``), because approving the increase is what releases them. Customers with no limit on
  file have no limit to exceed; their exposure shows in the review (``no_limit_exposed``);
- ``revoked``: the suggested action is ``revoke`` (cash in advance until a credit manager decides otherwise).

**Review due** (``review_due``, ``review_reason``, ``review_codes``, ``review_priority``), any of the
reasons in :data:`REVIEW_CODES`. Each reason has a priority (``ActionPolicy.review_priority``: 1 urgent,
2 soon, 3 routine); a customer's ``review_priority`` is its most urgent reason's (0 when no review is
due), and its reasons are listed most urgent first. A credit team works priority 1, then 2, then 3,
each by exposure.

Reasons are joined with ``"; "`` (codes with ``";"``); an empty string means no hold / no review.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from riskml.config import ActionPolicy, Grade
from riskml.scoring.grades import notches

HOLD_CODES: dict[str, str] = {
    "past_due": "oldest open invoice past due beyond the tolerance",
    "over_limit": "exposure over the current limit beyond the tolerance",
    "revoked": "credit terms revoked (cash in advance)",
}
# every review reason, in the order they are listed within a priority
REVIEW_CODES: dict[str, str] = {
    "not_scored": "the customer could not be scored",
    "grade_down": "grade worsened by review_grade_notches or more since the previous score",
    "dbt_jump": "3-month DBT rose review_dbt_jump_days or more (over the previous score's, or the 12-month DBT)",
    "revoke": "the policy suggests revoking open terms: a credit manager confirms",
    "limit_pending": "exposure over the current limit but within a suggested increase: approving it releases orders",
    "no_limit_exposed": "no limit on file and the exposure already exceeds the suggested limit",
    "grade_up": "grade improved by review_grade_notches or more since the previous score",
    "no_limit": "no limit on file: the customer trades on open terms without a ceiling; set the suggested one",
    "over_utilised": "the 12-month high-water mark of open receivables exceeded review_utilisation x the limit",
    "stale_limit": "the limit was not reviewed for review_months months (onboarding counts as a review)",
}
PRIORITY_NAMES = {1: "urgent", 2: "soon", 3: "routine"}

HOLD_COLUMNS = ("oldest_dpd", "exposure", "open_orders_amount", "credit_limit")
REVIEW_COLUMNS = ("months_since_review", "dbt_avg_3m", "dbt_avg_12m", "exposure_hwm_12m", "exposure", "credit_limit")


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(frame[col], errors="coerce").to_numpy("float64")


def _frame(cols: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    """A frame of policy columns; texts stay Python objects (no string-dtype inference per block)."""
    return pd.DataFrame({c: pd.Series(v, index=index, dtype=object if np.asarray(v).dtype == object else None)
                         for c, v in cols.items()})


# a text per flagged row: (row positions, their texts); rows not listed have no text
Part = tuple[np.ndarray, np.ndarray]


def _join(parts: list[Part], n: int, sep: str = "; ") -> np.ndarray:
    """Row-wise join of sparse texts (only the flagged rows are touched)."""
    out = np.full(n, "", dtype=object)
    for idx, texts in parts:
        if not len(idx):
            continue
        cur = out[idx]
        out[idx] = np.where(cur == "", texts, cur + sep + texts)
    return out


def _texts(mask: np.ndarray, fmt: Callable[..., str], *cols: np.ndarray) -> Part:
    """``fmt(*values)`` for the rows of ``mask`` (only flagged rows are formatted)."""
    idx = np.flatnonzero(mask)
    if not cols:
        return idx, np.full(len(idx), fmt(), dtype=object)
    return idx, np.array([fmt(*vals) for vals in zip(*(c[idx].tolist() for c in cols), strict=True)] or [],
                         dtype=object)


def _code(mask: np.ndarray, code: str) -> Part:
    idx = np.flatnonzero(mask)
    return idx, np.full(len(idx), code, dtype=object)


def _union(a: Part, b: Part) -> Part:
    """Two parts on disjoint rows as one."""
    return np.concatenate([a[0], b[0]]), np.concatenate([a[1], b[1]])


def _limits_arrays(limits: pd.DataFrame | None, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(action, suggested_limit, revoked, revoke_reason) from :func:`~riskml.scoring.limits.suggest_limits`."""
    if limits is None:
        return (np.full(n, "keep", dtype=object), np.full(n, np.nan), np.zeros(n, dtype=bool),
                np.full(n, "", dtype=object))
    return (limits["action"].to_numpy(dtype=object), limits["suggested_limit"].to_numpy("float64"),
            limits["revoked"].to_numpy(dtype=bool), limits["revoke_reason"].to_numpy(dtype=object))


def _over_limit(frame: pd.DataFrame, limits: pd.DataFrame | None, policy: ActionPolicy) -> tuple[np.ndarray, ...]:
    """(over the current limit beyond tolerance, of which covered by a suggested increase, exposure,
    open orders, current limit, suggested limit)."""
    n = len(frame)
    exposure = np.nan_to_num(_num(frame, "exposure"), nan=0.0)
    orders = np.nan_to_num(_num(frame, "open_orders_amount"), nan=0.0)
    limit = _num(frame, "credit_limit")
    action, suggested, _, _ = _limits_arrays(limits, n)
    tol = 1.0 + policy.hold_over_limit_pct
    with np.errstate(invalid="ignore"):
        over = np.isfinite(limit) & (exposure > limit * tol)
        covered = over & (action == "increase") & (exposure <= suggested * tol) & policy.release_within_suggested
    return over, covered, exposure, orders, limit, suggested


def order_holds(frame: pd.DataFrame, limits: pd.DataFrame | None, policy: ActionPolicy) -> pd.DataFrame:
    """``order_hold``, ``hold_reason`` and ``hold_codes`` for every row of ``frame`` (which holds
    :data:`HOLD_COLUMNS`); ``limits`` is the output of :func:`~riskml.scoring.limits.suggest_limits` on
    the same rows (action, suggested limit, revoke)."""
    n = len(frame)
    dpd = _num(frame, "oldest_dpd")
    _, _, revoked, revoke_reason = _limits_arrays(limits, n)
    over, covered, exposure, orders, limit, _ = _over_limit(frame, limits, policy)
    with np.errstate(invalid="ignore"):
        past_due = dpd > policy.hold_past_due_days
    held_over = over & ~covered
    tol = f" + {policy.hold_over_limit_pct:.0%} tolerance" if policy.hold_over_limit_pct else ""
    texts = {
        "past_due": _texts(past_due, lambda d: f"oldest open invoice {d:.0f} days past due "
                           f"(tolerance {policy.hold_past_due_days} days)", dpd),
        "over_limit": _texts(held_over, lambda e, o, lim: f"exposure {e:,.0f} (incl. open orders {o:,.0f}) over "
                             f"the limit {lim:,.0f}{tol}", exposure, orders, limit),
        "revoked": _texts(revoked, lambda r: f"credit terms revoked: {r}", revoke_reason),
    }
    masks = {"past_due": past_due, "over_limit": held_over, "revoked": revoked}
    codes = _join([_code(m, c) for c, m in masks.items()], n, ";")
    return _frame({"order_hold": past_due | held_over | revoked, "hold_reason": _join(list(texts.values()), n),
                   "hold_codes": codes}, frame.index)


def reviews_due(
    frame: pd.DataFrame,
    grades: np.ndarray,
    policy: ActionPolicy,
    master_scale: Sequence[Grade],
    previous: pd.DataFrame | None = None,
    scored: np.ndarray | None = None,
    score_error: np.ndarray | None = None,
    limits: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``review_due``, ``review_reason``, ``review_codes`` and ``review_priority`` for every row of
    ``frame`` (holding ``customer_id`` and :data:`REVIEW_COLUMNS`).

    ``previous`` is the last scores output (``customer_id``, ``grade``, optionally ``as_of`` and
    ``dbt_avg_3m``); customers absent from it are compared with nothing. ``limits`` is the output of
    :func:`~riskml.scoring.limits.suggest_limits` on the same rows."""
    n = len(frame)
    grades = np.asarray(grades, dtype=object)
    scored = np.ones(n, dtype=bool) if scored is None else np.asarray(scored, dtype=bool)
    months = _num(frame, "months_since_review")
    dbt3 = _num(frame, "dbt_avg_3m")
    dbt12 = _num(frame, "dbt_avg_12m")
    hwm = np.nan_to_num(_num(frame, "exposure_hwm_12m"), nan=0.0)
    action, suggested, revoked, _ = _limits_arrays(limits, n)
    _, covered, exposure, orders, limit, _ = _over_limit(frame, limits, policy)
    has_limit = np.isfinite(limit)
    texts: dict[str, Part] = {}
    masks: dict[str, np.ndarray] = {}

    errors = np.full(n, "", dtype=object) if score_error is None else np.asarray(score_error, dtype=object)
    masks["not_scored"] = ~scored
    texts["not_scored"] = _texts(~scored, lambda e: f"could not be scored: {e}" if e else "could not be scored", errors)

    prev_grade = np.full(n, None, dtype=object)
    prev_dbt = np.full(n, np.nan)
    prev_when = ""
    if previous is not None and len(previous):
        prev = _index_previous(previous)
        aligned = prev.reindex(frame["customer_id"].astype("str").to_numpy())
        prev_grade = aligned["grade"].to_numpy(dtype=object)
        if "dbt_avg_3m" in aligned:
            prev_dbt = pd.to_numeric(aligned["dbt_avg_3m"], errors="coerce").to_numpy("float64")
        if "as_of" in prev and prev["as_of"].notna().any():
            prev_when = f" (previous score {pd.Timestamp(prev['as_of'].dropna().max()).date()})"
    moved = notches(prev_grade, grades, master_scale)

    def grade_text(a: object, b: object, m: float) -> str:
        return f"grade moved {int(abs(m))} notches, from {_grade_text(a)} to {b}{prev_when}"

    with np.errstate(invalid="ignore"):
        big_move = scored & (np.abs(moved) >= policy.review_grade_notches)
    for code, mask in (("grade_down", big_move & (moved > 0)), ("grade_up", big_move & (moved < 0))):
        masks[code] = mask
        texts[code] = _texts(mask, grade_text, prev_grade, grades, moved)

    jump = policy.review_dbt_jump_days
    with np.errstate(invalid="ignore"):
        jump_prev = (dbt3 - prev_dbt) >= jump
        jump_own = ~jump_prev & ((dbt3 - dbt12) >= jump)
    masks["dbt_jump"] = jump_prev | jump_own
    texts["dbt_jump"] = _union(
        _texts(jump_prev, lambda d, q: f"DBT jumped to {d:.0f} days over 3 months from {q:.0f} at the previous score",
               dbt3, prev_dbt),
        _texts(jump_own, lambda d, q: f"DBT jumped to {d:.0f} days over 3 months against {q:.0f} over 12 months",
               dbt3, dbt12))

    masks["revoke"] = revoked
    texts["revoke"] = _texts(revoked, lambda: "suggested revoke of open terms (cash in advance): a credit manager "
                             "confirms or overrides it")
    masks["limit_pending"] = covered
    texts["limit_pending"] = _texts(
        covered, lambda e, o, lim, s: f"exposure {e:,.0f} (incl. open orders {o:,.0f}) is over the limit {lim:,.0f} "
        f"but within the suggested increase to {s:,.0f}: approving it releases the orders",
        exposure, orders, limit, suggested)
    with np.errstate(invalid="ignore"):
        is_set = (action == "set") & scored
        exposed = is_set & (exposure > suggested * (1.0 + policy.hold_over_limit_pct))
    masks["no_limit_exposed"] = exposed
    texts["no_limit_exposed"] = _texts(exposed, lambda e, s: f"no credit limit on file and the exposure {e:,.0f} "
                                       f"already exceeds the suggested limit {s:,.0f}", exposure, suggested)
    masks["no_limit"] = is_set & ~exposed
    texts["no_limit"] = _texts(masks["no_limit"], lambda s: f"no credit limit on file (open terms without a "
                               f"ceiling): set the suggested limit {s:,.0f}", suggested)

    with np.errstate(invalid="ignore"):
        over = has_limit & (limit > 0) & (hwm > policy.review_utilisation * np.where(has_limit, limit, 0.0))
    masks["over_utilised"] = over
    texts["over_utilised"] = _texts(over, lambda h, lim: f"open balance reached {h / lim:.0%} of the limit in the "
                                    "last 12 months", hwm, limit)
    with np.errstate(invalid="ignore"):
        stale = has_limit & (months >= policy.review_months)
    masks["stale_limit"] = stale
    texts["stale_limit"] = _texts(stale, lambda m: f"limit not reviewed for {m:.0f} months (policy "
                                  f"{policy.review_months})", months)

    order = sorted(REVIEW_CODES, key=lambda c: (policy.review_priority[c], list(REVIEW_CODES).index(c)))
    reason = _join([texts[c] for c in order], n)
    codes = _join([_code(masks[c], c) for c in order], n, ";")
    priority = np.full(n, 9, dtype=np.int8)
    for c in order:
        priority = np.where(masks[c], np.minimum(priority, policy.review_priority[c]), priority)
    due = reason != ""
    return _frame({"review_due": due, "review_reason": reason, "review_codes": codes,
                   "review_priority": np.where(due, priority, 0).astype(np.int8)}, frame.index)


def _grade_text(g: object) -> str:
    if isinstance(g, float) and g.is_integer():
        return str(int(g))
    return str(g)


def _index_previous(previous: pd.DataFrame) -> pd.DataFrame:
    """The previous scores keyed by customer id as text (one row per customer, the last one wins); a frame
    already indexed this way (index named ``customer_id``) is returned as it is."""
    if "customer_id" not in previous.columns and previous.index.name == "customer_id" and "grade" in previous:
        return previous
    missing = [c for c in ("customer_id", "grade") if c not in previous.columns]
    if missing:
        raise ValueError(f"previous scores must have columns customer_id and grade; missing {missing}")
    prev = previous.copy()
    prev["customer_id"] = prev["customer_id"].astype("str")
    prev = prev.drop_duplicates("customer_id", keep="last").set_index("customer_id")
    return prev
