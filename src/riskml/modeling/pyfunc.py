"""The MLflow pyfunc face of a :class:`RiskModel`: a features frame in, ``pd``, ``grade``,
``reason_1..n`` and ``reason_codes`` out.

The booster, calibrator and reference statistics travel as the ``risk_model`` artifact (the
``RiskModel.save`` directory, plain files); the master scale and the number of reasons are frozen in the
model's metadata at training time, so a served model grades exactly as it did when it was registered.
Categorical features are ``string`` in the signature and cast to the training categories inside
``predict`` (an unseen level scores like a missing value). Serving needs riskml installed.
"""

from __future__ import annotations

import os
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd

from riskml.config import ExtraAttribute, Grade, ScoringConfig
from riskml.explain.explainer import pd_and_contributions
from riskml.explain.reasons import reason_codes
from riskml.features import feature_specs
from riskml.modeling.model import RiskModel

ARTIFACT_KEY = "risk_model"


def master_scale_of(model: RiskModel) -> list[Grade]:
    stored = model.metadata_.get("master_scale")
    if stored:
        return [Grade.model_validate(g) for g in stored]
    return ScoringConfig().master_scale


def predict_frame(model: RiskModel, features: pd.DataFrame) -> pd.DataFrame:
    """PD, grade and reason codes for each row of ``features`` (same order, a fresh index)."""
    from riskml.scoring.grades import assign_grades

    X = features.reset_index(drop=True)
    # the contributions back end: auto (the fast exact one when it matches pred_contrib on a probe of the
    # model), or as RISKML_EXPLAINER says where the model is served (Spark workers, a model server)
    p, contrib = pd_and_contributions(model, X, os.environ.get("RISKML_EXPLAINER", "auto") or "auto")
    extra = {k: ExtraAttribute.model_validate(v) for k, v in model.metadata_.get("extra_attributes", {}).items()}
    n = int(model.metadata_.get("n_reasons", 3))
    reasons = reason_codes(X, contrib, model.feature_names_, feature_specs(extra), model.medians, n)
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


class RiskPyfunc(mlflow.pyfunc.PythonModel):
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
