"""Collector personas in scoring: the classification itself is :mod:`riskml.features.personas` (one rule,
used by scoring and by the calibration by persona of training); this module adds what only the decision
rules need (:func:`usual_lateness_days`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskml.features.personas import (
    PERSONA_COLUMNS,
    PERSONAS,
    STRONG_LATE_PAYER,
    THIN_FILE_COLUMNS,
    _num,
    assign_personas,
    persona_evidence,
    thin_file_mask,
)

__all__ = ["PERSONAS", "PERSONA_COLUMNS", "STRONG_LATE_PAYER", "THIN_FILE_COLUMNS", "assign_personas",
           "persona_evidence", "thin_file_mask", "usual_lateness_days"]


def usual_lateness_days(frame: pd.DataFrame, persona: np.ndarray, margin_days: float) -> np.ndarray:
    """Days past due that lie within a strong late payer's usual pattern: its worst days beyond terms over
    12 months (``dbt_max_12m``) plus ``margin_days``; 0 for every other persona. The decision rules (no
    order hold for lateness, no blocked increase) tolerate lateness up to this for strong late payers only."""
    strong = np.asarray(persona, dtype=object) == STRONG_LATE_PAYER
    worst = np.nan_to_num(_num(frame, "dbt_max_12m"), nan=0.0) if "dbt_max_12m" in frame else np.zeros(len(frame))
    return np.where(strong, worst + margin_days, 0.0)
