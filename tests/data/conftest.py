"""A tiny hand-made ledger (as the text cells a CSV export holds) and helpers to validate variants of it.

Every table is valid as given: each test changes a cell or adds a row and says which rejects it expects.
``frames_to_raw`` numbers rows as a CSV would (header = line 1, first row = line 2)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
import yaml

from riskml.config import DataConfig
from riskml.data.validate import ValidationReport, frames_to_raw, validate_tables

TINY = {
    "customers": """customer_id,credit_limit,payment_terms_days,name,industry,country,onboarded_date,last_review_date
C1,10000,30,Alpha GmbH,retail,DE,2023-01-15,2023-01-15
C2,,45,Beta SAS,wholesale,FR,2023-03-01,2024-03-01
C3,5000,60,Gamma BV,construction,NL,2024-01-10,2024-01-10
""",
    "invoices": """invoice_id,customer_id,invoice_date,due_date,amount,disputed,dispute_date,currency
I1,C1,2024-01-05,2024-02-04,1000.00,false,,EUR
I2,C1,2024-02-05,2024-03-06,500.50,true,2024-02-20,EUR
I3,C2,2024-02-10,2024-03-26,2500.00,false,,EUR
I4,C3,2024-03-01,2024-04-30,800.00,,,EUR
""",
    "payments": """payment_id,customer_id,invoice_id,payment_date,amount,currency
P1,C1,I1,2024-02-01,1000.00,EUR
P2,C1,I2,2024-03-20,250.25,EUR
P3,C2,I3,2024-04-15,2500.00,EUR
P4,C3,,2024-03-15,100.00,EUR
""",
    "adjustments": """adjustment_id,customer_id,invoice_id,date,amount,kind,currency
A1,C1,I2,2024-03-25,250.25,credit_note,EUR
A2,C3,I4,2024-06-30,800.00,write_off,EUR
""",
    "orders": """order_id,customer_id,order_date,amount,closed_date,currency
O1,C1,2024-03-01,700.00,,EUR
O2,C2,2024-01-20,2500.00,2024-02-10,EUR
""",
}


def tiny_frames() -> dict[str, pd.DataFrame]:
    """The tiny ledger as text frames (blank cells are empty strings, as read from a CSV)."""
    return {name: pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False) for name, text in TINY.items()}


def validate_frames(frames: dict[str, pd.DataFrame], **config) -> tuple:
    """Validate in-memory frames with a data config built from ``config``; returns (ledger, report)."""
    return validate_tables(frames_to_raw(frames), DataConfig(**config))


def rejects_of(report: ValidationReport) -> set[tuple]:
    """The rejects as a set of (table, line, column, rule)."""
    r = report.rejects
    return {(t, int(line), c if isinstance(c, str) else None, rule)
            for t, line, c, rule in zip(r["table"], r["line"], r["column"], r["rule"], strict=True)}


def assert_counts_add_up(report: ValidationReport) -> None:
    """accepted + rejected = read for every table, and every rejected row is listed in the rejects."""
    for row in report.summary.itertuples():
        assert row.accepted + row.rejected == row.read, row
        listed = report.rejects.loc[report.rejects["table"] == row.table, "line"].nunique()
        assert listed == row.rejected, (row.table, listed, row.rejected)


def write_dir(path: Path, tables: dict[str, str | bytes | pd.DataFrame], config: dict | None = None,
              fmt: str = "csv") -> Path:
    """Write tables (text, bytes or frames) as a ledger directory, with ``config`` as its data.yaml."""
    path.mkdir(parents=True, exist_ok=True)
    for name, content in tables.items():
        if isinstance(content, pd.DataFrame):
            if fmt == "parquet":
                content.to_parquet(path / f"{name}.parquet", index=False)
            else:
                content.to_csv(path / f"{name}.csv", index=False)
        elif isinstance(content, bytes):
            (path / f"{name}.{fmt}").write_bytes(content)
        else:
            (path / f"{name}.{fmt}").write_text(content, encoding="utf-8", newline="")
    if config is not None:
        (path / "data.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    """The tiny ledger as a CSV directory."""
    return write_dir(tmp_path / "tiny", dict(TINY))
