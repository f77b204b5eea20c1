"""The array wording helpers give exactly the texts of the per-row f-strings they replaced."""

from __future__ import annotations

import numpy as np
import pytest

from riskml.scoring.actions import _texts, _worded
from riskml.scoring.wording import cat, fmt_each

SPECS = (",.0f", ",.2f", ".0f", ".0%", "+.0%", ".1%", "g", "")


def _figures(n: int, seed: int) -> np.ndarray:
    """Amounts, days and shares across the scale, with repeats, halves (rounding ties), signed zeros,
    NaN and infinities."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([
        rng.lognormal(8, 3, n), -rng.lognormal(5, 2, n // 4), rng.integers(0, 120, n).astype(float),
        rng.uniform(-1, 3, n), np.arange(-5, 6) + 0.5, [0.0, -0.0, -0.3, 0.3, np.nan, np.inf, -np.inf, 1e-12, 2.5e15],
    ])
    return rng.permutation(x)


@pytest.mark.parametrize("spec", SPECS)
def test_fmt_each_is_format_of_each_value(spec: str) -> None:
    x = _figures(2000, 1)
    assert fmt_each(x, spec).tolist() == [format(v, spec) for v in x.tolist()]
    assert fmt_each(x[:0], spec).tolist() == []


def test_fmt_each_objects_and_missing() -> None:
    g = np.array(["A", "B", None, np.nan, "A", 3.0, "-"], dtype=object)
    assert fmt_each(g).tolist() == [f"{v}" for v in g.tolist()]
    ints = np.array([3, -1, 3, 0])
    assert fmt_each(ints, ",.0f").tolist() == [f"{v:,.0f}" for v in ints.tolist()]


def test_cat_is_elementwise_addition() -> None:
    a = fmt_each(_figures(500, 2), ",.0f")
    b = np.array([f"x{i}" for i in range(len(a))], dtype=object)
    expected = "need " + a + " = " + b + ";"
    got = cat("need ", a, " = ", b, ";")
    assert got.dtype == object and got.tolist() == expected.tolist()


def test_worded_hold_texts_equal_the_per_row_wording() -> None:
    """The over-limit hold text as it was worded row by row (kept here as the reference)."""
    rng = np.random.default_rng(3)
    n = 3000
    exposure, orders, limit = _figures(n, 4)[:n], _figures(n, 5)[:n], rng.choice([0.0, 5e3, 1.2e4, np.nan], n)
    tol, release = rng.choice([0.0, 0.05, 0.1], n), _figures(n, 6)[:n]
    grades = rng.choice(np.array(["A", "B", "C", None], dtype=object), n)
    mask = rng.random(n) < 0.3

    def ol_text(e: float, o: float, lim: float, t: float, g: object, r: float) -> str:
        return (f"over limit: exposure {e:,.2f} (incl. open orders {o:,.2f}) over the limit {lim:,.0f} + {t:.0%} "
                f"tolerance (grade {g}); pay {r:,.2f} to release the orders")

    ref = _texts(mask, ol_text, exposure, orders, limit, tol, grades, release)
    got = _worded(mask, "over limit: exposure ", (exposure, ",.2f"), " (incl. open orders ", (orders, ",.2f"),
                  ") over the limit ", (limit, ",.0f"), " + ", (tol, ".0%"), " tolerance (grade ", (grades, ""),
                  "); pay ", (release, ",.2f"), " to release the orders")
    assert got[0].tolist() == ref[0].tolist() and got[1].tolist() == ref[1].tolist()
    empty = _worded(np.zeros(n, dtype=bool), "x", (exposure, ",.0f"))
    assert len(empty[0]) == 0 and len(empty[1]) == 0


def test_lookup_is_series_map_with_default() -> None:
    import pandas as pd

    from riskml.scoring.wording import lookup

    values = np.array(["A", "B", None, np.nan, "Z", "A", "C"], dtype=object)
    mapping = {"A": 0.05, "B": 0.1, "C": 0.0}
    expected = pd.Series(values, dtype=object).map(mapping).fillna(0.2).to_numpy("float64")
    assert lookup(values, mapping, 0.2).astype("float64").tolist() == expected.tolist()
    assert lookup(values[:0], mapping, 0.2).tolist() == []
