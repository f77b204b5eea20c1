"""Order holds and limit reviews: which customers need a person, why, and how urgently.

**Order hold** (``order_hold``, ``hold_reason``, ``hold_codes``), any of:

- ``past_due``: the oldest undisputed open invoice is more than the grade's days past due
  (``hold_past_due_days_by_grade``, else ``hold_past_due_days``; :func:`past_due_hold_days`) -- for a strong
  late payer more than its usual pattern -- with more than the hold minimum past due;
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
from riskml.scoring.personas import STRONG_LATE_PAYER, usual_lateness_days
from riskml.scoring.wording import cat, fmt_each, lookup

HOLD_CODES: dict[str, str] = {
    "past_due": "undisputed invoices past due beyond the tolerance, above the hold minimum",
    "over_limit": "exposure over the current limit beyond the grade's tolerance",
    "revoked": "credit terms revoked (cash in advance)",
    "collections": "collections track: undisputed invoices seriously past due",
}
HOLD_TYPES = ("none", "soft", "hard")
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
    "over_utilised": "exposure at least review_over_limit_ratio x the limit at the as-of date and the previous month "
                     "end, and no hold, cut or increase covering the exposure already decided",
    "scheduled": "the review calendar (interval by grade, backlog spread by customer id) puts the review in this month",
}
PRIORITY_NAMES = {1: "urgent", 2: "soon", 3: "routine"}

HOLD_COLUMNS = ("oldest_dpd", "exposure", "open_orders_amount", "credit_limit", "open_balance",
                "undisputed_past_due_amount", "undisputed_oldest_dpd", "past_due_amount", "disputed_open_share",
                "dbt_max_12m")
REVIEW_COLUMNS = ("months_since_review", "dbt_avg_3m", "dbt_avg_12m", "utilisation_sustained_2m", "exposure",
                  "credit_limit")


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    v = frame[col]
    if isinstance(v, np.ndarray) and v.dtype == np.float64:  # numpy rows (riskml.serving.book.Rows)
        return np.asarray(v)
    return pd.to_numeric(v, errors="coerce").to_numpy("float64")


def _frame(cols: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    """A frame of policy columns; texts stay Python objects (no string-dtype inference per block). Numpy rows
    (riskml.serving.book.Rows, whose index has ``frame_of``) get a table of their own kind."""
    if (frame_of := getattr(index, "frame_of", None)) is not None:
        return frame_of(cols)
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


def _worded(mask: np.ndarray, *parts: str | tuple[np.ndarray, str]) -> Part:
    """The texts of the rows of ``mask`` from ``parts``: strings, and (column, format spec) pairs whose values
    are quoted as ``f"{value:spec}"`` (worded once per distinct value; the same texts as :func:`_texts` with
    the f-string of these parts)."""
    idx = np.flatnonzero(mask)
    if not len(idx):
        return idx, np.empty(0, dtype=object)
    return idx, cat(*(p if isinstance(p, str) else fmt_each(np.asarray(p[0])[idx], p[1]) for p in parts))


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


def over_limit_tolerance(grades: np.ndarray | None, policy: ActionPolicy, n: int) -> np.ndarray:
    """The over-limit tolerance of each row: its grade's (``hold_over_limit_pct_by_grade``), else
    ``hold_over_limit_pct`` (also for unscored rows)."""
    if grades is None:
        return np.full(n, policy.hold_over_limit_pct)
    by = {str(g): float(t) for g, t in policy.hold_over_limit_pct_by_grade.items()}
    return lookup(grades, by, policy.hold_over_limit_pct).astype("float64") if n else np.zeros(0)


def past_due_hold_days(grades: np.ndarray | None, policy: ActionPolicy, n: int) -> np.ndarray:
    """The days past due before a past-due hold, per row: its grade's (``hold_past_due_days_by_grade``), else
    ``hold_past_due_days`` (also for unscored rows). Worked example (defaults): grade 5 -> 60 days (a customer of
    a good grade a few weeks late gets a reminder, not an order stop), grade 9 -> 30 days."""
    if grades is None:
        return np.full(n, float(policy.hold_past_due_days))
    by = {str(g): float(t) for g, t in policy.hold_past_due_days_by_grade.items()}
    return lookup(grades, by, float(policy.hold_past_due_days)).astype("float64") if n else np.zeros(0)


def _over_limit(frame: pd.DataFrame, limits: pd.DataFrame | None, policy: ActionPolicy,
                tol: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """(over the current limit beyond tolerance, of which covered by a suggested increase, exposure,
    open orders, current limit, suggested limit)."""
    n = len(frame)
    exposure = np.nan_to_num(_num(frame, "exposure"), nan=0.0)
    orders = np.nan_to_num(_num(frame, "open_orders_amount"), nan=0.0)
    limit = _num(frame, "credit_limit")
    action, suggested, _, _ = _limits_arrays(limits, n)
    t = 1.0 + (np.full(n, policy.hold_over_limit_pct) if tol is None else tol)
    with np.errstate(invalid="ignore"):
        over = np.isfinite(limit) & (exposure > limit * t)
        covered = over & (action == "increase") & (exposure <= suggested * t) & policy.release_within_suggested
    return over, covered, exposure, orders, limit, suggested


def hold_minimum(frame: pd.DataFrame, policy: ActionPolicy) -> np.ndarray:
    """The undisputed past-due amount a hold needs to exceed: the larger of ``hold_min_amount`` and
    ``hold_min_share`` of the open balance."""
    bal = np.nan_to_num(_num(frame, "open_balance"), nan=0.0)
    return np.maximum(policy.hold_min_amount, policy.hold_min_share * bal)


def collections_track(frame: pd.DataFrame, policy: ActionPolicy) -> np.ndarray:
    """Customers already seriously delinquent at the as-of date: undisputed invoices at least
    ``collections_past_due_days`` past due, for more than the hold minimum. They go to collectors (a hard
    hold, everything owed asked for), not to a model-driven limit decision."""
    dpd_u = np.nan_to_num(_num(frame, "undisputed_oldest_dpd"), nan=0.0)
    pdu = np.nan_to_num(_num(frame, "undisputed_past_due_amount"), nan=0.0)
    return (dpd_u >= policy.collections_past_due_days) & (pdu > hold_minimum(frame, policy))


def _cents(x: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(x, dtype="float64"), 2)


def order_holds(
    frame: pd.DataFrame,
    limits: pd.DataFrame | None,
    policy: ActionPolicy,
    grades: np.ndarray | None = None,
    persona: np.ndarray | None = None,
    collections: np.ndarray | None = None,
) -> pd.DataFrame:
    """``order_hold``, ``hold_reason``, ``hold_codes``, ``hold_type`` (none / soft / hard) and
    ``release_amount`` for every row of ``frame`` (which holds :data:`HOLD_COLUMNS`); ``limits`` is the
    output of :func:`~riskml.scoring.limits.suggest_limits` on the same rows (action, suggested limit,
    revoke), ``grades`` gives the over-limit tolerance, ``persona`` the persona codes (strong late payers
    are held for lateness only beyond their usual pattern), ``collections`` the collections track
    (default: :func:`collections_track`)."""
    n = len(frame)
    persona = np.full(n, "", dtype=object) if persona is None else np.asarray(persona, dtype=object)
    coll = collections_track(frame, policy) if collections is None else np.asarray(collections, dtype=bool)
    _, _, revoked, revoke_reason = _limits_arrays(limits, n)
    tol = over_limit_tolerance(grades, policy, n)
    over, covered, exposure, orders, limit, _ = _over_limit(frame, limits, policy, tol)
    dpd_u = np.nan_to_num(_num(frame, "undisputed_oldest_dpd"), nan=0.0)
    pdu = np.nan_to_num(_num(frame, "undisputed_past_due_amount"), nan=0.0)
    pd_all = np.nan_to_num(_num(frame, "past_due_amount"), nan=0.0)
    bal = np.nan_to_num(_num(frame, "open_balance"), nan=0.0)
    disputed = np.clip(bal * np.nan_to_num(_num(frame, "disputed_open_share"), nan=0.0), 0.0, bal)
    owed = np.clip(bal - disputed, 0.0, None)  # everything owed and not disputed
    minimum = hold_minimum(frame, policy)
    strong = persona == STRONG_LATE_PAYER
    threshold = np.maximum(past_due_hold_days(grades, policy, n),
                           usual_lateness_days(frame, persona, policy.strong_pattern_margin_days))
    with np.errstate(invalid="ignore"):
        past_due = ~coll & ~revoked & (dpd_u > threshold) & (pdu > minimum)
    held_over = over & ~covered & ~coll & ~revoked
    hold = past_due | held_over | revoked | coll

    with np.errstate(invalid="ignore"):
        excess = np.where(held_over, exposure - np.nan_to_num(limit) * (1.0 + tol), 0.0)
    release = np.maximum(np.where(past_due, pdu, 0.0), np.clip(excess, 0.0, None))
    release = np.where(coll, owed, release)
    release = np.where(revoked & ~coll, owed + orders, release)
    release = _cents(np.where(hold, release, 0.0))
    hard = revoked | coll | (past_due & (dpd_u >= policy.hard_hold_past_due_days))
    hold_type = np.where(hard & hold, "hard", np.where(hold, "soft", "none")).astype(object)

    def pd_text(d: float, a: float, t: float, s: bool, r: float, o: float, dis: float, tot: float) -> str:
        text = (f"past due: undisputed invoices {d:.0f} days past due, {a:,.2f} not disputed (tolerance {t:.0f} "
                f"days{', the usual pattern of this strong late payer' if s else ''}); pay {r:,.2f} to release the "
                f"orders, ask for everything owed ({o:,.2f})")
        if tot - a > 0.005:
            text += f"; {tot - a:,.2f} past due is disputed and not held: fix the paperwork"
        return text

    g_arr = np.full(n, "-", dtype=object) if grades is None else np.asarray(grades, dtype=object)
    texts = {
        "past_due": _texts(past_due, pd_text, dpd_u, pdu, threshold, strong, release, owed, disputed, pd_all),
        "over_limit": _worded(held_over, "over limit: exposure ", (exposure, ",.2f"), " (incl. open orders ",
                              (orders, ",.2f"), ") over the limit ", (limit, ",.0f"), " + ", (tol, ".0%"),
                              " tolerance (grade ", (g_arr, ""), "); pay ", (release, ",.2f"),
                              " to release the orders"),
        "revoked": _worded(revoked & ~coll, "credit terms revoked: ",
                           (revoke_reason, ""), "; orders ship against payment in advance (", (release, ",.2f"),
                           " with what is owed)"),
        "collections": _worded(coll, "collections track: undisputed invoices ", (dpd_u, ".0f"),
                               " days past due (", (pdu, ",.2f"), "); orders held until everything owed (",
                               (owed, ",.2f"), ") is paid"),
    }
    masks = {"past_due": past_due, "over_limit": held_over, "revoked": revoked & ~coll, "collections": coll}
    codes = _join([_code(m, c) for c, m in masks.items()], n, ";")
    return _frame({"order_hold": hold, "hold_reason": _join(list(texts.values()), n), "hold_codes": codes,
                   "hold_type": hold_type, "release_amount": release}, frame.index)


def held_increases(limits: pd.DataFrame, holds: pd.DataFrame) -> np.ndarray:
    """The rows :func:`defer_increases` changes: an increase suggested while the orders stay held."""
    return (limits["action"].to_numpy(dtype=object) == "increase") & holds["order_hold"].to_numpy(dtype=bool)


def defer_increases(limits: pd.DataFrame, holds: pd.DataFrame) -> pd.DataFrame:
    """No customer gets an increase and a hold together: an increase for a customer whose orders stay held
    (past due, or over a limit the increase does not cover) is deferred -- the current limit is kept and
    the rationale says the increase is reconsidered once the held amount is paid (the rows of
    :func:`held_increases`). Returns new limits."""
    inc = held_increases(limits, holds)
    if not inc.any():
        return limits
    out = limits.copy()
    cur = out["current_limit"].to_numpy("float64")
    sug = out["suggested_limit"].to_numpy("float64")
    rel = holds["release_amount"].to_numpy("float64")
    rationale = out["limit_rationale"].to_numpy(dtype=object).copy()
    for i in np.flatnonzero(inc):
        rationale[i] = (f"{rationale[i]}; increase to {sug[i]:,.0f} deferred: orders are held until "
                        f"{rel[i]:,.2f} is paid, then the increase is reconsidered; kept {cur[i]:,.0f}")
    out["suggested_limit"] = np.where(inc, cur, sug)
    out["limit_change"] = np.where(inc, 0.0, out["limit_change"].to_numpy("float64"))
    out["action"] = np.where(inc, "keep", out["action"].to_numpy(dtype=object)).astype(object)
    out["limit_rationale"] = pd.Series(rationale, index=out.index, dtype=object)
    out["action"] = out["action"].astype(object)
    return out


def reviews_due(
    frame: pd.DataFrame,
    grades: np.ndarray,
    policy: ActionPolicy,
    master_scale: Sequence[Grade],
    previous: pd.DataFrame | None = None,
    scored: np.ndarray | None = None,
    score_error: np.ndarray | None = None,
    limits: pd.DataFrame | None = None,
    collections: np.ndarray | None = None,
    held: np.ndarray | None = None,
    calendar: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """``review_due``, ``review_reason``, ``review_codes`` and ``review_priority`` for every row of
    ``frame`` (holding ``customer_id`` and :data:`REVIEW_COLUMNS`).

    ``previous`` is the last scores output (``customer_id``, ``grade``, optionally ``as_of`` and
    ``dbt_avg_3m``); customers absent from it are compared with nothing. ``limits`` is the output of
    :func:`~riskml.scoring.limits.suggest_limits` on the same rows, ``collections`` the collections track
    (collectors own those customers: no routine review), ``held`` the order holds (a held customer over its
    limit needs no over-limit review: the hold is worked). Also returns ``next_review``: the date of the next
    routine review from the calendar (:func:`review_calendar`)."""
    n = len(frame)
    grades = np.asarray(grades, dtype=object)
    scored = np.ones(n, dtype=bool) if scored is None else np.asarray(scored, dtype=bool)
    months = _num(frame, "months_since_review")
    dbt3 = _num(frame, "dbt_avg_3m")
    dbt12 = _num(frame, "dbt_avg_12m")
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
    texts["limit_pending"] = _worded(
        covered, "exposure ", (exposure, ",.0f"), " (incl. open orders ", (orders, ",.0f"), ") is over the limit ",
        (limit, ",.0f"), " but within the suggested increase to ", (suggested, ",.0f"),
        ": approving it releases the orders")
    with np.errstate(invalid="ignore"):
        is_set = (action == "set") & scored
        exposed = is_set & (exposure > suggested * (1.0 + policy.hold_over_limit_pct))
    masks["no_limit_exposed"] = exposed
    texts["no_limit_exposed"] = _texts(exposed, lambda e, s: f"no credit limit on file and the exposure {e:,.0f} "
                                       f"already exceeds the suggested limit {s:,.0f}", exposure, suggested)
    masks["no_limit"] = is_set & ~exposed
    texts["no_limit"] = _texts(masks["no_limit"], lambda s: f"no credit limit on file (open terms without a "
                               f"ceiling): set the suggested limit {s:,.0f}", suggested)

    coll = np.zeros(n, dtype=bool) if collections is None else np.asarray(collections, dtype=bool)
    # over the limit but already decided: held (collectors work it), covered by an increase (limit_pending), an
    # increase to at least the exposure waiting for approval (the approval queue answers it) or cut / revoked (the
    # decision is the review)
    with np.errstate(invalid="ignore"):
        answered = (action == "increase") & (suggested >= exposure)
    resolved = ((held if held is not None else np.zeros(n, dtype=bool)) | np.isin(action, ["decrease", "revoke"])
                | answered)
    sustained = _num(frame, "utilisation_sustained_2m")
    with np.errstate(invalid="ignore"):
        over = has_limit & (limit > 0) & (sustained >= policy.review_over_limit_ratio) & ~coll & ~covered & ~resolved
    masks["over_utilised"] = over
    texts["over_utilised"] = _texts(over, lambda u: f"over the limit at the last two month ends (at least {u:.0%} of "
                                    f"the limit; policy {policy.review_over_limit_ratio:.0%})", sustained)
    # ``calendar``: review_calendar(frame, grades, policy), when the caller has it already
    due_now, next_review, interval, auto = review_calendar(frame, grades, policy) if calendar is None else calendar
    sched = due_now & has_limit & ~coll & scored
    masks["scheduled"] = sched
    texts["scheduled"] = _texts(sched, lambda m, k: f"scheduled review: every {k:.0f} months for this grade, last "
                                f"review {m:.0f} months ago" if np.isfinite(m) else
                                f"scheduled review: every {k:.0f} months for this grade, no review on record",
                                months, interval)

    # priority 0: not a review (the decision goes to the approval queue only, by its approval_level)
    order = sorted((c for c in REVIEW_CODES if policy.review_priority[c] > 0),
                   key=lambda c: (policy.review_priority[c], list(REVIEW_CODES).index(c)))
    reason = _join([texts[c] for c in order], n)
    codes = _join([_code(masks[c], c) for c in order], n, ";")
    priority = np.full(n, 9, dtype=np.int8)
    for c in order:
        priority = np.where(masks[c], np.minimum(priority, policy.review_priority[c]), priority)
    due = reason != ""
    return _frame({"review_due": due, "review_reason": reason, "review_codes": codes,
                   "review_priority": np.where(due, priority, 0).astype(np.int8),
                   "next_review": np.where(due, pd.to_datetime(frame["as_of"]).to_numpy("datetime64[ns]"),
                                           next_review)}, frame.index)


def _month_index(ts: pd.Series) -> np.ndarray:
    return (ts.dt.year.to_numpy("int64") * 12 + ts.dt.month.to_numpy("int64") - 1)


def stable_slot(customer_ids: pd.Series | np.ndarray, modulo: int) -> np.ndarray:
    """A month slot in ``0..modulo-1`` per customer from a hash of its id: the same id always gets the same
    slot (pandas' hash with its fixed key), whatever else is in the book."""
    ids = np.asarray(pd.Series(customer_ids).astype("str").to_numpy(dtype=object), dtype=object)
    h = pd.util.hash_array(ids, categorize=False)
    return (h % np.uint64(max(1, modulo))).astype(np.int64)


def review_calendar(
    frame: pd.DataFrame, grades: np.ndarray, policy: ActionPolicy
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The routine review calendar: (due this month, next review date, interval in months, auto-renewed).

    - The interval is the grade's (``review_interval_months``; unscored and unlisted grades
      ``review_months``); limits and exposures both at most ``auto_renew_max_exposure`` are renewed
      automatically every ``review_months`` (no person; never due).
    - The natural date is the last review (``months_since_review`` before the as-of date) plus the interval.
    - Reviews whose natural date has passed (the backlog) are spread over ``B = ceil(1 /
      max_routine_share_per_month)`` months: a customer's review falls in the first month ``M`` at or after
      the as-of month with ``M = slot (mod B)``, ``slot`` a stable hash of its id. The calendar is absolute, so
      next month's run takes the next ``1/B`` of the backlog, not the same one.

    Every row is placed from its own id, grade and dates only."""
    n = len(frame)
    as_of = pd.to_datetime(frame["as_of"]).reset_index(drop=True)
    months = _num(frame, "months_since_review")
    limit = np.nan_to_num(_num(frame, "credit_limit"), nan=0.0)
    exposure = np.nan_to_num(_num(frame, "exposure"), nan=0.0)
    by = {str(g): int(k) for g, k in policy.review_interval_months.items()}
    interval = lookup(grades, by, policy.review_months).astype("int64") if n else np.zeros(0, dtype=np.int64)
    auto = (limit <= policy.auto_renew_max_exposure) & (exposure <= policy.auto_renew_max_exposure)
    interval = np.where(auto, policy.review_months, interval)
    m0 = _month_index(as_of) if n else np.zeros(0, dtype=np.int64)
    elapsed = np.where(np.isfinite(months), np.floor(np.nan_to_num(months) + 1e-9), policy.review_months).astype(np.int64)
    natural = m0 - elapsed + interval
    backlog = int(np.ceil(1.0 / policy.max_routine_share_per_month - 1e-9))
    slot = stable_slot(frame["customer_id"], backlog) if n else np.zeros(0, dtype=np.int64)
    spread = m0 + np.mod(slot - m0, backlog)
    scheduled = np.where(natural <= m0, spread, natural)
    ahead = (scheduled - m0).astype(np.int64)
    due = (ahead == 0) & ~auto
    return due, _months_ahead(as_of, ahead), interval, auto


def _months_ahead(as_of: pd.Series, ahead: np.ndarray) -> np.ndarray:
    """``as_of`` (on a RangeIndex) moved ``ahead`` months (a month end stays a month end), as datetime64[ns];
    computed once per distinct (date, months) pair: a book is scored on a few dates."""
    n = len(as_of)
    if not n:
        return np.empty(0, dtype="datetime64[ns]")
    dates = pd.factorize(as_of, use_na_sentinel=False)[0].astype(np.int64)
    span = int(ahead.max() - ahead.min()) + 1
    _, first, inv = np.unique(dates * span + (ahead - ahead.min()), return_index=True, return_inverse=True)
    when, k_of = as_of.iloc[first].reset_index(drop=True), ahead[first]
    out = np.empty(len(first), dtype="datetime64[ns]")
    month_end = when.dt.is_month_end.to_numpy()
    for k in np.unique(k_of):
        rows = k_of == k
        moved = when[rows] + pd.DateOffset(months=int(k))
        ends = when[rows] + pd.offsets.MonthEnd(int(k)) if k else when[rows]
        out[rows] = np.where(month_end[rows], ends.to_numpy("datetime64[ns]"), moved.to_numpy("datetime64[ns]"))
    return out[inv.reshape(-1)]





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
