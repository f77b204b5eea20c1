"""The pages in a real headless Chromium (Debian's ``chromium``, installed by scripts/system-deps.sh):
the rendered DOM shows the key figures, a screenshot is taken (saved under pytest's tmp dir), and the
customer report prints to a multi-page A4 PDF."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from riskml.reporting.browser import dump_dom, find_chromium, print_pdf, screenshot

from .conftest import DemoRun
from .pages import Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(find_chromium() is None, reason="no Chromium binary (install Debian's `chromium` with "
                       "scripts/system-deps.sh, or set RISKML_CHROMIUM)"),
]


def _revoked(demo_run: DemoRun) -> dict:
    s = demo_run.scores
    return s.loc[(s["action"] == "revoke") & s["order_hold"]].iloc[0].to_dict()


def _check_screenshot(path: Path, min_height: int) -> None:
    from PIL import Image

    assert path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as im:
        pixels = np.asarray(im.convert("L"))
    assert pixels.shape[1] == 1200 and pixels.shape[0] >= min_height
    rows_with_ink = (pixels < 200).any(axis=1).sum()
    assert rows_with_ink > 300, "the screenshot is (nearly) blank"


def test_customer_report_in_chromium(demo_run: DemoRun, tmp_path: Path) -> None:
    row = _revoked(demo_run)
    page_path = demo_run.customer_page(str(row["customer_id"]))
    dom = Page(dump_dom(page_path))
    assert dom["customer-id"].text == row["customer_id"]
    assert dom["grade"].text == str(row["grade"])
    assert dom["pd"].text == f"{100 * row['pd']:.2f}%"
    assert dom["suggested-limit"].text == f"{row['suggested_limit']:,.0f}"
    assert dom["action"].text == "revoke"
    assert dom["order-hold"].text == "ON HOLD"
    assert dom["review-due"].text == ("REVIEW DUE" if row["review_due"] else "not due")
    assert "Statement of specific reasons" in dom["statement"].text
    assert len(dom.find_all("li", within="statement-reasons")) >= 1
    # the waterfall and the payment history, inline SVG
    assert dom.find_all("svg", within="waterfall") and dom.find_all("svg", within="history")
    shot = screenshot(page_path, tmp_path / f"customer-{row['customer_id']}.png", height=3200)
    _check_screenshot(shot, 3200)


def test_portfolio_report_in_chromium(demo_run: DemoRun, tmp_path: Path) -> None:
    s = demo_run.scores
    dom = Page(dump_dom(demo_run.portfolio_page))
    assert dom["n-customers"].text == f"{len(s):,}"
    assert dom["n-holds"].text == f"{int(s['order_hold'].sum()):,}"
    assert dom["n-reviews"].text == f"{int(s['review_due'].sum()):,}"
    assert re.fullmatch(r"\d+\.\d{3}", dom["score-psi"].text)
    assert dom.find_all("tr", within="stability", data_variable="score (PD)")
    assert dom.find_all("tr", within="metrics", data_metric="auc")
    shot = screenshot(demo_run.portfolio_page, tmp_path / "portfolio.png", height=4000)
    _check_screenshot(shot, 4000)


def test_customer_report_prints_to_pdf(demo_run: DemoRun, tmp_path: Path) -> None:
    row = _revoked(demo_run)
    pdf = print_pdf(demo_run.customer_page(str(row["customer_id"])), tmp_path / "customer.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert 2 <= pages <= 8  # A4 with page breaks; the statement starts its own page
