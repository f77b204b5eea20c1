"""Per-feature contributions of a LightGBM model: one interface, two exact back ends.

``contributions(X) -> (n, k + 1)`` in log-odds, the last column the expected value, exactly what
LightGBM's ``predict(X, pred_contrib=True)`` returns (path-dependent TreeSHAP: no background data, the
training covers of the tree nodes stand in for the data distribution).

* :class:`PredContribExplainer` -- LightGBM's own ``pred_contrib`` (the reference, always available);
* :class:`PatternExplainer` -- the same values by *decision patterns* (the idea of WOODELF, Wettenstein et
  al.), written here in numpy/numba on the booster's ``dump_model()`` JSON. Path-dependent TreeSHAP is
  linear in the leaves, and a leaf's share of every feature's SHAP value depends on the row only through
  which of the leaf's path features the row *satisfies* (all of that feature's conditions on the path):
  with ``d`` distinct features on the path, ``z_j`` the product of the cover ratios of feature ``j``'s
  edges and ``o_j`` in {0, 1} whether the row satisfies them, the leaf value ``v`` adds

      phi_i += v (o_i - z_i) sum_s w(s, d) [t^s] prod_{j != i} (z_j + o_j t),   w(s, d) = s! (d-1-s)! / d!

  to feature ``i``. For each leaf those ``d`` numbers are tabulated once per model for all ``2^d``
  patterns, and the tables of the leaves of each subtree whose key (the splits on the path to it and in
  it) has at most :data:`GROUP_KEY_BITS` decisions are summed into one table keyed by those decisions.
  Scoring a row is then one branch-free pass over each tree's splits and one look-up per group,
  instead of LightGBM's O(leaves x depth^2) path extension per row. Leaves with more than
  :data:`TABLE_MAX_D` path features are evaluated per row from the same formula (no table).

Split semantics follow LightGBM's row parser (|x| <= 1e-35 is read as 0) and its ``Tree::NumericalDecision`` / ``CategoricalDecision`` (LightGBM 4):
a numeric NaN becomes 0 unless the node's ``missing_type`` is ``NaN``; ``missing_type`` ``Zero`` sends
|x| <= 1e-35 and ``NaN`` sends NaN the default direction; categorical splits send NaN and negative codes
right and a code in the node's category set left. Linear trees, multi-class models and trees with more than
:data:`MAX_NODES` splits are not supported (the explainer refuses them and :func:`make_explainer` falls
back to ``pred_contrib``). docs/explainer.md has the details.

:func:`make_explainer` chooses: ``pred_contrib``, ``fast`` (raises when the model is not supported), or
``auto``: the fast one when it builds and matches ``pred_contrib`` within :data:`PARITY_TOL` on a probe
set made from the model's own thresholds (each side of every split, zero and missing), else
``pred_contrib`` with a log line. The row kernel holds no GIL, so calls from several threads (scoring's
blocks) run on several cores; a single large call is split over ``threads`` threads.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import weakref
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

EXPLAINERS = ("auto", "pred_contrib", "fast")
# the largest number of distinct path features for which a leaf's patterns are tabulated (2^d x d values)
TABLE_MAX_D = 10
# the fast explainer must agree with pred_contrib within this per feature (log-odds) to be used by "auto"
PARITY_TOL = 1e-6
# splits per tree the kernel takes (a row's decisions in one tree are the bits of one int64)
MAX_NODES = 63
# rows per pass through the trees
ROW_BLOCK = 512
# the most split decisions a group of leaves is keyed by (its table has 2^bits rows)
GROUP_KEY_BITS = 8
# LightGBM's kZeroThreshold (a float32 1e-35, as double)
_ZERO = float(np.float32(1e-35))
_MISSING = {"None": 0, "Zero": 1, "NaN": 2}


_LOCAL = threading.local()


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Within this context (in the calling thread only) the fast explainer runs on the calling thread: for
    callers that already run one worker per core (scoring's blocks)."""
    before = getattr(_LOCAL, "single", False)
    _LOCAL.single = True
    try:
        yield
    finally:
        _LOCAL.single = before


def default_threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


class UnsupportedModel(ValueError):
    """The fast explainer cannot represent this model (e.g. linear trees)."""


