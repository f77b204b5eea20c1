"""MLflow tracking of a training run: config, data fingerprint, features, parameters, metrics, plots,
tables, the model card and the RiskModel directory; the servable (pyfunc) model is logged by the
:data:`ModelLogger` the caller passes (:func:`riskml.serving.pyfunc.log_pyfunc`).

The tracking URI is ``MLFLOW_TRACKING_URI`` when set, else ``sqlite:///mlflow.db`` (a local database
store, which the model registry needs). When riskml creates the experiment in a sqlite store, its
artifacts go to ``mlartifacts/<experiment>/`` next to the database file (not to ``./mlruns`` of whatever
directory the command ran in), so a store is one folder that can be moved or deleted as a whole. Plots
use matplotlib's Agg backend (no display).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskml.config import TrainConfig
from riskml.modeling.model import RiskModel
from riskml.modeling.results import TrainResult

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
# the artifact folder of a run (and of the pyfunc model) that holds the RiskModel directory
ARTIFACT_KEY = "risk_model"
# logs the servable model inside the active run: (model, a few feature rows as example, the saved RiskModel
# directory) -> the logged model's URI
ModelLogger = Callable[[RiskModel, pd.DataFrame, Path], str]


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else the local sqlite store."""
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def configure() -> str:
    """Point MLflow (tracking and registry) at :func:`tracking_uri`; return it."""
    import mlflow

    uri = tracking_uri()
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def ui_command(uri: str) -> str:
    """The command that opens this store in the MLflow UI."""
    if uri.startswith(("http://", "https://")):
        return f"open {uri}"
    from riskml.commands import command

    return f"{command('mlflow')} ui --backend-store-uri {uri}"


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (relative paths against the working directory)."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix) or uri[len(prefix):] in ("", ":memory:"):
        return None
    return Path(uri[len(prefix):]).resolve()


def use_experiment(name: str) -> str:
    """Make ``name`` the active experiment, creating it (artifacts next to a sqlite database) if absent;
    return its id."""
    import mlflow

    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return mlflow.set_experiment(experiment_id=found.experiment_id).experiment_id
    db = sqlite_path(mlflow.get_tracking_uri())
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    location = (db.parent / "mlartifacts" / safe).as_uri() if db is not None else None
    exp_id = mlflow.create_experiment(name, artifact_location=location)
    return mlflow.set_experiment(experiment_id=exp_id).experiment_id


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def run_params(result: TrainResult, config: TrainConfig) -> dict[str, str]:
    """Every setting of the run as MLflow parameters (flattened ``a.b`` keys)."""
    params = flatten(config.model_dump(mode="json"))
    params.update({
        "n_features": len(result.model.feature_names_),
        "n_monotone": len(result.data.monotone),
        "best_iteration": result.model.best_iteration_,
        "calibration_method": result.model.calibration_method_,
        "split_kind": result.split.kind,
        "split_gap_months": result.split.gap_months,
        "label_source": result.data.label_source,
    })
    return {k: str(v)[:6000] for k, v in params.items()}


def run_metrics(result: TrainResult) -> dict[str, float]:
    """Test metrics of the three models, validation metrics, calibration comparison, split sizes."""
    out: dict[str, float] = {}
    for model, metrics in result.test_metrics.items():
        for k, v in metrics.items():
            out[f"test_{k}" if model == "lightgbm" else f"{model}_test_{k}"] = v
    for k, v in result.valid_metrics.items():
        out[f"valid_{k}"] = v
    for method, scores in result.calibration_on_test.items():
        for k, v in scores.items():
            out[f"test_{k}_{method}"] = v
    for method, scores in result.model.calibration_scores_.items():
        for k, v in scores.items():
            out[f"valid_cv_{k}_{method}"] = v
    for _, row in result.split_summary.iterrows():
        out[f"{row['part']}_rows"] = row["rows"]
        out[f"{row['part']}_positives"] = row["positives"]
    pc = result.persona_calibration
    if pc is not None and len(pc):
        for _, row in pc.iterrows():
            out[f"test_persona_{row['group']}_mean_pd"] = row["mean_pd"]
            out[f"test_persona_{row['group']}_observed"] = row["observed_rate"]
        out["test_persona_max_abs_gap"] = float(pc["gap"].abs().max())
        if "within_target" in pc:  # gap > 3 points and the mean PD outside the observed rate's 95% interval
            out["test_persona_outside_target"] = float((~pc["within_target"].astype(bool)).sum())
    for other, cmp in result.comparisons.items():
        out[f"test_auc_gain_{other}"] = cmp["diff"]
        out[f"test_auc_gain_{other}_lo"] = cmp["lo"]
        out[f"test_auc_gain_{other}_hi"] = cmp["hi"]
        out[f"test_auc_gain_{other}_share_not_better"] = cmp["share_not_better"]
    return {k: float(v) for k, v in out.items() if v is not None and np.isfinite(v)}


