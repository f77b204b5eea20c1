"""Population stability index on tiny hand-made inputs, its invariants, and its agreement with the
training reference a model stores."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskml.reporting.inputs import references_from_model
from riskml.reporting.psi import (
    DRIFTED,
    MODERATE,
    BinnedReference,
    bin_shares,
    category_shares,
    psi,
    psi_label,
    psi_table,
    reference_psi,
)


def test_identical_distributions_have_zero_psi() -> None:
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0


def test_psi_by_hand() -> None:
    # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5)
    expected = -0.25 * math.log(0.5) + 0.25 * math.log(1.5)
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(0.274653, abs=1e-6)


def test_counts_are_normalised() -> None:
    assert psi([2, 2], [1, 3]) == pytest.approx(psi([0.5, 0.5], [0.25, 0.75]), abs=1e-12)


def test_an_empty_bin_is_floored_not_infinite() -> None:
    # the empty expected bin is raised to 1e-4: (0.5 - 1) ln(0.5 / 1) + (0.5 - 1e-4) ln(0.5 / 1e-4)
    by_hand = -0.5 * math.log(0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert psi([1.0, 0.0], [0.5, 0.5]) == pytest.approx(by_hand, rel=1e-9)


@pytest.mark.parametrize(("expected", "actual", "message"), [
    ([0.5, 0.5], [1.0], "same length"),
    ([0.5, -0.5], [0.5, 0.5], ">= 0"),
    ([0.0, 0.0], [0.5, 0.5], "all-zero"),
])
def test_bad_share_vectors_are_refused(expected, actual, message) -> None:
    with pytest.raises(ValueError, match=message):
        psi(expected, actual)


@pytest.mark.parametrize(("value", "label"), [
    (0.0, "stable"), (0.0999, "stable"), (MODERATE, "moderate"), (0.2499, "moderate"), (DRIFTED, "drifted"),
    (3.2, "drifted"), (float("nan"), "n/a"),
])
def test_labels_follow_the_conventional_thresholds(value: float, label: str) -> None:
    assert (MODERATE, DRIFTED) == (0.10, 0.25)
    assert psi_label(value) == label


def test_bin_shares_put_a_value_equal_to_a_cut_in_the_upper_bin_and_nan_in_the_missing_bin() -> None:
    # bins (-inf, 1), [1, 2), [2, inf), missing
    shares = bin_shares([0.0, 1.0, 2.0, 3.0, np.nan], [1.0, 2.0])
    assert shares.tolist() == [0.2, 0.2, 0.4, 0.2]
    assert bin_shares([], [1.0]).tolist() == [0.0, 0.0, 0.0]


def test_bin_shares_need_increasing_cuts() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        bin_shares([1.0], [2.0, 1.0])


def test_category_shares_count_unseen_levels_and_missing_values() -> None:
    shares = category_shares(["a", "b", "a", None, "c"], ["a", "b"])
    assert shares.tolist() == [0.4, 0.2, 0.2, 0.2]  # a, b, unseen (c), missing


def test_a_new_category_shows_as_drift() -> None:
    ref = BinnedReference("industry", shares=(0.5, 0.5, 0.0), categories=("retail", "transport"))
    assert ref.expected_shares().tolist() == [0.5, 0.5, 0.0, 0.0]
    assert reference_psi(ref, ["retail", "transport"] * 5) == pytest.approx(0.0, abs=1e-12)
    assert psi_label(reference_psi(ref, ["retail", "transport", "mining", "mining"])) == "drifted"


def test_reference_shares_must_match_the_bins() -> None:
    with pytest.raises(ValueError, match="shares must have 3 entries"):
        BinnedReference("x", shares=(0.5, 0.5), cuts=(1.0,))


def test_fitted_reference_gives_zero_psi_on_its_own_data_and_nan_on_no_data() -> None:
    values = np.arange(100, dtype="float64")
    ref = BinnedReference.fit("x", values, n_bins=4)
    assert ref.cuts == (24.75, 49.5, 74.25)
    assert ref.shares == (0.25, 0.25, 0.25, 0.25, 0.0)
    assert reference_psi(ref, values) == 0.0
    assert reference_psi(ref, values + 60) > DRIFTED  # the whole population moved up
    assert math.isnan(reference_psi(ref, []))


def test_psi_table_sorts_largest_first_and_marks_a_missing_column() -> None:
    refs = {
        "same": BinnedReference("same", shares=(0.5, 0.5, 0.0), cuts=(1.0,)),
        "moved": BinnedReference("moved", shares=(0.5, 0.5, 0.0), cuts=(1.0,)),
        "absent": BinnedReference("absent", shares=(0.5, 0.5, 0.0), cuts=(1.0,)),
    }
    current = pd.DataFrame({"same": [0.0, 2.0] * 5, "moved": [2.0] * 9 + [np.nan]})
    table = psi_table(refs, current)
    assert table["variable"].tolist() == ["moved", "same", "absent"]
    assert table["status"].tolist() == ["drifted", "stable", "n/a"]
    assert table.loc[1, "psi"] == 0.0
    assert table.loc[0, "missing_share_now"] == pytest.approx(0.1)
    assert table.loc[2, "n"] == 0


shares = st.lists(st.floats(min_value=0.0, max_value=1.0, allow_nan=False), min_size=2, max_size=12)


@settings(max_examples=150, deadline=None)
@given(shares, st.data())
def test_psi_is_non_negative_and_symmetric(expected: list[float], data: st.DataObject) -> None:
    actual = data.draw(st.lists(st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
                                min_size=len(expected), max_size=len(expected)))
    if sum(expected) <= 0 or sum(actual) <= 0:
        return
    value = psi(expected, actual)
    assert value >= -1e-12
    assert value == pytest.approx(psi(actual, expected), rel=1e-9, abs=1e-12)
    assert psi(expected, expected) == pytest.approx(0.0, abs=1e-12)


def test_training_reference_of_a_model_reads_back_with_zero_psi_on_its_training_data() -> None:
    """The report's PSI must bin exactly as training binned (values on an edge go up, NaN apart)."""
    from riskml.modeling.model import RiskModel

    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(0, 5, size=n).astype("float64")})
    X.loc[rng.random(n) < 0.1, "a"] = np.nan
    y = (rng.random(n) < 1 / (1 + np.exp(-X["b"].to_numpy() + 2))).astype(int)
    params = {"n_estimators": 10, "num_leaves": 4, "min_child_samples": 10, "learning_rate": 0.2}
    model = RiskModel(params, {"a": 0, "b": 1}).fit(X[:300], y[:300], X[300:], y[300:])
    features, score = references_from_model(model.reference_)
    assert set(features) == {"a", "b"} and score is not None
    for name, ref in features.items():
        assert reference_psi(ref, X[:300][name]) == pytest.approx(0.0, abs=1e-9), name
    assert reference_psi(score, model.predict_pd(X[:300])) == pytest.approx(0.0, abs=1e-9)
    assert features["a"].expected_shares()[-1] == pytest.approx(float(X[:300]["a"].isna().mean()))
