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

from riskml.config import ScoringConfig
from riskml.scoring.actions import HOLD_COLUMNS, REVIEW_COLUMNS, _index_previous, order_holds, reviews_due
from riskml.scoring.grades import assign_grades
from riskml.scoring.limits import LIMIT_COLUMNS, suggest_limits
from riskml.scoring.personas import PERSONA_COLUMNS, assign_personas, thin_file_mask
from riskml.scoring.treatment import treatments

# feature columns the policy reads (besides customer_id)
POLICY_INPUTS = tuple(dict.fromkeys((*LIMIT_COLUMNS, *HOLD_COLUMNS, *REVIEW_COLUMNS, *PERSONA_COLUMNS)))
# decision columns apply_policy returns, in order
DECISION_COLUMNS = (
    "grade", "current_limit", "suggested_limit", "limit_change", "action", "limit_rationale",
    "order_hold", "hold_reason", "hold_codes", "review_due", "review_reason", "review_codes", "review_priority",
    "persona", "treatment",
)


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
    """Every decision for every row of ``features`` (one row per customer, with ``customer_id`` and
    :data:`POLICY_INPUTS`), given the PD of each row.

    ``previous`` is the last scores output (``customer_id``, ``grade``, optionally ``as_of`` and
    ``dbt_avg_3m``), raw or as :func:`index_previous` returns it; ``scored`` marks rows with a valid PD
    (default: those with a finite PD) and ``errors`` says why the others could not be scored.

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
    limits = suggest_limits(part, p, grades, config.limits, config.master_scale, thin, scored)
    holds = order_holds(part, limits, config.actions)
    reviews = reviews_due(part, grades, config.actions, config.master_scale, prev, scored, errors, limits)
    out = pd.DataFrame({
        "grade": pd.Series(grades, dtype=object),
        "current_limit": limits["current_limit"].to_numpy("float64"),
        "suggested_limit": limits["suggested_limit"].to_numpy("float64"),
        "limit_change": limits["limit_change"].to_numpy("float64"),
        "action": limits["action"].to_numpy(dtype=object),
        "limit_rationale": limits["limit_rationale"].to_numpy(dtype=object),
        "order_hold": holds["order_hold"].to_numpy(dtype=bool),
        "hold_reason": holds["hold_reason"].to_numpy(dtype=object),
        "hold_codes": holds["hold_codes"].to_numpy(dtype=object),
        "review_due": reviews["review_due"].to_numpy(dtype=bool),
        "review_reason": reviews["review_reason"].to_numpy(dtype=object),
        "review_codes": reviews["review_codes"].to_numpy(dtype=object),
        "review_priority": reviews["review_priority"].to_numpy(dtype=np.int8),
        "persona": assign_personas(part, p, config.personas, thin),
    })
    out["treatment"] = treatments(out["persona"].to_numpy(), out, config)[1]
    return out