# ------------------------------------------------------------------------------------------- plots
def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_roc(result: TrainResult, path: Path) -> Path:
    from sklearn.metrics import roc_curve

    plt = _plt()
    tf = result.test_frame
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for name, col in (("LightGBM", "pd_lightgbm"), ("Logistic", "pd_logistic"), ("Rule", "rule_score")):
        fpr, tpr, _ = roc_curve(tf["label"], tf[col])
        auc = result.test_metrics[{"pd_lightgbm": "lightgbm", "pd_logistic": "logistic",
                                   "rule_score": "rule"}[col]]["auc"]
        ax.plot(fpr, tpr, label=f"{name} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC, out-of-time test window")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_calibration(result: TrainResult, path: Path) -> Path:
    plt = _plt()
    ct = result.calibration_table
    fig, ax = plt.subplots(figsize=(5.5, 5))
    hi = float(max(ct["mean_pd"].max(), ct["observed_rate"].max()) * 1.05)
    ax.plot([0, hi], [0, hi], color="grey", lw=0.8, ls="--", label="perfect calibration")
    ax.plot(ct["mean_pd"], ct["observed_rate"], marker="o", label=f"LightGBM ({result.model.calibration_method_})")
    ax.set(xlabel="Mean predicted PD (decile)", ylabel="Observed delinquency rate",
           title="Calibration, out-of-time test window")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_shap_summary(result: TrainResult, path: Path, max_display: int = 20) -> Path:
    """SHAP beeswarm from LightGBM's own TreeSHAP contributions (no explainer needed)."""
    plt = _plt()
    import shap

    seed = int(getattr(result.model, "seed", 0))
    shap.summary_plot(result.shap_values, result.shap_rows, feature_names=list(result.shap_rows.columns),
                      max_display=max_display, show=False, rng=np.random.default_rng(seed))
    fig = plt.gcf()
    fig.suptitle("SHAP summary (log-odds), test sample")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------------------- logging
def log_tables(result: TrainResult, folder: Path) -> None:
    from riskml.io import write_csv

    write_csv(result.calibration_table, folder / "calibration_table.csv")
    write_csv(result.lift_table, folder / "lift_table.csv")
    if result.persona_calibration is not None and len(result.persona_calibration):
        write_csv(result.persona_calibration, folder / "persona_calibration.csv")
    if len(result.persona_calibration_before):
        write_csv(result.persona_calibration_before, folder / "persona_calibration_before.csv")
    write_csv(result.split_summary, folder / "split_summary.csv")
    write_csv(result.metrics_table(), folder / "test_metrics.csv", index=True)
    write_csv(result.importance.rename("mean_abs_shap").rename_axis("feature").reset_index(),
              folder / "feature_importance.csv")


def feature_list(result: TrainResult) -> list[dict[str, Any]]:
    specs = result.data.specs
    return [{"name": f, "family": specs[f].family if f in specs else "attributes",
             "kind": "categorical" if f in result.model.categories_ else "numeric",
             "monotone": int(result.data.monotone.get(f, 0)),
             "description": specs[f].description if f in specs else ""} for f in result.model.feature_names_]


