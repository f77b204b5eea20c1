"""UCI Statlog German credit (Hofmann 1994, 1,000 loan applicants) -> customers + labels.

Applicant data, not a ledger: like the Polish set, a cold-start case with no invoices or payments.
Each applicant becomes a customer whose application attributes are declared features; the credit amount
applied for becomes the customer's credit limit and is also declared as the attribute ``credit_amount``
(riskml never feeds the credit limit itself to the model: it uses it for utilisation and limit advice).
Personal status and sex, age and foreign-worker status are never imported: they are (or stand for)
prohibited bases under ECOA / Regulation B (sex, marital status, age, national origin). See
docs/real-data.md ("German credit").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from riskml.config import DataConfig, ExtraAttribute
from riskml.errors import DataError
from riskml.importers.common import (
    MAX_PROBLEMS,
    Converted,
    contract_frame,
    empty_contract_frame,
    labels_frame,
)

NAME = "german"
TITLE = "UCI Statlog German credit (Hofmann 1994)"
KNOWN_SHA256 = {"german.data": "b21f3d81db8071257d5ff1deaeba1fd4303b62712e6fcc9715c7a86202cb5871"}
AS_OF = "1994-12-31"  # nominal: the data carry no dates (donated to UCI in 1994)
TERMS_DAYS = 30  # nominal


@dataclass(frozen=True)
class Attribute:
    """One column of german.data: its name here, and either its codes (categorical) or None (numeric)."""

    name: str
    description: str
    codes: dict[str, str] | None = None
    monotone: int = 0
    protected: bool = False


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("checking_status", "Status of the existing checking account",
              {"A11": "< 0 DM", "A12": "0 to 200 DM", "A13": ">= 200 DM or salary assignment",
               "A14": "no checking account"}),
    Attribute("duration_months", "Duration of the credit in months"),
    Attribute("credit_history", "Credit history",
              {"A30": "no credits taken or all paid back duly", "A31": "all credits at this bank paid back duly",
               "A32": "existing credits paid back duly till now", "A33": "delay in paying off in the past",
               "A34": "critical account or credits at other banks"}),
    Attribute("purpose", "Purpose of the credit",
              {"A40": "car (new)", "A41": "car (used)", "A42": "furniture/equipment", "A43": "radio/television",
               "A44": "domestic appliances", "A45": "repairs", "A46": "education", "A47": "vacation",
               "A48": "retraining", "A49": "business", "A410": "others"}),
    Attribute("credit_amount", "Credit amount applied for (DM)"),
    Attribute("savings", "Savings account or bonds",
              {"A61": "< 100 DM", "A62": "100 to 500 DM", "A63": "500 to 1000 DM", "A64": ">= 1000 DM",
               "A65": "unknown or none"}),
    Attribute("employment_since", "Present employment since",
              {"A71": "unemployed", "A72": "< 1 year", "A73": "1 to 4 years", "A74": "4 to 7 years",
               "A75": ">= 7 years"}),
    Attribute("installment_rate_pct", "Instalment as a percentage of disposable income", monotone=1),
    Attribute("personal_status_sex", "Personal status and sex",
              {"A91": "", "A92": "", "A93": "", "A94": "", "A95": ""}, protected=True),
    Attribute("other_debtors", "Other debtors or guarantors",
              {"A101": "none", "A102": "co-applicant", "A103": "guarantor"}),
    Attribute("residence_since", "Present residence since (years)"),
    Attribute("property", "Most valuable property",
              {"A121": "real estate", "A122": "building society savings or life insurance",
               "A123": "car or other", "A124": "unknown or none"}),
    Attribute("age", "Age in years", protected=True),
    Attribute("other_installment_plans", "Other instalment plans",
              {"A141": "bank", "A142": "stores", "A143": "none"}),
    Attribute("housing", "Housing", {"A151": "rent", "A152": "own", "A153": "for free"}),
    Attribute("existing_credits", "Number of existing credits at this bank"),
    Attribute("job", "Job",
              {"A171": "unemployed or unskilled non-resident", "A172": "unskilled resident",
               "A173": "skilled employee or official", "A174": "management, self-employed or highly qualified"}),
    Attribute("dependents", "Number of people the applicant is liable to maintain"),
    Attribute("telephone", "Telephone", {"A191": "none", "A192": "yes, in the customer's name"}),
    Attribute("foreign_worker", "Foreign worker", {"A201": "", "A202": ""}, protected=True),
)
CLASS_CODES = {"1": 0, "2": 1}  # 1 = good, 2 = bad (the positive class)


def read_german(path: Path) -> pd.DataFrame:
    """Read and check german.data (21 space-separated fields a line): attributes decoded to text or
    numbers, protected ones dropped, ``label`` 1 for a bad credit."""
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not the text file german.data ({exc})") from None
    problems: list[str] = []
    rows: list[list[str]] = []
    for no, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != len(ATTRIBUTES) + 1:
            problems.append(f"{path}: line {no}: expected {len(ATTRIBUTES) + 1} fields; got {len(fields)}")
        else:
            for attr, value in zip(ATTRIBUTES, fields, strict=False):
                ok = value in attr.codes if attr.codes is not None else value.isdigit()
                if not ok:
                    rule = f"one of {sorted(attr.codes)}" if attr.codes is not None else "a whole number >= 0"
                    problems.append(f"{path}: line {no}: column {attr.name}: expected {rule}; got {value!r}")
            if fields[-1] not in CLASS_CODES:
                problems.append(f"{path}: line {no}: column class: expected 1 (good) or 2 (bad); got {fields[-1]!r}")
            rows.append(fields)
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise DataError(problems)
    if not rows:
        raise DataError(f"{path}: no data lines")
    raw = pd.DataFrame(rows, columns=[a.name for a in ATTRIBUTES] + ["class"], dtype="str")
    out = pd.DataFrame(index=raw.index)
    for attr in ATTRIBUTES:
        if attr.protected:
            continue
        col = raw[attr.name]
        out[attr.name] = col.map(attr.codes) if attr.codes is not None else col.astype("int64").astype("float64")
    out["label"] = raw["class"].map(CLASS_CODES).astype("int64")
    return out


def german_to_ledger(df: pd.DataFrame) -> Converted:
    """Applicants as customers (credit limit = amount applied for), attributes declared, labels at the
    nominal :data:`AS_OF`; empty invoices and payments."""
    ids = pd.Series([f"DE-{i:04d}" for i in range(1, len(df) + 1)], dtype="str")
    features = [a for a in ATTRIBUTES if not a.protected]
    customers = pd.DataFrame({
        "customer_id": ids,
        "credit_limit": df["credit_amount"].to_numpy("float64"),
        "payment_terms_days": TERMS_DAYS,
        "onboarded_date": AS_OF,
    })
    customers = pd.concat([customers, df[[a.name for a in features]].reset_index(drop=True)], axis=1)
    extras = {
        a.name: ExtraAttribute(
            kind="categorical" if a.codes is not None else "numeric",
            monotone=a.monotone,  # type: ignore[arg-type]
            description=a.description,
            reason=f"{a.description}: {{value}}" if a.codes is not None else f"{a.description}: {{value:,.0f}}",
        )
        for a in features
    }
    labels = labels_frame(ids, AS_OF, df["label"])
    notes = (
        f"{len(df):,} applicants, {int(df['label'].sum()):,} bad credits ({df['label'].mean():.1%})",
        "no invoices or payments (cold start); the credit amount applied for is the credit limit and, because "
        "riskml does not use the limit itself as a feature, also the declared attribute credit_amount",
        "personal status and sex, age and foreign-worker status are prohibited bases (ECOA / Regulation B) "
        "and were not imported",
        f"the data carry no dates: customers are onboarded and labelled at the nominal date {AS_OF}",
    )
    return Converted(
        tables={
            "customers": contract_frame("customers", customers),
            "invoices": empty_contract_frame("invoices"),
            "payments": empty_contract_frame("payments"),
        },
        data_config=DataConfig(as_of=AS_OF, extra_attributes=extras),
        labels=labels,
        notes=notes,
    )


def expected_cost(labels: np.ndarray, predicted_bad: np.ndarray) -> float:
    """Average misclassification cost with the data set's cost matrix (a bad credit accepted costs 5, a
    good one refused costs 1), the figure the Statlog project reported."""
    labels = np.asarray(labels, dtype=int)
    predicted_bad = np.asarray(predicted_bad, dtype=bool)
    cost = 5 * ((labels == 1) & ~predicted_bad) + 1 * ((labels == 0) & predicted_bad)
    return float(cost.mean())
