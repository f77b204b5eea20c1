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
6. **Hysteresis**: when ``|suggested - current| < min_change_pct x current`` the current limit is kept. A
   decrease is made only where it removes at least ``min_decrease_expected_loss`` (and, with
   ``decrease_pays_margin``, the margin it puts at risk), and only from ``decrease_from_grade`` on: better
   grades keep their limit (restrictions follow the PD). A customer over its limit and not held for past due
   (within its grade's past-due hold days, ``hold_days``) is covered up to ``cover_exposure_worst_grade``.
7. **Revoke** (limit 0, cash in advance) for grades at or beyond ``revoke_grade``, for habitual
   debtors (``late_paid_share_12m >= habitual_late_share`` and ``dbt_avg_12m >= habitual_dbt_days`` on at
   least ``habitual_min_invoices`` invoices settled in the last 12 months) and where the break-even cap
   is 0 (no limit pays for itself; not applied to thin files, whose PD rests on little evidence). A revoke by
   grade or habit needs the ledger's evidence (:func:`revoke_evidence`: deterioration, not a steady payer, not
   a full payer).

A customer with no sales in the basis window (dormant, not thin file) has nothing to size a limit on:
its current limit is kept; one with nothing open either (inactive) is not revoked by grade or habit: it has no
terms in use, and the policy decides them when it orders again (the order-time check applies this policy with
the order's exposure). A customer that could not be scored keeps its current limit.

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
from riskml.scoring.personas import STRONG_LATE_PAYER
from riskml.scoring.wording import cat as _cat
from riskml.scoring.wording import fmt_each as _fmt
from riskml.scoring.wording import lookup

# "set": the customer master holds no limit (the customer trades on open terms without a ceiling) and the
# policy suggests one to set; see the module docstring
ACTIONS = ("increase", "keep", "decrease", "revoke", "set", "collections")

# feature columns the limit policy reads
LIMIT_COLUMNS = (
    "sales_avg_3m", "sales_avg_12m", "payment_terms_days", "credit_limit",
    "late_paid_share_12m", "dbt_avg_6m", "dbt_avg_12m", "paid_invoices_12m", "exposure", "open_orders_amount",
    "undisputed_oldest_dpd", "dbt_shift_12m", "dbt_shift_24m", "dbt_volatility_12m", "paid_in_full_share_12m",
)
# the ledger evidence a revoke by grade or habit needs (read when present; see revoke_evidence)
EVIDENCE_COLUMNS = ("dbt_shift_12m", "dbt_shift_24m", "dbt_volatility_12m", "paid_in_full_share_12m")


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    v = frame[col]
    if isinstance(v, np.ndarray) and v.dtype == np.float64:  # numpy rows (riskml.serving.book.Rows)
        return np.asarray(v)
    return pd.to_numeric(v, errors="coerce").to_numpy("float64")


def _money(x: float) -> str:
    return f"{x:,.0f}"


def _frame(cols: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    """A frame of policy columns; texts stay Python objects (no string-dtype inference per block). Numpy rows
    (riskml.serving.book.Rows, whose index has ``frame_of``) get a table of their own kind."""
    if (frame_of := getattr(index, "frame_of", None)) is not None:
        return frame_of(cols)
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


def typical_days_beyond_terms(frame: pd.DataFrame, policy: LimitPolicy) -> np.ndarray:
    """How many days beyond terms the customer typically pays: its 12-month DBT (else its 6-month DBT,
    else ``grace_days``), kept between ``grace_days`` and ``max_days_beyond_terms``."""
    d = _num(frame, "dbt_avg_12m")
    d = np.where(np.isfinite(d), d, _num(frame, "dbt_avg_6m"))
    d = np.where(np.isfinite(d), d, policy.grace_days)
    return np.clip(d, policy.grace_days, max(policy.grace_days, policy.max_days_beyond_terms))


def need(sales: np.ndarray, terms_days: np.ndarray, days_beyond_terms: np.ndarray | float) -> np.ndarray:
    """Credit need ``S x (T + d) / 30``: what a customer buying ``S`` a month and paying ``d`` days beyond
    terms ``T`` owes at any time."""
    return sales * (np.nan_to_num(terms_days, nan=0.0) + days_beyond_terms) / 30.0


def break_even_cap(pd_: np.ndarray, sales: np.ndarray, need_: np.ndarray, policy: LimitPolicy,
                   lgd: np.ndarray | float | None = None, margin: np.ndarray | float | None = None) -> np.ndarray:
    """Largest limit whose expected loss ``PD x LGD x L`` the expected margin on the enabled sales covers.

    ``lgd`` and ``margin`` (per row: segment overrides, :func:`riskml.scoring.money.segment_rates`) default to
    the policy's. ``inf`` where PD is 0 (or not known); 0 where even the need does not pay for itself."""
    p = np.asarray(pd_, dtype="float64")
    lgd = policy.lgd if lgd is None else lgd
    gm = policy.gross_margin if margin is None else margin
    margin_amt = gm * sales * policy.margin_horizon_months * (1.0 - np.clip(p, 0.0, 1.0) / 2.0)
    loss_rate = np.where(np.isfinite(p), p, 0.0) * lgd
    with np.errstate(all="ignore"):
        cap = np.where(loss_rate > 0, margin_amt / loss_rate, np.inf)
    pays = loss_rate * need_ <= margin_amt
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


def revoke_evidence(frame: pd.DataFrame, policy: LimitPolicy) -> np.ndarray:
    """Whether the ledger shows the deterioration a revoke by grade or habit needs: paying at least
    ``revoke_min_dbt_shift_days`` later than the customer's own norm (the larger of ``dbt_shift_12m`` and
    ``dbt_shift_24m``), and not a steady full payer (``dbt_volatility_12m <= revoke_steady_max_volatility`` and
    ``paid_in_full_share_12m >= revoke_steady_min_paid_in_full``): a customer who pays everything, steadily,
    however late, is a terms problem, not a habitual debtor; nor a full payer (``paid_in_full_share_12m >=
    revoke_full_payer_min_paid_in_full``, whatever the volatility): a customer who pays nearly every invoice in
    full in one payment, even if lately more slowly, pays what it owes -- it gets a decrease (and a hold where it
    is over the limit), not a revoke. Worked example (shift 7, volatility 7, steady 85%, full payer 94%): shift
    21 days, volatility 11.6, 96.7% paid in full -> no evidence (a full payer); the same with 90% paid in full ->
    evidence. A frame without these columns (no evidence to
    read), or ``revoke_needs_evidence`` false, gives True everywhere: the revoke rules then stand on grade and
    habit alone."""
    n = len(frame)
    if not policy.revoke_needs_evidence or not any(c in frame for c in EVIDENCE_COLUMNS):
        return np.ones(n, dtype=bool)

    def col(c: str) -> np.ndarray:
        return _num(frame, c) if c in frame else np.full(n, np.nan)

    with np.errstate(invalid="ignore"):
        shift = np.fmax(col("dbt_shift_12m"), col("dbt_shift_24m"))
        in_full = col("paid_in_full_share_12m")
        steady = (((col("dbt_volatility_12m") <= policy.revoke_steady_max_volatility)
                   & (in_full >= policy.revoke_steady_min_paid_in_full))
                  | (in_full >= policy.revoke_full_payer_min_paid_in_full))
        return (shift >= policy.revoke_min_dbt_shift_days) & ~steady


def margin_of_cut(current: np.ndarray, new: np.ndarray, need_: np.ndarray, sales: np.ndarray, policy: LimitPolicy,
                  margin: np.ndarray | None = None) -> np.ndarray:
    """The margin a cut from ``current`` to ``new`` puts at risk: the share of the need it no longer covers,
    ``margin x S x H x (min(current, need) - new) / need`` (0 where there is no need), as
    :func:`riskml.scoring.money.margin_at_risk` counts it for a decrease."""
    n = len(current)
    gm = np.full(n, policy.gross_margin) if margin is None else np.broadcast_to(np.asarray(margin, dtype="float64"), (n,))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(need_ > 0, gm * sales * policy.margin_horizon_months
                        * np.clip(np.minimum(current, need_) - new, 0.0, None) / np.where(need_ > 0, need_, 1.0), 0.0)


def suggest_limits(
    frame: pd.DataFrame,
    pd_values: np.ndarray,
    grades: np.ndarray,
    policy: LimitPolicy,
    master_scale: Sequence[Grade],
    thin_file: np.ndarray | None = None,
    scored: np.ndarray | None = None,
    persona: np.ndarray | None = None,
    collections: np.ndarray | None = None,
    lgd: np.ndarray | None = None,
    margin: np.ndarray | None = None,
    usual_days: np.ndarray | None = None,
    at_review: np.ndarray | None = None,
    hold_days: np.ndarray | None = None,
) -> pd.DataFrame:
    """The limit policy for every row of ``frame`` (which holds :data:`LIMIT_COLUMNS`).

    ``persona`` holds the persona codes (only ``policy.revocable_personas`` may be revoked, by default weak late
    payers and distressed customers; without personas every customer may be), ``usual_days`` the lateness
    within a strong late payer's usual pattern (:func:`riskml.scoring.personas.usual_lateness_days`; it does
    not block an increase), ``collections`` the
    customers on the collections track (no model-driven limit decision), ``lgd`` / ``margin`` per-row
    segment rates for the break-even cap, ``at_review`` the customers whose routine review falls now
    (:func:`riskml.scoring.actions.review_calendar`; default: everybody): between reviews an increase is
    proposed only to a customer using at least ``increase_min_utilisation`` of its current limit; ``hold_days``
    the days past due before each row's past-due hold (:func:`riskml.scoring.actions.past_due_hold_days`): a
    customer over its limit and not held for past due (undisputed invoices at most the largest of
    ``no_increase_past_due_days``, ``usual_days`` and ``hold_days`` past due) is covered
    (``cover_exposure_worst_grade``), and the no-increase rule does not block that cover.

    Returns, on ``frame``'s index: ``current_limit``, ``suggested_limit``, ``limit_change`` (suggested
    minus current; empty when no limit is on file), ``action`` (one of :data:`ACTIONS`), ``revoked``
    (bool), ``revoke_reason``, ``need`` and ``limit_rationale`` (the computation in words)."""
    n = len(frame)
    p = np.asarray(pd_values, dtype="float64")
    grades = np.asarray(grades, dtype=object)
    thin = np.zeros(n, dtype=bool) if thin_file is None else np.asarray(thin_file, dtype=bool)
    ok = np.isfinite(p) if scored is None else (np.asarray(scored, dtype=bool) & np.isfinite(p))
    persona = np.full(n, "", dtype=object) if persona is None else np.asarray(persona, dtype=object)
    coll = np.zeros(n, dtype=bool) if collections is None else np.asarray(collections, dtype=bool)
    strong = persona == STRONG_LATE_PAYER
    step = policy.round_to

    current = _num(frame, "credit_limit")
    has_current = np.isfinite(current)
    current0 = np.where(has_current, current, 0.0)
    terms = _num(frame, "payment_terms_days")
    sales = monthly_sales(frame, policy.sales_basis)
    dbt = typical_days_beyond_terms(frame, policy)
    need_ = need(sales, terms, dbt)
    if policy.need_includes_open_orders:
        need_ = need_ + np.clip(np.nan_to_num(_num(frame, "open_orders_amount"), nan=0.0), 0.0, None)
    exposure = np.nan_to_num(_num(frame, "exposure"), nan=0.0)
    dpd_u = np.nan_to_num(_num(frame, "undisputed_oldest_dpd"), nan=0.0)
    mult_of = {g.grade: float(policy.grade_multiplier.get(g.grade, 1.0)) for g in master_scale}
    mult = lookup(grades, mult_of, 1.0).astype("float64") if n else np.zeros(0)
    scaled = need_ * mult
    cap = break_even_cap(p, sales, need_, policy, lgd, margin)
    capped = np.minimum(scaled, cap)
    cap_binds = cap < scaled
    thin_lo, thin_hi = policy.thin_file_starter_limit, policy.thin_file_max_limit
    limit = np.where(thin, np.clip(capped, thin_lo, thin_hi), capped)
    upper = np.where(thin, thin_hi, cap)
    rounded = round_limit(limit, upper, step)
    # thin file: sizing on a few months of sales does not cut a limit a person set
    thin_kept = thin & has_current & (rounded < current0) & (not policy.thin_file_cut_existing)
    sized = np.where(thin_kept, current0, rounded)

    # step caps per cycle against an existing positive limit
    positive = has_current & (current0 > 0)
    hi_step = np.floor(current0 * (1.0 + policy.max_increase_pct) / step) * step
    lo_step = np.ceil(current0 * (1.0 - policy.max_decrease_pct) / step) * step
    stepped = np.where(positive, np.clip(sized, np.minimum(lo_step, current0), np.maximum(hi_step, current0)), sized)
    step_up = positive & (stepped < sized)
    step_down = positive & (stepped > sized)

    # acceptable grades and strong late payers: never below the lower of the exposure and the need (a cut
    # below what the customer already owes only blocks orders; a strong late payer's limit follows how it pays)
    pos = grade_positions(grades, master_scale)
    names = [g.grade for g in master_scale]
    floor_pos = names.index(policy.floor_worst_grade)
    with np.errstate(invalid="ignore"):
        acceptable = ok & ~thin & ((pos <= floor_pos) | strong)
    floor_amt = np.ceil(np.minimum(exposure, need_) / step) * step
    floored = acceptable & (floor_amt > stepped)
    suggested = np.where(floored, floor_amt, stepped)
    # ... and an acceptable grade's limit is never cut below its exposure (the cut would only hold its orders)
    exp_amt = np.minimum(np.ceil(exposure / step) * step, current0)
    exp_floored = acceptable & has_current & (suggested < current0) & (exp_amt > suggested)
    suggested = np.where(exp_floored, exp_amt, suggested)

    # over the limit and paying (not held for past due: within the row's past-due hold days, or its usual pattern):
    # a limit that covers the exposure, where the break-even cap allows it
    covering = np.zeros(n, dtype=bool)
    cover_tolerated = np.maximum.reduce([
        np.full(n, policy.no_increase_past_due_days),
        np.zeros(n) if usual_days is None else np.asarray(usual_days, dtype="float64"),
        np.zeros(n) if hold_days is None else np.asarray(hold_days, dtype="float64")])
    cover_amt = np.ceil(exposure / step) * step
    if policy.cover_exposure_worst_grade is not None:
        with np.errstate(invalid="ignore"):
            covering = (ok & (~thin | (cover_amt <= policy.thin_file_cover_max_limit)) & has_current
                        & (pos <= names.index(policy.cover_exposure_worst_grade))
                        & (exposure > current0) & (cover_amt > suggested) & (cover_amt <= cap)
                        & (dpd_u <= cover_tolerated))
    suggested = np.where(covering, cover_amt, suggested)

    dormant = ok & ~thin & (sales <= 0)
    suggested = np.where(dormant, current, suggested)

    # hysteresis: small changes against an existing limit are not worth a review
    with np.errstate(all="ignore"):
        rel = np.where(current0 > 0, (suggested - current0) / current0, 0.0)
        small = positive & ~dormant & (np.abs(suggested - current0) < policy.min_change_pct * current0)
    suggested = np.where(small, current0, suggested)
    # a decrease must be worth its friction: the expected loss it removes, PD x LGD x (current - suggested), at
    # least min_decrease_expected_loss; smaller cuts are noise and the current limit is kept
    lgd_row = np.full(n, policy.lgd) if lgd is None else np.broadcast_to(np.asarray(lgd, dtype="float64"), (n,))
    with np.errstate(invalid="ignore"):
        el_removed = np.nan_to_num(p) * lgd_row * np.clip(current0 - suggested, 0.0, None)
        cut_margin = margin_of_cut(current0, suggested, need_, sales, policy, margin)
        immaterial = positive & ~dormant & ~small & (suggested < current0) & (
            (el_removed < policy.min_decrease_expected_loss) | (policy.decrease_pays_margin & (el_removed < cut_margin)))
    suggested = np.where(immaterial, current0, suggested)
    # restrictions follow the PD: grades better than decrease_from_grade keep their limit (a cut there is headroom
    # above what a low-PD customer owes; the restrictions go to the grades that default)
    spared_cut = np.zeros(n, dtype=bool)
    if policy.decrease_from_grade is not None:
        with np.errstate(invalid="ignore"):
            spared_cut = (positive & ~dormant & (suggested < current0)
                          & (pos < names.index(policy.decrease_from_grade)))
    suggested = np.where(spared_cut, current0, suggested)

    # between routine reviews, headroom the customer does not use waits for its review
    review_now = np.ones(n, dtype=bool) if at_review is None else np.asarray(at_review, dtype=bool)
    with np.errstate(invalid="ignore"):
        waiting = (ok & positive & ~review_now & ~covering & (suggested > current0)
                   & (exposure < policy.increase_min_utilisation * current0))
    waited = np.where(waiting, suggested, np.nan)
    suggested = np.where(waiting, current0, suggested)

    # no increase while undisputed invoices are well past due, nor on the collections track
    with np.errstate(invalid="ignore"):
        tolerated = np.maximum(policy.no_increase_past_due_days, 0.0 if usual_days is None else usual_days)
        blocked = ok & has_current & (coll | ((dpd_u > tolerated) & ~covering)) & (suggested > current0)
    suggested = np.where(blocked, current0, suggested)

    # revoke: worst grades, habitual debtors among weak / distressed payers, and customers no limit pays
    # for; only the revocable personas (never strong late payers by default), never a customer on the
    # collections track (collectors own it)
    revoke_pos = names.index(policy.revoke_grade)
    # with personas known, only weak late payers and distressed customers are revoked (default: anyone)
    revocable = (np.isin(persona, list(policy.revocable_personas)) if (persona != "").any()
                 else np.ones(n, dtype=bool))
    # an inactive account (no sales in the basis window, nothing open) has no terms to take away: its terms are
    # decided when it orders again (the order-time check applies this policy with the order's exposure)
    inactive = dormant & (exposure <= 0) & (not policy.revoke_inactive)
    eligible = ok & ~coll & revocable & ~inactive
    # a revoke by grade or habit needs the ledger to show deterioration (not a steady payer, nor a full payer)
    evidence = revoke_evidence(frame, policy)
    grade_or_habit = eligible & ((pos >= revoke_pos) | habitual_debtors(frame, policy))
    spared = grade_or_habit & ~evidence
    by_grade = eligible & evidence & (pos >= revoke_pos)
    habitual = eligible & evidence & habitual_debtors(frame, policy)
    unprofitable = eligible & ~thin & ~dormant & (need_ > 0) & (cap <= 0)
    revoked = by_grade | habitual | unprofitable
    suggested = np.where(revoked, 0.0, suggested)
    # collections: the limit is left as it is; collectors ask for everything owed
    suggested = np.where(ok & coll, current, suggested)
    suggested = np.where(ok, suggested, current)

    change = suggested - current  # NaN when no limit is on file
    action = np.where(change > 0, "increase", np.where(change < 0, "decrease", "keep")).astype(object)
    action[ok & ~has_current & ~dormant & (suggested > 0) & ~coll] = "set"
    action[revoked] = "revoke"
    action[ok & coll] = "collections"
    change = np.where(ok | has_current, change, np.nan)
    change = np.where((~ok | coll) & has_current, 0.0, change)

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
                           dbt, mult, grades, scaled, cap, cap_binds, p, thin, thin_kept, rounded, small, rel,
                           suggested, lgd)
    rationale = _steps_text(rationale, ok & ~revoked & ~dormant & ~coll, step_up, step_down, floored & ~covering,
                            blocked, policy, sized, floor_amt, exposure, need_, dpd_u, coll, covering, cover_amt)
    shown = ok & ~revoked & ~dormant & ~coll
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        used = exposure / current0
    for mask, fmt in (
        (shown & exp_floored & ~covering,
         lambda i: ("; not cut below the exposure ", _fmt(exposure[i], ",.0f"), " (acceptable grade): ",
                    _fmt(exp_amt[i], ",.0f"))),
        (shown & spared_cut & ~immaterial,
         lambda i: ("; grade ", _fmt(grades[i], ""), f" is better than {policy.decrease_from_grade} (cuts start at that "
                    "grade): kept",)),
        (shown & immaterial & (el_removed < policy.min_decrease_expected_loss),
         lambda i: ("; the cut would remove an expected loss of only ", _fmt(el_removed[i], ",.0f"),
                    f" (PD x LGD x cut; policy {policy.min_decrease_expected_loss:,.0f}): kept")),
        (shown & immaterial & (el_removed >= policy.min_decrease_expected_loss),
         lambda i: ("; the cut would remove an expected loss of only ", _fmt(el_removed[i], ",.0f"),
                    ", less than the margin it puts at risk (", _fmt(cut_margin[i], ",.0f"), "): kept")),
        (shown & waiting,
         lambda i: ("; the increase to ", _fmt(waited[i], ",.0f"), " waits for the routine review: the exposure ",
                    _fmt(exposure[i], ",.0f"), " uses ", _fmt(used[i], ".0%"), " of the current limit (between "
                    f"reviews increases start at {policy.increase_min_utilisation:.0%}): kept")),
        (ok & spared & ~revoked & ~coll,
         lambda i: ("; not revoked: the ledger shows no deterioration against the customer's own norm (or a steady "
                    "full payer, or one that pays nearly every invoice in full): terms and limit are worked instead",)),
    ):
        _append(rationale, mask, fmt)
    idle = np.flatnonzero(ok & ~revoked & inactive)
    rationale[idle] = [f"{t}; nothing open and no sales: not revoked now, the terms are decided when it orders again"
                       for t in rationale[idle]]
    coll_rows = ok & coll
    if coll_rows.any():
        rationale[coll_rows] = _cat("collections track: undisputed invoices ", _amounts(dpd_u[coll_rows]),
                                    " days past due; the limit is left as it is and no increase is considered "
                                    "until the past-due amount is paid")
    return _frame(
        {
            "current_limit": current,
            "suggested_limit": suggested,
            "limit_change": change,
            "action": action,
            "revoked": revoked,
            "revoke_reason": revoke_reason,
            "need": need_,
            "limit_rationale": rationale,
        },
        frame.index,
    )


def freeze_limits(
    frame: pd.DataFrame,
    limits: pd.DataFrame,
    held: np.ndarray,
    pd_values: np.ndarray,
    grades: np.ndarray,
    policy: LimitPolicy,
    master_scale: Sequence[Grade],
    thin_file: np.ndarray | None = None,
    lgd: np.ndarray | None = None,
    persona: np.ndarray | None = None,
) -> pd.DataFrame:
    """The freeze: a customer graded at or beyond ``policy.freeze_grade`` whose decision restricts nothing yet
    (action keep or increase, no order hold; not a thin file, not dormant, a positive limit on file), of one of
    ``policy.freeze_personas`` (by default weak late payers and distressed customers; every customer when no
    personas are given), gets its limit cut to its exposure rounded up to ``round_to`` (at least one
    ``round_to``): the unused headroom, which a customer heading for default would draw, is removed, while orders
    up to what it already owes still flow. The cut is a ``decrease``, made only where the expected loss it removes, PD x LGD x (current -
    frozen), is at least ``min_decrease_expected_loss``; the margin it puts at risk is the growth it blocks (the
    share of the need between the frozen limit and the current one, :func:`margin_of_cut`). It is not weighed
    customer by customer against that margin (``decrease_pays_margin`` would reject nearly every freeze: it counts
    the margin of a full horizon of growth against a PD the worst grades understate); whether a freeze grade pays
    is judged on the book, by the bad debt it keeps off the defaulters against the margin it costs the others
    (``benchmarks/decisions.py`` sweeps it). Strong late payers keep their sales flowing (terms and price actions
    instead) and disorganised customers get their paperwork fixed: not frozen by default. ``freeze_grade`` None:
    off.

    Worked example (round_to 1,000, LGD 60%, freeze grade 9): PD 25% (grade 9), limit 40,000, exposure 22,300,
    kept by the sizing -> frozen at 23,000; expected loss removed 0.25 x 0.6 x 17,000 = 2,550 >= 500: decrease
    17,000. With an exposure of 37,000 the freeze would remove 0.25 x 0.6 x 3,000 = 450 < 500: kept. Returns new
    limits (``limits`` itself when nothing is frozen)."""
    if policy.freeze_grade is None or not len(frame):
        return limits
    n = len(frame)
    p = np.asarray(pd_values, dtype="float64")
    names = [g.grade for g in master_scale]
    pos = grade_positions(grades, master_scale)
    thin = np.zeros(n, dtype=bool) if thin_file is None else np.asarray(thin_file, dtype=bool)
    step = policy.round_to
    action = limits["action"].to_numpy(dtype=object)
    current = limits["current_limit"].to_numpy("float64")
    exposure = np.clip(np.nan_to_num(_num(frame, "exposure"), nan=0.0), 0.0, None)
    frozen = np.maximum(np.ceil(exposure / step) * step, step)
    sales = monthly_sales(frame, policy.sales_basis)
    chosen = (np.ones(n, dtype=bool) if persona is None
              else np.isin(np.asarray(persona, dtype=object), list(policy.freeze_personas)))
    lgd_row = np.full(n, policy.lgd) if lgd is None else np.broadcast_to(np.asarray(lgd, dtype="float64"), (n,))
    with np.errstate(invalid="ignore"):
        el_removed = np.nan_to_num(p) * lgd_row * np.clip(current - frozen, 0.0, None)
        freeze = (np.isfinite(p) & (pos >= names.index(policy.freeze_grade)) & np.isin(action, ["keep", "increase"])
                  & ~np.asarray(held, dtype=bool) & ~thin & chosen & (sales > 0)
                  & np.isfinite(current) & (current > 0) & (frozen < current)
                  & (el_removed >= policy.min_decrease_expected_loss))
    if not freeze.any():
        return limits
    out = limits.copy()
    rationale = out["limit_rationale"].to_numpy(dtype=object).copy()
    for i in np.flatnonzero(freeze):
        rationale[i] = (f"{rationale[i]}; frozen at the exposure {exposure[i]:,.0f}: {frozen[i]:,.0f} (grade {grades[i]} "
                        f"is at or beyond the freeze grade {policy.freeze_grade}; removes the unused headroom "
                        f"{current[i] - frozen[i]:,.0f}, an expected loss of {el_removed[i]:,.0f}; orders up to the "
                        "exposure still flow)")
    suggested = np.where(freeze, frozen, out["suggested_limit"].to_numpy("float64"))
    out["suggested_limit"] = suggested
    out["limit_change"] = np.where(freeze, suggested - current, out["limit_change"].to_numpy("float64"))
    out["action"] = pd.Series(np.where(freeze, "decrease", action), index=out.index, dtype=object)
    out["limit_rationale"] = pd.Series(rationale, index=out.index, dtype=object)
    return out


def _steps_text(text: np.ndarray, rows: np.ndarray, step_up, step_down, floored, blocked, policy: LimitPolicy,
                sized, floor_amt, exposure, need_, dpd_u, coll, covering, cover_amt) -> np.ndarray:
    """The step caps, the floor and the no-increase rule, appended to the rationale where they applied."""
    out = text.copy()
    coll = np.asarray(coll, dtype=bool)
    for mask, fmt in (
        (rows & step_up, lambda i: (f"; step cap +{policy.max_increase_pct:.0%} per cycle (sized ",
                                    _fmt(sized[i], ",.0f"), ")")),
        (rows & step_down & ~floored,
         lambda i: (f"; step cap -{policy.max_decrease_pct:.0%} per cycle (sized ", _fmt(sized[i], ",.0f"), ")")),
        (rows & floored, lambda i: ("; not below the lower of exposure ", _fmt(exposure[i], ",.0f"), " and need ",
                                    _fmt(need_[i], ",.0f"), ": ", _fmt(floor_amt[i], ",.0f"))),
        (rows & covering & ~blocked,
         lambda i: ("; over the limit and paying: covers the exposure ", _fmt(exposure[i], ",.0f"), " (",
                    _fmt(cover_amt[i], ",.0f"), ", within the break-even cap): approving it releases the orders")),
        (rows & blocked,
         lambda i: (np.where(coll[i], "; no increase on the collections track",
                             _cat("; no increase while undisputed invoices are ", _fmt(dpd_u[i], ".0f"),
                                  f" days past due (policy {policy.no_increase_past_due_days:g}): kept")
                             ).astype(object),)),
    ):
        _append(out, mask, fmt)
    return out


def _append(text: np.ndarray, mask: np.ndarray, parts) -> None:
    """Append to ``text`` (in place), on the rows of ``mask``, the concatenation of ``parts(rows)`` (texts and
    object arrays of texts, one per row of ``mask``)."""
    i = np.flatnonzero(mask)
    if len(i):
        text[i] = _cat(text[i], *parts(i))


def _amounts(x: np.ndarray) -> np.ndarray:
    """Amounts as text with thousands separators (object array), one format per distinct value."""
    r = np.round(np.asarray(x, dtype="float64"))
    uniq, inv = np.unique(r, return_inverse=True)
    return np.array([f"{u:,.0f}" for u in uniq.tolist()], dtype=object)[inv.reshape(-1)]


def _rationale(policy: LimitPolicy, ok, revoked, revoke_reason, dormant, has_current, current0, terms, sales, need_,
               dbt, mult, grades, scaled, cap, cap_binds, p, thin, thin_kept, rounded, small, rel, suggested,
               lgd=None) -> np.ndarray:
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
    t = terms[i]
    terms_txt = np.where(np.isfinite(t), _amounts(np.nan_to_num(t)), "terms unknown").astype(object)
    mult_txt = _fmt(mult[i], "g")
    # the pieces of each row's text, joined once at the end: the sizing, the break-even cap where it binds,
    # the thin-file band, the rounding and the comparison with the current limit
    capped = np.full(len(i), "", dtype=object)
    binds = cap_binds[i]
    if binds.any():
        j = np.flatnonzero(binds)
        pd_txt = np.array([f"{x:.1%}" for x in p[i][j].tolist()], dtype=object)
        lgd_row = np.full(n, policy.lgd) if lgd is None else np.asarray(lgd, dtype="float64")
        lgd_txt = np.array([f"{x:.0%}" for x in lgd_row[i][j].tolist()], dtype=object)
        capped[j] = _cat("; capped at break-even ", _amounts(cap[i][j]), " (expected loss PD ", pd_txt,
                         " x LGD ", lgd_txt, f" = expected margin on {policy.margin_horizon_months:g} months of sales)")
    band = np.where(thin[i], f"; thin file: kept between {_money(policy.thin_file_starter_limit)} and "
                             f"{_money(policy.thin_file_max_limit)}", "").astype(object)
    cur_txt = _amounts(current0[i])
    rel_txt = _fmt(np.nan_to_num(rel[i]), "+.0%")
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
    out[i] = _cat("need ", _amounts(need_[i]), " = sales ", _amounts(sales[i]), "/month x (", terms_txt,
                  " + ", _amounts(dbt[i]), " typical days beyond terms) / 30; x", mult_txt, " for grade ",
                  _fmt(grades[i], ""), " = ", _amounts(scaled[i]), capped, band,
                  f"; rounded to {_money(policy.round_to)}: ", _amounts(rounded[i]), tail)
    return out
