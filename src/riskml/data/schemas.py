"""Pandera schemas of the ledger tables, and the names of every validation rule.

The validator (:mod:`riskml.data.validate`) first parses each file's text into typed columns
(reporting cells it cannot parse), then checks the typed frame against the table's schema here with
``lazy=True`` so that every failing cell is collected in one pass. Each check is named after the rule
it enforces; those names are what a user sees in the rejects file and in ``docs/data-contract.md``.

Typed frames seen by the schemas: ids and text ``str`` (missing = NA), amounts and other numbers
``float64`` (``payment_terms_days`` too, so that ``30.5`` can be reported rather than truncated),
dates ``datetime64[ns]``, ``disputed`` the nullable ``boolean``.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd

from riskml.data.contract import ADJUSTMENT_KINDS, TABLES, Column

with warnings.catch_warnings():
    # pandera imports pyspark when it is installed, which warns about pandas 3 on every command
    warnings.simplefilter("ignore", FutureWarning)
    import pandera.pandas as pa

# the largest amount or credit limit accepted (in the file's units): above any real invoice in any currency,
# and small enough that the feature engine's exact running sums (int64 in units of 1/10,000) hold 922 rows
# of this size per customer; beyond that the engine falls back to exact big-integer sums (no wrong figure)
MAX_AMOUNT = 1e12

# rule name -> what it rejects (the rejects file and docs/data-contract.md use these names)
RULES: dict[str, str] = {
    "malformed_row": "a CSV line with more or fewer fields than the header",
    "missing_value": "a required value is empty",
    "unparseable_date": "a date that is not ISO 8601 (YYYY-MM-DD) or the declared date_format, or lies "
    "outside 1900-2199",
    "not_a_number": "an amount, limit, term or numeric attribute that is not a finite number",
    "not_a_boolean": "a disputed flag that is not one of true/false, yes/no, y/n, 1/0",
    "amount_not_positive": "an amount that is zero or negative",
    "amount_too_large": "an amount or credit limit above 1,000,000,000,000 (MAX_AMOUNT; check the unit)",
    "negative_credit_limit": "a credit limit below zero",
    "negative_insured_limit": "an insured limit below zero",
    "invalid_payment_terms": "payment terms that are not a whole number of days above zero",
    "unknown_kind": f"an adjustment kind other than {', '.join(ADJUSTMENT_KINDS)}",
    "duplicate_id": "a second (third, ...) row with the same key; the first occurrence is kept",
    "due_before_invoice": "an invoice due before it was issued",
    "currency_without_rate": "a currency that is neither base_currency nor in fx_rates (checked when "
    "base_currency is set)",
    "future_date": "an event dated after the data's as-of date",
    "unknown_customer": "a customer_id that is not in the customer master",
    "customer_rejected": "a customer_id whose customer-master row was rejected",
    "unknown_invoice": "a payment or adjustment applied to an invoice_id not in the invoices",
    "invoice_rejected": "a payment or adjustment applied to an invoice that was rejected",
    "customer_mismatch": "a payment or adjustment whose customer_id differs from its invoice's",
    "payment_before_invoice": "a payment or adjustment dated before its invoice",
    "overpayment": "a payment or adjustment that takes the amount applied to an invoice above "
    "amount x (1 + overpayment_tolerance_pct) + overpayment_tolerance_abs",
}

# pandera's own name for an empty value in a non-nullable column
_PANDERA_NAMES = {"not_nullable": "missing_value"}

# a wide (row-level) check's failures are reported against this column
WIDE_CHECK_COLUMN = {"due_before_invoice": "due_date"}

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


# ----------------------------------------------------------------------------------------- the checks
def _strictly_increasing(s: pd.Series) -> bool:
    """True when ``s`` has no missing value and each value sorts after the one before (then no value
    repeats): a cheap proof of uniqueness for the many exports sorted by their key."""
    arr = s.array
    if len(s) < 2 or not hasattr(arr, "__arrow_array__") or s.hasnans:
        return False
    import pyarrow.compute as pc

    a = arr.__arrow_array__()  # chunked: compared chunk by chunk, without a copy
    return bool(pc.all(pc.less(a[:-1], a[1:])).as_py())


def _not_duplicated(s: pd.Series) -> pd.Series:
    if _strictly_increasing(s):
        return pd.Series(True, index=s.index)
    return ~s.duplicated(keep="first") | s.isna()


def _positive(s: pd.Series) -> pd.Series:
    return s > 0


def _not_too_large(s: pd.Series) -> pd.Series:
    return s <= MAX_AMOUNT


def _non_negative(s: pd.Series) -> pd.Series:
    return s >= 0


def _positive_whole(s: pd.Series) -> pd.Series:
    return (s > 0) & (np.floor(s) == s)


def _known_kind(s: pd.Series) -> pd.Series:
    return s.isin(ADJUSTMENT_KINDS)


def _due_not_before_invoice(df: pd.DataFrame) -> pd.Series:
    # NaT compares False: a missing or unparseable date is reported by its own rule
    return ~(df["due_date"] < df["invoice_date"])


def _column_checks(table: str, col: Column) -> list[pa.Check]:
    # no ``error=`` text: pandera reports that text instead of the name, and the name is the rule
    checks: list[pa.Check] = []
    if col.name == TABLES[table].key:
        checks.append(pa.Check(_not_duplicated, name="duplicate_id"))
    if col.name == "amount":
        checks.append(pa.Check(_positive, name="amount_not_positive"))
        checks.append(pa.Check(_not_too_large, name="amount_too_large"))
    elif col.name == "credit_limit":
        checks.append(pa.Check(_non_negative, name="negative_credit_limit"))
        checks.append(pa.Check(_not_too_large, name="amount_too_large"))
    elif col.name == "insured_limit":
        checks.append(pa.Check(_non_negative, name="negative_insured_limit"))
    elif col.name == "payment_terms_days":
        checks.append(pa.Check(_positive_whole, name="invalid_payment_terms"))
    elif table == "adjustments" and col.name == "kind":
        checks.append(pa.Check(_known_kind, name="unknown_kind"))
    return checks


@lru_cache(maxsize=64)
def table_schema(table: str, extras: tuple[tuple[str, str], ...] = ()) -> pa.DataFrameSchema:
    """The schema of a typed ``table`` frame; ``extras`` are declared customer attributes as
    ``(column, "numeric" | "categorical")`` pairs (customers only), both optional and nullable."""
    spec = TABLES[table]
    columns: dict[str, pa.Column] = {}
    for col in spec.columns:
        columns[col.name] = pa.Column(
            _DTYPES[col.type],
            checks=_column_checks(table, col),
            nullable=col.nullable or not col.required,
            required=True,
        )
    for name, kind in extras:
        if name in columns:  # a contract column declared as a feature keeps its contract type
            continue
        columns[name] = pa.Column("float64" if kind == "numeric" else "str", nullable=True)
    wide = []
    if table == "invoices":
        wide.append(pa.Check(_due_not_before_invoice, name="due_before_invoice"))
    return pa.DataFrameSchema(columns, checks=wide, name=table, strict=False, coerce=False)


def schema_failures(table: str, frame: pd.DataFrame, extras: tuple[tuple[str, str], ...] = ()) -> pd.DataFrame:
    """Every failing cell of a typed ``frame`` (RangeIndex) as ``pos, column, rule`` rows.

    Wide checks are attributed to one column (:data:`WIDE_CHECK_COLUMN`), one row per failing row."""
    try:
        with warnings.catch_warnings():
            # pandera's first validation imports pyspark.pandas when pyspark is installed (a FutureWarning)
            warnings.filterwarnings("ignore", message=".*PySpark", category=FutureWarning)
            # inplace: nothing is coerced, and a copy of a 10-million-row frame is not free
            table_schema(table, extras).validate(frame, lazy=True, inplace=True)
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
