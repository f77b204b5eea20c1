"""The figures of one policy at one replay date, and their summary per policy.

What a decision at ``T`` restricts, and what that blocks over the period it governs (``(T, P]``, up to
the next replay date), against what the ledger shows happened:

* **held** (``order_hold``): every invoice of the hold's duration is blocked (``backtest.hold_days``; by
  default the whole period);
* **revoked**: every invoice of the period is blocked (cash in advance is not lifted by paying arrears);
* **cut** (``decrease``, ``revoke``, or ``set`` below the exposure at ``T``): invoices that would take the
  receivables over the new limit are blocked -- ``min(invoiced, max(0, open receivables at T + invoiced -
  settled - new limit))``, with the period's invoices and cash/credits (an end-of-period approximation;
  open orders are left out, since they become the period's invoices);
* increases and keeps block nothing (the ledger shows what the customer bought; an increase cannot
  create demand it does not show).

A blocked share of the period's invoices takes the same share of their realised loss with it
(``bad_debt_avoided``); the rest is ``bad_debt_realised``. Blocked invoices of customers who did not go
delinquent are ``sales_lost``, at the customer's gross margin ``margin_lost``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskml.config import ScoringConfig

# personas counted as "strong late payers" (i11's code, and the older one)
STRONG_LATE = ("strong_late_payer", "stretching")
# figures added over dates (flows over disjoint periods)
FLOW = ("sales_invoiced", "sales_lost", "sales_lost_holds", "sales_lost_cuts", "margin_lost", "sales_kept", "margin_kept", "sales_blocked_bad",
        "bad_debt_avoided", "bad_debt_realised", "expected_loss", "net", "net_expected",
        "strong_late_payer_sales_lost")
# figures averaged over dates (stocks and workload per replay date)
MEAN = ("customers", "holds", "holds_new", "revokes", "cuts", "reviews_due", "reviews_urgent", "approvals", "approvals_new",
        "good_customers_restricted", "strong_late_payers", "strong_late_payers_restricted",
        "bad_customers", "bad_customers_caught", "already_delinquent")
STOCK = ("bad_exposure", "bad_exposure_caught", "bad_exposure_missed")


def _num(frame: pd.DataFrame, col: str, default: float = np.nan) -> np.ndarray:
    if col not in frame:
        return np.full(len(frame), default)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy("float64")


def margin_rates(features: pd.DataFrame, config: ScoringConfig) -> np.ndarray:
    """Gross margin per customer: a per-segment margin where the scoring config has one
    (``limits.segment_margins`` keyed by the feature table's ``segment`` or ``industry``), else
    ``limits.gross_margin``."""
    base = float(config.limits.gross_margin)
    seg = getattr(config.limits, "segment_margins", None)
    col = next((c for c in ("segment", "industry") if c in features), None)
    if isinstance(seg, dict) and seg and col is not None:
        return features[col].astype("str").map(seg).astype("float64").fillna(base).to_numpy("float64")
    return np.full(len(features), base)


def restrictions(decisions: pd.DataFrame, features: pd.DataFrame) -> dict[str, np.ndarray]:
    """held, revoked, cut, restricted and the new limit (inf where the decision does not lower it)."""
    action = decisions["action"].to_numpy(dtype=object)
    held = decisions["order_hold"].to_numpy(dtype=bool)
    revoked = action == "revoke"
    exposure = np.nan_to_num(_num(features, "exposure"), nan=0.0)
    suggested = _num(decisions, "suggested_limit")
    with np.errstate(invalid="ignore"):
        set_low = (action == "set") & (suggested < exposure)
    cut = (action == "decrease") | revoked | set_low
    lowers = np.isin(action, ["decrease", "revoke", "set"]) & np.isfinite(suggested)
    new_limit = np.where(lowers, suggested, np.inf)
    new_limit = np.where(revoked, 0.0, new_limit)
    receivables = np.nan_to_num(_num(features, "open_balance"), nan=0.0)
    return {"held": held | revoked, "revoked": revoked, "cut": cut, "restricted": held | cut,
            "new_limit": new_limit, "exposure": exposure, "receivables": receivables}


def blocked_amounts(held: np.ndarray, new_limit: np.ndarray, receivables: np.ndarray, invoiced: np.ndarray,
                    settled: np.ndarray) -> np.ndarray:
    """Invoiced amounts of the period a decision blocks (see the module docstring): everything when held,
    else what takes the receivables at the period's end over the new limit."""
    over = np.clip(receivables + invoiced - settled - new_limit, 0.0, None)
    over = np.where(np.isfinite(new_limit), over, 0.0)
    return np.where(held, invoiced, np.minimum(invoiced, over))


def date_figures(decisions: pd.DataFrame, features: pd.DataFrame, pd_values: np.ndarray, outcomes: pd.DataFrame,
                 config: ScoringConfig, previous_held: np.ndarray | None = None,
                 approval_levels: np.ndarray | None = None,
                 previous_levels: np.ndarray | None = None) -> dict[str, float]:
    """Every figure of one policy at one date. ``decisions``, ``features``, ``pd_values`` and ``outcomes``
    are aligned row by row (one row per customer decided at the date); ``previous_held`` flags the
    customers held at the previous replay date (for new holds), ``previous_levels`` the approval level
    their decision needed then (for new approvals: the master's limit does not change in the replay, so a
    suggested change recurs every date until acted on)."""
    r = restrictions(decisions, features)
    invoiced = outcomes["invoiced"].to_numpy("float64")
    settled = outcomes["settled"].to_numpy("float64")
    loss = outcomes["loss"].to_numpy("float64")
    status = outcomes["status"].to_numpy(dtype=object)
    bad = outcomes["bad"].to_numpy(bool)
    already = status == "delinquent_at_as_of"
    good = ~bad & ~already
    # a hold (not a revoke) blocks the invoices of its duration; a cut the rest of the period beyond the limit
    inv_hold = outcomes["invoiced_hold"].to_numpy("float64") if "invoiced_hold" in outcomes else invoiced
    loss_hold = outcomes["loss_hold"].to_numpy("float64") if "loss_hold" in outcomes else loss
    soft = r["held"] & ~r["revoked"] & (inv_hold < invoiced)
    after = np.where(soft, blocked_amounts(np.zeros(len(soft), bool), r["new_limit"], r["receivables"] + inv_hold,
                                           invoiced - inv_hold, settled), 0.0)
    blocked = np.where(soft, inv_hold + after,
                       blocked_amounts(r["held"], r["new_limit"], r["receivables"], invoiced, settled))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(invoiced > 0, blocked / invoiced, 0.0)
        share_after = np.where(invoiced - inv_hold > 0, after / (invoiced - inv_hold), 0.0)
    avoided = np.where(soft, loss_hold + (loss - loss_hold) * share_after, loss * share)
    margin = margin_rates(features, config)
    kept = invoiced - blocked
    p = np.nan_to_num(np.asarray(pd_values, dtype="float64"), nan=0.0)
    lgd = float(config.limits.lgd)
    persona = decisions["persona"].astype("str").to_numpy() if "persona" in decisions else np.full(len(r["held"]), "")
    strong = np.isin(persona, STRONG_LATE)
    restricted = r["restricted"]
    prev = np.zeros(len(restricted), bool) if previous_held is None else np.asarray(previous_held, bool)
    levels = np.full(len(prev), "", dtype=object) if approval_levels is None else np.asarray(approval_levels, object)
    before = np.full(len(prev), "", dtype=object) if previous_levels is None else np.asarray(previous_levels, object)
    approvals = int((levels != "").sum())
    approvals_new = int(((levels != "") & (levels != before)).sum())
    urgent = _num(decisions, "review_priority", 0) == 1
    margin_kept = float((margin * kept)[good].sum())
    realised = float((loss - avoided).sum())
    expected = float((p * lgd * kept).sum())
    out: dict[str, Any] = {
        "customers": len(restricted),
        "sales_invoiced": float(invoiced.sum()),
        "sales_lost": float(blocked[good].sum()),
        "sales_lost_holds": float(blocked[good & r["held"]].sum()),
        "sales_lost_cuts": float(blocked[good & ~r["held"]].sum()),
        "margin_lost": float((margin * blocked)[good].sum()),
        "sales_kept": float(kept[good].sum()),
        "margin_kept": margin_kept,
        "sales_blocked_bad": float(blocked[~good].sum()),
        "bad_debt_avoided": float(avoided.sum()),
        "bad_debt_realised": realised,
        "expected_loss": expected,
        "net": margin_kept - realised,
        "net_expected": margin_kept - expected,
        "bad_customers": int(bad.sum()),
        "bad_customers_caught": int((bad & restricted).sum()),
        "bad_exposure": float(r["exposure"][bad].sum()),
        "bad_exposure_caught": float(r["exposure"][bad & restricted].sum()),
        "bad_exposure_missed": float(r["exposure"][bad & ~restricted].sum()),
        "already_delinquent": int(already.sum()),
        "good_customers_restricted": int((good & restricted).sum()),
        "holds": int(r["held"].sum()),
        "holds_new": int((r["held"] & ~prev).sum()),
        "revokes": int(r["revoked"].sum()),
        "cuts": int((r["cut"] & ~r["revoked"]).sum()),
        "reviews_due": int(decisions["review_due"].to_numpy(bool).sum()),
        "reviews_urgent": int(urgent.sum()),
        "approvals": approvals,
        "approvals_new": approvals_new,
        "strong_late_payers": int(strong.sum()),
        "strong_late_payers_restricted": int((strong & restricted).sum()),
        "strong_late_payer_sales_lost": float(blocked[strong & good].sum()),
    }
    if "hold_type" in decisions:
        ht = decisions["hold_type"].astype("str").to_numpy()
        out["holds_hard"] = int((ht == "hard").sum())
        out["holds_soft"] = int((ht == "soft").sum())
    if "margin_at_risk" in decisions:
        out["margin_at_risk"] = float(np.nan_to_num(_num(decisions, "margin_at_risk"), nan=0.0).sum())
    return out


def _share(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per policy (in first-seen order) from the policy x date figures: flows summed over the
    dates, stocks and workload averaged per replay date, and the shares."""
    rows = []
    for name, g in frame.groupby("policy", sort=False):
        row: dict[str, Any] = {"policy": name, "dates": len(g),
                               "first_date": str(pd.Timestamp(g["as_of"].min()).date()),
                               "last_date": str(pd.Timestamp(g["as_of"].max()).date())}
        for c in FLOW:
            row[c] = float(g[c].sum())
        for c in (*MEAN, *STOCK, "holds_hard", "holds_soft", "margin_at_risk"):
            if c in g:
                row[f"{c}_per_date"] = float(g[c].mean())
        row["bad_exposure_caught_share"] = _share(g["bad_exposure_caught"].sum(), g["bad_exposure"].sum())
        row["bad_customers_caught_share"] = _share(g["bad_customers_caught"].sum(), g["bad_customers"].sum())
        row["bad_debt_avoided_share"] = _share(row["bad_debt_avoided"],
                                               row["bad_debt_avoided"] + row["bad_debt_realised"])
        row["sales_lost_share"] = _share(row["sales_lost"], row["sales_lost"] + row["sales_kept"])
        rows.append(row)
    return pd.DataFrame(rows)
