"""Approval levels: worked examples of which authority a decision needs, and who may grant what."""

from __future__ import annotations

import numpy as np
import pytest

from riskml.config import ApprovalLevel, ApprovalPolicy, ScoringConfig
from riskml.scoring.approvals import level_allows, required_levels

CFG = ScoringConfig()


def _one(action, cur, new, grade, hold="none") -> str:
    return str(required_levels(np.array([action], dtype=object), np.array([cur]), np.array([new]),
                               np.array([grade], dtype=object), CFG.approvals, CFG.master_scale,
                               np.array([hold], dtype=object))[0])


def test_worked_examples_with_the_default_levels() -> None:
    assert _one("keep", 10_000, 10_000, "3") == ""                      # nothing to approve
    assert _one("increase", 10_000, 30_000, "3") == "analyst"          # +20k to 30k, good grade
    assert _one("increase", 10_000, 40_000, "3") == "credit_manager"   # +30k > analyst's 25k change
    assert _one("increase", 10_000, 20_000, "7") == "credit_manager"   # grade 7 is worse than the analyst's 6
    assert _one("increase", 10_000, 20_000, "9") == "finance_director" # worse than the manager's 8 too
    assert _one("decrease", 900_000, 700_000, "5") == "finance_director"  # 700k > manager's 500k
    assert _one("revoke", 10_000, 0, "10") == "credit_manager"         # analysts may not revoke
    assert _one("set", np.nan, 20_000, "4") == "analyst"               # a first limit is an increase from 0
    assert _one("keep", 10_000, 10_000, "3", hold="hard") == "credit_manager"
    assert _one("keep", 10_000, 10_000, "3", hold="soft") == ""


def test_who_may_grant_what() -> None:
    a = CFG.approvals
    assert level_allows("credit_manager", "analyst", a)
    assert level_allows("analyst", "analyst", a)
    assert not level_allows("analyst", "credit_manager", a)
    assert level_allows("analyst", "", a)
    with pytest.raises(ValueError, match="unknown approval level"):
        level_allows("intern", "analyst", a)


def test_the_highest_level_must_admit_everything() -> None:
    with pytest.raises(ValueError, match="last"):
        ApprovalPolicy(levels=[ApprovalLevel(name="only", max_limit=1e6, max_change=1e6)])
