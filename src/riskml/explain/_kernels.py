"""The numba kernels of :mod:`riskml.explain.explainer` (a module of their own so that numba is imported
only when the fast explainer is used, and its on-disk cache of compiled code works: module-level
functions)."""

# ruff: noqa: ANN001, ANN202

from __future__ import annotations

import numba
import numpy as np


@numba.njit(nogil=True, cache=True)
def leaf_phi(v: float, z: np.ndarray, o: np.ndarray, d: int, w: np.ndarray, out: np.ndarray) -> None:
    """out[i] = v (o_i - z_i) sum_s w[d, s] [t^s] prod_{j != i} (z_j + o_j t)."""
    poly = np.empty(d + 1)
    for i in range(d):
        poly[0] = 1.0
        deg = 0
        for j in range(d):
            if j == i:
                continue
            # multiply by (z_j + o_j t)
            poly[deg + 1] = 0.0
            for s in range(deg + 1, 0, -1):
                poly[s] = poly[s] * z[j] + poly[s - 1] * o[j]
            poly[0] = poly[0] * z[j]
            deg += 1
        acc = 0.0
        for s in range(d):
            acc += w[d, s] * poly[s]
        out[i] = v * (o[i] - z[i]) * acc


@numba.njit(nogil=True, cache=True)
def build_tables(leaf_value, leaf_d, leaf_feat_start, leaf_z, leaf_table, table, tmax, w):  # noqa: ANN001, ANN202
    o = np.empty(64)
    out = np.empty(64)
    for leaf in range(len(leaf_value)):
        d = leaf_d[leaf]
        if d > tmax:
            continue
        z = leaf_z[leaf_feat_start[leaf] : leaf_feat_start[leaf] + d]
        base = leaf_table[leaf]
        for pattern in range(1 << d):
            for j in range(d):
                o[j] = 1.0 if (pattern >> j) & 1 else 0.0
            leaf_phi(leaf_value[leaf], z, o, d, w, out)
            for j in range(d):
                table[base + pattern * d + j] = out[j]


@numba.njit(nogil=True, cache=True)
def build_groups(
    key_start,
    keys,
    leaf_start,
    g_leaves,
    union_start,
    table_off,
    gtable,  # noqa: ANN001, ANN202
    leaf_union_pos,
    leaf_d,
    leaf_feat_start,
    slot_nodes,
    slot_want,
    leaf_table,
    table,
):
    for g in range(len(key_start) - 1):
        nb = key_start[g + 1] - key_start[g]
        nu = union_start[g + 1] - union_start[g]
        for kappa in range(1 << nb):
            word = 0
            for i in range(nb):
                if (kappa >> i) & 1:
                    word |= np.int64(1) << keys[key_start[g] + i]
            row = table_off[g] + kappa * nu
            for li in range(leaf_start[g], leaf_start[g + 1]):
                leaf = g_leaves[li]
                d = leaf_d[leaf]
                fs = leaf_feat_start[leaf]
                mask = 0
                for j in range(d):
                    if (word & slot_nodes[fs + j]) == slot_want[fs + j]:
                        mask |= 1 << j
                base = leaf_table[leaf] + mask * d
                for j in range(d):
                    gtable[row + leaf_union_pos[fs + j]] += table[base + j]


@numba.njit(nogil=True, cache=True)
def shap_rows(
    X,
    out,
    expected,
    tree_node_start,
    node_feature,
    node_threshold,
    node_categorical,  # noqa: ANN001, ANN202
    node_missing,
    node_default_left,
    node_cat_start,
    node_cat_len,
    cat_words,
    tree_leaf_start,
    leaf_value,
    leaf_d,
    leaf_feat_start,
    leaf_feats,
    slot_nodes,
    slot_want,
    leaf_z,
    leaf_table,
    table,
    tmax,
    w,
    node_nan_left,
    block,
    tree_group_start,
    tree_loose_start,
    loose_leaves,
    group_key_start,
    group_keys,
    group_union_start,
    group_union,
    group_table_off,
    group_table,
):
    n, k = X.shape
    bits = np.zeros(block, dtype=np.int64)
    masks = np.zeros(block, dtype=np.int64)
    acc = np.zeros((k, block))  # contributions of the block, feature-major (contiguous per feature)
    xt = np.empty((k, block))  # the block's figures, feature-major: a node reads one contiguous row
    o = np.empty(64)
    tmp = np.empty(64)
    n_trees = len(tree_node_start) - 1
    # tree-major over blocks of rows: one tree's nodes and tables stay in cache while a block goes through
    for b0 in range(0, n, block):
        b1 = min(n, b0 + block)
        m = b1 - b0
        acc[:, :] = 0.0
        for r in range(m):
            for j in range(k):
                xt[j, r] = X[b0 + r, j]
        for t in range(n_trees):
            n0 = tree_node_start[t]
            bits[:m] = 0
            # node by node over the block's rows: the node's parameters are loaded once and the loop over
            # rows has no branch on the data (it vectorises)
            for q in range(tree_node_start[t + 1] - n0):
                g = n0 + q
                xs = xt[node_feature[g]]
                if node_categorical[g]:
                    cs, cl = node_cat_start[g], node_cat_len[g]
                    for r in range(m):
                        fval = xs[r]
                        left = False
                        if not np.isnan(fval):
                            c = int(fval)
                            if c >= 0 and (c >> 5) < cl:
                                left = (cat_words[cs + (c >> 5)] >> np.uint32(c & 31)) & np.uint32(1) == 1
                        bits[r] |= np.int64(left) << q
                else:
                    # a NaN compares False and takes the node's NaN side; under missing_type Zero a zero takes
                    # the default side
                    thr, nan_left, dflt = node_threshold[g], node_nan_left[g], node_default_left[g]
                    if node_missing[g] == 1:
                        for r in range(m):
                            fval = xs[r]
                            left = (fval <= thr) | (np.isnan(fval) & nan_left)
                            z = fval == 0.0
                            left = (left & ~z) | (z & dflt)
                            bits[r] |= np.int64(left) << q
                    else:
                        for r in range(m):
                            fval = xs[r]
                            left = (fval <= thr) | (np.isnan(fval) & nan_left)
                            bits[r] |= np.int64(left) << q
            for g in range(tree_group_start[t], tree_group_start[t + 1]):
                ks, nb = group_key_start[g], group_key_start[g + 1] - group_key_start[g]
                us, nu = group_union_start[g], group_union_start[g + 1] - group_union_start[g]
                for r in range(m):
                    word = bits[r]
                    key = 0
                    for i in range(nb):
                        key |= ((word >> group_keys[ks + i]) & 1) << i
                    masks[r] = key
                base = group_table_off[g]
                for u in range(nu):
                    row = acc[group_union[us + u]]
                    for r in range(m):
                        row[r] += group_table[base + masks[r] * nu + u]
            for li in range(tree_loose_start[t], tree_loose_start[t + 1]):
                leaf = loose_leaves[li]
                d = leaf_d[leaf]
                fs = leaf_feat_start[leaf]
                for r in range(m):
                    word = bits[r]
                    mask = 0
                    for j in range(d):
                        if (word & slot_nodes[fs + j]) == slot_want[fs + j]:
                            mask |= 1 << j
                    masks[r] = mask
                if d <= tmax:
                    base = leaf_table[leaf]
                    for j in range(d):
                        row = acc[leaf_feats[fs + j]]
                        for r in range(m):
                            row[r] += table[base + masks[r] * d + j]
                else:
                    for r in range(m):
                        for j in range(d):
                            o[j] = 1.0 if (masks[r] >> j) & 1 else 0.0
                        leaf_phi(leaf_value[leaf], leaf_z[fs : fs + d], o, d, w, tmp)
                        for j in range(d):
                            acc[leaf_feats[fs + j], r] += tmp[j]
        for j in range(k):
            for r in range(m):
                out[b0 + r, j] += acc[j, r]
        for r in range(b0, b1):
            out[r, k] = expected


