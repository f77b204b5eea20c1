"""Hints the commands print (issue 18): a command the user can paste (``.venv/bin/riskml`` when riskml is
not on PATH), and reading a model never creates an empty MLflow store and says which store was searched."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from riskml.commands import command
from riskml.errors import ModelError
from riskml.modeling.registry import load_model


def test_command_is_the_environments_script_when_not_on_path(monkeypatch, tmp_path: Path) -> None:
    bindir = Path(sys.executable).parent
    if not (bindir / "riskml").exists():
        pytest.skip("riskml is not installed as a script in this environment")
    monkeypatch.setenv("PATH", str(tmp_path))  # not on PATH
    monkeypatch.chdir(bindir.parent.parent)  # like the project root holding .venv
    assert command() == str(Path(bindir.parent.name) / "bin" / "riskml")
    monkeypatch.setenv("PATH", str(bindir) + os.pathsep + str(tmp_path))  # activated
    assert command() == "riskml"
    assert command("no-such-tool-xyz") == "no-such-tool-xyz"


def test_reading_a_model_creates_no_store_and_names_the_one_searched(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(ModelError) as err:
        load_model("models:/riskml-delinquency@champion")
    text = str(err.value)
    assert "the MLflow store sqlite:///mlflow.db (the default, in " in text and str(tmp_path) in text
    assert "does not exist" in text and "MLFLOW_TRACKING_URI" in text
    assert not (tmp_path / "mlflow.db").exists()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'other.db'}")
    with pytest.raises(ModelError, match=r"other.db \(MLFLOW_TRACKING_URI\)"):
        load_model("models:/riskml-delinquency@champion")
    assert not (tmp_path / "other.db").exists()


def test_score_summary_change_includes_first_limits() -> None:
    from riskml.scoring.summary import summary_lines

    summary = {"total_current_limit": 147_695_000.0, "total_suggested_limit": 142_361_000.0,
               "total_limit_change": -8_476_000.0, "total_limit_set": 3_142_000.0, "by_action": {"set": 42},
               "not_scored": 0}
    line = summary_lines(summary)[0]
    assert "(change -5,334,000, of which +3,142,000 first limits for the 42 customers with no limit on file)" in line
    assert summary_lines({**summary, "by_action": {}})[0].endswith("(change -5,334,000)")


def test_make_help_plain_when_not_a_terminal() -> None:
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    root = Path(__file__).resolve().parents[2]
    res = subprocess.run(["make", "-s", "-C", str(root), "help"], capture_output=True, text=True, check=False,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert "\x1b[" not in res.stdout  # no colour codes in a pipe
    assert "DATA=" in res.stdout and "AS_OF=" in res.stdout and ".venv/bin/riskml" in res.stdout


def test_styled_table_cells_print_no_markup_tags() -> None:
    """The consoles print strings as they are (no markup): a styled cell must be a Text, not "[yellow]..."."""
    from types import SimpleNamespace

    import pandas as pd
    from rich.console import Console

    from riskml.cli.train import _persona_table

    pc = pd.DataFrame({"group": ["distressed", "prompt_payer"], "rows": [10, 90], "events": [5, 0],
                       "mean_pd": [0.30, 0.01], "observed_rate": [0.50, 0.0]})
    table = _persona_table(SimpleNamespace(result=SimpleNamespace(persona_calibration=pc)))
    out = Console(record=True, markup=False, width=120)
    out.print(table)
    text = out.export_text()
    assert "-20.0" in text and "[yellow]" not in text
