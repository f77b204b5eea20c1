"""Collector personas: who this customer is, in one word, so a collector knows how to approach them.

Rules are checked in this order and the first that matches wins (precedence: too little history to
judge first; money problems before paperwork problems; paperwork before a trend; a trend before a
steady level):

==================  =================================================================================
persona             rule (thresholds in ``PersonaPolicy`` / ``ThinFileRule``)
==================  =================================================================================
``thin_file``       no payment received yet, or ``invoices_total <= max_invoices``, or
                    ``tenure_months <= max_tenure_months``
``distressed``      ``PD >= distressed_min_pd`` or ``oldest_dpd >= distressed_min_dpd``
``disputing``       ``dispute_share_12m >= disputing_min_share`` or
                    ``disputed_open_share >= disputing_min_share`` (disorganised / disputing:
                    paperwork problems, not money problems)
``deteriorating``   ``dbt_trend_6m >= deteriorating_min_trend`` days a month and
                    ``dbt_avg_3m > prompt_max_dbt``
``stretching``      strong but stretching terms: ``dbt_avg_6m >= stretch_min_dbt`` and
                    ``PD <= stretch_max_pd``
``prompt_payer``    ``dbt_avg_6m <= prompt_max_dbt``
``regular``         none of the above (pays a few days late, or late with a middling PD)
==================  =================================================================================

A customer that could not be scored (no PD) can still be ``thin_file``, ``distressed`` on its past-due
days, ``disputing``, ``deteriorating`` or ``prompt_payer``; the PD conditions are simply not met.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskml.config import PersonaPolicy, ThinFileRule

PERSONAS: dict[str, str] = {
    "thin_file": "new / thin file",
    "distressed": "distressed / high risk",
    "disputing": "disorganised / disputing",
    "deteriorating": "deteriorating",
    "stretching": "strong but stretching terms",
    "prompt_payer": "prompt payer",
    "regular": "regular payer",
}

THIN_FILE_COLUMNS = ("no_payment_history", "invoices_total", "tenure_months")
PERSONA_COLUMNS = (
    *THIN_FILE_COLUMNS, "oldest_dpd", "dispute_share_12m", "disputed_open_share",
    "dbt_trend_6m", "dbt_avg_3m", "dbt_avg_6m",
)


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(frame[col], errors="coerce").to_numpy("float64")


def thin_file_mask(frame: pd.DataFrame, rule: ThinFileRule) -> np.ndarray:
    """Customers with too little history to be judged on it (see :class:`riskml.config.ThinFileRule`)."""
    no_pay = np.nan_to_num(_num(frame, "no_payment_history"), nan=1.0) >= 0.5
    invoices = np.nan_to_num(_num(frame, "invoices_total"), nan=0.0)
    tenure = np.nan_to_num(_num(frame, "tenure_months"), nan=0.0)
    return no_pay | (invoices <= rule.max_invoices) | (tenure <= rule.max_tenure_months)


def assign_personas(
    frame: pd.DataFrame, pd_values: np.ndarray, policy: PersonaPolicy, thin_file: np.ndarray
) -> np.ndarray:
    """The persona code of each row (keys of :data:`PERSONAS`), by the rules in the module docstring."""
    p = np.asarray(pd_values, dtype="float64")
    dpd = _num(frame, "oldest_dpd")
    disp = np.fmax(_num(frame, "dispute_share_12m"), _num(frame, "disputed_open_share"))
    trend = _num(frame, "dbt_trend_6m")
    dbt3 = _num(frame, "dbt_avg_3m")
    dbt6 = _num(frame, "dbt_avg_6m")
    with np.errstate(invalid="ignore"):
        rules = [
            ("thin_file", np.asarray(thin_file, dtype=bool)),
            ("distressed", (p >= policy.distressed_min_pd) | (dpd >= policy.distressed_min_dpd)),
            ("disputing", disp >= policy.disputing_min_share),
            ("deteriorating", (trend >= policy.deteriorating_min_trend) & (dbt3 > policy.prompt_max_dbt)),
            ("stretching", (dbt6 >= policy.stretch_min_dbt) & (p <= policy.stretch_max_pd)),
            ("prompt_payer", dbt6 <= policy.prompt_max_dbt),
        ]
    out = np.full(len(frame), "regular", dtype=object)
    done = np.zeros(len(frame), dtype=bool)
    for name, mask in rules:
        hit = mask & ~done
        out[hit] = name
        done |= hit
    return out
