"""The model registry: loading a model by URI, registering a new version and the promotion gate.

Aliases, not stages (deprecated in MLflow 3): ``champion`` is the version scoring uses by default
(``models:/riskml-delinquency@champion``); a version refused by the gate gets ``challenger``. Each
version carries tags with the gate's decision and reason.

The gate compares like with like: the current champion is *re-scored on this run's test window* and
the new version must not trail its AUC by more than ``promotion.auc_tolerance``, besides passing the
absolute thresholds (``promotion.min_auc``, ``promotion.max_brier``).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from riskml.config import PromotionConfig
from riskml.errors import ModelError
from riskml.modeling.gate import CHALLENGER, CHAMPION, Decision, decide
from riskml.modeling.metrics import brier as brier_score
from riskml.modeling.metrics import roc_auc
from riskml.modeling.model import RiskModel
from riskml.modeling.results import TrainResult
from riskml.modeling.tracking import ARTIFACT_KEY, configure

__all__ = ["CHALLENGER", "CHAMPION", "Decision", "decide", "load_model", "register_and_promote"]

DEFAULT_NAME = "riskml-delinquency"
INTERRUPTED = "interrupted"
_ALIAS_URI = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[^/]+)$")
_VERSION_URI = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>[^/]+)$")
_RUN_URI = re.compile(r"^runs:/(?P<run>[^/]+)/")


def _not_registered(uri: str, detail: str) -> ModelError:
    from riskml.commands import command
    from riskml.modeling.tracking import tracking_uri

    where = os.environ.get("MLFLOW_TRACKING_URI")
    store = f"the MLflow store {tracking_uri()} (" + ("MLFLOW_TRACKING_URI" if where else
                                                      f"the default, in {Path.cwd()}") + ")"
    return ModelError(f"no model at {uri} in {store}: {detail}. Train and register one first: run `make train` "
                      f"(or `{command()} train --data DIR`), set MLFLOW_TRACKING_URI to the store you trained into, "
                      "or pass a model directory")


def _load_dir(path: Path) -> RiskModel:
    """A RiskModel directory, or an MLflow pyfunc model directory holding one as its artifact."""
    if (path / "model.json").exists():
        return RiskModel.load(path)
    nested = path / "artifacts" / ARTIFACT_KEY
    if (nested / "model.json").exists():
        return RiskModel.load(nested)
    raise ModelError(f"{path}: neither a riskml model directory (model.json, booster.txt, calibrator.json) "
                     "nor an MLflow model holding one")


def _version_info(uri: str) -> dict[str, Any]:
    """Registry facts about ``uri`` (name, version, run, aliases, tags) or a ModelError when absent."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    try:
        if m := _ALIAS_URI.match(uri):
            mv = client.get_model_version_by_alias(m["name"], m["alias"])
        elif m := _VERSION_URI.match(uri):
            version = m["version"]
            if version == "latest":
                versions = client.search_model_versions(f"name='{m['name']}'")
                if not versions:
                    raise _not_registered(uri, f"no version of {m['name']} is registered")
                version = str(max(int(v.version) for v in versions))
            mv = client.get_model_version(m["name"], version)
        elif m := _RUN_URI.match(uri):
            found = client.search_model_versions(f"run_id='{m['run']}'")
            if found:
                mv = max(found, key=lambda v: int(v.version))
            else:
                return {"uri": uri, "model_version": f"run-{m['run'][:8]}", "run_id": m["run"]}
        else:
            return {"uri": uri, "model_version": "unregistered"}
    except MlflowException as exc:
        raise _not_registered(uri, str(exc).splitlines()[0]) from None
    return {"uri": uri, "model_version": str(mv.version), "name": mv.name, "run_id": mv.run_id,
            "aliases": list(getattr(mv, "aliases", []) or []), "tags": dict(mv.tags or {})}


def load_model(uri: str | None = None) -> tuple[RiskModel, dict[str, Any]]:
    """Load a RiskModel from an MLflow model URI (``models:/name/3``, ``models:/name@alias``,
    ``runs:/<id>/model``) or a local model directory; ``None`` means the champion.

    Returns ``(model, info)``; ``info`` has ``model_version`` (str) and ``uri``."""
    uri = uri or f"models:/{DEFAULT_NAME}@{CHAMPION}"
    if "://" not in uri and not uri.startswith(("models:/", "runs:/")):
        path = Path(uri)
        if not path.exists():
            raise ModelError(f"{path}: model directory not found")
        model = _load_dir(path)
        version = model.metadata_.model_version or "local"
        return model, {"uri": str(path), "model_version": version, "source": "directory"}
    import mlflow
    from mlflow.exceptions import MlflowException

    from riskml.modeling.tracking import sqlite_path, tracking_uri

    db = sqlite_path(tracking_uri())
    if db is not None and not db.exists():  # reading never creates a store (MLflow would make an empty one)
        raise _not_registered(uri, f"{db} does not exist")
    tracking = configure()
    info = _version_info(uri)
    info["tracking_uri"] = tracking
    with tempfile.TemporaryDirectory(prefix="riskml-model-") as tmp:
        try:
            local = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp)
        except MlflowException as exc:
            raise _not_registered(uri, str(exc).splitlines()[0]) from None
        except Exception as exc:  # noqa: BLE001 - an http://, s3://... URI MLflow cannot fetch: the user's input
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            raise ModelError(f"--model {uri[:200]}: cannot be downloaded ({type(exc).__name__}: {first}); give "
                             "models:/NAME@ALIAS, models:/NAME/VERSION, runs:/RUN_ID/model or a local model "
                             "directory") from None
        model = _load_dir(Path(local))
    return model, info


