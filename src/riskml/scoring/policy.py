"""The decision policy as one pure function: :func:`apply_policy`.

``apply_policy(features, pd_values, config, previous)`` turns a feature table (one row per customer, as
built by :func:`riskml.features.build_features`) and each customer's PD into every decision riskml makes:
grade, suggested limit and action, order hold, review due, persona. It reads no clock, no file and no
model: the same inputs give the same decisions, whoever calls it (batch scoring, the Spark engine, the
backtest, the order-time service). Every row is decided from its own features and PD only, so a block
of rows, a single customer or the whole book give the same decision for the same customer.

Customers that could not be scored (``scored`` False, PD NaN) still get a decision: they keep their
current limit and get an urgent review with the reason (``errors``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from riskml.config import NoticePolicy, ScoringConfig
from riskml.scoring.actions import (
    HOLD_COLUMNS,
    REVIEW_COLUMNS,
    _index_previous,
    collections_track,
    defer_increases,
    held_increases,
    order_holds,
    past_due_hold_days,
    review_calendar,
    reviews_due,
)
from riskml.scoring.approvals import required_levels
from riskml.scoring.grades import assign_grades
from riskml.scoring.limits import LIMIT_COLUMNS, freeze_limits, monthly_sales, suggest_limits
from riskml.scoring.money import cents, decision_money, segment_rates
from riskml.scoring.overrides import (
    OVERRIDE_COLUMNS,
    ActiveOverride,
    level_suffices,
    override_levels,
    override_revokes,
    overrides_by_customer,
    release_applies,
    release_levels,
    release_room,
    release_text,
    restate_limits,
    set_limit_overrides,
)
from riskml.scoring.personas import PERSONA_COLUMNS, assign_personas, thin_file_mask, usual_lateness_days
from riskml.scoring.treatment import treatments

# feature columns the policy reads (besides customer_id and as_of); the optional ones of
# riskml.scoring.money.OPTIONAL_COLUMNS are read when present
POLICY_INPUTS = tuple(dict.fromkeys(("as_of", *LIMIT_COLUMNS, *HOLD_COLUMNS, *REVIEW_COLUMNS, *PERSONA_COLUMNS)))
# feature columns the policy reads when present (credit insurance, segments of the money rules)
POLICY_OPTIONAL_INPUTS = ("insured_limit", "insurance_days_left", "country", "industry", "past_due_amount")
# features of a run that the next run's policy compares with (``previous=``): the scores file carries them,
# so the previous state is read from it whatever features the model uses
PREVIOUS_FEATURES = ("dbt_avg_3m",)
# decision columns apply_policy returns, in order
DECISION_COLUMNS = (
    "grade", "current_limit", "suggested_limit", "limit_change", "action", "limit_rationale",
    "order_hold", "hold_reason", "hold_codes", "hold_type", "release_amount", "collections_track",
    "review_due", "review_reason", "review_codes", "review_priority", "next_review",
    "approval_level", "expected_loss", "margin_at_risk", "adverse_action_notice", "persona", "treatment",
)
# actions that are adverse to the customer (with an order hold: the letter states the reasons)
ADVERSE_ACTIONS = ("decrease", "revoke", "collections")


def adverse_action_notice(frame: pd.DataFrame, action: np.ndarray, hold: np.ndarray, policy: NoticePolicy) -> np.ndarray:
    """Whether the customer's letter carries the ECOA / Regulation B statement of specific reasons: an
    adverse decision (a decrease, revoke, collections track or order hold) for a customer in one of
    ``adverse_action_countries`` (or with no country on file when ``unknown_country_applies``)."""
    n = len(frame)
    adverse = np.isin(np.asarray(action, dtype=object), ADVERSE_ACTIONS) | np.asarray(hold, dtype=bool)
    wanted = {c.strip().upper() for c in policy.adverse_action_countries}
    if "country" not in frame:
        return adverse & policy.unknown_country_applies
    country = frame["country"].astype("object").to_numpy(dtype=object)
    known = np.array([c is not None and not (isinstance(c, float) and np.isnan(c)) and str(c).strip() != ""
                      for c in country], dtype=bool) if n else np.zeros(0, dtype=bool)
    inside = np.array([str(c).strip().upper() in wanted for c in country], dtype=bool) if n else np.zeros(0, dtype=bool)
    return adverse & np.where(known, inside, policy.unknown_country_applies)


def index_previous(previous: pd.DataFrame | None) -> pd.DataFrame | None:
    """The previous scores keyed by customer id (done once per run; :func:`apply_policy` accepts either)."""
    if previous is None or not len(previous):
        return None
    return _index_previous(previous)


@dataclass(frozen=True)
class CustomerContext:
    """What :func:`apply_policy` decides about each row before its limit and hold, from inputs that are not
    the exposure, the open orders or the credit limit (the PD, grade, thin file, persona, collections track,
    monthly sales, segment rates, usual lateness). The order-time check computes it once per customer at
    load and re-decides only :func:`limits_and_holds` with each order's exposure: a rule that reads the
    exposure, the open orders or the limit belongs in :func:`limits_and_holds`, not here
    (``tests/serving/test_parity.py`` checks the check against :func:`apply_policy`)."""

    p: np.ndarray
    scored: np.ndarray
    grades: np.ndarray
    thin: np.ndarray
    personas: np.ndarray
    collections: np.ndarray
    sales: np.ndarray
    lgd: np.ndarray
    margin: np.ndarray
    usual: np.ndarray

    def take(self, rows: np.ndarray) -> CustomerContext:
        """The context of ``rows`` (positions), in their order."""
        return CustomerContext(**{f.name: np.asarray(getattr(self, f.name))[rows] for f in fields(self)})


def customer_context(part: pd.DataFrame, pd_values: np.ndarray, config: ScoringConfig,
                     scored: np.ndarray | None = None) -> CustomerContext:
    """The :class:`CustomerContext` of every row of ``part`` (on a RangeIndex) given its PD; ``scored`` marks
    the rows with a valid PD (default: a PD in [0, 1]; the others get NaN)."""
    p = np.asarray(pd_values, dtype="float64").reshape(-1)
    if scored is None:
        scored = np.isfinite(p) & (p >= 0) & (p <= 1)
    scored = np.asarray(scored, dtype=bool)
    p = np.where(scored, p, np.nan)
    grades = assign_grades(p, config.master_scale)
    thin = thin_file_mask(part, config.thin_file)
    personas = assign_personas(part, p, config.personas, thin)
    coll = collections_track(part, config.actions)
    sales = monthly_sales(part, config.limits.sales_basis)
    lgd, margin = segment_rates(part, sales, config.limits, config.money)
    usual = usual_lateness_days(part, personas, config.actions.strong_pattern_margin_days)
    return CustomerContext(p, scored, grades, thin, personas, coll, sales, lgd, margin, usual)


def suggest_limits_in(part: pd.DataFrame, ctx: CustomerContext, config: ScoringConfig,
                      at_review: np.ndarray | None = None) -> pd.DataFrame:
    """The limit policy (:func:`~riskml.scoring.limits.suggest_limits`) of the rows of ``part`` in their context
    (between routine reviews only increases the customer uses: the review calendar reads the exposure, so it
    is decided here, not in the context; ``at_review``: its first array, when the caller has it already)."""
    if at_review is None:
        at_review = review_calendar(part, ctx.grades, config.actions)[0]
    return suggest_limits(part, ctx.p, ctx.grades, config.limits, config.master_scale, ctx.thin, ctx.scored,
                          persona=ctx.personas, collections=ctx.collections, lgd=ctx.lgd, margin=ctx.margin,
                          usual_days=ctx.usual, at_review=at_review,
                          hold_days=past_due_hold_days(ctx.grades, config.actions, len(part)))


def limits_and_holds(part: pd.DataFrame, ctx: CustomerContext, config: ScoringConfig,
                     limits: pd.DataFrame | None = None,
                     decided: np.ndarray | None = None,
                     at_review: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(limits, holds) of the rows of ``part``: the limit policy (or ``limits`` when given, e.g. with a
    person's revoke decision laid over it), the order holds, no increase together with a hold, then the freeze
    of the worst grades with nothing restricted yet (``limits.freeze_grade``: a cut to what the customer
    owes, so it holds no order and the holds stand). ``decided`` marks rows whose limit action a person
    decided (an override): the freeze leaves them as decided; ``at_review`` as in :func:`suggest_limits_in`."""
    limits = suggest_limits_in(part, ctx, config, at_review) if limits is None else limits
    holds = order_holds(part, limits, config.actions, ctx.grades, ctx.personas, ctx.collections)
    rows = np.flatnonzero(held_increases(limits, holds))
    if len(rows):
        # only the deferred rows changed their limits; holds are decided row by row, so only theirs are redone
        limits = defer_increases(limits, holds)
        redone = order_holds(part.iloc[rows].reset_index(drop=True), limits.iloc[rows].reset_index(drop=True),
                             config.actions, np.asarray(ctx.grades)[rows], np.asarray(ctx.personas)[rows],
                             np.asarray(ctx.collections)[rows])
        holds = holds.copy()
        for col in holds.columns:
            values = holds[col].to_numpy().copy()
            values[rows] = redone[col].to_numpy(dtype=values.dtype)
            holds[col] = pd.Series(values, index=holds.index, dtype=holds[col].dtype)
    untouched = holds["order_hold"].to_numpy(dtype=bool)
    if decided is not None:
        untouched = untouched | np.asarray(decided, dtype=bool)
    limits = freeze_limits(part, limits, untouched, ctx.p, ctx.grades, config.limits, config.master_scale, ctx.thin,
                           ctx.lgd, ctx.personas)
    return limits, holds


