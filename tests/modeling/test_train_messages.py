"""Training messages name the real cause and the real file (issue 18): what the label definition left
out (disputed invoices, dormant, already delinquent, censored), and the training config actually in use."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from riskml.cli.main import app
from riskml.cli.train import name_config_file
from riskml.config import LabelConfig
from riskml.modeling.labels import disputed_left_out
from riskml.modeling.results import TrainingData
from tests.features.ledgers import make_ledger

D = pd.Timestamp


def _ledger():
    customers = [{"customer_id": c, "onboarded_date": D("2022-01-01")} for c in ("a", "b", "c", "d")]
    invoices = [
        # disputed before the 90-day mark, dated: left out
        {"invoice_id": "I1", "customer_id": "a", "invoice_date": D("2024-01-01"), "due_date": D("2024-01-31"),
         "amount": 100.0, "disputed": True, "dispute_date": D("2024-02-15")},
        # disputed, no date: disputed from its invoice date, left out
        {"invoice_id": "I2", "customer_id": "b", "invoice_date": D("2024-01-01"), "due_date": D("2024-01-31"),
         "amount": 100.0, "disputed": True, "dispute_date": None},
        # disputed only after it reached 90 days past due: it still counts
        {"invoice_id": "I3", "customer_id": "c", "invoice_date": D("2024-01-01"), "due_date": D("2024-01-31"),
         "amount": 100.0, "disputed": True, "dispute_date": D("2024-06-30")},
        {"invoice_id": "I4", "customer_id": "d", "invoice_date": D("2024-01-01"), "due_date": D("2024-01-31"),
         "amount": 100.0, "disputed": False, "dispute_date": None},
    ]
    return make_ledger(customers, invoices)


def test_disputed_invoices_the_label_leaves_out() -> None:
    ledger = _ledger()
    assert disputed_left_out(ledger, LabelConfig(dpd_threshold=90)) == (2, 1)
    assert disputed_left_out(ledger, LabelConfig(dpd_threshold=90, exclude_disputed=False)) == (0, 0)


def test_left_out_text_counts_and_names_each_cause() -> None:
    data = TrainingData(frame=pd.DataFrame({"label": [0, 1]}), features=[], categorical=[], monotone={}, specs={},
                        label_source="definition", label_definition="",
                        status_counts={"labeled": 2, "censored": 12, "delinquent_at_as_of": 3, "dormant": 0},
                        disputed_left_out=(40, 31))
    text = data.left_out_text()
    assert "12 censored" in text and "3 already delinquent" in text
    assert "dormant" not in text  # nothing removed for that reason
    assert "40 disputed invoices" in text and "31 of them without a dispute_date" in text


def test_messages_name_the_config_in_use(tmp_path: Path, monkeypatch) -> None:
    msg = "lower split.oot_snapshots in configs/train.yaml"
    assert name_config_file(msg, Path("my/other.yaml")) == "lower split.oot_snapshots in my/other.yaml"
    monkeypatch.chdir(tmp_path)  # no configs/train.yaml here: the built-in defaults are in use
    assert "configs/train.yaml here: the built-in defaults" in name_config_file(msg, None)


@pytest.mark.slow
def test_train_cli_names_the_config_given(small_ledger_dir: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "other.yaml"
    cfg.write_text("split:\n  oot_snapshots: 500\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["train", "--data", str(small_ledger_dir), "--config", str(cfg)],
                             env={"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"})
    assert res.exit_code == 1, res.output
    assert str(cfg) in res.output and "configs/train.yaml" not in res.output