class Explainer(Protocol):
    name: str

    def contributions(self, X: pd.DataFrame) -> np.ndarray: ...


def feature_matrix(X: pd.DataFrame) -> np.ndarray:
    """The float64 matrix LightGBM sees for a prepared frame: numerics as they are, categoricals as their
    category codes with missing (code -1) as NaN."""
    out = np.empty((len(X), X.shape[1]), dtype=np.float64)
    for j, col in enumerate(X.columns):
        s = X[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            codes = s.cat.codes.to_numpy()
            out[:, j] = np.where(codes < 0, np.nan, codes)
        else:
            out[:, j] = s.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


class PredContribExplainer:
    """LightGBM's own TreeSHAP (``pred_contrib``), the reference."""

    name = "pred_contrib"

    def __init__(self, booster: Any):
        self.booster = booster

    def contributions(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.booster.predict(X, pred_contrib=True), dtype=np.float64)


# ------------------------------------------------------------------------------------------ model parsing
@dataclass
class _Leaf:
    value: float
    edges: list[tuple[int, bool, int]]  # (node index within the tree, path goes left, feature)
    key: int = 0  # id() of the leaf's dict in the dump


def _walk(tree: dict[str, Any], nodes: list[dict[str, Any]], leaves: list[_Leaf]) -> None:
    """Number the internal nodes of one tree (depth first) and collect every leaf with its path."""
    stack: list[tuple[dict[str, Any], list[tuple[int, bool, int]]]] = [(tree, [])]
    while stack:
        node, path = stack.pop()
        if "leaf_value" in node:
            if "leaf_coeff" in node or "leaf_const" in node:
                raise UnsupportedModel("linear trees are not supported")
            leaves.append(_Leaf(float(node["leaf_value"]), path, id(node)))
            continue
        idx = len(nodes)
        nodes.append(node)
        f = int(node["split_feature"])
        stack.append((node["right_child"], [*path, (idx, False, f)]))
        stack.append((node["left_child"], [*path, (idx, True, f)]))


def _count(node: dict[str, Any]) -> float:
    return float(node["leaf_count"] if "leaf_value" in node else node["internal_count"])


@dataclass
class _Model:
    """The flattened model the numba kernels read."""

    n_features: int
    expected_value: float
    tree_node_start: np.ndarray
    node_feature: np.ndarray
    node_threshold: np.ndarray
    node_categorical: np.ndarray
    node_missing: np.ndarray
    node_default_left: np.ndarray
    node_cat_start: np.ndarray
    node_cat_len: np.ndarray
    cat_words: np.ndarray
    tree_leaf_start: np.ndarray
    leaf_value: np.ndarray
    leaf_d: np.ndarray
    leaf_feat_start: np.ndarray
    slot_nodes: np.ndarray  # per path feature of a leaf: bit mask of the tree's nodes on its edges
    slot_want: np.ndarray  # ... and the bits those nodes take when the row satisfies them (1 = left)
    leaf_feats: np.ndarray
    leaf_z: np.ndarray
    leaf_table: np.ndarray
    table: np.ndarray
    node_nan_left: np.ndarray = field(default_factory=lambda: np.zeros(0, np.bool_))
    tree_group_start: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    tree_loose_start: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    loose_leaves: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    group_key_start: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    group_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    group_union_start: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    group_union: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    group_table_off: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    group_table: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _bitset(categories: Sequence[int]) -> list[int]:
    words = [0] * (max(categories) // 32 + 1)
    for c in categories:
        words[c // 32] |= 1 << (c % 32)
    return words


def parse_model(dump: dict[str, Any]) -> _Model:
    """Flatten ``booster.dump_model()`` into arrays, with each leaf's path grouped by feature and the
    product of cover ratios ``z`` per path feature."""
    if int(dump.get("num_class", 1)) != 1 or int(dump.get("num_tree_per_iteration", 1)) != 1:
        raise UnsupportedModel("multi-class models are not supported")
    n_features = int(dump["max_feature_idx"]) + 1
    node_rows: list[tuple[int, float, int, int, int, int, int]] = []
    cat_words: list[int] = []
    tree_node_start, tree_leaf_start = [0], [0]
    leaf_value, leaf_d, leaf_feat_start = [], [], [0]
    slot_nodes, slot_want, leaf_feats, leaf_z = [], [], [], []
    expected = 0.0
    groups: list[tuple[list[int], list[int]]] = []  # (key nodes, leaves) of each group of leaves
    loose: list[int] = []  # leaves evaluated one by one
    tree_group_start, tree_loose_start = [0], [0]
    for info in dump["tree_info"]:
        root = info["tree_structure"]
        if "leaf_value" in root:  # a single-leaf tree: a constant, all of it expected value
            expected += float(root["leaf_value"])
            tree_group_start.append(len(groups))
            tree_loose_start.append(len(loose))
            tree_node_start.append(len(node_rows))
            tree_leaf_start.append(len(leaf_value))
            continue
        nodes: list[dict[str, Any]] = []
        leaves: list[_Leaf] = []
        _walk(root, nodes, leaves)
        if len(nodes) > MAX_NODES:
            raise UnsupportedModel(f"a tree has {len(nodes)} splits; the fast explainer takes at most {MAX_NODES}")
        for nd in nodes:
            miss = _MISSING.get(str(nd.get("missing_type", "None")), 0)
            if nd["decision_type"] == "==":
                cats = [int(c) for c in str(nd["threshold"]).split("||") if c != ""]
                words = _bitset(cats) if cats else [0]
                node_rows.append((int(nd["split_feature"]), 0.0, 1, miss, int(bool(nd["default_left"])),
                                  len(cat_words), len(words)))
                cat_words.extend(words)
            elif nd["decision_type"] == "<=":
                node_rows.append((int(nd["split_feature"]), float(nd["threshold"]), 0, miss,
                                  int(bool(nd["default_left"])), 0, 0))
            else:
                raise UnsupportedModel(f"decision type {nd['decision_type']!r} is not supported")
        # cover ratios along each leaf's path (LightGBM's data_count of child / parent)
        root_count = float(root["internal_count"])
        covers = _leaf_covers(root)
        tree_expected = 0.0
        for leaf, (count, ratios) in zip(leaves, covers, strict=True):
            tree_expected += (count / root_count) * leaf.value
            feats: list[int] = []
            z: list[float] = []
            slots = []
            for (_, _, f), r in zip(leaf.edges, ratios, strict=True):
                if f not in feats:
                    feats.append(f)
                    z.append(1.0)
                s = feats.index(f)
                z[s] *= r
                slots.append(s)
            nodes_of = [0] * len(feats)
            want_of = [0] * len(feats)
            for (node_idx, left, _), s in zip(leaf.edges, slots, strict=True):
                nodes_of[s] |= 1 << node_idx
                want_of[s] |= int(left) << node_idx
            slot_nodes.extend(nodes_of)
            slot_want.extend(want_of)
            leaf_value.append(leaf.value)
            leaf_d.append(len(feats))
            leaf_feats.extend(feats)
            leaf_z.extend(z)
            leaf_feat_start.append(len(leaf_feats))
        expected += tree_expected
        _group_tree(root, nodes, leaves, tree_leaf_start[-1], leaf_d, groups, loose)
        tree_group_start.append(len(groups))
        tree_loose_start.append(len(loose))
        tree_node_start.append(len(node_rows))
        tree_leaf_start.append(len(leaf_value))
    nodes_arr = np.array(node_rows, dtype=np.float64).reshape(-1, 7)
    i64 = np.int64
    m = _Model(
        n_features=n_features, expected_value=expected,
        tree_node_start=np.array(tree_node_start, dtype=i64),
        node_feature=nodes_arr[:, 0].astype(i64), node_threshold=np.ascontiguousarray(nodes_arr[:, 1]),
        node_categorical=nodes_arr[:, 2].astype(np.bool_), node_missing=nodes_arr[:, 3].astype(np.int8),
        node_default_left=nodes_arr[:, 4].astype(np.bool_), node_cat_start=nodes_arr[:, 5].astype(i64),
        node_cat_len=nodes_arr[:, 6].astype(i64), cat_words=np.array(cat_words or [0], dtype=np.uint32),
        tree_leaf_start=np.array(tree_leaf_start, dtype=i64), leaf_value=np.array(leaf_value, dtype=np.float64),
        leaf_d=np.array(leaf_d, dtype=i64), leaf_feat_start=np.array(leaf_feat_start, dtype=i64),
        slot_nodes=np.array(slot_nodes, dtype=i64), slot_want=np.array(slot_want, dtype=i64),
        leaf_feats=np.array(leaf_feats, dtype=i64), leaf_z=np.array(leaf_z, dtype=np.float64),
        leaf_table=np.zeros(0, dtype=i64), table=np.zeros(0, dtype=np.float64),
    )
    # where a numeric split sends NaN: the default side when missing_type is NaN, else NaN reads as 0, which
    # goes the default side when missing_type is Zero and by the threshold otherwise
    m.node_nan_left = np.where(m.node_missing == 2, m.node_default_left,
                               np.where(m.node_missing == 1, m.node_default_left, m.node_threshold >= 0.0))
    m.leaf_table, m.table = _tables(m)
    _group_tables(m, groups, loose, tree_group_start, tree_loose_start)
    return m


def _group_tree(root: dict[str, Any], nodes: list[dict[str, Any]], leaves: list[_Leaf], leaf_base: int,
                leaf_d: list[int], groups: list[tuple[list[int], list[int]]], loose: list[int]) -> None:
    """Split one tree's leaves into groups: the largest subtrees whose key (the nodes on the path to the
    subtree plus its own splits) has at most :data:`GROUP_KEY_BITS` nodes. A group's summed table is
    indexed by those node decisions, so a row costs one look-up per group instead of one per leaf.
    Leaves too deep for any group, or without a table, are left loose."""
    node_idx = {id(nd): i for i, nd in enumerate(nodes)}
    leaf_idx = {leaf.key: leaf_base + i for i, leaf in enumerate(leaves)}

    def inside(nd: dict[str, Any], internal: list[int], lvs: list[int]) -> None:
        if "leaf_value" in nd:
            lvs.append(leaf_idx[id(nd)])
            return
        internal.append(node_idx[id(nd)])
        inside(nd["left_child"], internal, lvs)
        inside(nd["right_child"], internal, lvs)

    def visit(nd: dict[str, Any], path: list[int]) -> None:
        internal: list[int] = []
        lvs: list[int] = []
        inside(nd, internal, lvs)
        if len(path) + len(internal) <= GROUP_KEY_BITS and all(leaf_d[i] <= TABLE_MAX_D for i in lvs):
            groups.append((path + internal, lvs))
            return
        if "leaf_value" in nd:
            loose.append(lvs[0])
            return
        here = [*path, node_idx[id(nd)]]
        visit(nd["left_child"], here)
        visit(nd["right_child"], here)

    visit(root, [])


def _group_tables(m: _Model, groups: list[tuple[list[int], list[int]]], loose: list[int],
                  tree_group_start: list[int], tree_loose_start: list[int]) -> None:
    i64 = np.int64
    key_start, keys, leaf_start, g_leaves, union_start, union, table_off = [0], [], [0], [], [0], [], [0]
    leaf_union_pos = np.zeros(len(m.leaf_feats), dtype=i64)
    for key_nodes, lvs in groups:
        keys.extend(key_nodes)
        key_start.append(len(keys))
        g_leaves.extend(lvs)
        leaf_start.append(len(g_leaves))
        feats: list[int] = []
        for leaf in lvs:
            fs = int(m.leaf_feat_start[leaf])
            for j in range(int(m.leaf_d[leaf])):
                f = int(m.leaf_feats[fs + j])
                if f not in feats:
                    feats.append(f)
                leaf_union_pos[fs + j] = feats.index(f)
        union.extend(feats)
        union_start.append(len(union))
        table_off.append(table_off[-1] + (1 << len(key_nodes)) * len(feats))
    m.tree_group_start = np.array(tree_group_start, dtype=i64)
    m.tree_loose_start = np.array(tree_loose_start, dtype=i64)
    m.loose_leaves = np.array(loose, dtype=i64)
    m.group_key_start, m.group_keys = np.array(key_start, dtype=i64), np.array(keys, dtype=i64)
    m.group_union_start, m.group_union = np.array(union_start, dtype=i64), np.array(union, dtype=i64)
    m.group_table_off = np.array(table_off, dtype=i64)
    m.group_table = np.zeros(table_off[-1], dtype=np.float64)
    if groups:
        build_groups = _get_kernels()[2]
        build_groups(m.group_key_start, m.group_keys, np.array(leaf_start, dtype=i64), np.array(g_leaves, dtype=i64),
                     m.group_union_start, m.group_table_off, m.group_table, leaf_union_pos, m.leaf_d,
                     m.leaf_feat_start, m.slot_nodes, m.slot_want, m.leaf_table, m.table)


def _leaf_covers(root: dict[str, Any]) -> list[tuple[float, list[float]]]:
    """For each leaf in :func:`_walk` order: its count and the cover ratio of each edge of its path."""
    out: list[tuple[float, list[float]]] = []
    stack: list[tuple[dict[str, Any], list[float]]] = [(root, [])]
    while stack:
        node, ratios = stack.pop()
        if "leaf_value" in node:
            out.append((_count(node), ratios))
            continue
        w = _count(node)
        stack.append((node["right_child"], [*ratios, _count(node["right_child"]) / w]))
        stack.append((node["left_child"], [*ratios, _count(node["left_child"]) / w]))
    return out


def _shapley_weights(dmax: int) -> np.ndarray:
    """w[d, s] = s! (d-1-s)! / d!"""
    w = np.zeros((dmax + 1, dmax + 1))
    for d in range(1, dmax + 1):
        for s in range(d):
            w[d, s] = math.factorial(s) * math.factorial(d - 1 - s) / math.factorial(d)
    return w


# ------------------------------------------------------------------------------------------ numba kernels
def _kernels() -> tuple[Any, Any, Any]:
    from riskml.explain import _kernels as k

    return k.build_tables, k.shap_rows, k.build_groups


_KERNELS: tuple[Any, Any, Any] | None = None


def _get_kernels() -> tuple[Any, Any, Any]:
    global _KERNELS
    if _KERNELS is None:
        _KERNELS = _kernels()
    return _KERNELS


_W = _shapley_weights(64)


def _tables(m: _Model) -> tuple[np.ndarray, np.ndarray]:
    sizes = np.where(m.leaf_d <= TABLE_MAX_D, (1 << np.minimum(m.leaf_d, TABLE_MAX_D)) * m.leaf_d, 0)
    leaf_table = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if len(sizes) else np.zeros(0, np.int64)
    table = np.zeros(int(sizes.sum()), dtype=np.float64)
    if len(sizes):
        if int(m.leaf_d.max()) > 63:
            raise UnsupportedModel("a leaf has more than 63 distinct features on its path")
        build_tables = _get_kernels()[0]
        build_tables(m.leaf_value, m.leaf_d, m.leaf_feat_start, m.leaf_z, leaf_table, table, TABLE_MAX_D, _W)
    return leaf_table, table


class PatternExplainer:
    """Exact path-dependent TreeSHAP by decision patterns (see the module docstring)."""

    name = "fast"

    def __init__(self, booster: Any, threads: int | None = None, min_rows_per_thread: int = 20_000):
        self.model = parse_model(booster.dump_model())
        self.threads = default_threads() if threads is None else max(1, int(threads))
        self.min_rows_per_thread = min_rows_per_thread

    def _run(self, X: np.ndarray, out: np.ndarray) -> None:
        m = self.model
        shap_rows = _get_kernels()[1]
        shap_rows(X, out, m.expected_value, m.tree_node_start, m.node_feature, m.node_threshold, m.node_categorical,
                  m.node_missing, m.node_default_left, m.node_cat_start, m.node_cat_len, m.cat_words,
                  m.tree_leaf_start, m.leaf_value, m.leaf_d, m.leaf_feat_start, m.leaf_feats, m.slot_nodes,
                  m.slot_want, m.leaf_z, m.leaf_table, m.table, TABLE_MAX_D, _W, m.node_nan_left, ROW_BLOCK,
                  m.tree_group_start, m.tree_loose_start, m.loose_leaves, m.group_key_start, m.group_keys,
                  m.group_union_start, m.group_union, m.group_table_off, m.group_table)

    def contributions_matrix(self, X: np.ndarray, overwrite: bool = False) -> np.ndarray:
        """Contributions of the rows of a float matrix (``overwrite``: ``X`` may be modified in place)."""
        X = np.asarray(X) if overwrite else np.array(X, dtype=np.float64, order="C")
        if X.dtype != np.float64 or not X.flags.c_contiguous or not X.flags.writeable:
            X = np.array(X, dtype=np.float64, order="C")
        # LightGBM's row parser reads |x| <= kZeroThreshold as a (sparse) zero
        X[(X >= -_ZERO) & (X <= _ZERO)] = 0.0  # (byte masks: no float temporary of X's size)
        if X.ndim != 2 or X.shape[1] != self.model.n_features:
            raise ValueError(f"expected a matrix of {self.model.n_features} feature columns; got shape {X.shape}")
        out = np.zeros((X.shape[0], X.shape[1] + 1), dtype=np.float64)
        threads = 1 if getattr(_LOCAL, "single", False) else self.threads
        parts = min(threads, max(1, X.shape[0] // self.min_rows_per_thread))
        if parts <= 1:
            self._run(X, out)
            return out
        bounds = np.linspace(0, X.shape[0], parts + 1).astype(int)
        with ThreadPoolExecutor(max_workers=parts, thread_name_prefix="riskml-shap") as pool:
            # the kernel holds no GIL: the parts run on separate cores
            list(pool.map(lambda i: self._run(X[bounds[i]:bounds[i + 1]], out[bounds[i]:bounds[i + 1]]), range(parts)))
        return out

    def contributions(self, X: pd.DataFrame) -> np.ndarray:
        return self.contributions_matrix(feature_matrix(X), overwrite=True)


# ------------------------------------------------------------------------------------------ choosing
def probe_frame(booster: Any, like: pd.DataFrame, rows: int = 400, seed: int = 0) -> pd.DataFrame:
    """Rows that exercise every split of ``booster``: each numeric column takes values on, just below and
    just above the model's thresholds, zero, NaN and random values from ``like``; categoricals take
    every level and missing. Same columns and dtypes as ``like`` (a prepared frame)."""
    rng = np.random.default_rng(seed)
    dump = booster.dump_model()
    thresholds: dict[int, list[float]] = {}

    def collect(node: dict[str, Any]) -> None:
        if "leaf_value" in node:
            return
        if node["decision_type"] == "<=":
            thresholds.setdefault(int(node["split_feature"]), []).append(float(node["threshold"]))
        collect(node["left_child"])
        collect(node["right_child"])

    for info in dump["tree_info"]:
        collect(info["tree_structure"])
    cols = {}
    for j, col in enumerate(like.columns):
        s = like[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            levels = [*list(s.cat.categories), None]
            vals = [levels[i] for i in rng.integers(0, len(levels), rows)]
            cols[col] = pd.Categorical(vals, categories=s.cat.categories)
            continue
        t = np.array(thresholds.get(j, []), dtype=np.float64)
        pool = [0.0, np.nan, -1e-36, 1e-36]
        if len(t):
            pool += [*t, *np.nextafter(t, np.inf), *np.nextafter(t, -np.inf)]
        observed = s.to_numpy(dtype=np.float64, na_value=np.nan)
        if len(observed):
            pool += list(observed[rng.integers(0, len(observed), min(len(observed), 50))])
        cols[col] = np.asarray(pool, dtype=np.float64)[rng.integers(0, len(pool), rows)]
    return pd.DataFrame(cols)


def parity(fast: Explainer, reference: Explainer, X: pd.DataFrame) -> float:
    """Largest absolute difference between the two explainers' contributions on ``X``."""
    a, b = fast.contributions(X), reference.contributions(X)
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def make_explainer(booster: Any, kind: str = "auto", like: pd.DataFrame | None = None,
                   threads: int | None = None) -> Explainer:
    """The explainer ``kind`` (``auto``, ``pred_contrib`` or ``fast``) for ``booster``. ``like`` (a prepared
    frame with the model's columns and dtypes) feeds the parity probe of ``auto``."""
    if kind not in EXPLAINERS:
        raise ValueError(f"explainer must be one of {', '.join(EXPLAINERS)}; got {kind!r}")
    reference = PredContribExplainer(booster)
    if kind == "pred_contrib":
        return reference
    try:
        fast = PatternExplainer(booster, threads=threads)
    except (UnsupportedModel, ImportError) as exc:
        if kind == "fast":
            raise
        log.warning("explainer: fast TreeSHAP not available for this model (%s); using pred_contrib", exc)
        return reference
    if kind == "fast" or like is None:
        return fast
    gap = parity(fast, reference, probe_frame(booster, like))
    if not gap <= PARITY_TOL:
        log.warning("explainer: fast TreeSHAP differs from pred_contrib by %.3g on the probe rows; using pred_contrib",
                    gap)
        return reference
    log.info("explainer: fast TreeSHAP (parity %.2g with pred_contrib)", gap)
    return fast


# ------------------------------------------------------------------------------------------ a model's explainer
# the explainers of each fitted model, by kind: built once per (model, kind), whichever thread asks first
_BY_MODEL: weakref.WeakKeyDictionary[Any, dict[str, Explainer]] = weakref.WeakKeyDictionary()
_BY_MODEL_LOCK = threading.Lock()


def explainer_for(model: Any, kind: str = "auto", like: pd.DataFrame | None = None) -> Explainer:
    """The explainer ``kind`` of a fitted model (a :class:`riskml.modeling.model.RiskModel`: ``booster_``,
    ``prepare``), built once per model and kind and then shared (thread-safe). ``like``: prepared rows
    for the parity probe of ``auto`` (default: none, the probe's own rows)."""
    with _BY_MODEL_LOCK:
        known = _BY_MODEL.setdefault(model, {})
        if kind not in known:
            known[kind] = make_explainer(model.booster_, kind, like=like)
        return known[kind]


def model_matrix(model: Any, X: pd.DataFrame) -> np.ndarray:
    """``feature_matrix(model.prepare(X))``, read straight from ``X`` when every model feature is a plain
    numeric column (no prepared frame, one copy); else through ``model.prepare``."""
    names = list(model.feature_names_)
    cats = getattr(model, "categories_", None) or {}
    if any(f in cats or f not in X.columns or X[f].dtype.kind not in "fiu" for f in names):
        return feature_matrix(model.prepare(X))
    out = np.asarray(X[names].to_numpy(dtype=np.float64))  # pandas copies its column blocks in one go
    return out if out.flags.c_contiguous and out.flags.writeable else np.array(out, dtype=np.float64, order="C")


def model_contributions(model: Any, X: pd.DataFrame, kind: str = "auto") -> tuple[np.ndarray, str]:
    """Contributions of a fitted model for the rows of ``X`` (any frame holding the model's features), by
    the back end ``kind`` (``auto``: the fast one when it matches ``pred_contrib`` on a probe of the model):
    (n, k + 1) in log-odds, the last column the expected value; and the back end's name."""
    explainer = _BY_MODEL.get(model, {}).get(kind)
    if explainer is None:
        explainer = explainer_for(model, kind, like=model.prepare(X.iloc[:200]))
    if isinstance(explainer, PatternExplainer):
        c = explainer.contributions_matrix(model_matrix(model, X), overwrite=True)
    else:
        c = np.asarray(explainer.contributions(model.prepare(X)), dtype=np.float64)
    return c, explainer.name


def pd_and_contributions(model: Any, X: pd.DataFrame, kind: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Calibrated PD and contributions in one pass: the raw score is the row sum of the contributions (exact
    TreeSHAP adds up to the booster's raw score), so there is no second tree walk."""
    c, _ = model_contributions(model, X, kind)
    return model.pd_from_raw(c.sum(axis=1), X), c


def explainer_name(model: Any, kind: str = "auto") -> str:
    """The back end ``kind`` resolved to for ``model`` (``fast`` or ``pred_contrib``; ``kind`` itself until
    the first contributions call decided it)."""
    explainer = _BY_MODEL.get(model, {}).get(kind)
    return explainer.name if explainer is not None else kind
