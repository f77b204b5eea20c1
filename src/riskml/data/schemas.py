"""Pandera schemas of the ledger tables, compiled from the rule table of :mod:`riskml.data.rules`.

The validator (:mod:`riskml.data.validate`) first parses each file's text into typed columns
(reporting cells it cannot parse), then checks the typed frame against the table's schema here with
``lazy=True`` so that every failing cell is collected in one pass. Each pandera check is one
:class:`~riskml.data.rules.Check`, named after its rule: the name is what a user sees in the rejects
file and in ``docs/data-contract.md``.

Typed frames seen by the schemas: ids and text ``str`` (missing = NA), amounts and other numbers
``float64`` (``payment_terms_days`` too, so that ``30.5`` can be reported rather than truncated),
dates ``datetime64[ns]``, ``disputed`` the nullable ``boolean``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from riskml.data.contract import TABLES
from riskml.data.rules import CHECKS, MAX_AMOUNT, RULES, Check, checks_of

with warnings.catch_warnings():
    # pandera imports pyspark when it is installed, which warns about pandas 3 on every command
    warnings.simplefilter("ignore", FutureWarning)
    import pandera.pandas as pa

__all__ = ["MAX_AMOUNT", "RULES", "WIDE_CHECK_COLUMN", "pandera_check", "rule_of", "schema_failures", "table_schema"]

# pandera's own name for an empty value in a non-nullable column
_PANDERA_NAMES = {"not_nullable": "missing_value"}

# a wide (row-level) check's failures are reported against its column
WIDE_CHECK_COLUMN = {c.rule: c.column for c in CHECKS if c.op == "not_before"}

_DTYPES = {
    "id": "str",
    "string": "str",
    "number": "float64",
    "integer": "float64",
    "date": "datetime64[ns]",
    "bool": "boolean",
}


def rule_of(pandera_check: str) -> str:
    """Our rule name for a pandera failure's ``check`` (a check we named, or a pandera built-in)."""
    name = _PANDERA_NAMES.get(pandera_check, pandera_check)
    if name not in RULES:
        raise RuntimeError(f"pandera reported a check riskml does not know: {pandera_check!r}")
    return name


# ------------------------------------------------------------------------------- the operations, in pandas
def _strictly_increasing(s: pd.Series) -> bool:
    """True when ``s`` has no missing value and each value sorts after the one before (then no value
    repeats): a cheap proof of uniqueness for the many exports sorted by their key."""
    arr = s.array
    if len(s) < 2 or not hasattr(arr, "__arrow_array__") or s.hasnans:
        return False
    import pyarrow.compute as pc

    a = arr.__arrow_array__()  # chunked: compared chunk by chunk, without a copy
    return bool(pc.all(pc.less(a[:-1], a[1:])).as_py())


def _unique(s: pd.Series, _: Any) -> pd.Series:
    if _strictly_increasing(s):
        return pd.Series(True, index=s.index)
    return ~s.duplicated(keep="first") | s.isna()


# operation -> passes(values, argument); NaN/NaT compare False, so each is written to let them pass
# (an empty value is missing_value's business, a value that did not parse its parse rule's)
PANDAS_OPS: dict[str, Callable[[Any, Any], pd.Series]] = {
    "unique": _unique,
    "gt": lambda s, a: ~(s <= a),
    "ge": lambda s, a: ~(s < a),
    "le": lambda s, a: ~(s > a),
    "whole_gt": lambda s, a: ~((s <= a) | (np.floor(s) != s)) | s.isna(),
    "isin": lambda s, a: s.isin(a) | s.isna(),
    "not_after": lambda s, a: ~(s > a),
}


def pandera_check(check: Check, arg: Any) -> pa.Check:
    """``check`` with its resolved argument as a pandera check named after its rule (no ``error=`` text:
    pandera would report it instead of the name)."""
    if check.op == "not_before":  # a wide check: two columns of one row
        column, other = check.column, arg
        return pa.Check(lambda df: ~(df[column] < df[other]), name=check.rule)
    passes = PANDAS_OPS[check.op]
    return pa.Check(lambda s: passes(s, arg), name=check.rule)


@lru_cache(maxsize=64)
def table_schema(table: str, extras: tuple[tuple[str, str], ...] = (),
                 params: tuple[tuple[str, Any], ...] = ()) -> pa.DataFrameSchema:
    """The schema of a typed ``table`` frame; ``extras`` are declared customer attributes as
    ``(column, "numeric" | "categorical")`` pairs (customers only), both optional and nullable;
    ``params`` the values of the rules' parameters (:func:`riskml.data.rules.rule_params`)."""
    spec = TABLES[table]
    checks = checks_of(table, dict(params))
    columns: dict[str, pa.Column] = {}
    for col in spec.columns:
        columns[col.name] = pa.Column(
            _DTYPES[col.type],
            checks=[pandera_check(c, a) for c, a in checks if c.column == col.name and c.op != "not_before"],
            nullable=col.nullable or not col.required,
            required=True,
        )
    for name, kind in extras:
        if name in columns:  # a contract column declared as a feature keeps its contract type
            continue
        columns[name] = pa.Column("float64" if kind == "numeric" else "str", nullable=True)
    wide = [pandera_check(c, a) for c, a in checks if c.op == "not_before"]
    return pa.DataFrameSchema(columns, checks=wide, name=table, strict=False, coerce=False)


def schema_failures(table: str, frame: pd.DataFrame, extras: tuple[tuple[str, str], ...] = (),
                    params: tuple[tuple[str, Any], ...] = ()) -> pd.DataFrame:
    """Every failing cell of a typed ``frame`` (RangeIndex) as ``pos, column, rule`` rows.

    Wide checks are attributed to one column (:data:`WIDE_CHECK_COLUMN`), one row per failing row."""
    try:
        with warnings.catch_warnings():
            # pandera's first validation imports pyspark.pandas when pyspark is installed (a FutureWarning)
            warnings.filterwarnings("ignore", message=".*PySpark", category=FutureWarning)
            # inplace: nothing is coerced, and a copy of a 10-million-row frame is not free
            table_schema(table, extras, params).validate(frame, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    else:
        return pd.DataFrame({"pos": pd.Series([], dtype="int64"), "column": pd.Series([], dtype="str"),
                             "rule": pd.Series([], dtype="str")})
    whole = fc.loc[fc["index"].isna()]
    if len(whole):  # a failure of a whole column (e.g. its dtype) means the parser is wrong, not the data
        raise RuntimeError(f"pandera rejected whole columns of the typed {table} frame (a riskml bug): "
                           f"{whole[['column', 'check']].to_dict('records')}")
    rules = fc["check"].astype(str).map(rule_of)
    wide = fc["schema_context"].astype(str).eq("DataFrameSchema")
    column = fc["column"].astype("str").where(~wide, rules.map(WIDE_CHECK_COLUMN))
    out = pd.DataFrame({"pos": fc["index"].astype("int64").to_numpy(), "column": column.to_numpy(),
                        "rule": rules.to_numpy()})
    return out.drop_duplicates().sort_values(["pos", "column"], kind="stable").reset_index(drop=True)
