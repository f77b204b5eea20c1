"""The customer report's own logic on tiny hand-made frames: the statement of specific reasons, what
changed since the previous review, the decision wording, and a page for a customer that was not scored."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskml.config import ScoringConfig
from riskml.features import feature_specs
from riskml.reporting.customer import (
    build_customer_report,
    changes_since,
    decision_text,
    rationale_steps,
    statement_of_reasons,
    value_text,
)
from riskml.reporting.html import render_customer
from riskml.reporting.inputs import prepare_contributions, prepare_scores
from riskml.scoring.grades import grade_bands

from .pages import Page

SPECS = feature_specs({})
AS_OF = pd.Timestamp("2026-09-30")


def scores_row(**overrides) -> dict:
    row = {
        "customer_id": "C1", "as_of": AS_OF, "pd": 0.2461, "grade": "9", "current_limit": 50_000.0,
        "suggested_limit": 20_000.0, "limit_change": -30_000.0, "action": "decrease", "order_hold": False,
        "hold_reason": "", "review_due": True, "review_reason": "DBT jumped", "persona": "deteriorating",
        "reason_1": "100% of invoices settled in the last 12 months were late (portfolio median 62%)",
        "reason_2": "Paid on average 41 days beyond terms over the last 3 months (portfolio median 4 days)",
        "reason_3": "Made-up reason for a feature the model does not have",
        "reason_codes": "late_paid_share_12m;dbt_avg_3m;not_a_model_feature",
        "model_version": "7", "limit_rationale": "need 40,000 = sales; x0.5 for grade 9 = 20,000",
        "scored": True, "score_error": "",
    }
    row.update(overrides)
    return prepare_scores(pd.DataFrame([row])).iloc[0].to_dict()


def contributions(customer_id: str = "C1", **values_and_effects: tuple[float, float]) -> pd.DataFrame:
    rows = [{"customer_id": customer_id, "feature": f, "value": v, "contribution": c}
            for f, (v, c) in values_and_effects.items()]
    rows.append({"customer_id": customer_id, "feature": "_expected_value", "value": np.nan, "contribution": -3.0})
    return pd.DataFrame(rows)


DEFAULT = {"late_paid_share_12m": (1.0, 0.9), "dbt_avg_3m": (41.2, 0.5), "tenure_months": (80.0, -0.2)}


def test_statement_cites_the_top_factors_with_the_customers_figures_and_nothing_the_model_did_not_use() -> None:
    c = prepare_contributions(contributions(**DEFAULT))
    st = statement_of_reasons(scores_row(), c.of("C1"), SPECS, "Acme SA")
    assert st is not None and st.kind == "adverse"
    assert st.features() == ["late_paid_share_12m", "dbt_avg_3m"]  # the made-up third reason is dropped
    first, second = st.reasons
    assert first.text == "100% of invoices settled in the last 12 months were late"
    assert first.value_text == "100%" and first.figure_in_text
    assert "41 days" in second.text and second.value_text == "41 days"
    assert all("median" not in r.text for r in st.reasons)  # no comparison with other customers
    assert st.decision == "We have reduced your credit limit from 50,000 to 20,000."


def test_statement_keeps_only_features_of_the_model_when_told_which() -> None:
    c = prepare_contributions(contributions(**DEFAULT))
    st = statement_of_reasons(scores_row(), c.of("C1"), SPECS, model_features=["dbt_avg_3m", "tenure_months"])
    assert st is not None and st.features() == ["dbt_avg_3m"]


def test_statement_of_strengths_when_no_factor_is_adverse() -> None:
    row = scores_row(action="increase", suggested_limit=80_000.0, limit_change=30_000.0,
                     reason_1="No adverse factor. Strength: 0% of invoices settled in the last 12 months were late",
                     reason_2="", reason_3="", reason_codes="+late_paid_share_12m")
    c = prepare_contributions(contributions(late_paid_share_12m=(0.0, -1.1), dbt_avg_3m=(0.0, -0.4)))
    st = statement_of_reasons(row, c.of("C1"), SPECS)
    assert st is not None and st.kind == "favourable" and not st.adverse
    assert st.reasons[0].text.startswith("0% of invoices")


def test_a_missing_figure_is_stated_as_too_little_history() -> None:
    row = scores_row(reason_1="Share of invoices ...: no figure", reason_codes="late_paid_share_12m")
    c = prepare_contributions(contributions(late_paid_share_12m=(np.nan, 0.4)))
    st = statement_of_reasons(row, c.of("C1"), SPECS)
    assert st is not None
    (r,) = st.reasons
    assert not r.measured and r.figure_in_text
    assert r.text.startswith("There is not yet enough payment history with us to measure the share of invoices")


def test_a_specific_missing_figure_text_from_scoring_is_kept() -> None:
    row = scores_row(reason_1="No invoice settled in the last 12 months", reason_codes="late_paid_share_12m")
    c = prepare_contributions(contributions(late_paid_share_12m=(np.nan, 0.4)))
    st = statement_of_reasons(row, c.of("C1"), SPECS)
    assert st is not None and st.reasons[0].text == "No invoice settled in the last 12 months"


@pytest.mark.parametrize(("text", "expected"), [
    ("Customer for 15 months (portfolio median 52 months)", "Customer for 15 months"),
    ("Sales of 798 a month (below the portfolio median 16,235)", "Sales of 798 a month"),
    ("Paid 33 days beyond terms (now 33 days; portfolio median 4 days)", "Paid 33 days beyond terms (now 33 days)"),
    ("Exposure is 301% of the credit limit", "Exposure is 301% of the credit limit"),
])
def test_customer_sentences_leave_out_the_comparison_with_other_customers(text: str, expected: str) -> None:
    from riskml.reporting.customer import customer_sentence

    assert customer_sentence(text) == expected


def test_no_statement_for_a_customer_that_was_not_scored() -> None:
    c = prepare_contributions(contributions(**DEFAULT))
    assert statement_of_reasons(scores_row(scored=False), c.of("C1"), SPECS) is None
    assert statement_of_reasons(scores_row(), c.of("nobody"), SPECS) is None


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"action": "revoke", "suggested_limit": 0.0}, "We have withdrawn open credit terms"),
    ({"action": "increase", "suggested_limit": 60_000.0}, "increased your credit limit from 50,000 to 60,000"),
    ({"action": "keep", "suggested_limit": 50_000.0}, "Your credit limit remains 50,000."),
    ({"action": "set", "current_limit": np.nan, "suggested_limit": 15_000.0}, "set a credit limit of 15,000"),
    ({"action": "decrease", "order_hold": True}, "New orders are on hold"),
])
def test_decision_wording(overrides: dict, expected: str) -> None:
    assert expected in decision_text(scores_row(**overrides))


def test_what_changed_adds_up_to_the_change_of_the_score() -> None:
    then = prepare_contributions(contributions(late_paid_share_12m=(0.5, 0.2), dbt_avg_3m=(10.0, 0.1),
                                               tenure_months=(77.0, -0.2), oldest_dpd=(0.0, -0.1)))
    now = prepare_contributions(contributions(late_paid_share_12m=(1.0, 0.9), dbt_avg_3m=(41.2, 0.5),
                                              tenure_months=(80.0, -0.2), oldest_dpd=(0.0, -0.1003)))
    change = changes_since(scores_row(), now.of("C1"), -3.0, scores_row(pd=0.08, grade="7"), then.of("C1"), -3.0,
                           pd.Timestamp("2026-06-30"), SPECS, n=1)
    assert change.available and change.grade_then == "7" and change.grade_now == "9"
    assert [m.feature for m in change.movers] == ["late_paid_share_12m"]
    assert change.movers[0].delta == pytest.approx(0.7)
    assert change.movers[0].value_then == "50%" and change.movers[0].value_now == "100%"
    # the listed movers plus the rest are exactly the change of the raw score (same base value)
    assert change.raw_delta == pytest.approx(0.7 + 0.4 - 0.0003)
    assert sum(m.delta for m in change.movers) + change.other_delta == pytest.approx(change.raw_delta)
    wide = changes_since(scores_row(), now.of("C1"), -3.0, scores_row(), then.of("C1"), -3.0,
                         pd.Timestamp("2026-06-30"), SPECS, n=6)
    # a move below 0.0005 log-odds (oldest_dpd) and no move (tenure) are not listed as movers
    assert [m.feature for m in wide.movers] == ["late_paid_share_12m", "dbt_avg_3m"]


def test_no_previous_score_says_why() -> None:
    now = prepare_contributions(contributions(**DEFAULT))
    change = changes_since(scores_row(), now.of("C1"), -3.0, None, now.of("C1").iloc[0:0], np.nan,
                           pd.Timestamp("2026-06-30"), SPECS)
    assert not change.available and "not a customer yet" in change.note


def test_values_in_their_units() -> None:
    assert value_text(36.0, SPECS["history_months"]) == "36 months"
    assert value_text(1.0, SPECS["history_months"]) == "1 month"
    assert value_text(12.4, SPECS["dbt_avg_3m"]) == "12 days"
    assert value_text(0.256, SPECS["late_paid_share_12m"]) == "26%"
    assert value_text(np.nan, SPECS["late_paid_share_12m"]) == "n/a"
    assert value_text(1.0, SPECS["no_payment_history"]) == "yes"
    assert rationale_steps("a; b ;; c") == ["a", "b", "c"]


def test_page_of_a_customer_that_was_not_scored() -> None:
    row = scores_row(scored=False, pd=np.nan, grade="", score_error="feature dbt_avg_3m is infinite",
                     reason_codes="", reason_1="Not scored: feature dbt_avg_3m is infinite", reason_2="", reason_3="")
    empty = prepare_contributions(contributions("someone else", **DEFAULT))
    report = build_customer_report(row, {"name": "Broken Data Ltd"}, empty, SPECS,
                                   grade_bands(ScoringConfig().master_scale))
    page = Page(render_customer(report))
    assert page["customer-name"].text == "Broken Data Ltd"
    assert "feature dbt_avg_3m is infinite" in page["not-scored"].text
    assert page["grade"].text == "unscored" and page["pd"].text == "n/a"
    assert "No statement can be produced" in page["statement"].text
    assert page["statement"].get("data-features") == ""


@pytest.mark.parametrize(("flag", "ecoa"), [(True, True), (False, False), (None, True)])
def test_ecoa_notice_only_where_scoring_says_it_applies(flag, ecoa) -> None:
    # scoring's adverse_action_notice decides; older scores files without the column keep the notice
    extra = {} if flag is None else {"adverse_action_notice": flag}
    row = scores_row(**extra)
    report = build_customer_report(row, {"name": "Acme"}, prepare_contributions(contributions(**DEFAULT)), SPECS,
                                   grade_bands(ScoringConfig().master_scale))
    page = Page(render_customer(report))
    assert ("Equal Credit Opportunity Act" in page["ecoa-notice"].text) is ecoa
    assert ("principal reasons for the credit decision" in page["ecoa-notice"].text) is not ecoa
