"""Reason codes from LightGBM's own contributions (``pred_contrib``), in the credit manager's words.

How a reason is chosen (``docs/scoring.md``, "Reason codes"):

1. **Adverse side.** A factor can only be cited as adverse when the customer's figure is on the adverse
   side of the reference median: above it for features where more is riskier, below it where less is
   riskier. The side is the feature's monotone direction, or for features the model leaves
   unconstrained the side declared on the feature (``@feature(adverse=...)``, e.g. a *short* invoice
   history is adverse, a long one is not). A positive contribution on the other side is an interaction artefact, not a
   reason: it stays in the contributions file but is never worded as one. Features with no declared
   side (sales volume, open balance, payment terms) may be cited either way and are worded "above" or
   "below" the median. The same check, mirrored, applies to strengths.
2. **Families.** Contributions are summed per family (DBT, lateness, aging, ...) so correlated features
   do not fill all slots; families are ranked by that net push toward delinquency and each adverse
   family is cited through its strongest adverse feature.
3. **Wording.** The feature's reason template with the customer's own figures, the customer's own
   earlier figure where the model has it (3-month DBT against the 12-month DBT, declared on the feature
   as ``@feature(comparison=...)``) and the reference median. The reference is the median of the model's
   training population, persisted with the model, so the batch, a single-customer call and the served
   MLflow model word a reason identically. Cumulative features (window ``all``, e.g. months of invoice
   history) are stated without a median: their median depends on how long the ledger ran at training,
   not on the customers.
4. A customer with no adverse family gets positive statements (prefixed :data:`POSITIVE_PREFIX`) naming
   their strongest favourable factors, never an empty field.

Everything is vectorised per (slot, feature) group: one ``str.format`` per cited reason, no per-row
Python beyond it.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

import numpy as np
import pandas as pd

from riskml.features.registry import FAMILIES, FeatureSpec

# contributions (log-odds) below this are noise, not a reason
MIN_CONTRIBUTION = 1e-3
POSITIVE_PREFIX = "No adverse factor. Strength: "
NEUTRAL_STATEMENT = "No factor moves this customer's risk away from the portfolio average"

# everything per feature (adverse side, comparison, missing text) is declared on the feature itself:
# riskml.features.registry.FeatureSpec.adverse / .comparison / .missing

_UNIT_WORD = {"months": " months", "invoices": " invoices"}


def format_value(value: float, unit: str) -> str:
    """A figure in its unit, as a credit manager writes it."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if unit == "share":
        return f"{value:.0%}"
    if unit == "days":
        return f"{value:.0f} days"
    if unit == "days per month":
        return f"{value:+.1f} days/month"
    if unit in ("amount", "amount per month"):
        return f"{value:,.0f}"
    if unit in ("invoices", "months"):
        return f"{value:.0f}"
    return f"{value:.3g}"


def _figure(value: float, unit: str) -> str:
    """:func:`format_value` with the unit word for counts (``62 months``, ``23 invoices``)."""
    return format_value(value, unit) + (_UNIT_WORD.get(unit, "") if np.isfinite(value) else "")


def adverse_side(spec: FeatureSpec) -> int:
    """+1 when high values of the feature are adverse, -1 when low ones are, 0 when either can be."""
    return spec.adverse_side


def _template_fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


def _comparison_figure(template: str, unit: str):
    """How to write a comparison figure (the median, an earlier value) in the unit the reason writes the
    customer's own figure: a reason that says "27% of the 12-month level" compares with "204%", not 2.04."""
    specs = [spec for _, f, spec, _ in string.Formatter().parse(template) if f == "value" and spec]
    if specs and specs[0].endswith("%"):
        return lambda x: format(x, specs[0]) if np.isfinite(x) else "n/a"
    return lambda x: _figure(x, unit)


def _short(description: str) -> str:
    return description.split(" (")[0]


def _missing_text(spec: FeatureSpec) -> str:
    if spec.missing:
        return spec.missing
    where = "nothing in that period" if spec.window.endswith("m") else "nothing on record"
    return f"{_short(spec.description)}: no figure, {where}"


def _column(rows: pd.DataFrame, name: str) -> np.ndarray:
    s = rows[name]
    if s.dtype.kind in "fiub":
        return s.to_numpy("float64")
    if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        num = pd.to_numeric(s, errors="coerce")
        if num.notna().sum() == s.notna().sum():
            return num.to_numpy("float64")
        return s.astype("object").to_numpy()
    return pd.to_numeric(s, errors="coerce").to_numpy("float64")


