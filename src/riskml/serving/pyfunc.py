"""The MLflow pyfunc face of a :class:`RiskModel`: a features frame in, ``pd``, ``grade``,
``reason_1..n`` and ``reason_codes`` out.

The booster, calibrator and reference statistics travel as the ``risk_model`` artifact (the
``RiskModel.save`` directory, plain files); the master scale and the number of reasons are frozen in the
model's metadata at training time, so a served model grades exactly as it did when it was registered.
Categorical features are ``string`` in the signature and cast to the training categories inside
``predict`` (an unseen level scores like a missing value). Serving needs riskml installed.

It sits in the serving stage because it grades (scoring) and words reasons (explain). :func:`log_pyfunc`
logs it "from code" (:mod:`riskml.serving.pyfunc_entry`, nothing pickled); ``riskml train`` passes it to
:func:`riskml.modeling.pipeline.run_training`.
"""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

from riskml.config import Grade
from riskml.explain.explainer import pd_and_contributions
from riskml.explain.reasons import reason_codes
from riskml.features import feature_specs
from riskml.modeling.model import RiskModel
from riskml.modeling.tracking import ARTIFACT_KEY

__all__ = ["ARTIFACT_KEY", "ENTRY", "RiskPyfunc", "log_pyfunc", "master_scale_of", "predict_frame", "signature_frame"]
# the "models from code" file MLflow stores with the model and runs at load time (it imports this module)
ENTRY = Path(__file__).with_name("pyfunc_entry.py")
# the pyfunc environment: riskml itself must be installed where the model is served
_REQUIREMENTS = ("lightgbm", "pandas", "numpy", "scikit-learn", "scipy", "mlflow", "pydantic", "pyyaml")


def master_scale_of(model: RiskModel) -> list[Grade]:
    """The master scale frozen with the model at training (else the scoring default)."""
    return model.metadata_.grades()


def predict_frame(model: RiskModel, features: pd.DataFrame) -> pd.DataFrame:
    """PD, grade and reason codes for each row of ``features`` (same order, a fresh index)."""
    from riskml.scoring.grades import assign_grades

    X = features.reset_index(drop=True)
    # the contributions back end: auto (the fast exact one when it matches pred_contrib on a probe of the
    # model), or as RISKML_EXPLAINER says where the model is served (Spark workers, a model server)
    p, contrib = pd_and_contributions(model, X, os.environ.get("RISKML_EXPLAINER", "auto") or "auto")
    meta = model.metadata_
    reasons = reason_codes(X, contrib, model.feature_names_, feature_specs(meta.extra_attributes), model.medians,
                           meta.n_reasons)
    out = pd.DataFrame({"pd": p.astype("float64"),
                        "grade": pd.Series(assign_grades(p, master_scale_of(model)), dtype="str")})
    for col in reasons.columns:
        out[col] = reasons[col].astype("str").to_numpy()
    return out


def signature_frame(model: RiskModel, X: pd.DataFrame) -> pd.DataFrame:
    """The features as the signature sees them: numerics float64, categoricals as strings."""
    prepared = model.prepare(X)
    cols = {}
    for c in model.feature_names_:
        if c in model.categories_:
            cols[c] = pd.Series(prepared[c].astype("object").where(prepared[c].notna(), None), dtype="str")
        else:
            cols[c] = prepared[c].to_numpy("float64")
    return pd.DataFrame(cols).reset_index(drop=True)


class RiskPyfunc(PythonModel):
    """``mlflow.pyfunc`` wrapper; the RiskModel directory is the ``risk_model`` artifact."""

    def load_context(self, context: Any) -> None:
        self._model = RiskModel.load(context.artifacts[ARTIFACT_KEY])

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        if not isinstance(model_input, pd.DataFrame):
            model_input = pd.DataFrame(model_input)
        # MLflow may hand over numerics as object when a column is entirely missing
        frame = model_input.copy()
        for c in self._model.feature_names_:
            if c not in self._model.categories_ and c in frame and frame[c].dtype == object:
                frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(np.float64)
        return predict_frame(self._model, frame)


def requirements() -> list[str]:
    """The pip requirements of the served model, pinned to the versions installed here."""
    reqs = []
    for pkg in _REQUIREMENTS:
        try:
            reqs.append(f"{pkg}=={metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            reqs.append(pkg)
    return reqs


def log_pyfunc(model: RiskModel, example_rows: pd.DataFrame, model_dir: Path | None = None,
               pip_requirements: list[str] | None = None) -> str:
    """Log ``model`` as riskml's pyfunc (``name="model"``) in the active MLflow run, with the signature of
    ``example_rows`` (a few feature rows) and its output; ``model_dir`` is the saved RiskModel directory
    (saved into a temporary folder when not given). Returns the logged model's URI. This is a
    :data:`riskml.modeling.tracking.ModelLogger`."""
    import tempfile

    from mlflow.models import infer_signature

    with tempfile.TemporaryDirectory(prefix="riskml-pyfunc-") as tmp:
        if model_dir is None:
            model_dir = Path(tmp) / ARTIFACT_KEY
            model.save(model_dir)
        example = signature_frame(model, example_rows[model.feature_names_])
        info = mlflow.pyfunc.log_model(
            name="model", python_model=str(ENTRY), artifacts={ARTIFACT_KEY: str(model_dir)},
            signature=infer_signature(example, predict_frame(model, example)), input_example=example,
            pip_requirements=requirements() if pip_requirements is None else pip_requirements,
        )
    return str(info.model_uri)
