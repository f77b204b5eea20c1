"""The worklist pages in a real headless Chromium, like the reports: the rendered DOM carries every
account of the collector in rank order with its amount, the index links every collector page, and a
screenshot is not blank."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from riskml.collect.html import page_name
from riskml.collect.run import INDEX_FILE, PAGES_DIR, WorklistResult, write_worklist
from riskml.reporting.browser import dump_dom, find_chromium, screenshot
from tests.reporting.pages import Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(find_chromium() is None, reason="no Chromium binary (install Debian's `chromium` with "
                       "scripts/system-deps.sh, or set RISKML_CHROMIUM)"),
]


@pytest.fixture(scope="module")
def pages(demo_result: WorklistResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("worklist-pages")
    write_worklist(demo_result, out)
    return out


def test_collector_page_in_chromium(demo_result: WorklistResult, pages: Path, tmp_path: Path) -> None:
    name = demo_result.collectors["collector"].iloc[0]
    path = pages / PAGES_DIR / page_name(name)
    dom = Page(dump_dom(path))
    mine = demo_result.lines[demo_result.lines["collector"] == name]
    assert dom["collector"].text == name
    rows = dom.find_all("tr", within="worklist", data_customer_id="*")
    assert [r.get("data-customer-id") for r in rows] == mine["customer_id"].tolist()
    assert [int(r.get("data-rank")) for r in rows] == mine["rank"].tolist()
    amounts = np.array([float(r.get("data-amount")) for r in rows])
    np.testing.assert_allclose(amounts, mine["amount_to_collect"].to_numpy())
    assert float(dom["total-to-collect"].get("data-value")) == pytest.approx(mine["amount_to_collect"].sum())
    first = rows[0].text
    assert mine["script"].iloc[0][:40] in first and mine["pattern"].iloc[0] in first
    assert [r.get("data-channel") for r in rows] == mine["channel"].tolist()
    shot = screenshot(path, tmp_path / "collector.png", height=2400)
    from PIL import Image

    with Image.open(shot) as im:
        pixels = np.asarray(im.convert("L"))
    assert (pixels < 200).any(axis=1).sum() > 300, "the screenshot is (nearly) blank"


def test_index_page_in_chromium(demo_result: WorklistResult, pages: Path) -> None:
    dom = Page(dump_dom(pages / INDEX_FILE))
    assert int(dom["n-lines"].get("data-value")) == len(demo_result.lines)
    links = {a.get("href") for a in dom.find_all("a", within="collectors")}
    assert links == {f"{PAGES_DIR}/{page_name(n)}" for n in demo_result.collectors["collector"]}
    esc = dom.find_all("tr", within="escalations", data_customer_id="*")
    assert [r.get("data-customer-id") for r in esc] == demo_result.escalations["customer_id"].head(50).tolist()
    assert all(float(r.get("data-amount")) > 0 for r in esc)
    queue = dom.find_all("tr", within="paperwork", data_kind="*")
    assert len(queue) == min(50, len(demo_result.paperwork))
    assert [r.get("data-kind") for r in queue] == demo_result.paperwork["kind"].head(50).tolist()
