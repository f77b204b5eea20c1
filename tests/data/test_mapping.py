"""Mapping a real export in data.yaml (issue 18): one flat file read as customers, invoices and payments;
constants and defaults; one source column feeding two fields; the date format guessed and suggested;
``riskml validate --suggest-mapping``. On a small hand-made export, and on the IBM file when
../shared/datasets is there."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from riskml.cli.main import app
from riskml.config import DataConfig
from riskml.data.mapping import apply_values, date_format_candidates, guess_date_format
from riskml.data.validate import LedgerUnusable, load_ledger
from riskml.errors import ConfigError, DataError

runner = CliRunner()
IBM = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "ibm_accounts_receivable"
IBM_FILE = "WA_Fn-UseC_-Accounts-Receivable.csv"

# one row per invoice: customer, invoice, paid date and paid amount (the usual AR export), US dates
EXPORT = """\
Cust,Cust Name,Doc,Doc Date,Net Due,Amount,Paid On,Paid Amt
C1,Alpha,000101,01/15/2026,02/14/2026,100.00,02/20/2026,100.00
C1,Alpha,000102,02/15/2026,03/17/2026,50.00,,
C2,,000201,01/20/2026,02/19/2026,80.00,03/01/2026,80.00
C3,Gamma,000301,03/01/2026,03/31/2026,30.00,04/02/2026,20.00
"""
MAPPING = {
    "flat_file": {"file": "ar.csv"},
    "column_map": {
        "customers": {"customer_id": "Cust", "name": "Cust Name"},
        "invoices": {"invoice_id": "Doc", "customer_id": "Cust", "invoice_date": "Doc Date", "due_date": "Net Due",
                     "amount": "Amount"},
        # Doc feeds two fields: the payment's invoice and its id
        "payments": {"payment_id": "Doc", "invoice_id": "Doc", "customer_id": "Cust", "payment_date": "Paid On",
                     "amount": "Paid Amt"},
    },
    "constants": {"customers": {"payment_terms_days": 30, "credit_limit": None}},
    "defaults": {"customers": {"name": "(no name)"}},
    "date_format": {"*": "%m/%d/%Y"},
}


def _export(tmp_path: Path, mapping: dict | None = None, text: str = EXPORT) -> Path:
    (tmp_path / "ar.csv").write_text(text, encoding="utf-8")
    (tmp_path / "data.yaml").write_text(yaml.safe_dump(mapping or MAPPING), encoding="utf-8")
    return tmp_path


def test_flat_file_read_as_three_tables(tmp_path: Path) -> None:
    ledger, report = load_ledger(_export(tmp_path))
    assert report.n_rejected == 0
    c = ledger.customers.set_index("customer_id")
    assert list(c.index) == ["C1", "C2", "C3"]  # one row per distinct customer, first seen
    assert c["payment_terms_days"].tolist() == [30, 30, 30] and c["credit_limit"].isna().all()
    assert c.loc["C2", "name"] == "(no name)" and c.loc["C1", "name"] == "Alpha"  # default fills the empty cell
    inv = ledger.invoices.set_index("invoice_id")
    assert list(inv.index) == ["000101", "000102", "000201", "000301"]  # ids kept as text, zeros too
    assert inv.loc["000101", "invoice_date"] == pd.Timestamp("2026-01-15")
    pay = ledger.payments.set_index("payment_id")
    assert list(pay.index) == ["000101", "000201", "000301"]  # the unpaid invoice is no payment
    assert (pay["invoice_id"] == pay.index).all() and pay.loc["000301", "amount"] == 20.0
    assert any("1 rows without a payment date (Paid On) are unpaid invoices" in w for w in report.warnings)


def test_a_rejected_row_names_the_flat_files_line(tmp_path: Path) -> None:
    bad = EXPORT.replace("000201,01/20/2026", "000201,01/32/2026")
    _, report = load_ledger(_export(tmp_path, text=bad))
    r = report.rejects
    row = r.loc[(r["table"] == "invoices") & (r["rule"] == "unparseable_date")].iloc[0]
    assert row["file"] == "ar.csv" and row["line"] == 4 and row["column"] == "invoice_date"


def test_flat_file_and_a_table_file_both_present_is_refused(tmp_path: Path) -> None:
    _export(tmp_path)
    (tmp_path / "invoices.csv").write_text("invoice_id\n", encoding="utf-8")
    with pytest.raises(DataError, match="read from the flat file .* and invoices.csv exists too"):
        load_ledger(tmp_path)


def test_unparseable_dates_come_with_the_format_to_set(tmp_path: Path) -> None:
    mapping = {**MAPPING, "date_format": {}}
    with pytest.raises(LedgerUnusable) as err:
        load_ledger(_export(tmp_path, mapping))
    text = str(err.value)
    assert "invoices.invoice_date, due_date: the dates (e.g. '01/15/2026') are not ISO dates" in text
    assert "date_format: {invoices: '%m/%d/%Y'}" in text


def test_date_format_guesses() -> None:
    assert guess_date_format(["1/2/2013", "1/26/2013", "12/31/2013"]) == "%m/%d/%Y"
    assert guess_date_format(["31.12.2025", "01.02.2026"]) == "%d.%m.%Y"
    assert guess_date_format(["2026-09-30"]) == "%Y-%m-%d"
    # every day 12 or less: both orders read them, so no single guess
    assert date_format_candidates(["01/02/2026", "03/04/2026"])[:2] == ["%m/%d/%Y", "%d/%m/%Y"]
    assert guess_date_format(["01/02/2026", "03/04/2026"]) is None
    assert guess_date_format(["soon", "later"]) is None


def test_constants_and_defaults() -> None:
    frame = pd.DataFrame({"a": ["x", "", None], "b": ["1", "2", "3"]})
    out = apply_values(frame, {"b": 30, "c": True}, {"a": "dflt", "d": None})
    assert out["a"].tolist() == ["x", "dflt", "dflt"] and out["b"].tolist() == ["30"] * 3
    assert out["c"].tolist() == ["true"] * 3 and out["d"].isna().all()
    assert frame["b"].tolist() == ["1", "2", "3"]  # the input is not changed
    with pytest.raises(ValueError, match="constants.customers keys must be riskml column names"):
        DataConfig(constants={"customers": {"terms": 30}})
    with pytest.raises(ValueError, match="tables must be among"):
        DataConfig(defaults={"nope": {"x": 1}})


def test_suggest_mapping_validates_as_is(tmp_path: Path) -> None:
    (tmp_path / "ar.csv").write_text(EXPORT.replace("Paid Amt", "Amount Paid"), encoding="utf-8")
    res = runner.invoke(app, ["validate", "--data", str(tmp_path / "ar.csv"), "--suggest-mapping"])
    assert res.exit_code == 0, res.output
    suggested = yaml.safe_load(res.output)
    assert suggested["flat_file"] == {"file": "ar.csv", "tables": ["customers", "invoices", "payments"]}
    assert suggested["column_map"]["payments"]["amount"] == "Amount Paid"
    assert suggested["column_map"]["payments"]["payment_id"] == "Doc"  # no payment id: the invoice's
    assert suggested["date_format"] == {"*": "%m/%d/%Y"}
    assert suggested["constants"]["customers"] == {"payment_terms_days": 30, "credit_limit": None}
    (tmp_path / "data.yaml").write_text(res.output, encoding="utf-8")
    _, report = load_ledger(tmp_path)
    assert report.n_rejected == 0


def test_suggest_mapping_needs_one_file(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "b.csv").write_text("x\n1\n")
    res = runner.invoke(app, ["validate", "--data", str(tmp_path), "--suggest-mapping"])
    assert res.exit_code == 1 and "holds 2 .csv/.parquet files" in res.output


def test_bad_mapping_config_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "data.yaml").write_text("flat_file: {file: ''}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="flat_file.file"):
        from riskml.data.validate import resolve_data_config

        resolve_data_config(tmp_path)


# ------------------------------------------------------------------------------ the IBM export, as is
IBM_YAML = """\
flat_file: {file: WA_Fn-UseC_-Accounts-Receivable.csv, tables: [customers, invoices, payments]}
column_map:
  customers: {customer_id: customerID, country: countryCode}
  invoices: {invoice_id: invoiceNumber, customer_id: customerID, invoice_date: InvoiceDate, due_date: DueDate,
             amount: InvoiceAmount, disputed: Disputed, dispute_date: SettledDate}
  payments: {payment_id: invoiceNumber, customer_id: customerID, invoice_id: invoiceNumber,
             payment_date: SettledDate, amount: InvoiceAmount}
