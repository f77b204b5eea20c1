"""End to end on the demo run of ``conftest.py`` (``riskml train`` / ``score`` / ``report --previous``
through the CLI): a page for every customer, including thin-file and revoked ones, self-contained; the
numbers on every page are the scoring output; the statements cite the model's own factors only; the
portfolio's tables add up to the scores."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from riskml.explain.reasons import POSITIVE_PREFIX
from riskml.features import feature_specs
from riskml.io import read_table
from riskml.reporting.customer import value_text
from riskml.reporting.html import data_value

from .conftest import PREVIOUS, DemoRun
from .pages import Page

pytestmark = pytest.mark.slow
SPECS = feature_specs({})


@pytest.fixture(scope="module")
def pages(demo_run: DemoRun) -> dict[str, Page]:
    return {cid: Page(demo_run.customer_page(cid).read_text(encoding="utf-8"))
            for cid in demo_run.scores["customer_id"].astype(str)}


@pytest.fixture(scope="module")
def portfolio(demo_run: DemoRun) -> Page:
    return Page(demo_run.portfolio_page.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def model_json(demo_run: DemoRun) -> dict:
    return json.loads((demo_run.model_dir / "model.json").read_text(encoding="utf-8"))


def contributions_of(demo_run: DemoRun, cid: str) -> pd.DataFrame:
    c = demo_run.contributions
    c = c.loc[(c["customer_id"].astype(str) == cid) & (c["feature"].astype(str) != "_expected_value")]
    return c.assign(feature=c["feature"].astype(str)).set_index("feature")


def test_every_customer_has_a_self_contained_page_including_thin_file_and_revoked(
        demo_run: DemoRun, pages: dict[str, Page]) -> None:
    s = demo_run.scores
    written = {p.stem for p in (demo_run.reports / "customers").glob("*.html")}
    assert written == set(s["customer_id"].astype(str))
    # the demo run holds the customers that are easiest to get wrong
    assert (s["persona"] == "thin_file").any() and (s["action"] == "revoke").any()
    assert s["order_hold"].any() and s["review_due"].any()
    for cid, page in pages.items():
        assert page["customer-id"].text == cid
        for key in ("grade", "pd", "suggested-limit", "action", "order-hold", "review-due", "persona", "statement"):
            assert key in page, (cid, key)
        # self-contained: no external resource of any kind, every image embedded
        assert not re.search(r"""(src|href)=["'](https?:|//|file:)""", page.html), cid
        assert "<link" not in page.html and "<script" not in page.html
        assert all(img.get("src").startswith("data:image/") for img in page.find_all("img")), cid
        charts = page.find_all("svg")  # the charts sit in the page as SVG
        assert charts and all(c.get("role") == "img" and c.get("aria-label") for c in charts), cid
        assert "@media print" in page.html  # printable: its own print stylesheet (A4)


def test_thin_file_and_revoked_pages_say_so(demo_run: DemoRun, pages: dict[str, Page]) -> None:
    s = demo_run.scores
    for cid in s.loc[s["action"] == "revoke", "customer_id"]:
        page = pages[cid]
        assert page["action"].text == "revoke"
        assert page["suggested-limit"].text == "0"
        assert "Revoke open terms" in page.text
        assert "withdrawn open credit terms" in page["statement-decision"].text
        assert page["statement"].get("data-kind") == "adverse"
    for cid in s.loc[s["persona"] == "thin_file", "customer_id"]:
        assert pages[cid]["persona"].text == "Thin file"


