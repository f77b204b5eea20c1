"""Issue 14, item 8: inputs that used to end in a traceback now give a result or one clear line: CR-only
line endings, Rich markup in header cells and paths, an unfetchable --model URI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskml.cli.main import app

pytestmark = pytest.mark.integration

runner = CliRunner()


def _copy(src: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    for f in src.glob("*.csv"):
        shutil.copy(f, dest / f.name)
    return dest


def _validate(data: Path, tmp_path: Path):
    return runner.invoke(app, ["validate", "--data", str(data), "--rejects", str(tmp_path / "r.csv")])


@pytest.mark.parametrize("ending", [b"\r", b"\r\n"])
def test_cr_only_and_crlf_files_read_like_lf(small_ledger_dir: Path, tmp_path: Path, ending: bytes) -> None:
    data = _copy(small_ledger_dir, tmp_path / "d")
    for name in ("customers.csv", "orders.csv"):
        p = data / name
        p.write_bytes(p.read_bytes().replace(b"\n", ending))
    res = _validate(data, tmp_path)
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    lf = _validate(small_ledger_dir, tmp_path)
    assert res.stdout.splitlines()[-1] == lf.stdout.splitlines()[-1]  # same rows read and accepted


def test_markup_in_a_header_cell_is_printed_as_text(small_ledger_dir: Path, tmp_path: Path) -> None:
    data = _copy(small_ledger_dir, tmp_path / "d")
    p = data / "customers.csv"
    lines = p.read_text().splitlines()
    lines[0] += ",[/],[bold]x[/bold]"
    lines[1:] = [line + ",a,b" for line in lines[1:]]
    p.write_text("\n".join(lines) + "\n")
    res = _validate(data, tmp_path)
    assert res.exit_code == 0, res.output
    assert "[/], [bold]x[/bold]" in res.stderr


def test_a_path_with_brackets_is_printed_whole(small_ledger_dir: Path, tmp_path: Path) -> None:
    data = _copy(small_ledger_dir, tmp_path / "ledger[final]")
    res = runner.invoke(app, ["features", "--data", str(data), "--as-of", "2026-09-30",
                              "--out", str(tmp_path / "out[v2]" / "f.parquet")])
    assert res.exit_code == 0, res.output
    assert "ledger[final]" in res.stdout and "out[v2]" in res.stdout


@pytest.mark.slow
@pytest.mark.parametrize("uri", ["http://127.0.0.1:9/model", "ftp://127.0.0.1:9/x"])
def test_an_unfetchable_model_uri_is_one_line(small_ledger_dir: Path, tmp_path: Path, uri: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    res = runner.invoke(app, ["score", "--data", str(small_ledger_dir), "--as-of", "2026-09-30",
                              "--out", str(tmp_path / "s.parquet"), "--model", uri])
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output and sum(line.startswith("error:") for line in res.stderr.splitlines()) == 1


def test_a_huge_header_gives_bounded_messages(small_ledger_dir: Path, tmp_path: Path) -> None:
    data = _copy(small_ledger_dir, tmp_path / "d")
    p = data / "orders.csv"
    lines = p.read_text().splitlines()
    lines[0] += "," + ",".join(f"junk{i}" for i in range(3_000))
    p.write_text("\n".join(lines[:3]) + "\n")
    res = _validate(data, tmp_path)
    assert res.exit_code == 0, res.output[-2000:]
    assert all(len(line) < 1_100 for line in res.stderr.splitlines())
    assert "characters)" in res.stderr
