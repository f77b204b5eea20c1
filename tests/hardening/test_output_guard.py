"""Issue 14, item 6: no command can write over its inputs (a table of the data directory, or a file or
directory given as an input); the refusal comes before any work and leaves every input unchanged."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskml.cli.main import app
from riskml.errors import RiskmlError
from riskml.io import guard_output

runner = CliRunner()


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture()
def ledger(small_ledger_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "data"
    out.mkdir()
    for f in small_ledger_dir.glob("*.csv"):
        (out / f.name).write_bytes(f.read_bytes())
    return out


def test_guard_output_unit(tmp_path: Path) -> None:
    d = tmp_path / "d"
    d.mkdir()
    (d / "invoices.csv").write_text("x")
    for name in ("invoices.csv", "invoices.parquet", "orders.csv", "data.yaml", "labels.csv"):
        with pytest.raises(RiskmlError, match="ledger directory"):
            guard_output(d / name, "--out", data_dirs=(d,))
    with pytest.raises(RiskmlError, match="given with --previous"):
        guard_output(tmp_path / "p.csv", "--out", {"--previous": tmp_path / "sub" / ".." / "p.csv"})
    with pytest.raises(RiskmlError, match="would write"):
        guard_output(tmp_path, "--out", {"--source": tmp_path / "customers.csv"}, writes=("customers.csv",))
    assert guard_output(d / "scores.csv", "--out", {"--data": d}, (d,)) == d / "scores.csv"
    assert guard_output(d / "invoices_scored.csv", "--out", {}, (d,)) == d / "invoices_scored.csv"


@pytest.mark.parametrize("argv", [
    ["validate", "--rejects", "{D}/invoices.csv"],
    ["validate", "--rejects", "{D}/customers.parquet"],
    ["features", "--as-of", "2026-09-30", "--out", "{D}/payments.csv"],
    ["score", "--as-of", "2026-09-30", "--out", "{D}/orders.parquet", "--model", "{D}"],
    ["score", "--as-of", "2026-09-30", "--out", "{T}/s.csv", "--contributions", "{D}/adjustments.csv",
     "--model", "{D}"],
    ["score", "--as-of", "2026-09-30", "--out", "{T}/s.csv", "--previous", "{T}/s.csv", "--model", "{D}"],
    ["report", "--as-of", "2026-09-30", "--out", "{D}", "--model", "{D}"],
    ["train", "--out-model", "{D}"],
])
def test_commands_refuse_outputs_over_inputs(ledger: Path, tmp_path: Path, argv: list[str]) -> None:
    before = _digest(ledger)
    (tmp_path / "s.csv").write_text("customer_id,grade\nC1,3\n")
    args = [a.format(D=ledger, T=tmp_path) for a in argv]
    res = runner.invoke(app, [args[0], "--data", str(ledger), *args[1:]])
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output and ("ledger directory" in res.output or "the input given" in res.output)
    assert _digest(ledger) == before


def test_import_refuses_to_write_over_its_source(tmp_path: Path) -> None:
    src = tmp_path / "customers.csv"
    src.write_text("ID,LIMIT_BAL\n1,1000\n")
    res = runner.invoke(app, ["import", "taiwan", "--source", str(src), "--out", str(tmp_path)])
    assert res.exit_code == 1 and "the input given with --source" in res.output
    assert src.read_text() == "ID,LIMIT_BAL\n1,1000\n"


def test_validate_needs_a_rejects_path(ledger: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["validate", "--data", str(ledger)])
    assert res.exit_code != 0 and "--rejects" in res.output
    assert not (tmp_path / "rejects.csv").exists()  # nothing written into the current directory