def log_run(result: TrainResult, config: TrainConfig, fingerprint: str, row_counts: dict[str, int],
            log_model: ModelLogger, tags: dict[str, str] | None = None) -> tuple[str, str]:
    """Log the run (params, metrics, artifacts, the model by ``log_model``); return (run_id, model_uri)."""
    import mlflow

    use_experiment(config.experiment)
    window = f"{result.split.oot_dates[0].date()}..{result.split.oot_dates[-1].date()}"
    with mlflow.start_run(run_name=f"{config.model_name} oot {window}") as run, \
            tempfile.TemporaryDirectory(prefix="riskml-train-") as tmp:
        folder = Path(tmp)
        mlflow.set_tags({"data.fingerprint": fingerprint, "label.source": result.data.label_source,
                         "split.kind": result.split.kind, "oot_window": window, **process_tags(), **(tags or {})})
        mlflow.log_params(run_params(result, config))
        mlflow.log_params({f"data.rows.{k}": str(v) for k, v in row_counts.items()} | {"data.fingerprint": fingerprint})
        mlflow.log_metrics(run_metrics(result))
        mlflow.log_dict(config.model_dump(mode="json"), "config/train.yaml")
        if result.model.metadata_.feature_config is not None:
            mlflow.log_dict(result.model.metadata_.feature_config.model_dump(mode="json"), "config/features.yaml")
        mlflow.log_dict({"fingerprint": fingerprint, "row_counts": row_counts,
                         "ledger_window": list(result.data.ledger_window),
                         "label_status_counts": result.data.status_counts,
                         "split": result.split.description}, "data/fingerprint.json")
        mlflow.log_dict({"features": feature_list(result)}, "features/features.json")
        mlflow.log_text("\n".join(result.model.feature_names_) + "\n", "features/features.txt")
        (folder / "tables").mkdir()
        log_tables(result, folder / "tables")
        mlflow.log_artifacts(str(folder / "tables"), "tables")
        (folder / "plots").mkdir()
        plot_roc(result, folder / "plots" / "roc.png")
        plot_calibration(result, folder / "plots" / "calibration.png")
        plot_shap_summary(result, folder / "plots" / "shap_summary.png")
        mlflow.log_artifacts(str(folder / "plots"), "plots")

        model_dir = folder / ARTIFACT_KEY
        result.model.save(model_dir)
        mlflow.log_artifacts(str(model_dir), ARTIFACT_KEY)
        test_rows = result.data.frame.loc[result.split.test, result.model.feature_names_]
        return run.info.run_id, log_model(result.model, test_rows.head(5), model_dir)


def process_tags() -> dict[str, str]:
    """Which process runs the training (a later run closes the runs of a process that is gone)."""
    import os
    import socket

    return {"riskml.host": socket.gethostname(), "riskml.pid": str(os.getpid())}


def log_card(run_id: str, text: str) -> None:
    """Attach (or replace) the model card of a finished run."""
    from mlflow import MlflowClient

    with tempfile.TemporaryDirectory(prefix="riskml-card-") as tmp:
        path = Path(tmp) / "model_card.md"
        path.write_text(text, encoding="utf-8")
        MlflowClient().log_artifact(run_id, str(path))


def log_decision(run_id: str, decision: dict[str, Any]) -> None:
    from mlflow import MlflowClient

    client = MlflowClient()
    for k in ("decision", "reason", "model_version"):
        if decision.get(k) is not None:
            client.set_tag(run_id, f"promotion.{k}", str(decision[k])[:5000])
    if decision.get("champion_auc") is not None and np.isfinite(decision["champion_auc"]):
        client.log_metric(run_id, "champion_test_auc", float(decision["champion_auc"]))
    client.log_text(run_id, json.dumps(_json_safe(decision), indent=1), "promotion.json")


def _json_safe(d: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if isinstance(v, float) and not np.isfinite(v):
            v = None
        elif isinstance(v, np.generic):
            v = v.item()
        elif isinstance(v, pd.Timestamp):
            v = str(v.date())
        out[k] = v
    return out
