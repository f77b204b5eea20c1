"""Texts over whole arrays: the decision texts quote per-row figures, and a book of a million rows must not
pay a Python call per row and per phrase. Both helpers give exactly the texts a per-row f-string gives."""

from __future__ import annotations

import numpy as np
import pandas as pd


def cat(*parts: object) -> np.ndarray:
    """Element-wise concatenation of object arrays of texts and strings, as an object array (one join per
    row, not one new array of texts per part)."""
    n = next(len(p) for p in parts if isinstance(p, np.ndarray))
    cols = [p.tolist() if isinstance(p, np.ndarray) else [p] * n for p in parts]
    out = np.empty(n, dtype=object)
    out[:] = list(map("".join, zip(*cols, strict=True)))
    return out


def fmt_each(x: np.ndarray, spec: str = "") -> np.ndarray:
    """``format(value, spec)`` of each value, i.e. ``f"{value:spec}"`` (object array), formatted once per
    distinct value. Numbers are told apart by their bits (so -0.0 and 0.0 keep their own texts); other
    values (e.g. grades as objects, integers) by equality, missing ones (None, NaN) each as they are."""
    arr = np.asarray(x)
    if arr.dtype.kind == "f":
        bits = np.ascontiguousarray(arr, dtype="float64").view("int64")
        uniq, inv = np.unique(bits, return_inverse=True)
        values = uniq.view("float64").tolist()
    else:
        inv, values = _factorize_objects(arr)
    return np.array([format(v, spec) for v in values] or [], dtype=object)[np.asarray(inv).reshape(-1)]


def _factorize_objects(arr: np.ndarray) -> tuple[np.ndarray, list]:
    """(codes, one value per code) of an object array; each missing value (None, NaN) stays as it is."""
    arr = np.asarray(arr, dtype=object)
    codes, uniq = pd.factorize(arr, use_na_sentinel=True)
    values = list(uniq)
    missing = codes < 0
    if missing.any():
        # missing values format as themselves ("None", "nan"): keep each row's own
        extra = arr[missing].tolist()
        codes = codes.copy()
        codes[missing] = np.arange(len(values), len(values) + len(extra))
        values.extend(extra)
    return codes, values


def lookup(values: np.ndarray, mapping: dict, default: object) -> np.ndarray:
    """``mapping[value]`` for each value (``default`` where it has none, missing values included): what
    ``pd.Series(values, dtype=object).map(mapping).fillna(default)`` gives, looked up once per distinct
    value (an object array; the caller casts)."""
    codes, uniq = pd.factorize(np.asarray(values, dtype=object))
    table = np.empty(len(uniq) + 1, dtype=object)
    table[:] = [mapping.get(u, default) for u in uniq] + [default]
    return table[codes]
