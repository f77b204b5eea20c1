"""Each importer on the published file in ../shared/datasets (skipped when it is absent, e.g. in a clone).

Figures come from each data set's PROVENANCE.md."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskml.importers import import_dataset, taiwan
from tests.realdata.checks import (
    DATASETS,
    assert_loader_accepts,
    assert_valid_labels,
    assert_valid_ledger,
    read,
)

pytestmark = pytest.mark.realdata

IBM = DATASETS / "ibm_accounts_receivable" / "WA_Fn-UseC_-Accounts-Receivable.csv"
TAIWAN = DATASETS / "uci_taiwan_credit_default" / "UCI_Credit_Card.csv"
POLISH = DATASETS / "polish_bankruptcy"


def source(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not found: the public data sets live in ../shared/datasets beside the repository")
    return path


@pytest.fixture(scope="module")
def ibm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ibm")
    result = import_dataset("ibm", source(IBM), out)
    assert result.checksum_ok is True
    return out


@pytest.fixture(scope="module")
def taiwan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("taiwan")
    result = import_dataset("taiwan", source(TAIWAN), out)
    assert result.checksum_ok is True
    return out


@pytest.fixture(scope="module", params=[("1year.arff", 7027, 271, 5835), ("5year.arff", 5910, 410, 4666)],
                ids=["1year", "5year"])
def polish_case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    name, rows, bankrupt, missing = request.param
    out = tmp_path_factory.mktemp(name.split(".")[0])
    result = import_dataset("polish", source(POLISH / name), out)
    assert result.checksum_ok is True
    return out, rows, bankrupt, missing


# ------------------------------------------------------------------------------------------------- IBM
def test_ibm_counts_and_contract(ibm_dir: Path) -> None:
    t = assert_valid_ledger(ibm_dir)
    assert len(t["customers"]) == 100
    assert len(t["invoices"]) == 2466 and len(t["payments"]) == 2466
    assert t["invoices"]["invoice_id"].str.len().eq(10).all()  # zero-padded ids kept as text
    assert "0000611365" in set(t["invoices"]["invoice_id"])
    assert t["invoices"]["disputed"].eq("True").mean() == pytest.approx(0.2275, abs=5e-4)
    late = t["payments"].merge(t["invoices"], on="invoice_id", suffixes=("", "_inv"))
    days_late = (late["payment_date"] - late["due_date"]).dt.days.clip(lower=0)
    assert days_late.max() == 45 and (days_late > 0).mean() == pytest.approx(0.3556, abs=5e-4)
    assert not (ibm_dir / "labels.csv").exists()


def test_ibm_loader_accepts(ibm_dir: Path) -> None:
    assert_loader_accepts(ibm_dir)


# ---------------------------------------------------------------------------------------------- Taiwan
def test_taiwan_counts_labels_and_contract(taiwan_dir: Path) -> None:
    t = assert_valid_ledger(taiwan_dir)
    cust = t["customers"]
    assert len(cust) == 30000
    assert not set(cust.columns) & {"SEX", "MARRIAGE", "AGE", "sex", "marriage", "age"}
    labels = assert_valid_labels(taiwan_dir, cust)
    assert len(labels) == 30000 and int(labels["label"].sum()) == 6636
    assert labels["label"].mean() == pytest.approx(0.2212)
    assert set(labels["as_of"]) == {pd.Timestamp("2005-09-30")}


def test_taiwan_ledger_reproduces_balances_and_september_status(taiwan_dir: Path) -> None:
    """At 2005-09-30 each account's open items sum to its September statement (0 for a credit balance),
    and the oldest open item's days past due falls in the bucket of the September status (PAY_0) for
    the large majority of accounts (the rest contradict their own history; see docs/real-data.md)."""
    src = pd.read_csv(TAIWAN, usecols=["ID", "BILL_AMT1", "PAY_0"], dtype={"ID": "str"}).set_index("ID")
    inv, pay, adj = (read(taiwan_dir, n) for n in ("invoices", "payments", "adjustments"))
    settled = pd.concat([pay[["invoice_id", "amount"]], adj[["invoice_id", "amount"]]]).dropna()
    settled = settled.groupby("invoice_id")["amount"].sum()
    inv["open"] = inv["amount"] - inv["invoice_id"].map(settled).astype("float64").fillna(0.0)
    open_items = inv.loc[inv["open"] > 1e-6]
    balance = open_items.groupby("customer_id")["open"].sum().reindex(src.index, fill_value=0.0)
    np.testing.assert_allclose(balance.to_numpy(), src["BILL_AMT1"].clip(lower=0).to_numpy(), atol=1e-6)

    as_of = pd.Timestamp("2005-09-30")
    dpd = (as_of - open_items.groupby("customer_id")["due_date"].min()).dt.days.clip(lower=0)
    dpd = dpd.reindex(src.index, fill_value=0)
    bucket = np.ceil(dpd / 30.0).clip(upper=9)  # 0 = current, 1 = 1-30, 2 = 31-60, ...
    status = src["PAY_0"].clip(lower=0)
    assert (bucket == status).mean() > 0.90
    assert (bucket[status == 0] == 0).all()  # nothing past due for a paid-up or revolving account
    assert (bucket[status >= 2] == status[status >= 2]).mean() > 0.85


@pytest.mark.slow
def test_taiwan_loader_accepts(taiwan_dir: Path) -> None:
    assert_loader_accepts(taiwan_dir)


def test_taiwan_attributes(taiwan_dir: Path) -> None:
    cust = read(taiwan_dir, "customers")
    assert set(cust["education"]) == {*taiwan.EDUCATION.values(), "unknown"}
    assert cust["credit_limit"].min() == 10000.0
    assert set(cust["payment_terms_days"]) == {str(taiwan.TERMS_DAYS)}


# ---------------------------------------------------------------------------------------------- Polish
def test_polish_counts_and_contract(polish_case: tuple) -> None:
    out, rows, bankrupt, missing = polish_case
    t = assert_valid_ledger(out)
    cust = t["customers"]
    assert len(cust) == rows and len(t["invoices"]) == 0 and len(t["payments"]) == 0
    attrs = cust[[f"Attr{i}" for i in range(1, 65)]].apply(pd.to_numeric)
    assert int(attrs.isna().sum().sum()) == missing
    labels = assert_valid_labels(out, cust)
    assert int(labels["label"].sum()) == bankrupt
    assert len(t["data_config"].extra_attributes) == 64


def test_polish_loader_accepts(polish_case: tuple) -> None:
    assert_loader_accepts(polish_case[0])


# ---------------------------------------------------------------------------------------------- German
def test_german_counts_and_contract(tmp_path: Path) -> None:
    result = import_dataset("german", source(DATASETS / "statlog_german_credit" / "german.data"), tmp_path)
    assert result.checksum_ok is True
    t = assert_valid_ledger(tmp_path)
    assert len(t["customers"]) == 1000
    labels = assert_valid_labels(tmp_path, t["customers"])
    assert int(labels["label"].sum()) == 300
    assert_loader_accepts(tmp_path)