# ------------------------------------------------------------------------------------ promotion gate
def champion_on_test(result: TrainResult, name: str) -> tuple[str | None, float | None, str]:
    """(version, AUC on this run's test window, note) of the current champion; (None, None, "") if none."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        mv = MlflowClient().get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None, None, ""
    try:
        champion, _ = load_model(f"models:/{name}@{CHAMPION}")
    except ModelError as exc:
        return str(mv.version), None, f"champion version {mv.version} could not be loaded: {exc}"
    test = result.data.frame.loc[result.split.test]
    missing = [f for f in champion.feature_names_ if f not in test.columns]
    if missing:
        return str(mv.version), None, (f"champion version {mv.version} could not be re-scored: this run's "
                                       f"snapshots lack its features {missing[:5]}")
    y = test["label"].to_numpy("int64")
    p = champion.predict_pd(test)
    return str(mv.version), roc_auc(y, p), f"champion Brier on this test window {brier_score(y, p):.4f}"


def register_and_promote(result: TrainResult, model_uri: str, name: str,
                         config: PromotionConfig) -> Decision:
    """Register ``model_uri`` as a new version of ``name``, apply the gate, set alias and tags."""
    import mlflow
    from mlflow import MlflowClient

    champ_version, champ_auc, note = champion_on_test(result, name)
    mv = mlflow.register_model(model_uri, name)
    version = str(mv.version)
    client = MlflowClient()
    try:
        return _gate_and_tag(result, name, config, version, champ_version, champ_auc, note, client)
    except BaseException:  # interrupted between registration and promotion: say so on the version
        with contextlib.suppress(Exception):
            mark_interrupted_version(client, name, version)
        raise


def mark_interrupted_version(client: Any, name: str, version: str) -> None:
    """Tag a registered version whose training stopped before the promotion gate ran."""
    client.set_model_version_tag(name, version, "promotion.decision", INTERRUPTED)
    client.set_model_version_tag(name, version, "promotion.reason",
                                 "training was interrupted before the promotion gate ran; not a candidate")


def _gate_and_tag(result: TrainResult, name: str, config: PromotionConfig, version: str,
                  champ_version: str | None, champ_auc: float | None, note: str, client: Any) -> Decision:
    m = result.test_metrics["lightgbm"]
    decision = replace(decide(m["auc"], m["brier"], config, champ_version, champ_auc, note), model_version=version)
    tags = {"promotion.decision": decision.decision, "promotion.reason": decision.reason,
            "test_auc": f"{m['auc']:.6f}", "test_brier": f"{m['brier']:.6f}",
            "oot_window": f"{result.split.oot_dates[0].date()}..{result.split.oot_dates[-1].date()}",
            "champion_version_at_training": champ_version or "",
            "champion_auc_same_window": "" if champ_auc is None or not np.isfinite(champ_auc) else f"{champ_auc:.6f}"}
    for k, v in tags.items():
        client.set_model_version_tag(name, version, k, str(v)[:5000])
    # the alias last: a version that holds an alias always carries the gate's decision and reason
    client.set_registered_model_alias(name, CHAMPION if decision.promote else CHALLENGER, version)
    return decision


# ------------------------------------------------------------------------------- interrupted trainings
def _gone(tags: dict[str, str]) -> bool:
    """Whether the process that wrote these run tags has ended (known only for one on this machine)."""
    import socket

    from riskml.io import pid_alive

    pid = tags.get("riskml.pid", "")
    return tags.get("riskml.host") == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid))


def close_stale(experiment: str, name: str) -> list[str]:
    """Close what killed trainings left behind, and say what: runs still RUNNING whose process has ended
    (on this machine) are set FAILED, and registered versions of ``name`` that never got the gate's
    decision, from a process that has ended, are tagged ``promotion.decision = interrupted``. Runs and
    versions of other machines, or of processes still alive, are reported only when they cannot be judged."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    notes: list[str] = []
    try:
        exp = client.get_experiment_by_name(experiment)
        runs = (client.search_runs([exp.experiment_id], filter_string="attributes.status = 'RUNNING'",
                                   max_results=1000) if exp is not None else [])
    except MlflowException:
        runs = []
    for run in runs:
        tags = dict(run.data.tags or {})
        if _gone(tags):
            client.set_terminated(run.info.run_id, "FAILED")
            client.set_tag(run.info.run_id, "riskml.interrupted", "true")
            notes.append(f"MLflow run {run.info.run_id} of an interrupted training (process {tags['riskml.pid']} "
                         "has ended) was still RUNNING: marked FAILED")
        elif "riskml.pid" not in tags:
            notes.append(f"MLflow run {run.info.run_id} is still RUNNING and names no riskml process (older riskml "
                         "or another tool); if no training runs, end it in the MLflow UI")
    try:
        versions = client.search_model_versions(f"name='{name}'")
    except MlflowException:
        versions = []
    for mv in versions:
        if "promotion.decision" in (mv.tags or {}):
            continue
        try:
            run_tags = dict(client.get_run(mv.run_id).data.tags or {}) if mv.run_id else {}
        except MlflowException:
            run_tags = {}
        if _gone(run_tags):
            mark_interrupted_version(client, name, str(mv.version))
            notes.append(f"{name} version {mv.version} was registered by an interrupted training and never went "
                         "through the promotion gate: tagged promotion.decision = interrupted (not a candidate)")
    return notes