@numba.njit(nogil=True, cache=True)
def select_reasons(c, values, check, side, med, no_strength, perm, bounds, n_slots, min_contribution,
                   slot_feat, slot_pos):
    """The reasons of :func:`riskml.explain.reasons.reason_codes`, row by row in one pass (the same
    arithmetic, in the same order, as its numpy reference ``_select_numpy``).

    ``c`` (n, >= k) contributions; ``values`` (k, n) the features' figures (NaN unknown); per feature:
    ``check`` whether its side is checked against ``med`` with ``side`` (+1/-1), ``no_strength`` whether it
    may never be a strength (flags); ``perm`` the features grouped by family, ``bounds`` the families'
    ranges in ``perm``. Writes ``slot_feat`` (n, n_slots; -1 empty) and ``slot_pos`` (favourable)."""
    n = c.shape[0]
    nf = len(bounds) - 1
    fam_net = np.empty(nf)
    fam_down = np.empty(nf)
    best_hi = np.empty(nf, dtype=np.int64)
    best_hi_val = np.empty(nf)
    best_lo = np.empty(nf, dtype=np.int64)
    adverse = np.empty(nf, dtype=np.bool_)
    taken = np.empty(nf, dtype=np.bool_)
    for r in range(n):
        n_adverse = 0
        for f in range(nf):
            a, b = bounds[f], bounds[f + 1]
            su = 0.0
            sn = 0.0
            sd = 0.0
            hi_val = -np.inf
            hi = perm[a]
            lo_val = np.inf
            lo = perm[a]
            for q in range(a, b):
                j = perm[q]
                x = c[r, j]
                adverse_ok = True
                strength_ok = not no_strength[j]
                if check[j]:
                    v = values[j, r]
                    if np.isfinite(v):
                        d = (v - med[j]) * side[j]
                        adverse_ok = d > 0
                        strength_ok = strength_ok and d <= 0
                up = x if x > 0.0 else 0.0
                if not adverse_ok:
                    up = 0.0
                neg = x if x < 0.0 else 0.0
                down = neg if strength_ok else 0.0
                if up > hi_val:
                    hi_val = up
                    hi = j
                if down < lo_val:
                    lo_val = down
                    lo = j
                su += up
                sn += neg
                sd += down
            fam_net[f] = su + sn
            fam_down[f] = sd
            best_hi[f] = hi
            best_hi_val[f] = hi_val
            best_lo[f] = lo
            adverse[f] = (su + sn > min_contribution) and (hi_val > min_contribution)
            if adverse[f]:
                n_adverse += 1
        for s in range(n_slots):
            slot_feat[r, s] = -1
            slot_pos[r, s] = False
        if n_adverse > 0:
            taken[:] = False
            for s in range(min(n_slots, n_adverse)):
                pick = -1
                for f in range(nf):
                    if adverse[f] and not taken[f] and (pick < 0 or fam_net[f] > fam_net[pick]):
                        pick = f
                taken[pick] = True
                slot_feat[r, s] = best_hi[pick]
        else:
            taken[:] = False
            for s in range(min(n_slots, nf)):
                pick = -1
                for f in range(nf):
                    if not taken[f] and (pick < 0 or fam_down[f] < fam_down[pick]):
                        pick = f
                taken[pick] = True
                if fam_down[pick] < -min_contribution:
                    slot_feat[r, s] = best_lo[pick]
                    slot_pos[r, s] = True
