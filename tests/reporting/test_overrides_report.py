"""The customer report shows the overrides of the scores row (``riskml score --overrides-db``): each one
that applied, the reasons, the policy's own decision and the overrides that no longer apply."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskml.config import ScoringConfig
from riskml.reporting.customer import build_customer_report, override_lines
from riskml.reporting.html import render_customer
from riskml.reporting.inputs import prepare_contributions
from riskml.scoring.grades import grade_bands
from riskml.scoring.overrides import ActiveOverride
from riskml.scoring.policy import apply_policy
from tests.scoring.frames import covering_up_to, rows

from .pages import Page
from .test_customer_units import DEFAULT, SPECS, contributions, scores_row

# over-limit customers covered by a limit only up to grade 8 (the shipped cover_exposure_worst_grade covers grade 9
# too), so that the grade-9 customer over its limit is held
CFG = covering_up_to("8")


def _decided(*overrides: ActiveOverride) -> dict:
    """A scores row of the grade-9 customer over its limit, decided by the policy with ``overrides``."""
    dec = apply_policy(rows({"exposure": 24_000.0, "open_orders_amount": 3_000.0}), np.array([0.2]), CFG,
                       overrides={"C1": {o.kind: o for o in overrides}}).iloc[0].to_dict()
    keep = {k: v for k, v in dec.items() if k not in ("next_review", "grade")}
    return scores_row(**keep)


def test_lines_of_the_overrides_that_applied_and_of_the_policy_alone() -> None:
    row = _decided(ActiveOverride(1, "limit", limit=30_000.0, approver="fd", approver_level="finance_director",
                                  reason="seasonal peak", expires_on="2026-12-31"),
                   ActiveOverride(2, "hold_release", approver="ann", approver_level="analyst", reason="paid by wire"))
    lines = override_lines(row)
    assert lines == [
        "Override #1: credit limit 30,000; granted by fd, until 2026-12-31.",
        "Override #2: hold release (no hold to release); granted by ann, no expiry.",
        "Reasons given: seasonal peak; paid by wire.",
        "The policy alone: suggested limit 15,000, action keep, orders held.",
    ]
    report = build_customer_report(row, {"name": "Acme"}, prepare_contributions(contributions(**DEFAULT)), SPECS,
                                   grade_bands(ScoringConfig().master_scale))
    page = Page(render_customer(report))
    assert "Override #1: credit limit 30,000" in page["overrides"].text


def test_a_release_and_an_override_that_no_longer_applies() -> None:
    row = _decided(ActiveOverride(3, "hold_release", approver="ann", approver_level="analyst"),
                   ActiveOverride(4, "action", action="keep", approver="ann", approver_level="analyst"))
    lines = override_lines(row)
    assert lines[0] == "Override #3: orders released despite the hold; granted by ann, no expiry."
    assert lines[-1].startswith("Not applied: override #4 (ann) (action) not applied: it needs credit_manager")


def test_no_lines_and_no_section_without_overrides() -> None:
    row = scores_row()
    assert override_lines(row) == [] and override_lines(scores_row(override_ids="", override_skipped="")) == []
    report = build_customer_report(row, {"name": "Acme"}, prepare_contributions(contributions(**DEFAULT)), SPECS,
                                   grade_bands(ScoringConfig().master_scale))
    assert 'id="overrides"' not in render_customer(report)
    assert pd.isna(row.get("override_ids", np.nan))
