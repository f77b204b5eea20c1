"""Approval levels: who may approve a limit decision, an override or the release of a held order.

Levels are ordered from the lowest authority to the highest (``ApprovalPolicy.levels``, default analyst,
credit_manager, finance_director). A decision needs the *first* level whose bounds admit it:

- the new limit is at most the level's ``max_limit`` and the change (either way) at most ``max_change``;
- an increase (or a first limit) for a grade worse than ``worst_grade_for_increase`` needs a higher level;
- revoking open terms needs a level with ``may_revoke``; releasing a hard hold one with
  ``may_release_hard_hold`` (a soft hold any level may release).

A decision that changes nothing (``keep``, no hold to release) needs no approval: the level is "".
The highest level admits everything (the config validator insists), so every decision has a level.
"""

from __future__ import annotations

import numpy as np

from riskml.config import ApprovalPolicy, Grade
from riskml.scoring.grades import grade_positions

NO_APPROVAL = ""


def level_names(policy: ApprovalPolicy) -> list[str]:
    """The level names, lowest authority first."""
    return [lv.name for lv in policy.levels]


def level_rank(name: str, policy: ApprovalPolicy) -> int:
    """0 for the lowest level, ..., -1 for no approval needed; unknown names raise ``ValueError``."""
    if name == NO_APPROVAL:
        return -1
    names = level_names(policy)
    if name not in names:
        raise ValueError(f"unknown approval level {name!r}; the levels are {names}")
    return names.index(name)


def level_allows(approver: str, required: str, policy: ApprovalPolicy) -> bool:
    """Whether an approver of level ``approver`` may grant a decision that needs ``required``."""
    return level_rank(approver, policy) >= level_rank(required, policy)


def required_levels(
    action: np.ndarray,
    current_limit: np.ndarray,
    new_limit: np.ndarray,
    grades: np.ndarray,
    policy: ApprovalPolicy,
    master_scale: list[Grade],
    hold_type: np.ndarray | None = None,
) -> np.ndarray:
    """The approval level each decision needs (vectorised; "" where nothing needs approving).

    ``action`` is increase / keep / decrease / revoke / set; ``current_limit`` NaN where none is on file;
    ``hold_type`` (none / soft / hard, optional) asks for the level that may release the hold too."""
    action = np.asarray(action, dtype=object)
    n = len(action)
    cur = np.nan_to_num(np.asarray(current_limit, dtype="float64"), nan=0.0)
    new = np.nan_to_num(np.asarray(new_limit, dtype="float64"), nan=0.0)
    change = np.abs(new - cur)
    pos = grade_positions(np.asarray(grades, dtype=object), master_scale)
    raising = np.isin(action, ["increase", "set"])
    revoking = action == "revoke"
    hard = np.zeros(n, dtype=bool) if hold_type is None else np.asarray(hold_type, dtype=object) == "hard"
    needs = np.isin(action, ["increase", "decrease", "set", "revoke"]) | hard
    out = np.full(n, NO_APPROVAL, dtype=object)
    todo = needs.copy()
    for lv in policy.levels:
        ok = (new <= lv.max_limit) & (change <= lv.max_change)
        if lv.worst_grade_for_increase is not None:
            worst = grade_positions(np.array([lv.worst_grade_for_increase], dtype=object), master_scale)[0]
            with np.errstate(invalid="ignore"):
                ok &= ~raising | (np.nan_to_num(pos, nan=np.inf) <= worst)
        if not lv.may_revoke:
            ok &= ~revoking
        if not lv.may_release_hard_hold:
            ok &= ~hard
        hit = todo & ok
        out[hit] = lv.name
        todo &= ~hit
    out[todo] = policy.levels[-1].name
    return out
