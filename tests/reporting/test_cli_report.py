"""``riskml report`` refuses bad arguments with a clear message and exit code 1, and reports a chosen
customer with the CLI's options (local model directory, creditor, no ECOA notice)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskml.cli.main import app

from .conftest import AS_OF, DemoRun
from .pages import Page

runner = CliRunner()


def _clean_error(res, text: str) -> None:
    assert res.exit_code == 1, res.output
    assert isinstance(res.exception, SystemExit)  # handled, not a traceback
    assert text in res.output


def test_previous_must_be_before_as_of(tmp_path: Path) -> None:
    res = runner.invoke(app, ["report", "--data", str(tmp_path), "--as-of", AS_OF, "--previous", AS_OF,
                              "--out", str(tmp_path / "r")])
    _clean_error(res, "--previous must be before --as-of 2026-09-30")


def test_missing_scores_file(tmp_path: Path) -> None:
    res = runner.invoke(app, ["report", "--data", str(tmp_path), "--as-of", AS_OF, "--scores",
                              str(tmp_path / "nope.parquet"), "--out", str(tmp_path / "r")])
    _clean_error(res, "nope.parquet: file not found")


@pytest.mark.slow
def test_unknown_customer_and_a_chosen_one(demo_run: DemoRun, tmp_path: Path) -> None:
    base = ["report", "--data", str(demo_run.ledger_dir), "--as-of", AS_OF, "--scores", str(demo_run.scores_path),
            "--model", str(demo_run.model_dir)]
    res = runner.invoke(app, [*base, "--out", str(tmp_path / "a"), "--customer", "NOBODY"])
    _clean_error(res, "--customer: not in the scores: 'NOBODY'")
    cid = str(demo_run.scores["customer_id"].iloc[0])
    res = runner.invoke(app, [*base, "--out", str(tmp_path / "b"), "--customer", cid, "--creditor", "Acme GmbH",
                              "--no-ecoa-notice"])
    assert res.exit_code == 0, res.output
    assert [p.name for p in (tmp_path / "b" / "customers").iterdir()] == [f"{cid}.html"]
    page = Page((tmp_path / "b" / "customers" / f"{cid}.html").read_text(encoding="utf-8"))
    assert "Credit department, Acme GmbH" in page["statement"].text
    assert "ecoa-notice" not in page
    assert (tmp_path / "b" / "portfolio.html").exists() and (tmp_path / "b" / "holds.csv").exists()
