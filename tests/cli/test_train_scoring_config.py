"""``riskml train --scoring-config FILE``: the model freezes the master scale (and the persona split of
the calibration table) of the scoring config given, not of whatever configs/scoring.yaml is beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from riskml.cli.main import app
from riskml.config import SECTIONS

runner = CliRunner()


class _Stop(Exception):
    pass


@pytest.mark.slow
def test_scoring_config_reaches_training(small_ledger_dir: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import riskml.modeling.pipeline as train_mod

    seen: dict[str, Any] = {}

    def fake_run_training(*args: Any, **kwargs: Any) -> Any:
        seen["scoring_config"] = args[7]
        raise _Stop

    monkeypatch.setattr(train_mod, "run_training", fake_run_training)
    monkeypatch.chdir(tmp_path)  # no configs/ here: without the option, the shipped defaults
    scale = SECTIONS["scoring"]().model_dump(mode="json")["master_scale"]
    scale[0]["max_pd"] = 0.0011
    cfg = tmp_path / "my_scoring.yaml"
    cfg.write_text(yaml.safe_dump({"master_scale": scale, "n_reasons": 2}))
    res = runner.invoke(app, ["train", "--data", str(small_ledger_dir), "--scoring-config", str(cfg)])
    assert isinstance(res.exception, _Stop), res.output
    used = seen["scoring_config"]
    assert used.master_scale[0].max_pd == 0.0011 and used.n_reasons == 2

    res = runner.invoke(app, ["train", "--data", str(small_ledger_dir)])
    assert isinstance(res.exception, _Stop), res.output
    assert seen["scoring_config"].master_scale[0].max_pd != 0.0011


def test_bad_scoring_config_is_a_clean_error(small_ledger_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "scoring.yaml"
    bad.write_text("n_reasons: 0\n")
    res = runner.invoke(app, ["train", "--data", str(small_ledger_dir), "--scoring-config", str(bad)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert str(bad) in res.stderr and "n_reasons" in res.stderr
