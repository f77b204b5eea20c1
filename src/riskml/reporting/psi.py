"""Population stability index (PSI): how far a distribution has moved from the training data.

PSI = sum over bins of (actual share - expected share) x ln(actual share / expected share), with the
bins fixed at training time (quantile bins of the training data, plus one bin for missing values, so a
feature that starts arriving empty shows up as drift). A share of exactly zero would make the log
infinite; shares are floored at ``EPS`` (a common convention) before the sum.

Conventional reading (used by the portfolio report): below 0.10 stable, 0.10-0.25 a moderate shift worth
watching, 0.25 and above a significant shift (drifted): the model is scoring a population unlike the one
it learnt from.

This module is maths only: no plotting, no HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

EPS = 1e-4
MODERATE = 0.10
DRIFTED = 0.25


def psi(expected: Sequence[float] | np.ndarray, actual: Sequence[float] | np.ndarray, eps: float = EPS) -> float:
    """PSI between two share vectors over the same bins.

    Both vectors are normalised to sum to 1 (counts work too); shares below ``eps`` are raised to
    ``eps``. Raises ``ValueError`` when the lengths differ or a vector has no mass."""
    e = np.asarray(expected, dtype="float64")
    a = np.asarray(actual, dtype="float64")
    if e.shape != a.shape or e.ndim != 1:
        raise ValueError(f"expected and actual must be 1-d vectors of the same length; got {e.shape} and {a.shape}")
    if (e < 0).any() or (a < 0).any():
        raise ValueError("shares must be >= 0")
    if e.sum() <= 0 or a.sum() <= 0:
        raise ValueError("expected and actual must each hold some mass; got an all-zero vector")
    e = np.clip(e / e.sum(), eps, None)
    a = np.clip(a / a.sum(), eps, None)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_label(value: float, moderate: float = MODERATE, drifted: float = DRIFTED) -> str:
    """``stable``, ``moderate`` or ``drifted`` (``n/a`` when the PSI could not be computed)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if value >= drifted:
        return "drifted"
    if value >= moderate:
        return "moderate"
    return "stable"


