"""The numba kernel of :mod:`riskml.data.keys` (a module of its own so that numba is imported only when a
large lookup takes the fast path, and its on-disk cache of compiled code works)."""

# ruff: noqa: ANN001, ANN202

from __future__ import annotations

import numba
import numpy as np


@numba.njit(nogil=True, cache=True)
def fixed_form_numbers(offs, data, valid, width, const, fixed, out):
    """out[i] = the number in the varying digits of string i (offsets ``offs`` into bytes ``data``), or -1
    when it is missing (``valid`` empty = none missing), not ``width`` bytes long, differs from ``fixed``
    in a constant column or holds a non-digit in a varying one."""
    check_valid = len(valid) > 0
    for i in range(len(out)):
        out[i] = -1
        if check_valid and not valid[i]:
            continue
        s = offs[i]
        if offs[i + 1] - s != width:
            continue
        num = np.int64(0)
        ok = True
        for j in range(width):
            b = np.int64(data[s + j])
            if const[j]:
                if b != fixed[j]:
                    ok = False
                    break
            else:
                d = b - 48
                if d < 0 or d > 9:
                    ok = False
                    break
                num = num * 10 + d
        if ok:
            out[i] = num


@numba.njit(nogil=True, cache=True)
def look_up(nums, table, lo, out):
    """out[i] = table[nums[i] - lo] where that is inside the table, else -1 (nums of -1 stay -1)."""
    n_table = len(table)
    for i in range(len(out)):
        x = nums[i]
        out[i] = -1
        if x >= lo and x - lo < n_table:
            out[i] = table[x - lo]


@numba.njit(nogil=True, cache=True)
def first_rows(nums, lo, span):
    """table[x - lo] = the first row whose number is x (-1: none)."""
    table = np.full(span, -1, np.int64)
    for i in range(len(nums)):
        j = nums[i] - lo
        if table[j] < 0:
            table[j] = i
    return table
