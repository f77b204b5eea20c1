"""The ledger validated on Spark agrees with ``riskml validate`` (riskml.data.validate) on a ledger with
every kind of row error: the same rows accepted per table, the same (row, column, rule) rejects, the
same typed values in the accepted rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskml.data.contract import TABLES
from riskml.data.schemas import RULES
from riskml.data.validate import load_ledger, resolve_data_config
from riskml.errors import DataError
from tests.spark.conftest import SPARK_WARNINGS

pytestmark = [pytest.mark.spark, pytest.mark.slow, *SPARK_WARNINGS]


@pytest.fixture(scope="module")
def validated(spark, dirty_ledger_dir: Path) -> Iterator[tuple]:
    from riskml.spark.tables import load_spark_ledger

    cfg = resolve_data_config(dirty_ledger_dir)
    ledger, report = load_ledger(dirty_ledger_dir, cfg)
    on_spark = load_spark_ledger(spark, str(dirty_ledger_dir), cfg)
    yield ledger, report, on_spark
    on_spark.unpersist()


def test_the_ledger_breaks_every_row_rule(validated) -> None:
    _, report, _ = validated
    assert set(report.rejects["rule"]) == set(RULES)  # the fixture exercises every rule


def test_same_rows_read_accepted_and_rejected(validated) -> None:
    _, report, on_spark = validated
    cols = ["table", "read", "accepted", "rejected"]
    expected = report.summary[cols].sort_values("table").reset_index(drop=True)
    got = on_spark.summary[cols].sort_values("table").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_same_rejects_row_column_and_rule(validated) -> None:
    _, report, on_spark = validated
    spark_rejects = on_spark.rejects.toPandas()

    def keyed(df: pd.DataFrame) -> set[tuple]:
        df = df.loc[df["rule"] != "malformed_row"]
        return set(zip(df["table"], df["id"].fillna("<none>"), df["column"], df["rule"], strict=True))

    assert keyed(spark_rejects) == keyed(report.rejects)
    malformed = report.rejects.loc[report.rejects["rule"] == "malformed_row"]
    got = spark_rejects.loc[spark_rejects["rule"] == "malformed_row"]
    assert sorted(got["value"]) == sorted(malformed["value"].str.rstrip("\r\n"))
    assert (got["message"] == RULES["malformed_row"]).all()
    assert set(spark_rejects["file"]) <= {f"{t}.csv" for t in TABLES}


@pytest.mark.parametrize("table", list(TABLES))
def test_accepted_rows_have_the_same_typed_values(validated, table: str) -> None:
    ledger, _, on_spark = validated
    key = TABLES[table].key
    expected = ledger.tables()[table].sort_values(key).reset_index(drop=True)
    got = on_spark.tables[table].toPandas().sort_values(key).reset_index(drop=True)
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected)
    for col in expected.columns:
        e, g = expected[col], got[col]
        if e.dtype.kind in "fi":
            assert np.allclose(g.to_numpy("float64"), e.to_numpy("float64"), rtol=1e-12, equal_nan=True), col
        elif e.dtype.kind == "M":
            assert (pd.to_datetime(g).astype("datetime64[ns]").fillna(pd.Timestamp(0))
                    == e.fillna(pd.Timestamp(0))).all(), col
        else:
            assert g.astype("str").fillna("<na>").tolist() == e.astype("str").fillna("<na>").tolist(), col


def test_what_makes_a_ledger_unusable_is_a_clean_error(spark, small_ledger_dir: Path, tmp_path: Path) -> None:
    from riskml.spark.tables import load_spark_ledger

    with pytest.raises(DataError, match="not a directory"):
        load_spark_ledger(spark, str(tmp_path / "nowhere"))
    only = tmp_path / "no_invoices"
    only.mkdir()
    (only / "customers.csv").write_text((small_ledger_dir / "customers.csv").read_text())
    (only / "payments.csv").write_text((small_ledger_dir / "payments.csv").read_text())
    with pytest.raises(DataError, match="required table invoices is missing"):
        load_spark_ledger(spark, str(only))
    (only / "invoices.csv").write_text("invoice_id,customer_id,amount\nI1,C000001,10\n")
    with pytest.raises(DataError, match="required column 'invoice_date' is missing"):
        load_spark_ledger(spark, str(only))


# ------------------------------------------------------------ small hostile ledgers: verdicts and warnings
_CUSTOMERS = "cid,limit,credit_limit,segment,note\nC1,1000,9,A,x\nC2,500,9,B,y\nC3,abc,9,A,z\n"
_INVOICES = ("invoice_id,customer_id,invoice_date,due_date,amount\nI1,C1,2026-01-01,2026-01-31,100\n"
             "I2,C2,2026-02-01,2026-03-01,50\nI3,C3,2026-02-01,2026-03-01,50\nI1,C2,2026-02-02,2026-03-02,70\n")
_PAYMENTS = ("pid,ref,customer_id,payment_date,amount,currency\nP1,I1,C1,2026-01-20,100,\nP2,I1,C1,2026-01-25,5,\n"
             "P3,I2,C2,2026-02-10,10,USD\nP4,I3,C3,2026-02-10,10,gbp\nP5,,C2,2026-07-01,3,GBP\n")
_ORDERS = "order_id,customer_id,order_date,amount\nO1,C1,2026-03-01,0\nO2,C2,2026-03-01,-5\n"
_MAPPING = """column_map:
  customers: {customer_id: cid, name: cid, credit_limit: limit, segment: segment}
  invoices: {amount: DMBTR}
  payments: {payment_id: pid, invoice_id: ref}
