"""End to end against throwaway sqlite MLflow stores: a run logs everything the issue lists, the
version is registered with an alias, the pyfunc loads and returns PD, grade and reasons; the promotion
gate promotes a better model and refuses a worse one re-scored on the same test window; a rerun gives
the same metrics; `riskml train --labels FILE` works from the command line."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from riskml.cli.main import app
from riskml.config import FeatureConfig
from riskml.features import model_features
from riskml.modeling.pipeline import run_training
from riskml.modeling.results import TrainOutcome
from riskml.serving.pyfunc import log_pyfunc

from .conftest import small_config, store_uri

pytestmark = pytest.mark.slow
NAME = "riskml-delinquency"
# the weak model: four payment-behaviour features only
WEAK_KEEP = ["dbt_avg_6m", "late_paid_share_12m", "utilisation", "past_due_share"]


@dataclass
class Store:
    folder: Path
    uri: str
    weak: TrainOutcome  # first run: no champion yet
    full: TrainOutcome  # better than the weak champion on the same test window: promoted
    weak_again: TrainOutcome  # the weak model again: worse than the full champion, refused


@pytest.fixture(scope="module")
def store(small_ledger, tmp_path_factory: pytest.TempPathFactory) -> Store:
    import mlflow

    folder = tmp_path_factory.mktemp("mlflow_store")
    uri = store_uri(folder)
    weak_features = FeatureConfig(exclude=[f for f in model_features() if f not in WEAK_KEEP])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.chdir(folder)
        weak = run_training(small_ledger, small_config(), weak_features, log_model=log_pyfunc)
        full = run_training(small_ledger, small_config(), log_model=log_pyfunc)
        weak_again = run_training(small_ledger, small_config(), weak_features, log_model=log_pyfunc)
        yield Store(folder, uri, weak, full, weak_again)
    mlflow.set_tracking_uri(None)


def _client(store: Store):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=store.uri, registry_uri=store.uri)


def _artifacts(client, run_id: str, path: str | None = None) -> list[str]:
    out = []
    for item in client.list_artifacts(run_id, path):
        out.extend(_artifacts(client, run_id, item.path) if item.is_dir else [item.path])
    return out


def test_run_logs_params_metrics_and_tags(store: Store) -> None:
    run = _client(store).get_run(store.full.run_id)
    p, m, t = run.data.params, run.data.metrics, run.data.tags
    assert p["label.horizon_months"] == "6" and p["label.dpd_threshold"] == "90"
    assert p["lightgbm.learning_rate"] == "0.05" and p["lightgbm.extra_trees"] == "True"
    assert p["calibration_method"] in ("platt", "isotonic") and p["split_kind"] == "oot"
    assert p["n_features"] == "56" and p["n_monotone"] == "37" and int(p["best_iteration"]) >= 1
    assert len(p["data.fingerprint"]) == 16 and t["data.fingerprint"] == p["data.fingerprint"]
    assert int(p["data.rows.invoices"]) > 10_000 and p["data.rows.customers"] == "300"
    for k in ("auc", "gini", "ks", "brier", "log_loss", "pr_auc", "capture_top10", "lift_top10"):
        assert f"test_{k}" in m and f"logistic_test_{k}" in m and f"rule_test_{k}" in m
    assert m["test_auc"] == pytest.approx(store.full.result.test_metrics["lightgbm"]["auc"])
    assert {"test_auc_gain_logistic", "test_auc_gain_logistic_lo", "test_auc_gain_rule_hi",
            "valid_cv_log_loss_platt", "test_log_loss_isotonic", "train_rows", "test_positives"} <= set(m)
    assert t["oot_window"] == "2026-01-31..2026-03-31" and t["promotion.decision"] == "champion"


def test_run_logs_every_artifact(store: Store) -> None:
    client = _client(store)
    files = set(_artifacts(client, store.full.run_id))
    expected = {"config/train.yaml", "config/features.yaml", "data/fingerprint.json", "features/features.json",
                "features/features.txt", "tables/calibration_table.csv", "tables/lift_table.csv",
                "tables/split_summary.csv", "tables/test_metrics.csv", "tables/feature_importance.csv",
                "plots/roc.png", "plots/calibration.png", "plots/shap_summary.png", "model_card.md",
                "promotion.json", "risk_model/booster.txt", "risk_model/calibrator.json", "risk_model/model.json"}
    assert expected <= files
    local = Path(client.download_artifacts(store.full.run_id, "", str(store.folder / "dl")))
    for plot in ("roc", "calibration", "shap_summary"):
        assert (local / "plots" / f"{plot}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fp = json.loads((local / "data" / "fingerprint.json").read_text())
    assert fp["row_counts"]["customers"] == 300 and fp["fingerprint"] == (
        store.full.result.model.metadata_.data_fingerprint)
    feats = json.loads((local / "features" / "features.json").read_text())["features"]
    assert len(feats) == len(model_features({}, [])) and {"name", "family", "monotone", "description"} <= set(feats[0])
    card = (local / "model_card.md").read_text()
    for section in ("## Intended use", "## Label definition", "## Data and split", "## Performance on the "
                    "out-of-time test window", "## Calibration", "## Promotion", "## Limitations"):
        assert section in card
    assert "due_date + 90" in card and "version 2" in card and "AUC gain of this model" in card
    # the store is one folder: artifacts next to the database, nothing in ./mlruns
    assert (store.folder / "mlartifacts").is_dir() and not (store.folder / "mlruns").exists()


def test_registered_versions_aliases_and_gate(store: Store) -> None:
    client = _client(store)
    weak, full, again = store.weak.decision, store.full.decision, store.weak_again.decision
    assert (weak.model_version, full.model_version, again.model_version) == ("1", "2", "3")
    assert weak.promote and "no champion yet" in weak.reason
    assert full.promote and full.champion_version == "1"
    assert full.test_auc > full.champion_auc  # the full model beats the weak champion on the same rows
    assert not again.promote and again.champion_version == "2"
    assert "worse than the champion (version 2) re-scored on the same test window" in again.reason
    assert again.champion_auc == pytest.approx(full.test_auc)  # the same rows, re-scored
    assert str(client.get_model_version_by_alias(NAME, "champion").version) == "2"
    assert str(client.get_model_version_by_alias(NAME, "challenger").version) == "3"
    tags = client.get_model_version(NAME, "3").tags
    assert tags["promotion.decision"] == "challenger" and tags["promotion.reason"] == again.reason
    assert client.get_run(store.weak_again.run_id).data.tags["promotion.decision"] == "challenger"


def test_rerun_gives_the_same_metrics(store: Store) -> None:
    client = _client(store)
    first = client.get_run(store.weak.run_id).data.metrics
    second = client.get_run(store.weak_again.run_id).data.metrics
    first.pop("champion_test_auc", None)
    second.pop("champion_test_auc", None)
    assert first == second
    assert store.weak.result.model.booster_.model_to_string() == store.weak_again.result.model.booster_.model_to_string()


def test_champion_pyfunc_returns_pd_grade_and_reasons(store: Store) -> None:
    import mlflow
    from mlflow.models import get_model_info

    model_uri = f"models:/{NAME}@champion"
    info = get_model_info(store.full.model_uri)
    inputs = info.signature.inputs.to_dict()
    assert [c["name"] for c in inputs] == store.full.result.model.feature_names_
    assert {c["name"] for c in info.signature.outputs.to_dict()} == {
        "pd", "grade", "reason_1", "reason_2", "reason_3", "reason_codes"}
    served = mlflow.pyfunc.load_model(model_uri)
    result = store.full.result
    rows = result.data.frame.loc[result.split.test, result.model.feature_names_].head(25)
    out = served.predict(rows.reset_index(drop=True))
    assert list(out.columns[:2]) == ["pd", "grade"] and len(out) == 25
    assert np.allclose(out["pd"].to_numpy(), result.model.predict_pd(rows), atol=1e-12)
    assert out["grade"].isin([str(g) for g in range(1, 11)]).all()
    assert (out["reason_1"].str.len() > 5).all() and out["reason_codes"].notna().all()
    one = served.predict(rows.head(1).reset_index(drop=True))  # single-record scoring
    assert one["pd"].iloc[0] == pytest.approx(out["pd"].iloc[0], abs=1e-12)


# --------------------------------------------------------------------------------------- the CLI
runner = CliRunner()


def _cli_config(tmp_path: Path, **label: object) -> Path:
    import yaml

    from riskml.config import TrainConfig

    data = TrainConfig().model_dump(mode="json")
    data["label"].update({"horizon_months": 6, **label})
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_cli_train_with_labels_file(small_synth, small_ledger_dir: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from .test_train import _truth_labels

    monkeypatch.setenv("MLFLOW_TRACKING_URI", store_uri(tmp_path))
    monkeypatch.chdir(tmp_path)
    labels = tmp_path / "outcomes.csv"
    dates = [str(d.date()) for d in pd.date_range("2025-03-31", "2026-03-31", freq="ME")]
    _truth_labels(small_synth, dates).to_csv(labels, index=False)
    res = runner.invoke(app, ["train", "--data", str(small_ledger_dir), "--config", str(_cli_config(tmp_path)),
                              "--labels", str(labels), "--out-model", str(tmp_path / "models")])
    assert res.exit_code == 0, res.output
    assert "registered riskml-delinquency version 1 as champion" in res.output
    assert f"mlflow ui --backend-store-uri {store_uri(tmp_path)}" in res.output
    assert "Out-of-time test window" in res.output and "AUC gain of this model" in res.output
    exported = tmp_path / "models" / "riskml-delinquency-v1"
    assert (exported / "model_card.md").exists() and (exported / "booster.txt").exists()
    assert "user-supplied labels" in (exported / "model_card.md").read_text()
    from mlflow import MlflowClient

    run = MlflowClient(store_uri(tmp_path)).search_runs(["1"])[0]
    assert run.data.params["label_source"] == str(labels) and run.data.tags["label.source"] == str(labels)


def test_cli_bad_labels_file_is_a_clean_error(small_ledger_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "labels.csv"
    bad.write_text("customer_id,as_of,label\nC000001,2025-06-30,maybe\n")
    res = runner.invoke(app, ["train", "--data", str(small_ledger_dir), "--labels", str(bad)])
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit)
    assert f"{bad}: row 2, column label: must be 0 or 1 (got 'maybe')" in res.stderr
    assert "Traceback" not in res.output


def test_cli_too_few_positives_is_a_clean_error(small_ledger_dir: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store_uri(tmp_path))
    config = _cli_config(tmp_path, dpd_threshold=400, include_write_offs=False)
    res = runner.invoke(app, ["train", "--data", str(small_ledger_dir), "--config", str(config)])
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit)
    assert "the label definition found" in res.stderr and "label.dpd_threshold (now 400)" in res.stderr
    assert not (tmp_path / "mlflow.db").exists()  # stopped before anything was logged
