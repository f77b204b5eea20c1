"""The ledger contract: which tables a data directory holds and which columns each has.

This module is the single source of truth for table and column names; the pandera schemas, the
validator, the demo generator and ``docs/data-contract.md`` all follow it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["id", "string", "number", "integer", "date", "bool"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = True
    nullable: bool = False
    description: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    required: bool
    key: str
    columns: tuple[Column, ...]
    description: str = ""
    date_columns: tuple[str, ...] = field(default=())

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


ADJUSTMENT_KINDS = ("credit_note", "write_off", "deduction")

CUSTOMERS = Table(
    "customers",
    required=True,
    key="customer_id",
    description="The customer master: one row per customer.",
    columns=(
        Column("customer_id", "id", description="unique customer key"),
        Column("credit_limit", "number", nullable=True, description=">= 0; empty = no limit set"),
        Column("payment_terms_days", "integer", description="> 0, e.g. 30 for net 30"),
        Column("name", "string", required=False, nullable=True),
        Column("industry", "string", required=False, nullable=True),
        Column("country", "string", required=False, nullable=True),
        Column("onboarded_date", "date", required=False, nullable=True, description="start of the relationship"),
        Column("last_review_date", "date", required=False, nullable=True, description="last limit review"),
        Column("insured_limit", "number", required=False, nullable=True,
               description=">= 0; credit insurance limit on the customer (empty = not insured)"),
        Column("insurer", "string", required=False, nullable=True, description="the credit insurer"),
        Column("insurance_expiry", "date", required=False, nullable=True,
               description="last day of the insurance cover (may lie after the as-of date)"),
    ),
    date_columns=("onboarded_date", "last_review_date", "insurance_expiry"),
)

INVOICES = Table(
    "invoices",
    required=True,
    key="invoice_id",
    description="Every invoice issued, open or settled.",
    columns=(
        Column("invoice_id", "id", description="unique invoice key"),
        Column("customer_id", "id", description="a customer of the master"),
        Column("invoice_date", "date"),
        Column("due_date", "date", description=">= invoice_date"),
        Column("amount", "number", description="> 0, gross amount invoiced"),
        Column("disputed", "bool", required=False, nullable=True, description="the customer disputed it"),
        Column("dispute_date", "date", required=False, nullable=True,
               description="when the dispute was raised; without it a dispute counts from the invoice date"),
        Column("currency", "string", required=False, nullable=True),
    ),
    date_columns=("invoice_date", "due_date", "dispute_date"),
)

PAYMENTS = Table(
    "payments",
    required=True,
    key="payment_id",
    description="Cash received; an empty invoice_id is unapplied cash.",
    columns=(
        Column("payment_id", "id", description="unique payment key"),
        Column("customer_id", "id"),
        Column("invoice_id", "id", nullable=True, description="empty = unapplied cash"),
        Column("payment_date", "date"),
        Column("amount", "number", description="> 0"),
        Column("currency", "string", required=False, nullable=True),
    ),
    date_columns=("payment_date",),
)

ADJUSTMENTS = Table(
    "adjustments",
    required=False,
    key="adjustment_id",
    description="Credit notes, write-offs and deductions that reduce what a customer owes.",
    columns=(
        Column("adjustment_id", "id"),
        Column("customer_id", "id"),
        Column("invoice_id", "id", nullable=True),
        Column("date", "date"),
        Column("amount", "number", description="> 0, the amount credited or written off"),
        Column("kind", "string", description="credit_note, write_off or deduction"),
        Column("currency", "string", required=False, nullable=True),
    ),
    date_columns=("date",),
)

ORDERS = Table(
    "orders",
    required=False,
    key="order_id",
    description="Open sales orders (not yet invoiced), for exposure and order-hold checks.",
    columns=(
        Column("order_id", "id"),
        Column("customer_id", "id"),
        Column("order_date", "date"),
        Column("amount", "number", description="> 0"),
        Column("closed_date", "date", required=False, nullable=True,
               description="when the order was invoiced or cancelled; empty = still open"),
        Column("currency", "string", required=False, nullable=True),
    ),
    date_columns=("order_date", "closed_date"),
)

TABLES: dict[str, Table] = {t.name: t for t in (CUSTOMERS, INVOICES, PAYMENTS, ADJUSTMENTS, ORDERS)}

# the date that places each table's row in time (rows dated after an as-of date are unknown then)
EVENT_DATE: dict[str, str] = {
    "invoices": "invoice_date",
    "payments": "payment_date",
    "adjustments": "date",
    "orders": "order_date",
}
