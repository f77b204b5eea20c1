"""Contract invariants of an imported ledger directory, checked directly with pandas.

Independent of the importers' own code: the CSVs are read back as a user's loader would see them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from riskml.config import DataConfig
from riskml.data.contract import TABLES

REPO = Path(__file__).resolve().parents[2]
DATASETS = (REPO / ".." / "shared" / "datasets").resolve()
TOL = 1e-6


def read(out: Path, name: str) -> pd.DataFrame:
    """A table as text ids, float amounts and parsed ISO dates (empty cells missing)."""
    df = pd.read_csv(out / f"{name}.csv", dtype="str", keep_default_na=False, na_values=[""])
    for col in df.columns:
        if col == "amount" or col == "credit_limit":
            df[col] = df[col].astype("float64")
    if name in TABLES:
        for col in TABLES[name].date_columns:
            if col in df:
                df[col] = pd.to_datetime(df[col], format="%Y-%m-%d")
    if name == "labels":
        df["as_of"] = pd.to_datetime(df["as_of"], format="%Y-%m-%d")
        df["label"] = df["label"].astype("int64")
    return df


def assert_valid_ledger(out: Path) -> dict[str, pd.DataFrame]:
    """Assert every contract rule the importers promise; return the tables read."""
    t = {name: read(out, name) for name in ("customers", "invoices", "payments")}
    if (out / "adjustments.csv").exists():
        t["adjustments"] = read(out, "adjustments")
    for name, df in t.items():
        missing = set(TABLES[name].required_columns) - set(df.columns)
        assert not missing, f"{name}: missing {missing}"
        key = TABLES[name].key
        assert df[key].notna().all() and df[key].is_unique, f"{name}.{key} not unique"
    cust, inv, pay = t["customers"], t["invoices"], t["payments"]
    known = set(cust["customer_id"])
    assert (cust["payment_terms_days"].astype("int64") > 0).all()
    assert (cust["credit_limit"].dropna() >= 0).all()
    assert set(inv["customer_id"]) <= known
    assert (inv["amount"] > 0).all()
    assert (inv["due_date"] >= inv["invoice_date"]).all()
    assert inv[["invoice_date", "due_date"]].notna().all().all()
    if "disputed" in inv:
        assert set(inv["disputed"].dropna()) <= {"True", "False"}

    settle = [pay.assign(kind="payment", date=pay["payment_date"])]
    if "adjustments" in t:
        adj = t["adjustments"]
        assert set(adj["kind"]) <= {"credit_note", "write_off", "deduction"}
        assert (adj["amount"] > 0).all()
        settle.append(adj)
    for df in settle:
        assert set(df["customer_id"]) <= known
        assert (df["amount"] > 0).all()
        assert df["date"].notna().all()
        on = df.loc[df["invoice_id"].notna()].merge(
            inv[["invoice_id", "customer_id", "invoice_date"]], on="invoice_id", how="left",
            suffixes=("", "_inv"), validate="many_to_one")
        assert on["invoice_date"].notna().all(), "settlement of an unknown invoice"
        assert (on["customer_id"] == on["customer_id_inv"]).all(), "settlement by another customer"
        assert (on["date"] >= on["invoice_date"]).all(), "settlement before the invoice date"
    applied = pd.concat([s.loc[s["invoice_id"].notna(), ["invoice_id", "amount"]] for s in settle])
    total = applied.groupby("invoice_id")["amount"].sum()
    over = total - inv.set_index("invoice_id")["amount"].reindex(total.index)
    assert (over <= TOL).all(), f"over-settled invoices: {over[over > TOL].head()}"

    cfg = DataConfig.model_validate(yaml.safe_load((out / "data.yaml").read_text(encoding="utf-8")))
    for col in cfg.extra_attributes:
        assert col in cust.columns, f"declared attribute {col} not in customers.csv"
    if cfg.as_of:
        as_of = pd.Timestamp(cfg.as_of)
        assert (inv["invoice_date"] <= as_of).all()
        for df in settle:
            assert (df["date"] <= as_of).all()
    t["data_config"] = cfg  # type: ignore[assignment]
    return t


def assert_valid_labels(out: Path, customers: pd.DataFrame) -> pd.DataFrame:
    """labels.csv: one row per (customer, as_of), known customers, 0/1 labels."""
    labels = read(out, "labels")
    assert list(labels.columns) == ["customer_id", "as_of", "label"]
    assert set(labels["customer_id"]) <= set(customers["customer_id"])
    assert not labels.duplicated(["customer_id", "as_of"]).any()
    assert set(labels["label"]) <= {0, 1}
    return labels


def assert_loader_accepts(out: Path) -> None:
    """When the team's validator exists, it must reject no row of the import."""
    import pytest

    validate = pytest.importorskip("riskml.data.validate", reason="riskml.data.validate not written yet")
    cfg = validate.resolve_data_config(out, None) if hasattr(validate, "resolve_data_config") else None
    result = validate.load_ledger(out, cfg) if cfg is not None else validate.load_ledger(out)
    report = result[1] if isinstance(result, tuple) else result
    rejects = getattr(report, "rejects", None)
    assert rejects is not None and len(rejects) == 0, f"validator rejected rows:\n{rejects}"
