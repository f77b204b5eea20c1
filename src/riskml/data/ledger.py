"""The validated, typed ledger held in memory: what every later stage takes as input."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from riskml.data.contract import EVENT_DATE, TABLES
from riskml.errors import DataError


def empty_table(name: str) -> pd.DataFrame:
    """An empty frame with the canonical columns and dtypes of table ``name``."""
    cols = {}
    for c in TABLES[name].columns:
        if c.type == "date":
            cols[c.name] = pd.Series([], dtype="datetime64[ns]")
        elif c.type == "number":
            cols[c.name] = pd.Series([], dtype="float64")
        elif c.type == "integer":
            cols[c.name] = pd.Series([], dtype="int64")
        elif c.type == "bool":
            cols[c.name] = pd.Series([], dtype="bool")
        else:
            cols[c.name] = pd.Series([], dtype="str")
    return pd.DataFrame(cols)


@dataclass(frozen=True)
class Ledger:
    """Typed, validated ledger tables (canonical column names, every contract column present).

    Dtypes: ids and strings ``str`` (missing = NA), amounts ``float64`` in the base currency,
    ``payment_terms_days`` ``int64``, dates ``datetime64`` at midnight (missing = NaT),
    ``disputed`` ``bool``. Optional tables that were not supplied are empty frames.
    ``extra_attributes`` names the customer columns declared in config as features.
    """

    customers: pd.DataFrame
    invoices: pd.DataFrame
    payments: pd.DataFrame
    adjustments: pd.DataFrame = field(default_factory=lambda: empty_table("adjustments"))
    orders: pd.DataFrame = field(default_factory=lambda: empty_table("orders"))
    extra_attributes: tuple[str, ...] = ()
    source: str = ""

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "customers": self.customers,
            "invoices": self.invoices,
            "payments": self.payments,
            "adjustments": self.adjustments,
            "orders": self.orders,
        }

    def row_counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.tables().items()}

    def fingerprint(self) -> str:
        """A short content hash of all tables (order-independent within a table)."""
        h = hashlib.sha256()
        for name, df in self.tables().items():
            h.update(name.encode())
            if len(df):
                row_hashes = pd.util.hash_pandas_object(df.reset_index(drop=True), index=False).to_numpy()
                h.update(np.sort(row_hashes).tobytes())
        return h.hexdigest()[:16]

    def date_range(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First invoice date and last event date of the ledger.

        A ledger without invoices or events (a customer master with attributes only, the cold-start
        case) spans the customers' onboarding and review dates instead."""
        lo = self.invoices["invoice_date"].min()
        his = [self.tables()[t][c].max() for t, c in EVENT_DATE.items() if len(self.tables()[t])]
        if not his or pd.isna(lo):
            dates = [self.customers[c].dropna() for c in ("onboarded_date", "last_review_date")
                     if c in self.customers]
            dates = [d for d in dates if len(d)]
            lo = lo if pd.notna(lo) else min((d.min() for d in dates), default=pd.NaT)
            his = his or [d.max() for d in dates]
        if pd.isna(lo) or not his:
            raise DataError("the ledger has no dated rows (no invoices, payments, adjustments or orders, and no "
                            "onboarding or review dates in the customer master)")
        return lo, max(his)

    def until(self, as_of: pd.Timestamp | str) -> Ledger:
        """The ledger as it was known at the end of ``as_of``: rows dated after it are removed."""
        t = pd.Timestamp(as_of)
        out = {}
        for name, col in EVENT_DATE.items():
            df = self.tables()[name]
            out[name] = df.loc[df[col] <= t]
        return replace(self, **out)
