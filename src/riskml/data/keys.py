"""Key lookups on Arrow strings: where each value stands in a column of keys.

Hashing on the Arrow data behind pandas' ``str`` columns is several times faster than a pandas ``Index``
lookup (which converts to Python objects). Shared by the validator, the feature engine and the labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def arrow_strings(s: pd.Series) -> pa.ChunkedArray:
    """The Arrow data behind a ``str`` Series (zero copy for pandas' Arrow-backed strings)."""
    arr = s.array
    if hasattr(arr, "__arrow_array__"):
        out = arr.__arrow_array__()
        return out if isinstance(out, pa.ChunkedArray) else pa.chunked_array([out])
    return pa.chunked_array([pa.array(s.astype(object).where(s.notna(), None), type=pa.large_string())])


def positions(values: pd.Series | list[pd.Series], keys: pd.Series) -> np.ndarray | list[np.ndarray]:
    """For each value, the row of its first occurrence in ``keys``; -1 when absent or missing.

    ``values`` may be a list of Series looked up in one pass (the keys are hashed once)."""
    many = isinstance(values, list)
    series = values if many else [values]
    sizes = [len(v) for v in series]
    k = arrow_strings(keys)
    if not len(k) or not sum(sizes):
        out = [np.full(n, -1, dtype=np.int64) for n in sizes]
        return out if many else out[0]
    arrs = [arrow_strings(v) for v in series]
    typ = arrs[0].type
    v = pa.chunked_array([c.cast(typ) if c.type != typ else c for a in arrs for c in a.chunks], type=typ)
    k = k.combine_chunks()
    if k.type != typ:
        k = k.cast(typ)
    idx = pc.fill_null(pc.index_in(v, value_set=k, skip_nulls=True), -1).to_numpy(zero_copy_only=False)
    out = np.split(idx.astype(np.int64), np.cumsum(sizes)[:-1])
    return out if many else out[0]
