"""Released orders of a customer found by one index on (customer_id, released).

Every check reads its customer's released orders; with an index on each column alone, SQLite's planner
chose the ``released`` one and read every released order of the book per check (slower every day the service
runs). The composite index makes it read the customer's rows only.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_credit_checks_customer_released", "credit_checks", ["customer_id", "released"])


def downgrade() -> None:
    op.drop_index("ix_credit_checks_customer_released", table_name="credit_checks")
