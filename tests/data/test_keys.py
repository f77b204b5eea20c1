"""Key lookups: the fixed-form fast path (ids read as integers from the Arrow buffers) gives exactly the
positions of Arrow's hash lookup, on ids of that form and on every kind of value that is not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from riskml.data import keys
from riskml.data.keys import positions, positions_hashed


@pytest.fixture(autouse=True)
def _fast_on_small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys, "FAST_MIN_ROWS", 0)


def _s(values, typ=pa.large_string(), chunks: int = 1) -> pd.Series:
    arr = pa.array(values, type=typ)
    parts = [arr.slice(i * len(arr) // chunks, (i + 1) * len(arr) // chunks - i * len(arr) // chunks)
             for i in range(chunks)]
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(parts, type=typ)))


def _check(values: list[pd.Series], key: pd.Series, fast_expected: bool = True) -> list[np.ndarray]:
    got = positions(values, key)
    want = positions_hashed(values, key)
    assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))
    assert (keys._positions_fixed_form([keys.arrow_strings(v) for v in values],
                                       keys.arrow_strings(key).combine_chunks()) is not None) == fast_expected
    return got


def test_fixed_form_ids_on_every_kind_of_value() -> None:
    key = _s([f"INV{i:06d}" for i in range(0, 3000, 3)] + ["INV000003"])  # repeated key: its first row counts
    values = ["INV000003", "INV000004", None, "INV00003", "INV0000033", "inv000003", "INVX00003", "", "INV00003 ",
              "INV002997", "INV999999", "INV-00003", "INV000000", "INV00０003"]
    got = _check([_s(values), _s(values * 3, pa.string(), chunks=3)], key)
    assert got[0][:3].tolist() == [1, -1, -1] and got[0][9] == 999 and got[0][12] == 0


def test_customer_like_ids_with_a_constant_middle_and_many_chunks() -> None:
    key = _s([f"C{i // 100}-X{i % 100:02d}" for i in range(500)], pa.string())
    rng = np.random.default_rng(0)
    vals = [f"C{i // 100}-X{i % 100:02d}" if rng.random() < 0.8 else f"C{i // 100}+X{i % 100:02d}"
            for i in rng.integers(0, 600, 2000)]
    _check([_s(vals, chunks=4), _s(vals[:10])], key)


def test_keys_not_of_one_form_fall_back_to_hashing() -> None:
    # lengths differ, a key is missing, a non-digit varies, the numbers spread too wide for a table, more
    # than 18 digits vary
    for key in (["A1", "A22", "A3"], ["A1", None, "A3"], ["A1", "B2", "AX"], ["X0000001", "X9999999"],
                ["1" * 20, "2" * 20]):
        _check([_s(["A1", "A3", None, "B2", "AB", "X9999999", "2" * 20])], _s(key), fast_expected=False)
    # one key repeated: no column varies, every value of it is the key's first row
    got = _check([_s(["AB", "AC", None])], _s(["AB", "AB"]))
    assert got[0].tolist() == [0, -1, -1]


def test_empty_and_missing() -> None:
    key = _s([f"P{i:03d}" for i in range(20)])
    got = _check([_s([None, None]), _s([], pa.large_string())], key)
    assert got[0].tolist() == [-1, -1] and len(got[1]) == 0
    assert positions(_s(["P001"]), _s([], pa.large_string())).tolist() == [-1]


def test_a_digit_column_constant_in_the_keys_is_still_checked() -> None:
    """The form comes from the first key: its digit columns all make the number, also where every key holds
    the same digit, so a value differing there matches no key (its number falls between the keys')."""
    key = _s([f"A{i}5" for i in range(10)] + ["A95"])
    got = _check([_s(["A05", "A10", "A15", "A96", "A9", "B15", "A1X"])], key)
    assert got[0].tolist() == [0, -1, 1, -1, -1, -1, -1]