def bin_shares(values: Sequence[float] | np.ndarray | pd.Series, cuts: Sequence[float] | np.ndarray) -> np.ndarray:
    """Shares of ``values`` in the bins defined by the sorted interior ``cuts``, plus a missing bin.

    With cuts ``c_1 < ... < c_k`` the bins are ``(-inf, c_1), [c_1, c_2), ..., [c_k, inf)`` (a value equal
    to a cut goes up, as in the model's training reference) and a last bin for NaN: ``k + 2`` shares
    summing to 1 (all zero when ``values`` is empty)."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy("float64")
    c = np.asarray(cuts, dtype="float64")
    if c.ndim != 1 or (np.diff(c) <= 0).any():
        raise ValueError(f"cuts must be strictly increasing; got {c.tolist()}")
    missing = np.isnan(v)
    idx = np.searchsorted(c, v[~missing], side="right")  # c_i <= v < c_(i+1) falls in bin i
    counts = np.bincount(idx, minlength=len(c) + 1).astype("float64")
    counts = np.append(counts, float(missing.sum()))
    total = counts.sum()
    return counts / total if total > 0 else counts


def category_shares(values: Sequence[object] | pd.Series, categories: Sequence[str]) -> np.ndarray:
    """Shares of each training category, then one share for any unseen level, then one for missing."""
    s = pd.Series(values, dtype="object")
    missing = s.isna()
    known = s[~missing].astype(str)
    cats = [str(c) for c in categories]
    counts = [float((known == c).sum()) for c in cats]
    counts.append(float((~known.isin(cats)).sum()))
    counts.append(float(missing.sum()))
    arr = np.asarray(counts)
    return arr / arr.sum() if arr.sum() > 0 else arr


@dataclass(frozen=True)
class BinnedReference:
    """The training distribution of one variable: numeric ``cuts`` or ``categories``, and ``shares``.

    For numeric variables ``shares`` has ``len(cuts) + 2`` entries (bins, then missing); for
    categorical ones ``len(categories) + 1`` (levels, then missing) — the layout of
    :func:`bin_shares` and :func:`category_shares`."""

    name: str
    shares: tuple[float, ...]
    cuts: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n_bins = (len(self.categories) if self.categories else len(self.cuts) + 1) + 1
        if len(self.shares) != n_bins:
            raise ValueError(
                f"{self.name}: shares must have {n_bins} entries for {len(self.cuts)} cuts / "
                f"{len(self.categories)} categories; got {len(self.shares)}"
            )

    def actual_shares(self, values: Sequence[object] | pd.Series) -> np.ndarray:
        if self.categories:
            return category_shares(values, self.categories)
        return bin_shares(values, self.cuts)

    def expected_shares(self) -> np.ndarray:
        """Training shares in the layout of :meth:`actual_shares` (an empty "unseen" bin is
        inserted before the missing bin for categorical variables)."""
        exp = np.asarray(self.shares, dtype="float64")
        if self.categories:
            return np.concatenate([exp[:-1], [0.0], exp[-1:]])
        return exp

    def rebased(self, values: Sequence[object] | pd.Series) -> BinnedReference | None:
        """The same bins with the shares of ``values`` (another reference population, e.g. the last
        scoring or the out-of-time window); ``None`` when ``values`` is empty."""
        shares = self.actual_shares(values)
        if shares.sum() <= 0:
            return None
        if self.categories:  # levels unseen in training have no bin of their own in a reference
            shares = np.delete(shares, len(self.categories))
            if shares.sum() <= 0:
                return None
            shares = shares / shares.sum()
        return BinnedReference(self.name, tuple(float(x) for x in shares), cuts=self.cuts, categories=self.categories)

    @classmethod
    def fit(cls, name: str, values: Sequence[float] | np.ndarray | pd.Series, n_bins: int = 10) -> BinnedReference:
        """Quantile bins of ``values`` (as the training data would be binned): at most ``n_bins`` bins."""
        v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy("float64")
        finite = v[np.isfinite(v)]
        if len(finite) == 0:
            cuts = np.array([], dtype="float64")
        else:
            qs = np.quantile(finite, np.linspace(0, 1, n_bins + 1)[1:-1])
            cuts = np.unique(qs)
        return cls(name=name, cuts=tuple(float(c) for c in cuts), shares=tuple(bin_shares(v, cuts).tolist()))


def reference_psi(ref: BinnedReference, values: Sequence[object] | pd.Series, eps: float = EPS) -> float:
    """PSI of ``values`` against the training distribution ``ref`` (NaN when ``values`` is empty)."""
    actual = ref.actual_shares(values)
    if actual.sum() <= 0:
        return float("nan")
    return psi(ref.expected_shares(), actual, eps=eps)


def psi_table(
    references: Mapping[str, BinnedReference],
    current: pd.DataFrame,
    moderate: float = MODERATE,
    drifted: float = DRIFTED,
) -> pd.DataFrame:
    """PSI of every referenced column of ``current``: columns ``variable``, ``psi``, ``status``,
    ``n``, ``missing_share_train``, ``missing_share_now``; sorted with the largest PSI first.

    A variable with a reference but no column in ``current`` gets PSI NaN and status ``n/a``."""
    rows = []
    for name, ref in references.items():
        if name in current.columns:
            col = current[name]
            value = reference_psi(ref, col)
            miss_now = float(col.isna().mean()) if len(col) else float("nan")
            n = int(len(col))
        else:
            value, miss_now, n = float("nan"), float("nan"), 0
        rows.append({
            "variable": name,
            "psi": value,
            "status": psi_label(value, moderate, drifted),
            "n": n,
            "missing_share_train": float(ref.expected_shares()[-1]),
            "missing_share_now": miss_now,
        })
    out = pd.DataFrame(rows, columns=["variable", "psi", "status", "n", "missing_share_train", "missing_share_now"])
    return out.sort_values("psi", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
