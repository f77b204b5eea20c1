"""``riskml backtest`` end to end: the three outputs, the MLflow run, and clear one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from riskml.cli.main import app

pytestmark = pytest.mark.integration

runner = CliRunner()


@pytest.fixture(scope="module")
def cli_run(bt_ledger_dir: Path, policy_files: dict[str, Path], fast_train_file: Path,
            tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    out = tmp_path_factory.mktemp("bt_out")
    db = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    res = runner.invoke(app, [
        "backtest", "--data", str(bt_ledger_dir), "--out", str(out), "--from", "2026-02-28", "--to", "2026-04-30",
        "--policy", "configs/scoring.yaml", "--policy", str(policy_files["revoke_all"]),
        "--sweep", "actions.hold_past_due_days=15,60", "--retrain-every", "12m",
        "--train-config", str(fast_train_file)],
        env={"MLFLOW_TRACKING_URI": f"sqlite:///{db}"})
    return out, db, res


def test_cli_writes_the_three_outputs_and_logs_a_run(cli_run: tuple[Path, Path, object]) -> None:
    out, db, res = cli_run
    assert res.exit_code == 0, res.output
    frame = pd.read_parquet(out / "backtest.parquet")
    summary = pd.read_csv(out / "summary.csv")
    names = ["champion", "revoke_all", "hold_past_due_days=15", "hold_past_due_days=60"]
    assert summary["policy"].tolist() == names
    assert len(frame) == 3 * len(names) and sorted(frame["as_of"].dt.strftime("%Y-%m-%d").unique()) == [
        "2026-02-28", "2026-03-31", "2026-04-30"]
    page = (out / "report.html").read_text(encoding="utf-8")
    # self-contained: no external scripts, styles or images
    assert not re.search(r"""(src|href)=["']https?:""", page)
    assert 'id="tradeoff"' in page and "Counterfactual assumptions" in page
    cell = re.search(r'data-policy="revoke_all" data-metric="bad_exposure_caught_share" data-value="([^"]+)"', page)
    assert cell and float(cell.group(1)) == 1.0

    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{db}")
    runs = mlflow.search_runs(experiment_names=["riskml-backtest"])
    assert len(runs) == 1
    row = runs.iloc[0]
    champ = summary.set_index("policy").loc["champion"]
    assert row["metrics.champion/sales_lost"] == pytest.approx(champ["sales_lost"])
    assert row["metrics.revoke_all/bad_exposure_caught_share"] == 1.0
    arts = {a.path for a in mlflow.MlflowClient().list_artifacts(row["run_id"])}
    assert {"report.html", "summary.csv", "backtest.parquet"} <= arts


@pytest.mark.parametrize(("args", "message"), [
    (["--to", "2026-09-30"], "no outcomes yet in the window"),
    (["--from", "2026-10-31"], "no outcomes yet in the window"),
    (["--from", "2024-06-30", "--to", "2024-07-31"], "walk-forward model at 2024-06-30"),
    (["--sweep", "actions.hold_past_due_dayz=15"], "'hold_past_due_dayz' is not a setting of actions"),
    (["--every", "2w"], "--every must be a number of months"),
    (["--from", "2026-13-01"], "--from must be a date"),
])
def test_cli_errors_are_one_clear_line(bt_ledger_dir: Path, tmp_path: Path, args: list[str], message: str) -> None:
    res = runner.invoke(app, ["backtest", "--data", str(bt_ledger_dir), "--out", str(tmp_path / "o"), "--no-mlflow",
                              *args])
    assert res.exit_code == 1
    assert message in res.output and "Traceback" not in res.output


def test_cli_unknown_key_in_a_policy_file(bt_ledger_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "typo.yaml"
    bad.write_text("actions:\n  hold_past_due_dayz: 45\n")
    res = runner.invoke(app, ["backtest", "--data", str(bt_ledger_dir), "--out", str(tmp_path / "o"), "--no-mlflow",
                              "--policy", "configs/scoring.yaml", "--policy", str(bad)])
    assert res.exit_code == 1
    assert "actions.hold_past_due_dayz: unknown setting" in res.output and str(bad) in res.output


def test_cli_with_a_given_model(bt_ledger_dir: Path, bt_result, tmp_path: Path) -> None:  # noqa: ANN001
    model = bt_result.models[0].model.with_metadata(
        data_window={"train_dates": ["2025-01-31"], "oot_dates": ["2025-03-31"]}, label_config={"horizon_months": 12})
    model.save(tmp_path / "model")
    base = ["backtest", "--data", str(bt_ledger_dir), "--no-mlflow", "--model", str(tmp_path / "model")]
    res = runner.invoke(app, [*base, "--out", str(tmp_path / "a"), "--from", "2026-01-31", "--to", "2026-04-30"])
    assert res.exit_code == 1 and "trained on outcomes up to 2026-03-31" in res.output
    assert "--from 2026-03-31 or later" in res.output
    res = runner.invoke(app, [*base, "--out", str(tmp_path / "b"), "--from", "2026-03-31", "--to", "2026-04-30"])
    assert res.exit_code == 0, res.output
    frame = pd.read_parquet(tmp_path / "b" / "backtest.parquet")
    assert len(frame) == 2 and frame["model"].str.endswith("model").all()