def _is_missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and v != v) or v is pd.NA


def render(spec: FeatureSpec, rows: pd.DataFrame, median: float | None, favourable: bool = False) -> list[str]:
    """Reason text of ``spec`` for each row of ``rows`` (which holds the feature and, when the template
    names them, the other features it quotes): the template with the customer's figures, the customer's
    own earlier figure (``spec.comparison``) and the reference median."""
    return _render(spec, _Columns(rows), np.arange(len(rows)), median, favourable).tolist()


class _Columns:
    """The columns of a frame as arrays (:func:`_column`), each converted once, on first use."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.cache: dict[str, np.ndarray] = {}

    def __contains__(self, name: object) -> bool:
        return name in self.frame.columns

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.cache:
            self.cache[name] = _column(self.frame, name)
        return self.cache[name]


def _render(spec: FeatureSpec, columns: _Columns, sel: np.ndarray, median: float | None,
            favourable: bool = False) -> np.ndarray:
    n = len(sel)
    template = spec.reason
    if favourable and template.startswith("Only "):  # "Only 100% ... has been paid" reads wrong as a strength
        template = template[5].upper() + template[6:]
    if spec.kind == "flag":  # the reason text describes the flag when set; otherwise say it is not
        values = columns[spec.name][sel].astype("float64") if spec.name in columns else np.ones(n)
        off = f"Not the case: {template[0].lower()}{template[1:]}"
        return np.where(values >= 0.5, template, off).astype(object)
    fields = _template_fields(template)
    names = [spec.name if f == "value" else f for f in fields]
    if spec.name not in columns or any(c not in columns for c in names):
        value = columns[spec.name][sel].tolist() if spec.name in columns else [None] * n
        return np.array([f"{spec.description}: {v}" for v in value], dtype=object)
    values = columns[spec.name][sel]
    numeric = values.dtype.kind == "f"
    texts = np.full(n, _missing_text(spec), dtype=object)
    fmt = template.format
    if set(fields) <= {"value"}:
        known = np.isfinite(values) if numeric else np.array([not _is_missing(v) for v in values], dtype=bool)
        if known.any():
            texts[known] = [fmt(value=v) for v in values[known].tolist()]
    else:
        cols = {("value" if c == spec.name else c): columns[c][sel].tolist() for c in names}
        keys = list(cols)
        known = np.zeros(n, dtype=bool)
        for i, vals in enumerate(zip(*cols.values(), strict=True)):
            if any(_is_missing(v) for v in vals):
                continue
            known[i] = True
            try:
                texts[i] = fmt(**dict(zip(keys, vals, strict=True)))
            except (ValueError, TypeError, KeyError):
                texts[i] = f"{spec.description}: {vals[keys.index('value')]}"
    if not numeric:
        return texts

    side = adverse_side(spec)
    figure = _comparison_figure(template, spec.unit)
    own = spec.comparison
    if own is not None and own[0] in columns:
        earlier = columns[own[0]][sel]
        if earlier.dtype.kind == "f":
            with np.errstate(invalid="ignore"):
                moved = known & np.isfinite(earlier) & (np.round(values) != np.round(earlier))
                # the earlier figure is cited when it makes the point of the reason: worse now for an adverse
                # reason, better now for a strength; either way for a two-sided feature
                if side:
                    moved &= ((values - earlier) * side > 0) != favourable
            if moved.any():
                e, v = earlier[moved], values[moved]
                words = np.where(v > e, ", up from ", ", down from ").astype(object)
                figs = np.array([figure(x) for x in e.tolist()], dtype=object)
                texts[moved] = texts[moved] + words + figs + f" {own[1]}"
    if median is None or not np.isfinite(median) or spec.window == "all" or not known.any():
        return texts
    med = figure(median)
    if side:
        note = np.full(n, f"portfolio median {med}", dtype=object)
    else:
        with np.errstate(invalid="ignore"):
            where = np.where(values > median, "above", np.where(values < median, "below", "at")).astype(object)
        note = where + f" the portfolio median {med}"
    # "... (now 33 days)" + note -> "... (now 33 days; portfolio median 4 days)"
    k = np.flatnonzero(known)
    paren = np.array([t.endswith(")") for t in texts[k].tolist()], dtype=bool)
    texts[k[paren]] = np.array([t[:-1] for t in texts[k[paren]].tolist()], dtype=object) + "; " + note[k[paren]] + ")"
    texts[k[~paren]] = texts[k[~paren]] + " (" + note[k[~paren]] + ")"
    return texts


def _on_side_inputs(features: pd.DataFrame, feature_names: list[str], specs: Mapping[str, FeatureSpec],
                    medians: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What decides, per (row, feature), whether a feature may be cited as adverse or as a strength: its
    figures ``values`` (k, n, feature-major; only the checked features are filled, NaN unknown), and per feature
    ``check`` (its side is checked against the median), ``side``, ``med`` and ``no_strength`` (flags:
    "a limit has been set" is not a strength worth stating)."""
    n, k = len(features), len(feature_names)
    values = np.zeros((k, n))
    check = np.zeros(k, dtype=bool)
    side = np.zeros(k)
    med = np.zeros(k)
    no_strength = np.zeros(k, dtype=bool)
    for i, f in enumerate(feature_names):
        spec = specs.get(f)
        if spec is None:
            continue
        no_strength[i] = spec.kind == "flag"
        s, m = adverse_side(spec), medians.get(f)
        if not s or m is None or not np.isfinite(m) or f not in features:
            continue
        check[i], side[i], med[i] = True, s, m
        values[i] = pd.to_numeric(features[f], errors="coerce").to_numpy("float64")
    return values, check, side, med, no_strength


