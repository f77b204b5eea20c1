"""The portfolio report links the worklist index only when a worklist directory is known."""

from __future__ import annotations

import pandas as pd

from riskml.config import ScoringConfig
from riskml.data.ledger import Ledger
from riskml.reporting.html import render_portfolio
from riskml.reporting.inputs import model_summary, prepare_scores
from riskml.reporting.portfolio import build_portfolio_report
from riskml.scoring.grades import grade_bands
from tests.reporting.pages import Page


def test_portfolio_links_the_worklist_when_known(demo_scores: pd.DataFrame, small_ledger: Ledger) -> None:
    scores = demo_scores.assign(reason_codes="", model_version="", data_fingerprint="", scored=True, score_error="",
                                reason_1="", reason_2="", reason_3="")
    report = build_portfolio_report(prepare_scores(scores), grade_bands(ScoringConfig().master_scale),
                                    model_summary(None), customers=small_ledger.customers, figures=False)
    page = Page(render_portfolio(report, list_files={"worklist": "../worklist/index.html"}))
    assert page["worklist-link"].get("href") == "../worklist/index.html"
    assert "worklist-link" not in Page(render_portfolio(report))
