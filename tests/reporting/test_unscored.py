"""A customer the model cannot score (an infinite feature) still gets a page and is listed in the
portfolio report: scored for real by the scoring library with the demo run's model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from riskml.cli.ledger import load_ledger_for_cli
from riskml.features import build_features
from riskml.modeling.registry import load_model
from riskml.reporting.inputs import model_summary
from riskml.reporting.run import ReportData, write_reports
from riskml.scoring.score import model_feature_config, score_customers

from .conftest import AS_OF, DemoRun
from .pages import Page

pytestmark = pytest.mark.slow


def test_unscored_customer_page_and_portfolio_listing(demo_run: DemoRun, tmp_path: Path) -> None:
    model, info = load_model(str(demo_run.model_dir))
    ledger = load_ledger_for_cli(demo_run.ledger_dir, None)
    fconf = model_feature_config(model)
    features = build_features(ledger, AS_OF, fconf)
    broken, fine = str(features["customer_id"].iloc[0]), str(features["customer_id"].iloc[1])
    features.loc[features.index[0], "dbt_avg_3m"] = np.inf
    result = score_customers(features, model, model_info=info, data_fingerprint=ledger.until(AS_OF).fingerprint())
    scores = result.scores
    assert not scores.loc[scores["customer_id"] == broken, "scored"].iloc[0]

    data = ReportData.from_frames(ledger, AS_OF, scores, result.contributions, model_summary(model, info),
                                  feature_config=fconf, source="test")
    files = write_reports(data, tmp_path, [broken, fine])
    page = Page(files.customers[broken].read_text(encoding="utf-8"))
    assert "not-scored" in page and "dbt_avg_3m" in page["not-scored"].text
    assert page["grade"].text == "unscored"
    assert "No statement can be produced" in page["statement"].text
    assert "No contributions" in page.text
    assert page.find_all("svg", within="history")  # the payment history is still drawn
    ok = Page(files.customers[fine].read_text(encoding="utf-8"))
    assert "not-scored" not in ok and ok.find_all("li", within="statement-reasons")
    portfolio = Page(files.portfolio.read_text(encoding="utf-8"))
    assert int(portfolio["n-scored"].get("data-value")) == len(scores) - 1
    assert [tr.get("data-customer-id") for tr in portfolio.find_all("tr", within="unscored-list", data_customer_id="*")] == [broken]