@dataclass(frozen=True)
class OverriddenLimits:
    """:func:`limits_and_holds_overridden`'s result: the limits and holds, the limit in force of each row (a
    ``limit`` override's where one applies, else the one on file), and per row the ``limit`` / ``action``
    overrides that apply and the texts of those that no longer do."""

    limits: pd.DataFrame
    holds: pd.DataFrame
    limit: np.ndarray
    applied: list[list[ActiveOverride]]
    skipped: list[list[str]]


def limits_and_holds_overridden(part: pd.DataFrame, ctx: CustomerContext, config: ScoringConfig,
                                overrides: Sequence[Mapping[str, ActiveOverride]],
                                at_review: np.ndarray | None = None) -> OverriddenLimits:
    """:func:`limits_and_holds` with each row's active overrides (kind -> override) going into the policy -- the
    one implementation of overrides, for the order-time check and the batch (``apply_policy(..., overrides=)``):

    1. a ``limit`` or ``action`` override applies while its approver's level allows it
       (:func:`~riskml.scoring.overrides.override_levels` by the limit on file and the grade), else it is skipped;
    2. a ``limit`` override's limit is the limit on file the limit policy and the holds read (the exposure is
       measured against it: over-limit hold and release amount);
    3. an ``action`` override replaces the limit policy's revoke decision
       (:func:`~riskml.scoring.overrides.override_revokes`), and a ``limit`` override sets the suggested limit
       (:func:`~riskml.scoring.overrides.set_limit_overrides`) before the holds are decided; the freeze leaves
       both as decided;
    4. the rows are restated against the limit on file (:func:`~riskml.scoring.overrides.restate_limits`).

    A ``hold_release`` override is judged on the hold decided here by
    :func:`~riskml.scoring.overrides.release_applies` (by the caller: it depends on the order's amount)."""
    n = len(part)
    on_file = pd.to_numeric(part["credit_limit"], errors="coerce").to_numpy("float64") if n else np.zeros(0)
    lim_ovs: list[ActiveOverride | None] = [o.get("limit") for o in overrides]
    act_ovs: list[ActiveOverride | None] = [o.get("action") for o in overrides]
    applied: list[list[ActiveOverride]] = [[] for _ in range(n)]
    skipped: list[list[str]] = [[] for _ in range(n)]
    todo = [(k, ov) for k in range(n) for ov in (lim_ovs[k], act_ovs[k]) if ov is not None]
    if todo:
        rows = np.array([k for k, _ in todo], dtype=np.int64)
        needed = override_levels([ov.kind for _, ov in todo], on_file[rows],
                                 np.array([np.nan if ov.limit is None else ov.limit for _, ov in todo], dtype="float64"),
                                 np.asarray(ctx.grades, dtype=object)[rows], config)
        for (k, ov), need in zip(todo, needed, strict=True):
            if (ov.kind == "limit" and ov.limit is None) or not level_suffices(ov.approver_level, str(need),
                                                                               config.approvals):
                skipped[k].append(f"{ov.note} ({ov.kind}) not applied: it needs {need}, the approver's level is "
                                  f"{ov.approver_level or 'none'}")
                (lim_ovs if ov.kind == "limit" else act_ovs)[k] = None
            else:
                applied[k].append(ov)
    has_limit = np.array([ov is not None for ov in lim_ovs], dtype=bool)
    limit = on_file.copy()
    if has_limit.any():
        limit[has_limit] = [ov.limit for ov in lim_ovs if ov is not None]
        part = part.copy()  # a pandas frame, or the order-time check's numpy rows
        part["credit_limit"] = limit
        if at_review is not None:  # the routine review judged at the limit in force
            rows = np.flatnonzero(has_limit)
            sub = part.iloc[rows].reset_index(drop=True)
            at_review = np.asarray(at_review, dtype=bool).copy()
            at_review[rows] = review_calendar(sub if isinstance(sub, pd.DataFrame) else sub.to_frame(),
                                              np.asarray(ctx.grades, dtype=object)[rows], config.actions)[0]
    limits = suggest_limits_in(part, ctx, config, at_review)
    has_action = np.array([ov is not None for ov in act_ovs], dtype=bool)
    if has_action.any():
        limits = override_revokes(limits, act_ovs)
    limits, set_rows = set_limit_overrides(limits, lim_ovs)
    decided = has_action | set_rows
    limits, holds = limits_and_holds(part, ctx, config, limits, decided if decided.any() else None)
    limits = restate_limits(limits, has_limit, set_rows, on_file)
    return OverriddenLimits(limits, holds, limit, applied, skipped)


