"""Hand-made feature rows for the scoring-policy tests: every column the policies read, with values of
an unremarkable established customer unless a test overrides them."""

from __future__ import annotations

import pandas as pd

from riskml.config import ScoringConfig

BASE_ROW: dict[str, object] = {
    "customer_id": "C1",
    "as_of": pd.Timestamp("2026-09-30"),
    "sales_avg_3m": 10_000.0,
    "sales_avg_12m": 8_000.0,
    "payment_terms_days": 30.0,
    "credit_limit": 15_000.0,
    "late_paid_share_12m": 0.1,
    "dbt_avg_3m": 2.0,
    "dbt_avg_6m": 2.0,
    "dbt_avg_12m": 2.0,
    "dbt_trend_6m": 0.0,
    "paid_invoices_12m": 24.0,
    "invoices_total": 60.0,
    "tenure_months": 48.0,
    "no_payment_history": 0.0,
    "oldest_dpd": 0.0,
    "exposure": 10_000.0,
    "open_orders_amount": 1_000.0,
    "exposure_hwm_12m": 12_000.0,
    "dispute_share_12m": 0.0,
    "disputed_open_share": 0.0,
    "months_since_review": 6.0,
    "dbt_max_12m": 8.0,
    "open_balance": 9_000.0,
    "past_due_amount": 0.0,
    "undisputed_past_due_amount": 0.0,
    "undisputed_oldest_dpd": 0.0,
    "utilisation_sustained_2m": 0.6,
}


def rows(*overrides: dict[str, object]) -> pd.DataFrame:
    """One row per override dict, on top of :data:`BASE_ROW`; customer ids C1, C2, ... unless given."""
    out = []
    for i, o in enumerate(overrides or ({},)):
        r = {**BASE_ROW, "customer_id": f"C{i + 1}", **o}
        out.append(r)
    return pd.DataFrame(out)


def covering_up_to(grade: str) -> ScoringConfig:
    """The shipped scoring config with over-limit customers covered by a limit only up to ``grade``
    (``limits.cover_exposure_worst_grade``), so that a customer of a worse grade over its limit is held."""
    cfg = ScoringConfig()
    return cfg.model_copy(update={"limits": cfg.limits.model_copy(update={"cover_exposure_worst_grade": grade})})