def test_customer_pages_show_the_scoring_output(demo_run: DemoRun, pages: dict[str, Page]) -> None:
    from riskml.modeling.model import RiskModel

    model = RiskModel.load(demo_run.model_dir)
    base = demo_run.contributions.loc[demo_run.contributions["feature"].astype(str) == "_expected_value"]
    base = base.set_index(base["customer_id"].astype(str))["contribution"]
    for row in demo_run.scores.to_dict("records"):
        cid = str(row["customer_id"])
        page = pages[cid]
        # exact values (data-value holds repr of the float) and the figures as printed
        assert page["pd"].get("data-value") == data_value(float(row["pd"]))
        assert page["pd"].text == f"{100 * row['pd']:.2f}%"
        assert page["grade"].text == str(row["grade"])
        assert page["suggested-limit"].get("data-value") == data_value(float(row["suggested_limit"]))
        assert page["suggested-limit"].text == f"{row['suggested_limit']:,.0f}"
        if np.isfinite(row["current_limit"]):
            assert page["current-limit"].text == f"{row['current_limit']:,.0f}"
            assert page["limit-change"].get("data-value") == data_value(float(row["limit_change"]))
        else:
            assert page["current-limit"].text == "none" and row["action"] in ("set", "revoke", "keep")
        assert page["action"].text == row["action"]
        assert page["order-hold"].get("data-value") == ("true" if row["order_hold"] else "false")
        assert page["hold-reason"].text == re.sub(r"\s+", " ", row["hold_reason"]).strip()
        assert page["review-due"].get("data-value") == ("true" if row["review_due"] else "false")
        assert page["review-reason"].text == re.sub(r"\s+", " ", row["review_reason"]).strip()
        assert page["persona"].get("data-value") == row["persona"]
        assert page["model-version"].text == str(row["model_version"])
        reasons = [row[f"reason_{i}"].removeprefix(POSITIVE_PREFIX) for i in (1, 2, 3) if row[f"reason_{i}"]]
        assert [page[f"reason-{i + 1}"].text.split(": ", 1)[-1].removesuffix(" (a strength)") for i in
                range(len(reasons))] == reasons
        steps = [el.text for el in page.find_all("li", within="limit-rationale")]
        assert steps == [p.strip() for p in row["limit_rationale"].split(";") if p.strip()]
        # the score explained: base value plus the stored contributions, each factor's effect as stored
        contrib = contributions_of(demo_run, cid)
        raw = float(page["raw-score"].get("data-value"))
        assert raw == pytest.approx(base[cid] + contrib["contribution"].sum(), abs=1e-9)
        # the PD is the model's calibrator of that raw score, shifted by the persona's log-odds (if any)
        base_pd = float(model.calibrator_.predict(np.array([raw]))[0])
        seg = model.segment_calibrator_
        logit = lambda q: np.log(q) - np.log1p(-q)  # noqa: E731
        if seg is None:
            assert row["pd"] == pytest.approx(base_pd, abs=1e-9)
        else:
            assert abs(logit(row["pd"]) - logit(base_pd)) <= max(map(abs, seg.offsets.values())) + 1e-6
        for tr in page.find_all("tr", within="factors", data_feature="*"):
            assert float(tr.get("data-contribution")) == pytest.approx(contrib.loc[tr.get("data-feature"), "contribution"])


def test_statement_cites_the_top_factors_with_their_values_and_no_other_feature(
        demo_run: DemoRun, pages: dict[str, Page], model_json: dict) -> None:
    model_features = set(model_json["feature_names"])
    n_checked = 0
    for row in demo_run.scores.to_dict("records"):
        cid = str(row["customer_id"])
        page, contrib = pages[cid], contributions_of(demo_run, cid)
        cited = page["statement"].get("data-features").split(";") if page["statement"].get("data-features") else []
        assert set(cited) <= model_features and set(cited) <= set(contrib.index), cid
        # the customer's top factors: scoring's reason codes, in order (adverse ones, or strengths if none)
        codes = [c for c in row["reason_codes"].split(";") if c]
        adverse = [c for c in codes if not c.startswith("+")]
        top = adverse if adverse else [c[1:] for c in codes]
        assert cited == [c for c in top if c in model_features][:4], cid
        items = page.find_all("li", within="statement-reasons")
        assert [li.get("data-feature") for li in items] == cited
        for li in items:
            f = li.get("data-feature")
            shown = value_text(contrib.loc[f, "value"], SPECS.get(f))
            assert li.get("data-value-text") == shown
            if np.isfinite(contrib.loc[f, "value"]):
                assert shown.lower() in li.text.lower(), (cid, f, li.text)
                assert li.get("data-value") == data_value(float(contrib.loc[f, "value"]))
            else:  # no figure to show: the sentence says why (scoring's wording or the report's)
                assert "Your figure" not in li.text and "nan" not in li.text.lower(), (cid, f, li.text)
            n_checked += 1
        statement = page["statement"].text
        assert "median" not in statement.split("For the credit manager")[0]
        assert "Statement of specific reasons" in statement
    assert n_checked >= len(demo_run.scores)  # every scored customer got reasons


def test_what_changed_since_the_previous_review(demo_run: DemoRun, pages: dict[str, Page]) -> None:
    from riskml.cli.ledger import load_ledger_for_cli
    from riskml.modeling.registry import load_model
    from riskml.reporting.run import score_for_report
    from riskml.scoring.score import model_feature_config

    model, info = load_model(str(demo_run.model_dir))
    ledger = load_ledger_for_cli(demo_run.ledger_dir, None)
    prev_scores, prev_contrib = score_for_report(ledger, PREVIOUS, model, info,
                                                 feature_config=model_feature_config(model))
    prev_pd = prev_scores.set_index(prev_scores["customer_id"].astype(str))["pd"]
    prev_base = prev_contrib.loc[prev_contrib["feature"].astype(str) == "_expected_value"]
    prev_raw = prev_contrib.loc[prev_contrib["feature"].astype(str) != "_expected_value"].groupby(
        prev_contrib["customer_id"].astype(str))["contribution"].sum() + prev_base.set_index(
        prev_base["customer_id"].astype(str))["contribution"]
    compared = 0
    for cid, page in pages.items():
        section = page["changes"]
        assert section.get("data-previous-as-of") == PREVIOUS
        if "pd-then" not in page:
            assert "No score at" in section.text  # a customer who was not one yet
            continue
        compared += 1
        assert float(page["pd-then"].get("data-value")) == pytest.approx(prev_pd[cid], abs=1e-12)
        raw_now = float(page["raw-score"].get("data-value"))
        delta = float(page["raw-delta"].get("data-value"))
        assert delta == pytest.approx(raw_now - prev_raw[cid], abs=1e-9)
        movers = page.find_all("tr", within="movers", data_delta="*")
        deltas = [float(tr.get("data-delta")) for tr in movers]
        assert deltas == sorted(deltas, key=abs, reverse=True)
    assert compared >= len(pages) // 2