def _splice(frame: pd.DataFrame, rows: np.ndarray, sub: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its ``rows`` (positions) replaced by the rows of ``sub`` (same columns)."""
    out = frame.copy()
    for col in frame.columns:
        values = frame[col].to_numpy().copy()
        values[rows] = sub[col].to_numpy(dtype=values.dtype)
        out[col] = pd.Series(values, index=frame.index, dtype=frame[col].dtype)
    return out


def _apply_overrides(part: pd.DataFrame, ctx: CustomerContext, config: ScoringConfig, limits: pd.DataFrame,
                     holds: pd.DataFrame, overrides: pd.DataFrame | Mapping[str, Mapping[str, ActiveOverride]],
                     at_review: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray]]:
    """(limits, holds, the :data:`~riskml.scoring.overrides.OVERRIDE_COLUMNS`): the rows of customers with active
    overrides re-decided by :func:`limits_and_holds_overridden` (the policy's own figures kept in ``policy_*``),
    then their holds released by a ``hold_release`` override that still applies
    (:func:`~riskml.scoring.overrides.release_applies` for the customer's state: an order of 0; a release
    whose ``max_amount`` is used up by the orders released under it no longer applies)."""
    n = len(part)
    by = overrides_by_customer(overrides) if isinstance(overrides, pd.DataFrame) else overrides
    ids = part["customer_id"].astype(str).to_numpy()
    cols: dict[str, np.ndarray] = {
        c: np.full(n, "", dtype=object) for c in OVERRIDE_COLUMNS
        if c not in ("override_limit", "override_hold_release", "policy_suggested_limit", "policy_order_hold")}
    cols["override_limit"] = np.full(n, np.nan)
    cols["override_hold_release"] = np.zeros(n, dtype=bool)
    cols["policy_suggested_limit"] = cents(limits["suggested_limit"].to_numpy("float64"))
    cols["policy_action"] = limits["action"].to_numpy(dtype=object).copy()
    cols["policy_order_hold"] = holds["order_hold"].to_numpy(dtype=bool).copy()
    rows = np.array([k for k, c in enumerate(ids) if c in by], dtype=np.int64)
    if not len(rows):
        return limits, holds, cols
    ovs = [by[ids[k]] for k in rows]
    dec = limits_and_holds_overridden(part.iloc[rows].reset_index(drop=True), ctx.take(rows), config, ovs,
                                      np.asarray(at_review)[rows])
    sub_holds = dec.holds.copy()
    hold = sub_holds["order_hold"].to_numpy(dtype=bool).copy()
    reason = sub_holds["hold_reason"].to_numpy(dtype=object).copy()
    hold_type = sub_holds["hold_type"].to_numpy(dtype=object)
    needed = release_levels(hold_type, np.nan_to_num(dec.limit, nan=0.0), np.asarray(ctx.grades, dtype=object)[rows],
                            config)
    for k, (r, o) in enumerate(zip(rows, ovs, strict=True)):
        listed = list(dec.applied[k])
        skipped = list(dec.skipped[k])
        rel = o.get("hold_release")
        if rel is not None:
            if not hold[k] or release_applies(rel, str(needed[k]), 0.0, config.approvals):
                listed.append(rel)
                if hold[k]:
                    hold[k] = False
                    reason[k] = "; ".join(t for t in (reason[k], release_text(rel)) if t)
                    cols["override_hold_release"][r] = True
            elif release_room(rel) <= 1e-9:
                skipped.append(f"{rel.note} (hold_release) not applied: its max_amount {rel.max_amount:,.2f} is used up")
            else:
                skipped.append(f"{rel.note} (hold_release) not applied: the {hold_type[k]} hold needs {needed[k]}, "
                               f"the approver's level is {rel.approver_level or 'none'}")
        listed.sort(key=lambda v: v.id)
        for col, values in (("override_ids", [str(v.id) for v in listed]), ("override_kinds", [v.kind for v in listed]),
                            ("override_reason", [v.reason for v in listed]),
                            ("override_approver", [v.approver for v in listed]),
                            ("override_expires_on", [v.expires_on or "none" for v in listed]),
                            ("override_skipped", skipped)):
            cols[col][r] = "; ".join(values)
        for v in listed:
            if v.kind == "limit":
                cols["override_limit"][r] = v.limit
            elif v.kind == "action":
                cols["override_action"][r] = v.action or ""
    sub_holds["order_hold"] = hold
    sub_holds["hold_reason"] = pd.Series(reason, index=sub_holds.index, dtype=object)
    return _splice(limits, rows, dec.limits), _splice(holds, rows, sub_holds), cols


def apply_policy(
    features: pd.DataFrame,
    pd_values: np.ndarray,
    config: ScoringConfig | None = None,
    previous: pd.DataFrame | None = None,
    scored: np.ndarray | None = None,
    errors: np.ndarray | None = None,
    overrides: pd.DataFrame | Mapping[str, Mapping[str, ActiveOverride]] | None = None,
) -> pd.DataFrame:
    """Every decision for every row of ``features`` (one row per customer, with ``customer_id``,
    ``as_of`` and :data:`POLICY_INPUTS`), given the PD of each row.

    ``previous`` is the last scores output (``customer_id``, ``grade``, optionally ``as_of`` and
    ``dbt_avg_3m``), raw or as :func:`index_previous` returns it; ``scored`` marks rows with a valid PD
    (default: those with a finite PD) and ``errors`` says why the others could not be scored.

    ``overrides``: the overrides active on the as-of date (the frame of
    :func:`riskml.scoring.overrides.active_overrides`, or per customer id and kind); they go into the policy
    as in the order-time check (:func:`limits_and_holds_overridden`, then a ``hold_release`` override releases
    the hold it still may), and the result carries :data:`~riskml.scoring.overrides.OVERRIDE_COLUMNS` besides
    (the policy's own figures in ``policy_*``). None: no override columns.

    The order: grades -> thin file -> persona -> collections track -> review calendar -> limits (persona-aware;
    between routine reviews only increases the customer uses) -> holds
    (persona-aware) -> no increase with a hold -> freeze of the worst grades -> reviews -> money -> approval level
    -> notice.

    Returns a frame of :data:`DECISION_COLUMNS` on a RangeIndex, in the order of ``features``."""
    config = config or ScoringConfig()
    part = features.reset_index(drop=True)
    n = len(part)
    p = np.asarray(pd_values, dtype="float64").reshape(-1)
    if p.shape != (n,):
        raise ValueError(f"apply_policy: {n} feature rows but {p.shape[0]} PD values")
    ctx = customer_context(part, p, config, scored)
    p, scored = ctx.p, ctx.scored
    if errors is None:
        errors = np.where(scored, "", "no PD for this customer").astype(object)
    errors = np.asarray(errors, dtype=object)
    prev = index_previous(previous) if previous is not None else None

    grades, personas, coll, sales, lgd, margin = ctx.grades, ctx.personas, ctx.collections, ctx.sales, ctx.lgd, ctx.margin
    calendar = review_calendar(part, grades, config.actions)  # read by the limits and the reviews
    limits, holds = limits_and_holds(part, ctx, config, at_review=calendar[0])
    override_cols = None
    if overrides is not None:
        limits, holds, override_cols = _apply_overrides(part, ctx, config, limits, holds, overrides, calendar[0])
    reviews = reviews_due(part, grades, config.actions, config.master_scale, prev, scored, errors, limits, coll,
                          holds["order_hold"].to_numpy(dtype=bool), calendar)
    money = decision_money(part, p, limits, holds, sales, lgd, margin, config.limits, config.money)
    action = limits["action"].to_numpy(dtype=object)
    current = limits["current_limit"].to_numpy("float64")
    suggested = limits["suggested_limit"].to_numpy("float64")
    hold_type = holds["hold_type"].to_numpy(dtype=object)
    order_hold = holds["order_hold"].to_numpy(dtype=bool)
    hold_codes = holds["hold_codes"].to_numpy(dtype=object)
    out = pd.DataFrame({
        "grade": pd.Series(grades, dtype=object),
        "current_limit": cents(current),
        "suggested_limit": cents(suggested),
        "limit_change": cents(limits["limit_change"].to_numpy("float64")),
        "action": action,
        "limit_rationale": limits["limit_rationale"].to_numpy(dtype=object),
        "order_hold": order_hold,
        "hold_reason": holds["hold_reason"].to_numpy(dtype=object),
        "hold_codes": hold_codes,
        "hold_type": hold_type,
        "release_amount": holds["release_amount"].to_numpy("float64"),
        "collections_track": coll,
        "review_due": reviews["review_due"].to_numpy(dtype=bool),
        "review_reason": reviews["review_reason"].to_numpy(dtype=object),
        "review_codes": reviews["review_codes"].to_numpy(dtype=object),
        "review_priority": reviews["review_priority"].to_numpy(dtype=np.int8),
        "next_review": pd.to_datetime(reviews["next_review"]).to_numpy("datetime64[ns]"),
        "approval_level": required_levels(action, current, suggested, grades, config.approvals, config.master_scale,
                                          hold_type),
        "expected_loss": money["expected_loss"].to_numpy("float64"),
        "margin_at_risk": money["margin_at_risk"].to_numpy("float64"),
        "adverse_action_notice": adverse_action_notice(part, action, order_hold, config.notices),
        "persona": personas,
    })
    # the treatment reads the decisions as objects (not back from the text columns of ``out``)
    decided = pd.DataFrame({"action": pd.Series(action, dtype=object), "order_hold": order_hold,
                            "hold_codes": pd.Series(hold_codes, dtype=object)})
    out["treatment"] = treatments(personas, decided, config)[1]
    if override_cols is not None:
        for col in OVERRIDE_COLUMNS:
            out[col] = override_cols[col]
    return out
