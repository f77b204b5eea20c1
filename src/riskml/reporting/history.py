"""Monthly payment-history series of the customers being reported, from the ledger.

Two sources, both point in time (nothing dated after the as-of date is read):

* **Flows per calendar month**, read straight from the ledger: the amount-weighted days beyond terms
  (DBT) of the cash applied to invoices in the month (the same definition as the feature engine's
  monthly DBT, whose least-squares slope is the ``dbt_trend_*`` feature), cash applied, and sales
  (amount invoiced). The last month runs to the as-of date when that is not a month end.
* **State at each month end** (and at the as-of date), from :func:`riskml.features.build_snapshots`
  over the reported customers only: aging of the open balance, open balance, past-due share, the
  12-month instalment and short-payment shares and the 3-month average DBT — the figures the model saw.

The DBT trend line drawn on the report is :func:`dbt_trend`: the least-squares line through the monthly
DBT of the last 12 months that had payments, so its slope equals the customer's ``dbt_trend_12m``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from riskml.config import FeatureConfig
from riskml.data.ledger import Ledger
from riskml.features import build_snapshots

AGING_COLUMNS = (
    "aging_current_amount",
    "aging_1_30_amount",
    "aging_31_60_amount",
    "aging_61_90_amount",
    "aging_90p_amount",
)
AGING_LABELS = ("not yet due", "1-30 days past due", "31-60", "61-90", "over 90")
STATE_COLUMNS = (
    *AGING_COLUMNS,
    "open_balance",
    "past_due_share",
    "multi_payment_share_12m",
    "short_paid_share_12m",
    "dbt_avg_3m",
    "credit_limit",
    "exposure",
)
FLOW_COLUMNS = ("dbt", "paid_amount", "sales", "invoice_count")
HISTORY_COLUMNS = ("customer_id", "month", *FLOW_COLUMNS, *STATE_COLUMNS)


def subset_ledger(ledger: Ledger, customer_ids: Iterable[str]) -> Ledger:
    """The ledger restricted to ``customer_ids`` (every table), for cheap per-customer computations."""
    ids = pd.Index(pd.Series(list(customer_ids), dtype="str").unique())
    tables = {}
    for name, df in ledger.tables().items():
        tables[name] = df.loc[df["customer_id"].astype("str").isin(ids)].reset_index(drop=True)
    return replace(ledger, **tables)


def history_dates(as_of: object, n_months: int = 24) -> list[pd.Timestamp]:
    """The ``n_months`` period ends of the charts: the month ends before ``as_of`` and ``as_of`` itself."""
    if n_months < 1:
        raise ValueError(f"n_months must be >= 1; got {n_months}")
    t = pd.Timestamp(as_of).normalize()
    last_full = t if t.is_month_end else t - pd.offsets.MonthEnd(1)
    ends = list(pd.date_range(end=last_full, periods=n_months if t.is_month_end else n_months - 1, freq="ME"))
    return ends if t.is_month_end else [*ends, t]


def _period_index(dates: pd.Series, bounds: np.ndarray) -> np.ndarray:
    """Index of the period ``(bounds[j-1], bounds[j]]`` holding each date; -1 outside the range."""
    d = dates.to_numpy("datetime64[ns]")
    j = np.searchsorted(bounds, d, side="left") - 1
    inside = (j >= 0) & (j < len(bounds) - 1) & ~np.isnat(d)
    return np.where(inside, j, -1)


def monthly_flows(ledger: Ledger, dates: list[pd.Timestamp]) -> pd.DataFrame:
    """Per customer of ``ledger`` and period ending at each of ``dates``: amount-weighted DBT of the cash
    applied in the period (NaN: no payment), cash applied, sales and number of invoices."""
    first = dates[0] - pd.offsets.MonthEnd(1)
    bounds = np.asarray(pd.DatetimeIndex([first, *dates]), dtype="datetime64[ns]")
    ids = ledger.customers["customer_id"].astype("str").to_numpy()
    n_p = len(dates)
    grid = pd.MultiIndex.from_product([ids, range(n_p)], names=["customer_id", "period"])

    inv = ledger.invoices
    inv_p = _period_index(inv["invoice_date"], bounds)
    sales = (
        pd.DataFrame({"customer_id": inv["customer_id"].astype("str"), "period": inv_p, "amount": inv["amount"]})
        .loc[inv_p >= 0]
        .groupby(["customer_id", "period"])["amount"]
        .agg(["sum", "count"])
    )

    pay = ledger.payments
    applied = pay.loc[pay["invoice_id"].notna()]
    due = inv.set_index(inv["invoice_id"].astype("str"))["due_date"]
    due_dates = due.reindex(applied["invoice_id"].astype("str")).to_numpy("datetime64[ns]")
    pay_dates = applied["payment_date"].to_numpy("datetime64[ns]")
    dbt_days = np.clip((pay_dates - due_dates) / np.timedelta64(1, "D"), 0, None)
    pay_p = _period_index(applied["payment_date"], bounds)
    amt = applied["amount"].to_numpy("float64")
    ok = (pay_p >= 0) & ~np.isnan(dbt_days)
    paid = (
        pd.DataFrame({
            "customer_id": applied["customer_id"].astype("str").to_numpy()[ok],
            "period": pay_p[ok],
            "amount": amt[ok],
            "weighted": amt[ok] * dbt_days[ok],
        })
        .groupby(["customer_id", "period"])[["amount", "weighted"]]
        .sum()
    )

    out = pd.DataFrame(index=grid)
    out["paid_amount"] = paid["amount"].reindex(grid).fillna(0.0).to_numpy()
    weighted = paid["weighted"].reindex(grid).fillna(0.0).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["dbt"] = np.where(out["paid_amount"] > 0, weighted / out["paid_amount"].where(out["paid_amount"] > 0), np.nan)
    out["sales"] = sales["sum"].reindex(grid).fillna(0.0).to_numpy()
    out["invoice_count"] = sales["count"].reindex(grid).fillna(0).astype("int64").to_numpy()
    out = out.reset_index()
    out["month"] = pd.DatetimeIndex(dates).to_numpy("datetime64[ns]")[out["period"].to_numpy()]
    return out[["customer_id", "month", *FLOW_COLUMNS]]


def monthly_history(
    ledger: Ledger,
    as_of: object,
    customer_ids: Iterable[str] | None = None,
    n_months: int = 24,
    config: FeatureConfig | None = None,
) -> pd.DataFrame:
    """The monthly series of the reports, one row per (customer, period end), ``HISTORY_COLUMNS``.

    ``customer_ids`` limits the work to the customers being reported (default: all). Snapshot
    columns are NaN before the relationship started; flow columns are 0 (DBT NaN) in months without
    activity."""
    ids = ledger.customers["customer_id"].astype("str") if customer_ids is None else list(customer_ids)
    sub = subset_ledger(ledger.until(as_of), ids)
    dates = history_dates(as_of, n_months)
    flows = monthly_flows(sub, dates)
    if len(sub.customers) == 0:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in HISTORY_COLUMNS})
    snaps = build_snapshots(sub, dates, config)
    state = snaps[["customer_id", "as_of", *STATE_COLUMNS]].rename(columns={"as_of": "month"})
    state["month"] = state["month"].astype("datetime64[ns]")
    flows["month"] = flows["month"].astype("datetime64[ns]")
    out = flows.merge(state, on=["customer_id", "month"], how="left", validate="one_to_one")
    return out.sort_values(["customer_id", "month"], kind="stable").reset_index(drop=True)[list(HISTORY_COLUMNS)]


def _by_month(history: pd.DataFrame) -> pd.DataFrame:
    """One customer's history in month order, index 0..n-1 (monthly_history already sorts it)."""
    if history["month"].is_monotonic_increasing:
        return history.reset_index(drop=True)
    return history.sort_values("month", kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class Trend:
    """A least-squares line ``dbt = intercept + slope x month_index`` over ``months``."""

    slope: float  # days per month
    intercept: float
    months: tuple[pd.Timestamp, ...]
    positions: tuple[int, ...]  # month indices within the series the line was fitted on

    def values(self) -> np.ndarray:
        return self.intercept + self.slope * np.asarray(self.positions, dtype="float64")


def dbt_trend(history: pd.DataFrame, window: int = 12, min_points: int = 3) -> Trend | None:
    """The DBT trend of one customer's history: least squares through the monthly DBT of the last
    ``window`` months that had payments (x = month index). ``None`` with fewer than ``min_points``."""
    h = _by_month(history)
    start = max(len(h) - window, 0)
    tail = h.iloc[start:]
    ok = np.isfinite(tail["dbt"].to_numpy("float64"))
    if ok.sum() < min_points:
        return None
    x = np.arange(start, len(h), dtype="float64")[ok]
    y = tail["dbt"].to_numpy("float64")[ok]
    slope, intercept = np.polyfit(x, y, 1)
    if not (np.isfinite(slope) and np.isfinite(intercept)):
        return None
    months = tuple(pd.Timestamp(m) for m in tail["month"].to_numpy()[ok])
    return Trend(slope=float(slope), intercept=float(intercept), months=months, positions=tuple(int(i) for i in x))
