"""`riskml worklist` end to end on the worked example written as a ledger directory: the files, CSV cells
neutralised (Parquet raw), the second run stable, bad input as one clean line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from riskml.cli.main import app
from riskml.data.writer import write_ledger

from .worked import worked_ledger, worked_scores

pytestmark = pytest.mark.integration

runner = CliRunner()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("worklist")
    data = root / "ledger"
    write_ledger(worked_ledger(), data)
    scores = root / "scores.parquet"
    worked_scores().to_parquet(scores, index=False)
    return data, scores


def _run(*args: str) -> object:
    return runner.invoke(app, ["worklist", *args])


def test_worklist_files_and_second_run(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    data, scores = inputs
    out = tmp_path / "wl"
    team = tmp_path / "team.csv"
    team.write_text("name,capacity,portfolio\nAnn,10,\nBob,10,\n")
    res = _run("--data", str(data), "--as-of", "2026-09-30", "--scores", str(scores), "--out", str(out),
               "--collectors-file", str(team))
    assert res.exit_code == 0, res.output
    assert "3 accounts to work, 39,000 past due" in res.output
    for name in ("worklist", "escalations", "paperwork", "assignment", "collectors"):
        assert (out / f"{name}.csv").exists() and (out / f"{name}.parquet").exists()
    assert (out / "index.html").exists()
    assert {p.name for p in (out / "collectors").iterdir()} == {"Ann.html", "Bob.html"}
    csv = pd.read_csv(out / "worklist.csv", dtype=str, keep_default_na=False)
    raw = pd.read_parquet(out / "worklist.parquet")
    gamma_csv = csv.loc[csv["customer_id"] == "C", "name"].iloc[0]
    assert gamma_csv == "'=Gamma+Ltd"  # a spreadsheet shows it as text
    assert raw.loc[raw["customer_id"] == "C", "name"].iloc[0] == "=Gamma+Ltd"
    assert csv["customer_id"].tolist() == ["A", "B", "C"]
    html = (out / "index.html").read_text()
    assert "=Gamma+Ltd" in html and "<script" not in html

    out2 = tmp_path / "wl2"
    res = _run("--data", str(data), "--as-of", "2026-09-30", "--scores", str(scores), "--out", str(out2),
               "--collectors-file", str(team), "--previous-assignment", str(out / "assignment.csv"))
    assert res.exit_code == 0, res.output
    a1 = pd.read_csv(out / "assignment.csv", dtype=str, keep_default_na=False)
    a2 = pd.read_csv(out2 / "assignment.csv", dtype=str, keep_default_na=False)
    assert a1["collector"].tolist() == a2["collector"].tolist()
    assert set(a2["assignment_status"]) == {"kept"}


@pytest.mark.parametrize(("args", "message"), [
    (["--collectors", "2", "--collectors-file", "team.csv"], "give either --collectors or --collectors-file"),
    (["--collectors", "0"], "--collectors must be at least 1"),
    (["--as-of", "2026-08-31"], "not --as-of 2026-08-31"),
    (["--scores", "missing.parquet"], "missing.parquet: file not found"),
    (["--as-of", "someday"], "--as-of must be a date"),
])
def test_bad_input_is_one_clean_line(inputs: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     args: list[str], message: str) -> None:
    data, scores = inputs
    monkeypatch.chdir(tmp_path)
    (tmp_path / "team.csv").write_text("name\nAnn\n")
    base = {"--data": str(data), "--as-of": "2026-09-30", "--scores": str(scores), "--out": str(tmp_path / "o")}
    for k, v in zip(args[::2], args[1::2], strict=True):
        base[k] = v
    extra = [x for k, v in base.items() for x in (k, v)]
    res = _run(*extra)
    assert res.exit_code == 1
    assert isinstance(res.exception, SystemExit)
    assert message in res.output
    assert "Traceback" not in res.output


def test_scores_as_csv_give_the_same_worklist(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    data, scores = inputs
    csv_scores = tmp_path / "scores.csv"
    pd.read_parquet(scores).to_csv(csv_scores, index=False)
    outs = []
    for s in (scores, csv_scores):
        out = tmp_path / s.suffix.lstrip(".")
        res = _run("--data", str(data), "--as-of", "2026-09-30", "--scores", str(s), "--out", str(out))
        assert res.exit_code == 0, res.output
        outs.append(pd.read_parquet(out / "worklist.parquet"))
    pd.testing.assert_frame_equal(outs[0], outs[1])
