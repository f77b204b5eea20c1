"""Key lookups on Arrow strings: where each value stands in a column of keys.

Hashing on the Arrow data behind pandas' ``str`` columns is several times faster than a pandas ``Index``
lookup (which converts to Python objects). Shared by the validator, the feature engine and the labels.

Ids of one fixed form (the usual ``INV00012345``, ``C000123``: every key of the same length, the first
key's bytes in every column where it holds no digit, decimal digits in the others) are looked up faster
still: the digits of those columns of each string are read as one integer straight from the Arrow
buffers, and the integers are looked up in a direct table. Two strings of that form are equal exactly when their integers are, and a
string of another form cannot equal a key, so both ways give the same positions (``positions_hashed``, the
general way, is the reference the tests compare with)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MAX_DIGITS = 18  # varying digits read as one int64 (10**18 < 2**63)


def arrow_strings(s: pd.Series) -> pa.ChunkedArray:
    """The Arrow data behind a ``str`` Series (zero copy for pandas' Arrow-backed strings)."""
    arr = s.array
    if hasattr(arr, "__arrow_array__"):
        out = arr.__arrow_array__()
        return out if isinstance(out, pa.ChunkedArray) else pa.chunked_array([out])
    return pa.chunked_array([pa.array(s.astype(object).where(s.notna(), None), type=pa.large_string())])


def positions(values: pd.Series | list[pd.Series], keys: pd.Series, fast: bool = True) -> np.ndarray | list[np.ndarray]:
    """For each value, the row of its first occurrence in ``keys``; -1 when absent or missing.

    ``values`` may be a list of Series looked up in one pass (the keys are read once). ``fast``: ids of one
    fixed form are looked up as integers (else, and for any other ids, by Arrow's hash lookup)."""
    many = isinstance(values, list)
    series = values if many else [values]
    sizes = [len(v) for v in series]
    k = arrow_strings(keys)
    if not len(k) or not sum(sizes):
        out = [np.full(n, -1, dtype=np.int64) for n in sizes]
        return out if many else out[0]
    arrs = [arrow_strings(v) for v in series]
    k = k.combine_chunks()
    idx = _positions_fixed_form(arrs, k) if fast else None
    if idx is None:
        idx = _positions_hashed(arrs, k)
    out = np.split(idx, np.cumsum(sizes)[:-1])
    return out if many else out[0]


def positions_hashed(values: pd.Series | list[pd.Series], keys: pd.Series) -> np.ndarray | list[np.ndarray]:
    """:func:`positions` by Arrow's hash lookup only (the general way; the reference of the fast one)."""
    return positions(values, keys, fast=False)


def _positions_hashed(arrs: list[pa.ChunkedArray], k: pa.Array) -> np.ndarray:
    typ = arrs[0].type
    v = pa.chunked_array([c.cast(typ) if c.type != typ else c for a in arrs for c in a.chunks], type=typ)
    if k.type != typ:
        k = k.cast(typ)
    idx = pc.fill_null(pc.index_in(v, value_set=k, skip_nulls=True), -1).to_numpy(zero_copy_only=False)
    return idx.astype(np.int64)


def _string_buffers(c: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """(offsets as int64, data bytes) of a string or large_string array; None for other types."""
    odt: type[np.signedinteger[Any]]
    if pa.types.is_large_string(c.type):
        odt = np.int64
    elif pa.types.is_string(c.type):
        odt = np.int32
    else:
        return None
    bufs = c.buffers()
    offs = np.frombuffer(bufs[1], dtype=odt)[c.offset: c.offset + len(c) + 1].astype(np.int64)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    return offs, data


FAST_MIN_ROWS = 100_000  # below this, the hash lookup (no numba import, no set-up) is as quick


def _numbers(c: pa.Array, width: int, const: np.ndarray, fixed: np.ndarray) -> np.ndarray | None:
    """The fixed-form number of each string of ``c`` (-1: missing or not of the form); None: not strings."""
    from riskml.data._keys_kernels import fixed_form_numbers

    parts = _string_buffers(c)
    if parts is None:
        return None
    offs, data = parts
    valid = c.is_valid().to_numpy(zero_copy_only=False) if c.null_count else np.zeros(0, bool)
    out = np.empty(len(c), np.int64)
    fixed_form_numbers(offs, data, valid, width, const, fixed, out)
    return out


def _positions_fixed_form(arrs: list[pa.ChunkedArray], k: pa.Array) -> np.ndarray | None:
    """Positions by the integers of fixed-form ids, or None when the keys are not all of one fixed form (or
    the lookup is small)."""
    if k.null_count or len(k) < 2 or sum(len(a) for a in arrs) + len(k) < FAST_MIN_ROWS:
        return None
    parts = _string_buffers(k)
    if parts is None:
        return None
    offs, data = parts
    lens = np.diff(offs)
    width = int(lens[0])
    if width == 0 or (lens != width).any():
        return None
    from riskml.data._keys_kernels import first_rows, look_up

    # the form, from the first key alone: its non-digit bytes stay, its digit columns make the number (a key
    # of another form then fails to parse, and the lookup falls back to hashing)
    fixed = data[int(offs[0]): int(offs[0]) + width].astype(np.int64)
    const = (fixed < 48) | (fixed > 57)
    if int((~const).sum()) > MAX_DIGITS:
        return None
    knum = _numbers(k, width, const, fixed)
    if knum is None or (knum < 0).any():
        return None
    # direct table from the key's number to its first row (first occurrence, as the hash lookup gives)
    lo, hi = int(knum.min()), int(knum.max())
    span = hi - lo + 1
    if span > 4 * len(knum) + 1024:
        return None
    table = first_rows(knum, lo, span)
    out = []
    for a in arrs:
        for c in a.chunks:
            nums = _numbers(c, width, const, fixed)
            if nums is None:
                return None
            res = np.empty(len(c), np.int64)
            look_up(nums, table, lo, res)
            out.append(res)
    return np.concatenate(out) if out else np.zeros(0, np.int64)
