"""The "Decision rates" table of docs/scoring.md: generated from docs/decision_rates.json (never typed), and
its small-test-ledger column recomputed here from the tiny model's scores. After a change to the decisions
or the tiny model, regenerate: RISKML_UPDATE_DOCS=1 pytest tests/scoring/test_rates.py (the demo columns:
python benchmarks/decisions.py rates, see its docstring)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from benchmarks.decisions import DOC, doc_section, load_rates, save_rates

from riskml.config import ScoringConfig
from riskml.scoring.score import score_customers
from riskml.scoring.summary import decision_rates, rates_markdown

SMALL = "small test ledger (300 x 24, tiny model)"


def test_rates_worked_example() -> None:
    scores = pd.DataFrame({"order_hold": [True, False, False, False], "review_due": [True, True, False, False],
                           "action": ["keep", "increase", "revoke", "keep"], "limit_change": [0.0, 5.0, -10.0, np.nan],
                           "expected_loss": [1.0, 2.0, 3.0, np.nan]})
    r = decision_rates(scores, [300.0, 100.0, 0.0, 600.0])
    assert r["holds_pct_customers"] == 25.0 and r["holds_pct_sales"] == 30.0 and r["reviews_pct"] == 50.0
    assert r["limits_changed_pct"] == 50.0 and r["revokes"] == 1 and r["total_limit_change"] == -5.0
    assert r["total_expected_loss"] == 6.0 and "total_margin_at_risk" not in r
    assert "| order holds, % of monthly sales | 30.0% |" in rates_markdown({"x": r})
    assert "| margin at risk (holds, cuts, revokes) | n/a |" in rates_markdown({"x": r})


def test_doc_table_is_generated_from_the_rates_file(small_features, tiny_model) -> None:
    rates = load_rates()
    scores = score_customers(small_features, tiny_model, ScoringConfig(), with_contributions=False).scores
    fresh = decision_rates(scores, small_features["sales_avg_3m"].to_numpy())
    if os.environ.get("RISKML_UPDATE_DOCS"):
        rates[SMALL] = fresh
        save_rates(rates)
    assert rates.get(SMALL) == fresh, "docs/decision_rates.json is stale: RISKML_UPDATE_DOCS=1 pytest " + __file__
    assert doc_section(rates) in DOC.read_text(encoding="utf-8"), "docs/scoring.md decision rates are stale"


def test_reviews_are_worked_by_urgency_then_money_at_stake() -> None:
    from riskml.scoring.summary import review_order

    scores = pd.DataFrame({"customer_id": ["A", "B", "C", "D", "E"], "review_due": [True, True, True, False, True],
                           "review_priority": [3, 1, 1, 0, 1], "expected_loss": [9e6, 10.0, 5.0, 1e9, np.nan],
                           "margin_at_risk": [0.0, 0.0, 100.0, 0.0, 50.0]})
    # priority 1: C (105), E (50), B (10); then A (priority 3); D is not due
    assert review_order(scores)["customer_id"].tolist() == ["C", "E", "B", "A"]
