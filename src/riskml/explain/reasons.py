"""Reason codes from LightGBM's own contributions (``pred_contrib``), in the credit manager's words.

For each customer, the features whose contributions push the score toward delinquency are grouped by
family (so three correlated DBT features cannot fill all three slots); families are ranked by their net
contribution, and each adverse family is cited through its strongest feature, written with the
customer's own figures and the portfolio median from the training data. A customer with no adverse
family gets a positive statement naming their strongest factors — never an empty field.

Everything is vectorised per (slot, feature) group, so wording a million customers costs a few seconds.
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


def _template_fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


def render(spec: FeatureSpec, rows: pd.DataFrame, median: float | None) -> list[str]:
    """Reason text of ``spec`` for each row of ``rows`` (all feature columns available)."""
    fields = _template_fields(spec.reason)
    names = [spec.name if f == "value" else f for f in fields]
    names = [n for n in names if n in rows.columns] if names else []
    cols = [rows[n].to_numpy("float64") if rows[n].dtype.kind in "fiub" else rows[n].to_numpy() for n in names]
    suffix = "" if median is None or not np.isfinite(median) else f" (portfolio median {format_value(median, spec.unit)})"
    missing = f"{spec.description}: not available (no history yet)"
    out = []
    template = spec.reason
    if spec.kind == "flag":  # the reason text describes the flag when set; otherwise say it is not
        values = rows[spec.name].to_numpy("float64") if spec.name in rows else np.ones(len(rows))
        return [template if v >= 0.5 else f"Not the case: {template[0].lower()}{template[1:]}" for v in values]
    for vals in zip(*cols, strict=True) if cols else [()] * len(rows):
        kw = dict(zip(names, vals, strict=True))
        if any(isinstance(v, float) and v != v for v in vals):
            out.append(missing)
            continue
        kw = {("value" if n == spec.name else n): v for n, v in kw.items()}
        if spec.name in names and spec.name != "value":
            kw[spec.name] = kw["value"]
        try:
            out.append(template.format(**kw) + (suffix if spec.kind != "flag" else ""))
        except (ValueError, TypeError, KeyError):
            out.append(f"{spec.description}: {kw.get('value')}")
    return out


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
    k = len(feature_names)
    c = np.asarray(contrib, dtype="float64")
    if c.ndim != 2 or c.shape[1] not in (k, k + 1) or c.shape[0] != len(features):
        raise ValueError(
            f"contrib must have shape ({len(features)}, {k + 1}) for {k} features; got {c.shape}"
        )
    c = c[:, :k].copy()
    medians = medians or {}
    # a monotone feature is cited as adverse only when its value is on the risky side of the median:
    # reasons must be accurate, not artefacts of interactions
    for i, f in enumerate(feature_names):
        spec = specs.get(f)
        med = medians.get(f)
        if spec is None or not spec.monotone or med is None or not np.isfinite(med) or f not in features:
            continue
        v = pd.to_numeric(features[f], errors="coerce").to_numpy("float64")
        wrong_side = (v - med) * spec.monotone <= 0
        c[:, i] = np.where(wrong_side & (c[:, i] > 0), 0.0, c[:, i])
    fam_names = list(dict.fromkeys(specs[f].family if f in specs else "attributes" for f in feature_names))
    fam_idx = np.array([fam_names.index(specs[f].family if f in specs else "attributes") for f in feature_names])
    onehot = np.zeros((k, len(fam_names)))
    onehot[np.arange(k), fam_idx] = 1.0
    fam_sum = c @ onehot  # net contribution per family

    # strongest adverse and strongest favourable feature within each family, per row
    nf = len(fam_names)
    best_hi = np.zeros((len(c), nf), dtype=np.int64)
    best_lo = np.zeros((len(c), nf), dtype=np.int64)
    best_hi_val = np.zeros((len(c), nf))
    for f in range(nf):
        members = np.flatnonzero(fam_idx == f)
        sub = c[:, members]
        hi = sub.argmax(axis=1)
        best_hi[:, f] = members[hi]
        best_hi_val[:, f] = sub[np.arange(len(c)), hi]
        best_lo[:, f] = members[sub.argmin(axis=1)]

    adverse = (fam_sum > MIN_CONTRIBUTION) & (best_hi_val > MIN_CONTRIBUTION)
    order = np.argsort(-np.where(adverse, fam_sum, -np.inf), axis=1, kind="stable")[:, :n]
    n_adverse = adverse.sum(axis=1)
    fav_order = np.argsort(fam_sum, axis=1, kind="stable")[:, :n]

    rows = np.arange(len(features))
    slot_feat = np.full((len(features), n), -1)
    slot_pos = np.zeros((len(features), n), dtype=bool)
    for j in range(n):
        fam_adv = order[:, j]
        use_adv = j < n_adverse
        slot_feat[:, j] = np.where(use_adv, best_hi[rows, fam_adv], -1)
        none_adverse = n_adverse == 0
        fam_fav = fav_order[:, j]
        fav_ok = none_adverse & (fam_sum[rows, fam_fav] < -MIN_CONTRIBUTION)
        slot_feat[:, j] = np.where(fav_ok, best_lo[rows, fam_fav], slot_feat[:, j])
        slot_pos[:, j] = fav_ok

    out = {f"reason_{j + 1}": np.full(len(features), "", dtype=object) for j in range(n)}
    feats = features.reset_index(drop=True)
    for j in range(n):
        col = out[f"reason_{j + 1}"]
        for fi in np.unique(slot_feat[:, j]):
            if fi < 0:
                continue
            name = feature_names[fi]
            spec = specs.get(name) or FeatureSpec(name, "attributes", name, "", "", 0, f"{name}: {{value}}")
            sel = np.flatnonzero(slot_feat[:, j] == fi)
            texts = render(spec, feats.iloc[sel], medians.get(name))
            pos = slot_pos[sel, j]
            col[sel] = [POSITIVE_PREFIX + t if p else t for t, p in zip(texts, pos, strict=True)]
    # a customer with neither adverse nor favourable factors (e.g. exactly average) still gets a statement
    empty = out["reason_1"] == ""
    out["reason_1"][empty] = "No factor moves this customer's risk away from the portfolio average"

    names = np.array(feature_names + [""], dtype=object)
    cited = np.where(slot_feat >= 0, slot_feat, k)
    codes = names[cited]
    codes = np.where(slot_pos, "+" + codes.astype(str), codes)
    out["reason_codes"] = np.array([";".join(x for x in r if x and x != "+") for r in codes], dtype=object)
    return pd.DataFrame(out, index=features.index)


def family_heading(family: str) -> str:
    return FAMILIES.get(family, family)
