"""Issue 14, item 5: a model directory whose files do not belong together is refused with one line: the
manifest's SHA-256, the booster's own feature names against model.json, sane calibrator parameters."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskml.cli.main import app
from riskml.errors import ModelError
from riskml.modeling.model import MANIFEST, RiskModel, manifest_of

runner = CliRunner()


@pytest.fixture()
def model_copy(tiny_model_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "model"
    shutil.copytree(tiny_model_dir, out)
    return out


def _edit_json(path: Path, change, rehash: bool) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    if rehash:  # the attacker also rewrites the manifest: the cross-checks must still hold
        (path.parent / MANIFEST).write_text(json.dumps(manifest_of(path.parent)))


def _swap_two_features(meta: dict) -> None:
    f = meta["feature_names"]
    f[0], f[1] = f[1], f[0]


def test_an_untouched_model_loads(model_copy: Path) -> None:
    assert RiskModel.load(model_copy).feature_names_


def test_a_changed_file_fails_the_manifest(model_copy: Path) -> None:
    _edit_json(model_copy / "model.json", _swap_two_features, rehash=False)
    with pytest.raises(ModelError, match=r"model.json changed since the model was saved"):
        RiskModel.load(model_copy)


def test_swapped_feature_names_are_refused_even_with_a_new_manifest(model_copy: Path) -> None:
    _edit_json(model_copy / "model.json", _swap_two_features, rehash=True)
    with pytest.raises(ModelError, match="model.json does not match booster.txt: feature 1"):
        RiskModel.load(model_copy)


@pytest.mark.parametrize("change", [
    lambda c: c.update(method="platt", a=1e308, b=0.0),
    lambda c: c.update(method="platt", a=float("nan"), b=0.0),
    lambda c: c.update(method="isotonic", x=[0.0, 1.0], y=[0.9, 0.1]),
    lambda c: c.update(method="isotonic", x=[0.0, 1.0], y=[0.1, 7.0]),
])
def test_absurd_calibrators_are_refused(model_copy: Path, change) -> None:
    _edit_json(model_copy / "calibrator.json", change, rehash=True)
    with pytest.raises(ModelError, match="calibrator.json"):
        RiskModel.load(model_copy)


def test_a_model_without_manifest_is_refused(model_copy: Path) -> None:
    (model_copy / MANIFEST).unlink()
    with pytest.raises(ModelError, match="no manifest.json"):
        RiskModel.load(model_copy)


def test_score_refuses_a_tampered_model_with_one_line(model_copy: Path, small_ledger_dir: Path, tmp_path: Path) -> None:
    _edit_json(model_copy / "model.json", _swap_two_features, rehash=True)
    res = runner.invoke(app, ["score", "--data", str(small_ledger_dir), "--as-of", "2026-09-30",
                              "--out", str(tmp_path / "s.parquet"), "--model", str(model_copy)])
    assert res.exit_code == 1 and "does not match booster.txt" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "s.parquet").exists()
