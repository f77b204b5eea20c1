"""The rule declarations shared by the pandas and the Spark validator, without Spark: the rule table
compiles to both engines, the column mapping, the overpayment cap and the verdict on worked examples.
(The two engines on the same hostile ledgers: ``tests/spark/test_tables.py``.)"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskml.config import DataConfig
from riskml.data.contract import TABLES
from riskml.data.rules import (
    CHECKS,
    OPERATIONS,
    RULES,
    Param,
    checks_of,
    ledger_verdict,
    overpaid,
    resolve_columns,
    rule_params,
    why_text,
)
from riskml.data.schemas import PANDAS_OPS, WIDE_CHECK_COLUMN, table_schema


def test_every_check_names_a_known_rule_table_column_and_operation() -> None:
    for c in CHECKS:
        assert c.rule in RULES and c.message == RULES[c.rule]
        assert c.column in TABLES[c.table].column_names
        assert c.op in OPERATIONS
        if c.op == "not_before":
            assert c.arg in TABLES[c.table].column_names
    # every table's key is unique; every amount positive
    assert {(c.table, c.column) for c in CHECKS if c.op == "unique"} == {(t.name, t.key) for t in TABLES.values()}
    assert {c.table for c in CHECKS if c.rule == "amount_not_positive"} == {
        t.name for t in TABLES.values() if "amount" in t.column_names}


def test_both_engines_compile_every_operation() -> None:
    from riskml.spark.tables import SPARK_OPS  # imports no pyspark

    # pandas: a function per operation but not_before (a check of the whole row); Spark: all but unique (a window)
    assert set(PANDAS_OPS) == set(OPERATIONS) - {"not_before"}
    assert set(SPARK_OPS) == set(OPERATIONS) - {"unique"}


@pytest.mark.parametrize("table", list(TABLES))
def test_the_pandera_schema_holds_each_check_once(table: str) -> None:
    params = (("as_of", pd.Timestamp("2026-09-30")), ("currencies", ("EUR", "GBP")))
    schema = table_schema(table, (), params)
    got = sorted([(col, ch.name) for col, spec in schema.columns.items() for ch in spec.checks]
                 + [(WIDE_CHECK_COLUMN[ch.name], ch.name) for ch in schema.checks])
    assert got == sorted((c.column, c.rule) for c, _ in checks_of(table, dict(params)))


def test_a_check_whose_parameter_is_not_set_is_not_applied() -> None:
    rules = {c.rule for c, _ in checks_of("invoices", rule_params(DataConfig()))}
    assert "future_date" not in rules and "currency_without_rate" not in rules
    params = rule_params(DataConfig(as_of="2026-09-30", base_currency=" eur", fx_rates={"gbp": 1.15}))
    assert params == {"as_of": pd.Timestamp("2026-09-30"), "currencies": ("EUR", "GBP")}
    resolved = {(c.rule, c.column): a for c, a in checks_of("invoices", params)}
    assert resolved[("currency_without_rate", "currency")] == ("EUR", "GBP")
    assert resolved[("future_date", "invoice_date")] == pd.Timestamp("2026-09-30")
    assert ("future_date", "due_date") not in resolved  # a due date lies in the future by nature
    assert all(not isinstance(a, Param) for a in resolved.values())


def test_the_pandas_operations_let_empty_values_pass() -> None:
    s = pd.Series([np.nan, -1.0, 0.0, 2.5, 3.0])
    assert PANDAS_OPS["gt"](s, 0.0).tolist() == [True, False, False, True, True]
    assert PANDAS_OPS["ge"](s, 0.0).tolist() == [True, False, True, True, True]
    assert PANDAS_OPS["whole_gt"](s, 0.0).tolist() == [True, False, False, False, True]
    ids = pd.Series(["a", None, "b", "a", None], dtype="str")
    assert PANDAS_OPS["unique"](ids, None).tolist() == [True, True, True, False, True]
    assert PANDAS_OPS["isin"](ids, ("a",)).tolist() == [True, True, False, True, True]


# ---------------------------------------------------------------------------------------- the mapping
def test_a_mapped_column_feeds_its_field_and_may_feed_two() -> None:
    header = ["invoiceNumber", "kunnr", "paid_on", "amount", "x"]
    found = resolve_columns(header, {"payment_id": "invoiceNumber", "invoice_id": "invoiceNumber",
                                     "customer_id": "kunnr", "payment_date": "paid_on"},
                            table="payments", where="p.csv")
    assert found.problems == []
    assert found.source == {"payment_id": "invoiceNumber", "invoice_id": "invoiceNumber", "customer_id": "kunnr",
                            "payment_date": "paid_on", "amount": "amount"}
    assert found.warnings == ["p.csv: columns ignored (not in the contract, not declared as extra attributes): x"]


def test_a_mapped_column_missing_from_the_file_falls_back_with_a_warning_or_is_a_problem() -> None:
    header = ["invoice_id", "customer_id", "invoice_date", "due_date", "amount"]
    found = resolve_columns(header, {"amount": "DMBTR"}, table="invoices", where="i.csv")
    assert found.problems == [] and found.source["amount"] == "amount"
    assert found.warnings == ["i.csv: column_map.invoices.amount names column 'DMBTR', which is not in the file; "
                              "its column 'amount' is used"]
    found = resolve_columns(header[:-1], {"amount": "DMBTR"}, table="invoices", where="i.csv")
    assert found.problems == [f"i.csv: column_map.invoices.amount names column 'DMBTR', which is not in the file "
                              f"(its columns: {header[:-1]})"]  # and not reported a second time as missing


def test_a_column_of_our_name_gives_way_to_the_mapped_one() -> None:
    found = resolve_columns(["customer_id", "limit", "credit_limit", "payment_terms_days"],
                            {"credit_limit": "limit"}, table="customers", where="c.csv")
    assert found.source["credit_limit"] == "limit"
    assert found.warnings == ["c.csv: columns ignored because column_map maps other columns to these names: "
                              "credit_limit (column_map uses 'limit')"]


def test_missing_required_columns_extras_and_what_the_config_provides() -> None:
    found = resolve_columns(["customer_id;credit_limit"], {}, table="customers", where="c.csv",
                            extras=["segment"], delimiter=",")
    assert found.problems[0].startswith("c.csv: required column 'customer_id' is missing; the file has "
                                        "['customer_id;credit_limit'] (the header holds ';'")
    assert found.problems[-1] == ("c.csv: extra attribute 'segment' declared in the data config is not a column "
                                  "of the customer master")
    found = resolve_columns(["customer_id", "credit_limit"], {}, table="customers", where="c.csv",
                            provided=["payment_terms_days"])
    assert found.problems == [] and "payment_terms_days" not in found.source


# ------------------------------------------------------------------------------------- the overpayment
def test_overpaid_takes_events_by_date_then_payments_then_reading_order() -> None:
    # one invoice of cap 100: 60 (day 2), 50 (day 1, adjustment), 50 (day 1, payment), 40 (day 3)
    # order: day 1 payment 50 (50), day 1 adjustment 50 (100), day 2 60 -> over, rejected, day 3 40 -> over
    got = overpaid(invoice=np.array([7, 7, 7, 7]), day=np.array([2, 1, 1, 3]), src=np.array([0, 1, 0, 0]),
                   row=np.array([0, 0, 1, 2]), amount=np.array([60.0, 50.0, 50.0, 40.0]), cap=np.full(4, 100.0))
    assert got.tolist() == [True, False, False, True]
    # a rejected event is not counted: a later one that fits is accepted; an invoice within its cap is untouched
    got = overpaid(invoice=np.array([1, 1, 1, 2]), day=np.array([1, 2, 3, 1]), src=np.zeros(4), row=np.arange(4),
                   amount=np.array([90.0, 20.0, 10.0, 5.0]), cap=np.array([100.0, 100.0, 100.0, 5.0]))
    assert got.tolist() == [False, True, False, False]
    assert overpaid(*(np.zeros(0) for _ in range(6))).tolist() == []


# --------------------------------------------------------------------------------------------- the verdict
def _summary(rows: list[tuple[str, int, int]]) -> pd.DataFrame:
    return pd.DataFrame([{"table": t, "file": f"d/{t}.csv", "read": r, "accepted": a} for t, r, a in rows])


def test_verdict_of_a_usable_ledger_with_an_optional_table_all_rejected() -> None:
    problems, warnings = ledger_verdict(
        _summary([("customers", 3, 3), ("invoices", 0, 0), ("payments", 0, 0), ("orders", 2, 0)]),
        why={"orders": why_text([("amount_not_positive", "amount", 2)])}, hints={"customers": ["set date_format"]})
    assert problems == []
    assert warnings == [
        "d/customers.csv: set date_format",
        "d/orders.csv: every row rejected (amount_not_positive 2 in amount); the ledger is used without orders",
        "no invoices: every customer is scored on the customer master alone (thin file)",
    ]


def test_verdict_of_unusable_ledgers() -> None:
    why = why_text([("not_a_number", "credit_limit", 1), ("missing_value", "customer_id", 2),
                    ("malformed_row", None, 2)])
    assert why == "malformed_row 2; missing_value 2 in customer_id; not_a_number 1 in credit_limit"
    problems, warnings = ledger_verdict(_summary([("customers", 3, 0), ("invoices", 4, 4), ("payments", 0, 0)]),
                                        why={"customers": why})
    assert problems == [f"d/customers.csv: no usable rows (3 read, all rejected: {why})"]
    assert warnings == ["no payments: every invoice counts as unpaid"]
    problems, _ = ledger_verdict(_summary([("customers", 0, 0), ("invoices", 0, 0), ("payments", 0, 0)]))
    assert problems == ["d/customers.csv: no usable rows (the file has a header only)"]
