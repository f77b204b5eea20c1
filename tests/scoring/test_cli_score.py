"""`riskml score` end to end on the small generated ledger (CSV) with a local model directory: every
customer of the master once, both files written, the run summary, `--previous`, clean user errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from riskml.cli.main import app
from riskml.io import read_table
from riskml.scoring.score import output_columns

pytestmark = pytest.mark.slow
runner = CliRunner()


def _score(ledger: Path, model: Path, out: Path, *extra: str):
    return runner.invoke(app, ["score", "--data", str(ledger), "--as-of", "2026-09-30", "--out", str(out),
                               "--model", str(model), *extra])


def test_score_cli_end_to_end(small_ledger_dir: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    res = _score(small_ledger_dir, tiny_model_dir, out)
    assert res.exit_code == 0, res.output
    scores = read_table(out)
    master = pd.read_csv(small_ledger_dir / "customers.csv", dtype={"customer_id": "str"})
    assert list(scores.columns) == output_columns(3)
    assert sorted(scores["customer_id"].astype("str")) == sorted(master["customer_id"])
    contrib = read_table(tmp_path / "scores.contributions.parquet")
    assert set(contrib["customer_id"].astype("str")) == set(scores.loc[scores["scored"], "customer_id"].astype("str"))
    for text in ("Run summary", "order hold", "review due", "priority urgent", "limits: current"):
        assert text in res.output
    # a second run against the first: grade moves and DBT jumps compare with it
    res = _score(small_ledger_dir, tiny_model_dir, tmp_path / "again.parquet", "--previous", str(out))
    assert res.exit_code == 0, res.output
    again = read_table(tmp_path / "again.parquet")
    assert not again["review_codes"].str.contains("grade_").any()  # same data: no grade moved


def test_score_cli_user_errors(small_ledger_dir: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    res = _score(small_ledger_dir, tiny_model_dir, tmp_path / "scores.xlsx")
    assert res.exit_code == 1 and "must end in .parquet or .csv" in res.output
    assert not list(tmp_path.iterdir())
    bad = tmp_path / "scoring.yaml"
    bad.write_text("actions:\n  hold_over_limit_pct: -1\n")
    res = _score(small_ledger_dir, tiny_model_dir, tmp_path / "s.parquet", "--config", str(bad))
    assert res.exit_code == 1 and "hold_over_limit_pct" in res.output and "-1" in res.output
    assert not (tmp_path / "s.parquet").exists()
