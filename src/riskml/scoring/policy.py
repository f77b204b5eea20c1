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

import numpy as np
import pandas as pd

from riskml.config import NoticePolicy, ScoringConfig
from riskml.scoring.actions import (
    HOLD_COLUMNS,
    REVIEW_COLUMNS,
    _index_previous,
    collections_track,
    defer_increases,
    order_holds,
    review_calendar,
    reviews_due,
)
from riskml.scoring.approvals import required_levels
from riskml.scoring.grades import assign_grades
from riskml.scoring.limits import LIMIT_COLUMNS, freeze_limits, monthly_sales, suggest_limits
from riskml.scoring.money import cents, decision_money, segment_rates
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

# the persona codes the decision rules are written against, from the codes riskml.scoring.personas returns
# today (one place: once the personas module returns these codes itself, this map is the identity)
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


def apply_policy(
    features: pd.DataFrame,
    pd_values: np.ndarray,
    config: ScoringConfig | None = None,
    previous: pd.DataFrame | None = None,
    scored: np.ndarray | None = None,
    errors: np.ndarray | None = None,
) -> pd.DataFrame:
    """Every decision for every row of ``features`` (one row per customer, with ``customer_id``,
    ``as_of`` and :data:`POLICY_INPUTS`), given the PD of each row.

    ``previous`` is the last scores output (``customer_id``, ``grade``, optionally ``as_of`` and
    ``dbt_avg_3m``), raw or as :func:`index_previous` returns it; ``scored`` marks rows with a valid PD
    (default: those with a finite PD) and ``errors`` says why the others could not be scored.

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
    if scored is None:
        scored = np.isfinite(p) & (p >= 0) & (p <= 1)
    scored = np.asarray(scored, dtype=bool)
    p = np.where(scored, p, np.nan)
    if errors is None:
        errors = np.where(scored, "", "no PD for this customer").astype(object)
    errors = np.asarray(errors, dtype=object)
    prev = index_previous(previous) if previous is not None else None

    grades = assign_grades(p, config.master_scale)
    thin = thin_file_mask(part, config.thin_file)
    personas = assign_personas(part, p, config.personas, thin)
    codes = personas
    coll = collections_track(part, config.actions)
    sales = monthly_sales(part, config.limits.sales_basis)
    lgd, margin = segment_rates(part, sales, config.limits, config.money)
    usual = usual_lateness_days(part, codes, config.actions.strong_pattern_margin_days)
    at_review = review_calendar(part, grades, config.actions)[0]
    limits = suggest_limits(part, p, grades, config.limits, config.master_scale, thin, scored, persona=codes,
                            collections=coll, lgd=lgd, margin=margin, usual_days=usual, at_review=at_review)
    holds = order_holds(part, limits, config.actions, grades, codes, coll)
    resolved = defer_increases(limits, holds)
    if resolved is not limits:
        limits = resolved
        holds = order_holds(part, limits, config.actions, grades, codes, coll)
    # the worst grades with nothing restricted yet: the limit frozen at the exposure (limits.freeze_grade; the
    # freeze is a cut to what the customer owes, so it holds no order and the holds stand)
    limits = freeze_limits(part, limits, holds["order_hold"].to_numpy(dtype=bool), p, grades, config.limits,
                           config.master_scale, thin, lgd, codes)
    reviews = reviews_due(part, grades, config.actions, config.master_scale, prev, scored, errors, limits, coll,
                          holds["order_hold"].to_numpy(dtype=bool))
    money = decision_money(part, p, limits, holds, sales, lgd, margin, config.limits, config.money)
    action = limits["action"].to_numpy(dtype=object)
    current = limits["current_limit"].to_numpy("float64")
    suggested = limits["suggested_limit"].to_numpy("float64")
    hold_type = holds["hold_type"].to_numpy(dtype=object)
    order_hold = holds["order_hold"].to_numpy(dtype=bool)
    out = pd.DataFrame({
        "grade": pd.Series(grades, dtype=object),
        "current_limit": cents(current),
        "suggested_limit": cents(suggested),
        "limit_change": cents(limits["limit_change"].to_numpy("float64")),
        "action": action,
        "limit_rationale": limits["limit_rationale"].to_numpy(dtype=object),
        "order_hold": order_hold,
        "hold_reason": holds["hold_reason"].to_numpy(dtype=object),
        "hold_codes": holds["hold_codes"].to_numpy(dtype=object),
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
    out["treatment"] = treatments(out["persona"].to_numpy(), out, config)[1]
    return out