constants:
  customers: {payment_terms_days: 30}
defaults:
  payments: {currency: EUR}
extra_attributes:
  segment: {kind: categorical}
base_currency: EUR
fx_rates: {GBP: 1.15}
as_of: '2026-06-30'
"""
HOSTILE = {
    # a mapped column missing (its own used), a column shadowed by the mapping, one column feeding two
    # fields, constants and defaults, an ignored column, an extra attribute, a rejected customer and its
    # rows, a duplicate id, an overpayment, a currency without a rate, a future date, an optional table
    # whose every row is rejected
    "mapping": ({"customers.csv": _CUSTOMERS, "invoices.csv": _INVOICES, "payments.csv": _PAYMENTS,
                 "orders.csv": _ORDERS}, _MAPPING),
    # several currencies and no base currency
    "currencies": ({"customers.csv": _CUSTOMERS, "invoices.csv": _INVOICES, "payments.csv": _PAYMENTS},
                   _MAPPING.split("base_currency")[0]),
    # every customer rejected: unusable, with the most frequent rules named
    "unusable": ({"customers.csv": "customer_id,credit_limit,payment_terms_days\n,1,30\nC2,abc,30\nC3,-1,x\n",
                  "invoices.csv": _INVOICES, "payments.csv": "payment_id,invoice_id,customer_id,payment_date,amount\n"
                                                        "P1,I1,C1,2026-01-20,100\nP2,I2,C9,2026-01-20,100\n"}, ""),
    # a mapped column in neither form, a required column missing: unusable before any row is read
    "columns": ({"customers.csv": _CUSTOMERS, "invoices.csv": _INVOICES.replace("amount", "value"),
                 "payments.csv": _PAYMENTS}, "column_map:\n  invoices: {amount: DMBTR}\n"),
}


@pytest.mark.parametrize("spark", ["local[2]"], indirect=True)  # engine logic: the cluster adds nothing here
@pytest.mark.parametrize("case", list(HOSTILE))
def test_small_hostile_ledgers_get_the_same_verdict_rejects_and_warnings(spark, tmp_path: Path, case: str) -> None:
    from collections import Counter

    from riskml.spark.tables import load_spark_ledger

    files, config = HOSTILE[case]
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "data.yaml").write_text(config)
    cfg = resolve_data_config(tmp_path)
    try:
        ledger, report = load_ledger(tmp_path, cfg)
    except DataError as exc:
        with pytest.raises(DataError) as on_spark:
            load_spark_ledger(spark, str(tmp_path), cfg)
        assert on_spark.value.problems == exc.problems
        return
    on_spark = load_spark_ledger(spark, str(tmp_path), cfg)
    try:
        assert on_spark.warnings == report.warnings
        cols = ["table", "read", "accepted", "rejected"]
        pd.testing.assert_frame_equal(on_spark.summary[cols], report.summary[cols], check_dtype=False)
        def keyed(df: pd.DataFrame) -> Counter:
            # the value as read, but Spark reports an overpayment's amount as a number (5.0 for 5)
            df = df.assign(value=df["value"].where(df["rule"] != "overpayment", None))
            cols = ["table", "id", "customer_id", "column", "rule", "value", "message"]
            return Counter(map(tuple, df[cols].astype("object").fillna("<none>").to_numpy().tolist()))

        assert keyed(on_spark.rejects.toPandas()) == keyed(report.rejects)
        for table, frame in ledger.tables().items():
            got = on_spark.tables[table].toPandas()
            assert sorted(got[TABLES[table].key]) == sorted(frame[TABLES[table].key]), table
            assert list(got.columns) == list(frame.columns), table
    finally:
        on_spark.unpersist()
