"""The PD master scale: from a probability of delinquency to a risk grade, and back to PD bands.

A master scale is an ordered list of :class:`riskml.config.Grade` (grade name, upper PD bound). A PD
falls in the first grade whose ``max_pd`` is at least the PD, so the bands are ``(previous max_pd,
max_pd]`` and the first band starts at 0 inclusive. The scale is validated by
:class:`riskml.config.ScoringConfig` (strictly increasing bounds ending at 1.0), so every PD in [0, 1]
has exactly one grade.

A PD that is missing, not finite or outside [0, 1] cannot be graded: it gets :data:`UNSCORED`, the
empty string, so that the row is still output and easy to filter (``grade == ""``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from riskml.config import Grade, ScoringConfig

# the grade of a customer whose PD could not be computed
UNSCORED = ""


def _scale(master_scale: Sequence[Grade] | None) -> list[Grade]:
    return list(ScoringConfig().master_scale if master_scale is None else master_scale)


def grade_names(master_scale: Sequence[Grade] | None = None) -> list[str]:
    """Grade names from best to worst."""
    return [g.grade for g in _scale(master_scale)]


def assign_grades(pd_values: np.ndarray, master_scale: Sequence[Grade] | None = None) -> np.ndarray:
    """The grade of each PD: the first grade whose ``max_pd`` >= PD (object array of strings).

    Missing, non-finite or out-of-range PDs get :data:`UNSCORED` (``""``)."""
    scale = _scale(master_scale)
    p = np.asarray(pd_values, dtype="float64").ravel()
    bounds = np.array([g.max_pd for g in scale], dtype="float64")
    names = np.array([g.grade for g in scale] + [UNSCORED], dtype=object)
    valid = np.isfinite(p) & (p >= 0.0) & (p <= 1.0)
    # searchsorted(side="left") gives the first index i with bounds[i] >= p
    idx = np.searchsorted(bounds, np.where(valid, p, 0.0), side="left")
    idx = np.where(valid, np.minimum(idx, len(scale) - 1), len(scale))
    return names[idx]


def grade_bands(master_scale: Sequence[Grade] | None = None) -> pd.DataFrame:
    """The scale as a table: ``grade``, ``min_pd`` (exclusive, 0 inclusive for the first) and ``max_pd``
    (inclusive), from best to worst."""
    scale = _scale(master_scale)
    max_pd = [g.max_pd for g in scale]
    return pd.DataFrame(
        {
            "grade": pd.Series([g.grade for g in scale], dtype="str"),
            "min_pd": [0.0, *max_pd[:-1]],
            "max_pd": max_pd,
        }
    )


def grade_positions(grades: Sequence[object] | np.ndarray | pd.Series,
                    master_scale: Sequence[Grade] | None = None) -> np.ndarray:
    """Position of each grade on the scale (0 = best) as float; NaN for unscored or unknown grades.

    Grades read back from CSV may come as numbers (``3`` or ``3.0``); they are matched by their text."""
    names = grade_names(master_scale)
    lookup = {name: float(i) for i, name in enumerate(names)}
    values = pd.Series(grades, dtype="object").to_numpy()
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    pos_of_unique = np.array([_position(u, lookup) for u in uniques] + [np.nan], dtype="float64")
    return pos_of_unique[np.where(codes < 0, len(uniques), codes)]


def _position(g: object, lookup: dict[str, float]) -> float:
    if g is None or (isinstance(g, float) and not np.isfinite(g)):
        return np.nan
    key = str(g)
    if key not in lookup and isinstance(g, (int, float, np.integer, np.floating)) and float(g).is_integer():
        key = str(int(g))
    return lookup.get(key, np.nan)


def notch(grade_a: object, grade_b: object, master_scale: Sequence[Grade] | None = None) -> int | None:
    """Scale positions from ``grade_a`` to ``grade_b``: positive when ``grade_b`` is worse.

    ``notch("3", "5") == 2``; ``None`` when either grade is unscored or not on the scale."""
    pos = grade_positions([grade_a, grade_b], master_scale)
    if np.isnan(pos).any():
        return None
    return int(pos[1] - pos[0])


def notches(grades_a: Sequence[object] | np.ndarray | pd.Series, grades_b: Sequence[object] | np.ndarray | pd.Series,
            master_scale: Sequence[Grade] | None = None) -> np.ndarray:
    """Vectorised :func:`notch`: float array, NaN where either grade is unscored or unknown."""
    if len(grades_a) != len(grades_b):
        raise ValueError(f"grades_a and grades_b must have the same length; got {len(grades_a)} and {len(grades_b)}")
    return grade_positions(grades_b, master_scale) - grade_positions(grades_a, master_scale)