def _on_side(values: np.ndarray, check: np.ndarray, side: np.ndarray, med: np.ndarray,
             no_strength: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per (feature, row) -- feature-major, shape (k, n): may the feature be cited as adverse, and as a
    strength? (the numpy reference of the kernel's own check)"""
    k, n = values.shape
    adverse_ok = np.ones((k, n), dtype=bool)
    strength_ok = ~np.repeat(no_strength[:, None], n, axis=1)
    for i in np.flatnonzero(check):
        v = values[i]
        with np.errstate(invalid="ignore"):
            d = (v - med[i]) * side[i]
        unknown = ~np.isfinite(v)
        adverse_ok[i] = unknown | (d > 0)
        strength_ok[i] &= unknown | (d <= 0)
    return adverse_ok, strength_ok


def _families(feature_names: list[str], specs: Mapping[str, FeatureSpec]) -> tuple[np.ndarray, np.ndarray]:
    """The features grouped by family (``perm``, stable: feature order within a family) and each family's
    range in ``perm`` (``bounds``), families in order of first appearance."""
    fam_names = list(dict.fromkeys(specs[f].family if f in specs else "attributes" for f in feature_names))
    fam_idx = np.array([fam_names.index(specs[f].family if f in specs else "attributes") for f in feature_names],
                       dtype=np.int64)
    perm = np.argsort(fam_idx, kind="stable").astype(np.int64)
    bounds = np.searchsorted(fam_idx[perm], np.arange(len(fam_names) + 1)).astype(np.int64)
    return perm, bounds


def _select_numpy(c: np.ndarray, inputs: tuple[np.ndarray, ...], perm: np.ndarray, bounds: np.ndarray,
                  n: int) -> tuple[np.ndarray, np.ndarray]:
    """Which feature each reason slot cites (-1: none) and whether it is a strength, over whole arrays:
    the reference of the one-pass kernel (``riskml.explain._kernels.select_reasons``)."""
    rows_n, nf = c.shape[0], len(bounds) - 1
    adverse_ok, strength_ok = _on_side(*inputs)
    # feature-major (k, n) with the features grouped by family: each family is a block of contiguous rows,
    # so the per-family sums and arg-maxima below run over whole columns of customers at once
    cT = np.ascontiguousarray(c[:, perm].T)
    up = np.maximum(cT, 0.0)
    up *= adverse_ok[perm]         # pushes toward delinquency that may be cited
    neg = np.minimum(cT, 0.0)
    down = neg * strength_ok[perm]  # pulls toward safety that may be cited as strengths
    fam_net = np.empty((nf, rows_n))   # a family's net push: its citable adverse pushes plus every pull
    fam_down = np.empty((nf, rows_n))  # toward safety within it; and its citable pulls toward safety
    best_hi = np.empty((nf, rows_n), dtype=np.int64)
    best_hi_val = np.empty((nf, rows_n))
    best_lo = np.empty((nf, rows_n), dtype=np.int64)
    for f in range(nf):
        a, b = bounds[f], bounds[f + 1]
        su, sd = up[a:b], down[a:b]
        best_hi[f] = perm[a + su.argmax(axis=0)]
        best_hi_val[f] = su.max(axis=0)
        best_lo[f] = perm[a + sd.argmin(axis=0)]
        fam_net[f] = su.sum(axis=0) + neg[a:b].sum(axis=0)
        fam_down[f] = sd.sum(axis=0)
    fam_net, fam_down, best_hi_val = fam_net.T, fam_down.T, best_hi_val.T
    best_hi, best_lo = best_hi.T, best_lo.T
    r = np.arange(rows_n)

    adverse = (fam_net > MIN_CONTRIBUTION) & (best_hi_val > MIN_CONTRIBUTION)
    n_adverse = adverse.sum(axis=1)
    order = np.argsort(-np.where(adverse, fam_net, -np.inf), axis=1, kind="stable")[:, :n]
    fav_order = np.argsort(fam_down, axis=1, kind="stable")[:, :n]
    none_adverse = n_adverse == 0

    slot_feat = np.full((rows_n, n), -1, dtype=np.int64)
    slot_pos = np.zeros((rows_n, n), dtype=bool)
    for j in range(min(n, nf)):
        fam_adv = order[:, j]
        slot_feat[:, j] = np.where(j < n_adverse, best_hi[r, fam_adv], -1)
        fam_fav = fav_order[:, j]
        fav_ok = none_adverse & (fam_down[r, fam_fav] < -MIN_CONTRIBUTION)
        slot_feat[:, j] = np.where(fav_ok, best_lo[r, fam_fav], slot_feat[:, j])
        slot_pos[:, j] = fav_ok
    return slot_feat, slot_pos


def _select(c: np.ndarray, inputs: tuple[np.ndarray, ...], perm: np.ndarray, bounds: np.ndarray,
            n: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_select_numpy` by the numba kernel: one pass per row, no (k, n) temporaries (the GIL is
    released, so scoring's worker threads select on both cores)."""
    try:
        from riskml.explain._kernels import select_reasons
    except ImportError:  # pragma: no cover  (numba is a dependency; the numpy reference is the fallback)
        return _select_numpy(c, inputs, perm, bounds, n)
    values, check, side, med, no_strength = inputs
    slot_feat = np.empty((c.shape[0], n), dtype=np.int64)
    slot_pos = np.empty((c.shape[0], n), dtype=np.bool_)
    select_reasons(c, values, check, side, med, no_strength, perm, bounds, n, MIN_CONTRIBUTION, slot_feat, slot_pos)
    return slot_feat, slot_pos


def reason_codes(
    features: pd.DataFrame,
    contrib: np.ndarray,
    feature_names: list[str],
    specs: Mapping[str, FeatureSpec],
    medians: Mapping[str, float] | None = None,
    n: int = 3,
) -> pd.DataFrame:
    """Top ``n`` reasons per row from the contribution matrix.

    ``contrib`` is LightGBM's ``pred_contrib`` output for ``features[feature_names]`` (n_rows x
    (n_features + 1), last column the expected value); ``medians`` are the training-data medians per
    feature (persisted with the model). Returns ``reason_1..reason_n`` and ``reason_codes`` (the cited
    feature names joined by ``;``; positive statements are prefixed ``+``), on ``features``' index."""
    out = reason_arrays(features, contrib, feature_names, specs, medians, n)
    return pd.DataFrame({c: pd.Series(v, index=features.index, dtype=object) for c, v in out.items()})


def reason_arrays(
    features: pd.DataFrame,
    contrib: np.ndarray,
    feature_names: list[str],
    specs: Mapping[str, FeatureSpec],
    medians: Mapping[str, float] | None = None,
    n: int = 3,
) -> dict[str, np.ndarray]:
    """:func:`reason_codes` as object arrays by column name (no frame: what batch scoring stacks)."""
    k = len(feature_names)
    c = np.asarray(contrib, dtype="float64")
    if c.ndim != 2 or c.shape[1] not in (k, k + 1) or c.shape[0] != len(features):
        raise ValueError(
            f"contrib must have shape ({len(features)}, {k + 1}) for {k} features; got {c.shape}"
        )
    rows_n = len(features)
    medians = medians or {}
    perm, bounds = _families(feature_names, specs)
    slot_feat, slot_pos = _select(np.ascontiguousarray(c), _on_side_inputs(features, feature_names, specs, medians),
                                  perm, bounds, n)

    out = {f"reason_{j + 1}": np.full(rows_n, "", dtype=object) for j in range(n)}
    columns = _Columns(features)
    # every (row, slot) citing the same feature the same way (adverse or strength) is worded in one call,
    # whatever its slot: a customer cites a feature in one slot at most
    key = np.where(slot_feat >= 0, slot_feat * 2 + slot_pos, -1).reshape(-1)
    cells = np.argsort(key, kind="stable")
    edges = np.flatnonzero(np.diff(key[cells])) + 1
    for cell in np.split(cells, edges) if len(cells) else []:
        group = int(key[cell[0]])
        if group < 0:
            continue
        fi, pos = divmod(group, 2)
        name = feature_names[fi]
        spec = specs.get(name) or FeatureSpec(name, "attributes", name, "", "", 0, f"{name}: {{value}}")
        rows, slots = np.divmod(cell, n)
        texts = _render_distinct(spec, columns, rows, medians.get(name), favourable=bool(pos))
        if pos:
            texts = POSITIVE_PREFIX + texts
        for j in np.unique(slots):
            at = slots == j
            out[f"reason_{j + 1}"][rows[at]] = texts[at]
    # a customer with neither adverse nor favourable factors (e.g. exactly average) still gets a statement
    out["reason_1"][out["reason_1"] == ""] = NEUTRAL_STATEMENT

    # the codes, written once per distinct combination of cited features
    combo = np.zeros(rows_n, dtype=np.int64)
    for j in range(n):
        combo = combo * (2 * k + 3) + np.where(slot_feat[:, j] >= 0, slot_feat[:, j] * 2 + slot_pos[:, j] + 1, 0)
    uniq, first, inv = np.unique(combo, return_index=True, return_inverse=True)
    names = np.array([*feature_names, ""], dtype=object)
    joined = []
    for r in first.tolist():
        codes = [("+" if slot_pos[r, j] else "") + names[slot_feat[r, j]] for j in range(n) if slot_feat[r, j] >= 0]
        joined.append(";".join(codes))
    out["reason_codes"] = np.array(joined, dtype=object)[inv.reshape(-1)] if rows_n else np.zeros(0, dtype=object)
    return out


def _render_distinct(spec: FeatureSpec, columns: _Columns, sel: np.ndarray, median: float | None,
                     favourable: bool = False) -> np.ndarray:
    """:func:`_render` of the rows ``sel``, worded once per distinct set of the figures the text quotes
    (the feature, the template's other fields, the customer's earlier figure): a text is a function of
    those figures alone, and a book repeats them (whole days, shares of few invoices, flags)."""
    used = [spec.name, *(f for f in _template_fields(spec.reason) if f != "value")]
    own = spec.comparison
    if own is not None:
        used.append(own[0])
    used = [c for c in dict.fromkeys(used) if c in columns]
    if len(sel) < 2 or not used or any(columns[c].dtype.kind != "f" for c in used):
        return _render(spec, columns, sel, median, favourable)
    # distinct by bit pattern: -0.0 reads "-0", not "0"
    if len(used) == 1:
        distinct, inv = np.unique(np.ascontiguousarray(columns[used[0]][sel]).view(np.int64), return_inverse=True)
        figures = {used[0]: distinct.view(np.float64)}
    else:
        block = np.column_stack([columns[c][sel] for c in used]).view(np.int64)
        distinct, inv = np.unique(block, axis=0, return_inverse=True)
        figures = {c: np.ascontiguousarray(distinct[:, i]).view(np.float64) for i, c in enumerate(used)}
    if len(distinct) == len(sel):
        return _render(spec, columns, sel, median, favourable)
    texts = _render(spec, _Figures(figures), np.arange(len(distinct)), median, favourable)
    return texts[inv.reshape(-1)]


class _Figures(_Columns):
    """Columns given as arrays (the distinct figures of :func:`_render_distinct`)."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.cache = arrays

    def __contains__(self, name: object) -> bool:
        return name in self.cache


def family_heading(family: str) -> str:
    return FAMILIES.get(family, family)