constants:
  customers: {payment_terms_days: 30, credit_limit: null}
date_format: {"*": "%m/%d/%Y"}
as_of: "2014-01-09"
"""
IBM_TRAIN = """\
num_threads: 1
label: {dpd_threshold: 15, horizon_months: 3}
"""


@pytest.fixture()
def ibm_dir(tmp_path: Path) -> Path:
    if not (IBM / IBM_FILE).exists():
        pytest.skip(f"{IBM / IBM_FILE} not found (../shared/datasets is absent)")
    data = tmp_path / "ibm"
    data.mkdir()
    shutil.copy(IBM / IBM_FILE, data / IBM_FILE)  # a temporary copy: never into the repository
    (data / "data.yaml").write_text(IBM_YAML, encoding="utf-8")
    return data


def test_ibm_validates_from_data_yaml_alone(ibm_dir: Path) -> None:
    ledger, report = load_ledger(ibm_dir)
    assert report.n_rejected == 0
    assert ledger.row_counts()["customers"] == 100
    assert ledger.row_counts()["invoices"] == 2466 and ledger.row_counts()["payments"] == 2466
    assert ledger.invoices["invoice_id"].str.len().eq(10).all()  # zero-padded ids kept
    # the suggested mapping reads the file without a reject too
    res = runner.invoke(app, ["validate", "--data", str(ibm_dir / IBM_FILE), "--suggest-mapping"])
    assert res.exit_code == 0, res.output
    suggested = ibm_dir.parent / "suggested"
    suggested.mkdir()
    shutil.copy(ibm_dir / IBM_FILE, suggested / IBM_FILE)
    (suggested / "data.yaml").write_text(res.output, encoding="utf-8")
    assert load_ledger(suggested)[1].n_rejected == 0


@pytest.mark.slow
def test_ibm_trains_from_data_yaml_alone(ibm_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "train.yaml").write_text(IBM_TRAIN, encoding="utf-8")
    res = runner.invoke(app, ["train", "--data", str(ibm_dir), "--config", str(tmp_path / "train.yaml")],
                        env={"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"})
    assert res.exit_code == 0, res.output
    assert "registered riskml-delinquency version 1" in res.output