def test_portfolio_matches_the_scoring_output(demo_run: DemoRun, portfolio: Page, model_json: dict) -> None:
    s = demo_run.scores
    assert int(portfolio["n-customers"].get("data-value")) == len(s)
    assert int(portfolio["n-holds"].get("data-value")) == int(s["order_hold"].sum())
    assert int(portfolio["n-reviews"].get("data-value")) == int(s["review_due"].sum())
    by_grade = {tr.get("data-grade"): int(tr.get("data-customers")) for tr in portfolio.find_all("tr", within="by-grade", data_grade="*")}
    counts = s["grade"].astype(str).value_counts()
    assert {g: n for g, n in by_grade.items() if n} == {g: int(n) for g, n in counts.items()}
    for tr in portfolio.find_all("tr", within="limit-changes", data_action="*"):
        action = tr.get("data-action")
        sel = s if action == "total" else s.loc[s["action"] == action]
        change = sel["limit_change"].where(sel["limit_change"].notna() | (sel["action"] != "set"), sel["suggested_limit"])
        assert int(tr.get("data-customers")) == len(sel), action
        assert float(tr.get("data-amount") or 0.0) == pytest.approx(float(change.fillna(0.0).sum())), action
    personas = {tr.get("data-persona"): int(tr.get("data-customers")) for tr in portfolio.find_all("tr", data_persona="*")}
    assert personas == {k: int(v) for k, v in s["persona"].value_counts().items()}
    # reviews: oldest review first; the full lists beside the page hold every customer
    months = [float(tr.get("data-months")) for tr in portfolio.find_all("tr", within="reviews", data_months="*")]
    assert months == sorted(months, reverse=True)
    holds = read_table(demo_run.reports / "holds.csv")
    reviews = read_table(demo_run.reports / "reviews_due.csv")
    assert set(holds["customer_id"].astype(str)) == set(s.loc[s["order_hold"], "customer_id"])
    assert set(reviews["customer_id"].astype(str)) == set(s.loc[s["review_due"], "customer_id"])
    # the model and its out-of-time test metrics, as training stored them
    assert portfolio["model-version"].get("data-value") == str(s["model_version"].iloc[0])
    test = model_json["metadata"]["metrics"]["test"]["lightgbm"]
    shown = {tr.get("data-metric"): float(tr.get("data-value")) for tr in portfolio.find_all("tr", data_metric="*")}
    assert shown == pytest.approx(test)


def test_portfolio_population_stability(demo_run: DemoRun, portfolio: Page, model_json: dict) -> None:
    from riskml.cli.ledger import load_ledger_for_cli
    from riskml.features import build_features
    from riskml.modeling.registry import load_model
    from riskml.reporting.inputs import references_from_model
    from riskml.reporting.psi import psi_label, reference_psi
    from riskml.reporting.run import score_for_report
    from riskml.scoring.score import model_feature_config

    from .conftest import PREVIOUS

    rows = portfolio.find_all("tr", within="stability", data_variable="*")
    assert rows[0].get("data-variable") == "score (PD)"
    assert {tr.get("data-variable") for tr in rows[1:]} == set(model_json["feature_names"])
    # the run passed --previous: the reference is that scoring (training's bins, the previous date's shares)
    assert portfolio["stability-reference"].get("data-value") == f"the previous scoring as of {PREVIOUS}"
    ledger = load_ledger_for_cli(demo_run.ledger_dir, None)
    model, info = load_model(str(demo_run.model_dir))
    prev_scores, _ = score_for_report(ledger, PREVIOUS, model, info, feature_config=model_feature_config(model))
    prev_features = build_features(ledger, PREVIOUS)
    train_refs, train_score_ref = references_from_model(model_json["reference"])
    score_ref = train_score_ref.rebased(prev_scores.loc[prev_scores["scored"].astype(bool), "pd"])
    refs = {n: r.rebased(prev_features[n]) or r for n, r in train_refs.items()}
    assert score_ref.cuts == train_score_ref.cuts
    assert float(rows[0].get("data-psi")) == pytest.approx(reference_psi(score_ref, demo_run.scores["pd"]))
    features = build_features(ledger, "2026-09-30")
    for tr in rows[1:]:
        name = tr.get("data-variable")
        value = reference_psi(refs[name], features[name])
        assert float(tr.get("data-psi")) == pytest.approx(value), name
        assert tr.get("data-status") == psi_label(value) and tr.get("class") == psi_label(value)
    drifted = [tr for tr in rows[1:] if tr.get("data-status") == "drifted"]
    assert int(portfolio["n-features-drifted"].get("data-value")) == len(drifted)
    assert int(portfolio["n-drifted"].get("data-value")) == len([tr for tr in rows if tr.get("data-status") == "drifted"])
