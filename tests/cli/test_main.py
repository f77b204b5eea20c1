"""The `riskml` command: help everywhere, an example in every command's help, user errors without
tracebacks."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from riskml.cli.main import COMMAND_MODULES, app

runner = CliRunner()
COMMANDS = [m.rstrip("_") for m in COMMAND_MODULES]


def test_no_args_shows_help() -> None:
    res = runner.invoke(app, [])
    assert "Usage" in res.output
    for cmd in COMMANDS:
        assert cmd in res.output


def test_version() -> None:
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.startswith("riskml ")


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_command_has_help_with_example(cmd: str) -> None:
    res = runner.invoke(app, [cmd, "--help"])
    assert res.exit_code == 0, res.output
    assert "Example" in res.output and f"riskml {cmd}" in res.output


def test_features_bad_date_is_a_clean_error(tmp_path) -> None:
    res = runner.invoke(app, ["features", "--data", str(tmp_path), "--as-of", "not-a-date", "--out", str(tmp_path / "f.csv")])
    assert res.exit_code == 1
    assert isinstance(res.exception, SystemExit)  # a clean exit, not an uncaught exception
    assert "--as-of must be a date" in res.output
