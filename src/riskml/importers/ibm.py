"""IBM Watson Analytics "Accounts Receivable" sample (2,466 invoices, 100 customers) -> ledger.

The file is already an invoice ledger: one row per invoice with its settlement date. The mapping is
direct (see docs/real-data.md): customers from ``customerID``, invoices as given, one full payment per
invoice on ``SettledDate``. Every invoice is settled, so there are no labels.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from riskml.config import DataConfig, ExtraAttribute
from riskml.errors import DataError
from riskml.importers.common import (
    Converted,
    contract_frame,
    iso,
    parse_dates,
    parse_numbers,
    raise_problems,
    require_columns,
    row_problems,
)

NAME = "ibm"
TITLE = "IBM Watson Analytics accounts receivable sample"
KNOWN_SHA256 = {"WA_Fn-UseC_-Accounts-Receivable.csv": "f5d488eaa4c1cc843b478b6f1068c553c5394aab4b64d587e4b9ad811d845c19"}
DATE_FORMAT = "%m/%d/%Y"
TERMS_DAYS = 30
# PaperlessDate, DaysToSettle and DaysLate are not read (see ibm_to_ledger)
SOURCE_COLUMNS = ("countryCode", "customerID", "invoiceNumber", "InvoiceDate", "DueDate",
                  "InvoiceAmount", "Disputed", "SettledDate", "PaperlessBill")
_YES_NO = {"Yes": True, "No": False}
_CHANNELS = ("Electronic", "Paper")


def read_ibm(path: Path) -> pd.DataFrame:
    """Read and check the IBM CSV: typed columns (dates parsed, ``Disputed`` as bool), ids kept as text.

    Every broken row is reported at once (file, line, column, rule); nothing is guessed."""
    try:
        raw = pd.read_csv(path, dtype="str", keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({exc})") from None
    require_columns(raw, SOURCE_COLUMNS, path)
    problems: list[str] = []
    df = pd.DataFrame({
        "countryCode": raw["countryCode"].str.strip(),
        "customerID": raw["customerID"].str.strip(),
        "invoiceNumber": raw["invoiceNumber"].str.strip(),
        "PaperlessBill": raw["PaperlessBill"].str.strip(),
    })
    for col in ("InvoiceDate", "DueDate", "SettledDate"):
        df[col] = parse_dates(raw, col, DATE_FORMAT, path, problems)
    df["InvoiceAmount"] = parse_numbers(raw, "InvoiceAmount", path, problems)
    disputed = raw["Disputed"].str.strip()
    problems += row_problems(path, ~disputed.isin(list(_YES_NO)), "Disputed", "expected Yes or No", disputed)
    df["Disputed"] = disputed.map(_YES_NO).fillna(False).astype("bool")
    problems += row_problems(path, ~df["PaperlessBill"].isin(list(_CHANNELS)), "PaperlessBill",
                             "expected Electronic or Paper", df["PaperlessBill"])
    for col in ("customerID", "invoiceNumber"):
        problems += row_problems(path, df[col].isna(), col, "must not be empty")
    problems += row_problems(path, df["invoiceNumber"].duplicated(keep="first") & df["invoiceNumber"].notna(),
                             "invoiceNumber", "must be unique (repeats an earlier invoice)", df["invoiceNumber"])
    problems += row_problems(path, ~(df["InvoiceAmount"] > 0) & df["InvoiceAmount"].notna(), "InvoiceAmount",
                             "must be > 0", df["InvoiceAmount"])
    problems += row_problems(path, df["DueDate"] < df["InvoiceDate"], "DueDate", "must be on or after InvoiceDate",
                             raw["DueDate"])
    problems += row_problems(path, df["SettledDate"] < df["InvoiceDate"], "SettledDate",
                             "must be on or after InvoiceDate", raw["SettledDate"])
    raise_problems(problems)
    return df


def ibm_to_ledger(df: pd.DataFrame) -> Converted:
    """Map the checked IBM frame onto the ledger contract.

    - customers: ``customerID``; ``country`` = ``countryCode``; net 30 (every invoice has 30-day terms);
      no credit limit in the data; ``onboarded_date`` = first invoice date; ``initial_billing_channel`` =
      the channel of the first invoice (a declared categorical attribute: known from the start of the
      relationship, so it never looks ahead). ``PaperlessDate`` is not imported: the switch to paperless
      billing is time-varying, and a static customer column holding it would look ahead.
    - invoices: ``invoiceNumber`` as text (leading zeros kept), dates, amount, ``Disputed``. The file has
      no dispute date; ``dispute_date`` is set to ``SettledDate``, the latest day the dispute can have been
      raised. Left empty, the contract would count the dispute from the invoice date, and every snapshot
      between invoice and settlement would see a dispute that may only be raised later (look-ahead: in
      this file a disputed invoice is late far more often than the others).
    - payments: one per invoice for its full amount on ``SettledDate``, id ``<invoice>-P``.
    """
    first = df.sort_values(["customerID", "InvoiceDate", "invoiceNumber"]).groupby("customerID", sort=True).first()
    customers = pd.DataFrame({
        "customer_id": first.index.astype("str"),
        "credit_limit": pd.Series([float("nan")] * len(first), dtype="float64"),
        "payment_terms_days": TERMS_DAYS,
        "country": first["countryCode"].to_numpy(),
        "onboarded_date": iso(first["InvoiceDate"]).to_numpy(),
        "initial_billing_channel": first["PaperlessBill"].to_numpy(),
    })
    inv = df.sort_values(["InvoiceDate", "invoiceNumber"]).reset_index(drop=True)
    invoices = pd.DataFrame({
        "invoice_id": inv["invoiceNumber"],
        "customer_id": inv["customerID"],
        "invoice_date": iso(inv["InvoiceDate"]),
        "due_date": iso(inv["DueDate"]),
        "amount": inv["InvoiceAmount"],
        "disputed": inv["Disputed"],
        "dispute_date": iso(inv["SettledDate"]).where(inv["Disputed"]),
    })
    payments = pd.DataFrame({
        "payment_id": inv["invoiceNumber"] + "-P",
        "customer_id": inv["customerID"],
        "invoice_id": inv["invoiceNumber"],
        "payment_date": iso(inv["SettledDate"]),
        "amount": inv["InvoiceAmount"],
    }).sort_values(["payment_date", "payment_id"])
    as_of = iso(pd.Series([df["SettledDate"].max()])).iloc[0]
    cfg = DataConfig(
        as_of=as_of,
        extra_attributes={
            "initial_billing_channel": ExtraAttribute(
                kind="categorical", monotone=0,
                description="Billing channel (Paper or Electronic) of the customer's first invoice",
                reason="Billed on {value} when the relationship started",
            ),
        },
    )
    n_late = int((df["SettledDate"] > df["DueDate"]).sum())
    first_day, last_day = iso(df["InvoiceDate"].agg(["min", "max"])).tolist()
    notes = (
        f"{len(customers):,} customers, {len(invoices):,} invoices from {first_day} to {last_day},"
        f" all settled ({n_late:,} after the due date, at most {int((df['SettledDate'] - df['DueDate']).dt.days.max())}"
        " days); no labels: nothing reaches a default definition",
        f"as_of (export date) set to the last settlement date, {as_of}",
        f"{int(df['Disputed'].sum()):,} disputed invoices, dated on their settlement date (the file has no dispute "
        "date; the latest day it can have been raised, so no snapshot sees a dispute before it is known)",
        "the data set looks synthetic (see PROVENANCE.md): use it to exercise the pipeline, not to judge accuracy",
    )
    return Converted(
        tables={
            "customers": contract_frame("customers", customers),
            "invoices": contract_frame("invoices", invoices),
            "payments": contract_frame("payments", payments),
        },
        data_config=cfg,
        labels=None,
        notes=notes,
    )
