"""The master scale: every PD in [0, 1] gets exactly one grade, bands are closed on the right, and grades
are monotone in PD; unscored PDs get the documented marker."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskml.config import Grade, ScoringConfig
from riskml.scoring.grades import UNSCORED, assign_grades, grade_bands, grade_positions, notch, notches

SCALE = [Grade(grade="A", max_pd=0.01), Grade(grade="B", max_pd=0.05), Grade(grade="C", max_pd=1.0)]


def test_band_is_first_grade_whose_max_is_at_least_pd() -> None:
    got = assign_grades(np.array([0.0, 0.01, 0.0100001, 0.05, 0.2, 1.0]), SCALE)
    assert list(got) == ["A", "A", "B", "B", "C", "C"]


def test_missing_or_invalid_pd_is_unscored() -> None:
    got = assign_grades(np.array([np.nan, np.inf, -0.1, 1.2, 0.5]), SCALE)
    assert list(got) == [UNSCORED, UNSCORED, UNSCORED, UNSCORED, "C"]


def test_grade_bands_table() -> None:
    bands = grade_bands(SCALE)
    assert list(bands.columns) == ["grade", "min_pd", "max_pd"]
    assert bands["grade"].tolist() == ["A", "B", "C"]
    assert bands["min_pd"].tolist() == [0.0, 0.01, 0.05]
    assert bands["max_pd"].tolist() == [0.01, 0.05, 1.0]


def test_default_scale_has_ten_grades() -> None:
    bands = grade_bands()
    assert len(bands) == 10 and bands["max_pd"].iloc[-1] == 1.0
    assert (bands["min_pd"].iloc[1:].to_numpy() == bands["max_pd"].iloc[:-1].to_numpy()).all()


def test_notch_sign_and_unknown() -> None:
    assert notch("A", "C", SCALE) == 2
    assert notch("C", "A", SCALE) == -2
    assert notch("A", UNSCORED, SCALE) is None
    assert notch("A", "Z", SCALE) is None
    # default scale; grades read back from CSV come as numbers
    assert notch(3, "5") == 2 and notch(3.0, 5.0) == 2


def test_notches_vectorised() -> None:
    got = notches(["A", "B", None, "C"], ["C", "B", "A", float("nan")], SCALE)
    assert got[0] == 2 and got[1] == 0 and np.isnan(got[2]) and np.isnan(got[3])
    with pytest.raises(ValueError, match="same length"):
        notches(["A"], ["A", "B"], SCALE)


def test_grade_positions() -> None:
    assert grade_positions(["C", "A", "", "B"], SCALE).tolist()[:2] == [2.0, 0.0]


@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=50))
def test_every_pd_has_one_grade_inside_its_band_and_grades_are_monotone(pds: list[float]) -> None:
    cfg = ScoringConfig()
    p = np.array(pds)
    grades = assign_grades(p, cfg.master_scale)
    bands = grade_bands(cfg.master_scale).set_index("grade")
    assert (grades != UNSCORED).all()
    for value, g in zip(p, grades, strict=True):
        lo, hi = bands.loc[g, "min_pd"], bands.loc[g, "max_pd"]
        assert (lo < value <= hi) or (g == bands.index[0] and value <= hi)
    pos = grade_positions(grades, cfg.master_scale)
    order = np.argsort(p, kind="stable")
    assert (np.diff(pos[order]) >= 0).all()
