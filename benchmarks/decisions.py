"""`make decisions`: judge the decisions against the generator's truth, on the demo ledger and on a
harsher one.

For each ledger (the demo: ``riskml synth`` defaults, seed 7; the harsh one: ``--mix harsh``, seed 11) it
generates the ledger, trains with ``riskml train`` (its own MLflow sqlite store under the output folder),
scores every customer as of the ledger's end with ``riskml score``, and compares the scores with the truth
the generator wrote beside the ledger (``_truth/personas.csv``, which the pipeline never reads): which
customers are strong late payers (the generator's ``stretcher``), and which default in the 12 months after
the as-of date. The figures go to a markdown table in ``docs/scoring.md`` (between the ``decisions``
markers) and to ``OUT/decisions.md``; numbers in the docs therefore come from a run.

    python benchmarks/decisions.py [--out .bench/decisions] [--customers 2000] [--months 36] [--no-docs]
                                   [--reuse | --rescore]

``--reuse`` evaluates the scores a previous run left in ``--out``; ``--rescore`` scores its ledgers again with
the models it trained (for a change of the decision rules only: the ledgers and models are the same).

Beside the table it sweeps the knobs of the restrictions (:data:`SWEEPS`: the expected loss and the grade a cut
needs, the evidence a revoke needs, the freeze and cover grades, the past-due hold days, ...) over the same
scores: :func:`apply_policy` again on the features and PDs, nothing retrained, so the trade-off between
non-defaulters and defaulters restricted, and the money of each point, comes from the same run; :func:`best_point`
marks the best value of each knob on each ledger. The money (:func:`outcome_money`): bad debt avoided on the
defaulters against the margin lost on the non-defaulters; a soft hold of a non-defaulter is released by the
payment the truth says it makes, so its margin at risk is reported as delayed, not lost, with the cash the holds
ask for beside it.

It is also the one home of the "Decision rates" table (``docs/decision_rates.json`` -> the
``decision-rates`` block of ``docs/scoring.md``): each ledger's rates (:func:`riskml.scoring.summary.decision_rates`,
the one definition of every rate) are stored under its name; a scores file of your own is added with

    python benchmarks/decisions.py rates --data DIR --scores FILE --name "demo, seed 7"   [--remove NAME]

:func:`evaluate_decisions` is the pure part (scores + truth + features -> figures); tests check it on a
hand-made book.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "scoring.md"
RATES = ROOT / "docs" / "decision_rates.json"
BEGIN, END_MARK = "<!-- decisions:begin -->", "<!-- decisions:end -->"
START, END = "<!-- decision-rates:start -->", "<!-- decision-rates:end -->"
AS_OF = "2026-09-30"
HORIZON_MONTHS = 12
STRONG_TRUTH = "stretcher"  # the generator's strong customers who stretch terms
RESTRICTING_ACTIONS = ("decrease", "revoke")


@dataclass(frozen=True)
class LedgerSpec:
    name: str
    mix: str
    seed: int


LEDGERS = (LedgerSpec("demo", "demo", 7), LedgerSpec("harsh", "harsh", 11))
# the name of each ledger's column in docs/decision_rates.json
RATES_NAMES = {"demo": "demo (seed 7)", "harsh": "harsh mix (seed 11)"}
# the operating points swept (config section.field -> values; each list holds the shipped value): the expected loss a
# decrease must remove, the grade from which the sizing cuts, the deterioration a revoke needs, the share of invoices
# paid in full that spares a revoke, the grade from which limits are frozen at the exposure (None: off), the worst
# grade whose over-limit customers are covered rather than held, the largest thin-file cover, the days past due that
# hold orders for grades 8-10 and for grades 1-7
_GOOD = tuple(str(g) for g in range(1, 8))
SWEEPS: dict[str, tuple[Any, ...]] = {
    "limits.min_decrease_expected_loss": (0.0, 100.0, 250.0, 500.0, 1000.0),
    "limits.decrease_from_grade": (None, "5", "6", "7", "8"),
    "limits.revoke_min_dbt_shift_days": (0.0, 7.0, 10.0, 15.0, 1000.0),
    "limits.revoke_full_payer_min_paid_in_full": (0.85, 0.9, 0.94, 0.97, 1.01),
    "limits.freeze_grade": (None, "10", "9", "8", "7"),
    "limits.cover_exposure_worst_grade": (None, "7", "8", "9"),
    "limits.thin_file_cover_max_limit": (100_000.0, 250_000.0, 500_000.0),
    "actions.hold_past_due_days": (30.0, 45.0, 60.0, 89.0),
    "actions.hold_past_due_days_by_grade": tuple({g: d for g in _GOOD} for d in (30.0, 45.0, 60.0, 89.0)),
}
# the targets a swept point must meet on its ledger to be marked best (figure keys of TARGETS): on both
# ledgers, and the demo's own (its holds; "Demo ledger, default config")
GUARDRAILS = ("nondefault_restricted", "nondefault_revoked", "strong_revoked", "reviews_due")
LEDGER_GUARDRAILS = {"demo": ("holds_customers", "holds_sales")}

# (figure key, label, target text) in table order; TARGETS holds the checks
ROWS: tuple[tuple[str, str, str], ...] = (
    ("customers", "customers in the book", ""),
    ("alive", "not defaulted at the as-of date", ""),
    ("default_rate_12m", "of those, default in the next 12 months (truth)", ""),
    ("test_auc", "model: out-of-time test AUC (training)", ""),
    ("auc_vs_truth", "model: AUC against the true 12-month defaults", ""),
    ("persona_max_gap", "model: largest absolute persona calibration gap, test window (points)", "<= 3"),
    ("strong_gap", "model: strong late payers' calibration gap, test window (points)", "<= 3"),
    ("persona_outside", "model: personas outside the target (gap > 3 points and mean PD outside the observed "
     "rate's 95% Wilson interval)", "0"),
    ("strong_recall", "strong stretchers recognised (recall)", ">= 80%"),
    ("strong_precision", "strong late payer persona: precision", ">= 80%"),
    ("strong_revoked", "strong stretchers revoked", "0"),
    ("strong_held", "strong stretchers with an order hold", ""),
    ("nondefault_revoked", "non-defaulters revoked", "<= 5%"),
    ("nondefault_restricted", "non-defaulters restricted (hold, revoke or decrease)", "<= 15%"),
    ("default_restricted", "defaulters restricted before they default", ">= 80%"),
    ("frontier_at_policy", "  PD ranking alone, same share of non-defaulters restricted: defaulters restricted", ""),
    ("frontier_at_target", "  PD ranking alone, 15% of non-defaulters restricted: defaulters restricted", ""),
    ("frontier_fpr_needed", "  PD ranking alone: non-defaulters restricted to restrict 80% of the defaulters", ""),
    ("bad_debt_avoided", "money: bad debt avoided on the defaulters (LGD x exposure at default kept off)", ""),
    ("margin_lost", "money: margin lost on the non-defaulters (margin at risk of their cuts, revokes, hard holds)", ""),
    ("net_money", "money: bad debt avoided - margin lost", ""),
    ("margin_delayed", "money: margin delayed on the non-defaulters (soft holds, released by the payment they make)",
     ""),
    ("cash_asked", "money: cash the holds of non-defaulters ask for and get (release amounts)", ""),
    ("holds_customers", "order holds, share of customers", "<= 10%"),
    ("holds_collections", "  of which collections track (already seriously delinquent)", ""),
    ("holds_sales", "order holds, share of monthly sales", "<= 15%"),
    ("reviews_due", "reviews due now, share of customers", "<= 15%"),
    ("increase_and_hold", "customers with an increase and a hold", "0"),
    ("limits_changed", "limits changed (increase, decrease, revoke), share of customers", ""),
    ("approval_queue", "decisions waiting for approval (approval_level set)", ""),
    ("approval_analyst", "  of which analyst", ""),
    ("approval_credit_manager", "  of which credit manager", ""),
    ("approval_finance_director", "  of which finance director", ""),
)
TARGETS = {
    "persona_max_gap": lambda v: abs(v) <= 3, "strong_gap": lambda v: abs(v) <= 3,
    "persona_outside": lambda v: v == 0,
    "strong_recall": lambda v: v >= 0.8, "strong_precision": lambda v: v >= 0.8, "strong_revoked": lambda v: v == 0,
    "nondefault_revoked": lambda v: v <= 0.05, "nondefault_restricted": lambda v: v <= 0.15,
    "default_restricted": lambda v: v >= 0.8, "holds_customers": lambda v: v <= 0.10,
    "holds_sales": lambda v: v <= 0.15, "reviews_due": lambda v: v <= 0.15, "increase_and_hold": lambda v: v == 0,
}
SHARES = {"default_rate_12m", "strong_recall", "strong_precision", "nondefault_revoked", "nondefault_restricted",
          "frontier_at_policy", "frontier_at_target", "frontier_fpr_needed",
          "default_restricted", "holds_customers", "holds_sales", "reviews_due", "limits_changed"}
COUNTS = {"customers", "alive", "strong_revoked", "strong_held", "increase_and_hold", "holds_collections",
          "approval_queue", "approval_analyst", "approval_credit_manager", "approval_finance_director",
          "persona_outside"}
MONEY = {"bad_debt_avoided", "margin_lost", "net_money", "margin_delayed", "cash_asked"}
# the rates of riskml.scoring.summary.decision_rates (percent) -> figure keys (shares)
FROM_RATES = {"holds_pct_customers": "holds_customers", "holds_pct_sales": "holds_sales",
              "reviews_pct": "reviews_due", "limits_changed_pct": "limits_changed"}


def _share(mask: np.ndarray, base: np.ndarray) -> float:
    n = int(base.sum())
    return float((mask & base).sum() / n) if n else float("nan")


def _col(frame: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(frame[col], errors="coerce").to_numpy("float64") if col in frame else np.full(len(frame), np.nan)


def pd_frontier(p: np.ndarray, defaults: np.ndarray, survivors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The PD-ranking frontier: restrict every customer whose PD is at least ``t``, for each PD ``t`` in the
    book (and none), and count the share of ``survivors`` (false positives) and of ``defaults`` (true
    positives) restricted. Returns ``(fpr, tpr)``, one point per threshold from the highest PD down, starting at
    ``(0, 0)``. Customers without a PD are never restricted but stay in the denominators, as in
    :func:`evaluate_decisions`; customers with the same PD are restricted together (a PD ranking cannot
    split them)."""
    p = np.asarray(p, dtype="float64")
    defaults, survivors = np.asarray(defaults, dtype=bool), np.asarray(survivors, dtype=bool)
    n_def, n_surv = int(defaults.sum()), int(survivors.sum())
    keep = np.isfinite(p) & (defaults | survivors)
    if not n_def or not n_surv:
        return np.zeros(1), np.zeros(1)
    order = np.argsort(-p[keep], kind="stable")
    ps, d, s = p[keep][order], defaults[keep][order], survivors[keep][order]
    last = np.r_[ps[1:] != ps[:-1], True]  # the last row of each run of equal PDs closes a threshold
    tp, fp = np.cumsum(d)[last], np.cumsum(s)[last]
    return np.r_[0.0, fp / n_surv], np.r_[0.0, tp / n_def]


def frontier_figures(fpr: np.ndarray, tpr: np.ndarray, policy_fpr: float, fpr_target: float = 0.15,
                     tpr_target: float = 0.80) -> dict[str, float]:
    """What the PD ranking (:func:`pd_frontier`) could do: the share of defaulters restricted at the policy's own
    share of non-defaulters restricted (``frontier_at_policy``) and at ``fpr_target`` (``frontier_at_target``):
    the best threshold whose non-defaulter share does not exceed it; and the least non-defaulter share that
    restricts ``tpr_target`` of the defaulters (``frontier_fpr_needed``; NaN when no threshold does)."""
    def tpr_at(f: float) -> float:
        return float(tpr[fpr <= f + 1e-12].max()) if np.isfinite(f) and len(tpr) > 1 else float("nan")

    reach = tpr >= tpr_target - 1e-12
    return {"frontier_at_policy": tpr_at(policy_fpr), "frontier_at_target": tpr_at(fpr_target),
            "frontier_fpr_needed": float(fpr[reach].min()) if reach.any() and len(tpr) > 1 else float("nan")}


def outcome_money(s: pd.DataFrame, defaults: np.ndarray, survivors: np.ndarray, lgd: float) -> dict[str, float]:
    """Bad debt avoided and margin lost of the decisions, judged against the truth.

    - **Bad debt avoided**, over the customers who default: ``LGD x (EAD before - EAD after)``. Before the
      decision a customer may draw its current limit (``max(exposure, current_limit)``); after it, a held,
      revoked or collections customer draws nothing new (its exposure), any other one up to its suggested
      limit (``max(exposure, suggested_limit)``). An increase for a future defaulter counts negative. No credit
      is given for cash a hold might collect from a defaulter: whether it paid before defaulting is not known.
    - **Margin lost**, over the customers who do not default: the margin their cut, revoke, hard hold or
      collections track puts at risk (the policy's own ``margin_at_risk``). The margin an increase earns is not
      counted.
    - **Margin delayed** (not in the margin lost): a *soft* hold of a customer who does not default, with no cut
      or revoke beside it, is released by paying its ``release_amount`` (the undisputed past-due amount, or the
      excess over the limit); the truth says the customer does not default in the next 12 months, so it pays
      what it owes and its orders ship late, not never. Its margin at risk is reported as delayed.
    - **Cash the holds ask for** (reported, not added: cash collected earlier is no profit), over the held
      customers who do not default (soft or hard, not revoked or on the collections track): their
      ``release_amount``, which the truth says they pay.

    Needs ``exposure`` (features) and ``margin_at_risk`` (scores); NaN when either is missing. ``hold_type`` and
    ``release_amount`` are read when present (without them every hold counts as lost margin, no cash)."""
    keys = ("bad_debt_avoided", "margin_lost", "net_money", "margin_delayed", "cash_asked")
    if "exposure" not in s or "margin_at_risk" not in s:
        return dict.fromkeys(keys, float("nan"))
    exposure = np.clip(np.nan_to_num(_col(s, "exposure")), 0.0, None)
    current = np.nan_to_num(_col(s, "current_limit"))
    suggested = np.nan_to_num(_col(s, "suggested_limit"))
    hold = s["order_hold"].fillna(False).astype(bool).to_numpy()
    action = s["action"].astype("str").to_numpy()
    stops = hold | np.isin(action, ["revoke", "collections"])
    before = np.maximum(exposure, current)
    after = np.where(stops, exposure, np.maximum(exposure, suggested))
    avoided = float((lgd * (before - after))[defaults].sum())
    at_risk = np.nan_to_num(_col(s, "margin_at_risk"))
    hold_type = s["hold_type"].astype("str").to_numpy() if "hold_type" in s else np.full(len(s), "")
    soft_only = hold & (hold_type == "soft") & ~np.isin(action, ["decrease", "revoke", "collections"])
    delayed = float(at_risk[survivors & soft_only].sum())
    lost = float(at_risk[survivors & ~soft_only].sum())
    release = np.nan_to_num(_col(s, "release_amount"))
    asked = hold & ~np.isin(action, ["revoke", "collections"])
    cash = float(release[survivors & asked].sum()) if "release_amount" in s else float("nan")
    return {"bad_debt_avoided": avoided, "margin_lost": lost, "net_money": avoided - lost, "margin_delayed": delayed,
            "cash_asked": cash}


def evaluate_decisions(scores: pd.DataFrame, truth: pd.DataFrame, features: pd.DataFrame, as_of: str,
                       horizon_months: int = HORIZON_MONTHS, lgd: float | None = None) -> dict[str, float]:
    """The decision figures of one scored book against the generator's truth.

    ``scores``: the ``riskml score`` output (customer_id, pd, action, order_hold, review_due, persona,
    current_limit, suggested_limit; with collections_track, approval_level and margin_at_risk when present);
    ``truth``: customer_id, persona (the generator's), default_date (by the as-of date),
    scheduled_default_date (also after it); ``features``: customer_id, sales_avg_3m (and exposure for the
    money figures). Outcome figures are over the customers not defaulted at the as-of date; workload figures
    (holds, reviews, limit changes, approvals) over the whole book, as a credit team sees it, and defined once
    in :func:`riskml.scoring.summary.decision_rates`. ``lgd`` (default: the scoring config's) prices the bad
    debt avoided (:func:`outcome_money`)."""
    from riskml.config import ScoringConfig
    from riskml.scoring.summary import decision_rates

    as_of_ts = pd.Timestamp(as_of)
    horizon_end = as_of_ts + pd.DateOffset(months=horizon_months)
    t = truth.assign(customer_id=truth["customer_id"].astype("str"))
    keep = ["customer_id", "sales_avg_3m"] + (["exposure"] if "exposure" in features else [])
    f = features.assign(customer_id=features["customer_id"].astype("str"))[keep]
    s = scores.assign(customer_id=scores["customer_id"].astype("str")).merge(
        t, on="customer_id", how="left", suffixes=("", "_truth"), validate="one_to_one").merge(
        f, on="customer_id", how="left", suffixes=("", "_f"), validate="one_to_one")
    truth_persona = s["persona_truth"].astype("str").to_numpy()
    default_by = pd.to_datetime(s["default_date"])
    scheduled = pd.to_datetime(s["scheduled_default_date"])
    alive = (default_by.isna() | (default_by > as_of_ts)).to_numpy()
    defaults = ((scheduled > as_of_ts) & (scheduled <= horizon_end)).to_numpy() & alive
    survivors = alive & ~defaults
    action = s["action"].astype("str").to_numpy()
    hold = s["order_hold"].fillna(False).astype(bool).to_numpy()
    revoked = action == "revoke"
    restricted = hold | np.isin(action, RESTRICTING_ACTIONS)
    strong_truth = (truth_persona == STRONG_TRUTH) & alive
    strong_pred = (s["persona"].astype("str").to_numpy() == "strong_late_payer") & alive
    p = _col(s, "pd")
    scored = np.isfinite(p) & alive
    auc = float("nan")
    if scored.any() and 0 < defaults[scored].sum() < scored.sum():
        from sklearn.metrics import roc_auc_score

        auc = float(roc_auc_score(defaults[scored], p[scored]))
    if "limit_change" not in s:
        s["limit_change"] = _col(s, "suggested_limit") - _col(s, "current_limit")
    rates = decision_rates(s.assign(review_due=s["review_due"].fillna(False).astype(bool), order_hold=hold),
                           np.clip(np.nan_to_num(_col(s, "sales_avg_3m")), 0.0, None))
    coll = (s["collections_track"].fillna(False).astype(bool).to_numpy() if "collections_track" in s
            else action == "collections")
    out = {
        "customers": float(len(s)),
        "alive": float(alive.sum()),
        "default_rate_12m": _share(defaults, alive),
        "auc_vs_truth": auc,
        "strong_recall": _share(strong_pred, strong_truth),
        "strong_precision": _share(strong_truth, strong_pred),
        "strong_revoked": float((strong_truth & revoked).sum()),
        "strong_held": float((strong_truth & hold).sum()),
        "nondefault_revoked": _share(revoked, survivors),
        "nondefault_restricted": _share(restricted, survivors),
        "default_restricted": _share(restricted, defaults),
        "holds_collections": float((hold & coll).sum()),
        "increase_and_hold": float(rates["increase_with_hold"]),
    }
    out.update(frontier_figures(*pd_frontier(np.where(alive, p, np.nan), defaults, survivors),
                                out["nondefault_restricted"]))
    out.update({key: float(rates[r]) / 100.0 for r, key in FROM_RATES.items()})
    out.update({k: float(v) for k, v in rates.items() if k.startswith("approval_")})
    out.update(outcome_money(s, defaults, survivors, ScoringConfig().limits.lgd if lgd is None else lgd))
    return out


SWEPT = ("nondefault_restricted", "default_restricted", "holds_customers", "holds_sales", "reviews_due",
         "limits_changed", "bad_debt_avoided", "margin_lost", "net_money", "nondefault_revoked", "strong_revoked")


def sweep(features: pd.DataFrame, pd_values: np.ndarray, truth: pd.DataFrame, config: Any, as_of: str,
          knob: str, values: tuple[Any, ...]) -> pd.DataFrame:
    """The trade-off curve of one policy knob (``"section.field"`` of the scoring config, e.g.
    ``"limits.min_decrease_expected_loss"``): :func:`riskml.scoring.policy.apply_policy` on the same features
    and PDs for each value, each judged by :func:`evaluate_decisions`. One row per value: the value, whether it is
    the shipped one (``shipped``), non-defaulters and defaulters restricted, holds, reviews, limits changed, bad debt
    avoided, margin lost and their difference, non-defaulters and strong stretchers revoked."""
    from riskml.scoring.policy import apply_policy

    section, field = knob.split(".")
    current = getattr(getattr(config, section), field)
    rows = []
    for v in values:
        value = type(current)(v) if isinstance(current, (int, float)) and not isinstance(current, bool) else v
        part = getattr(config, section).model_copy(update={field: value})
        cfg = config.model_copy(update={section: part})
        d = apply_policy(features, pd_values, cfg)
        d.insert(0, "customer_id", features["customer_id"].astype("str").to_numpy())
        d["pd"] = np.asarray(pd_values, dtype="float64")
        fig = evaluate_decisions(d, truth, features, as_of, lgd=cfg.limits.lgd)
        rows.append({"value": v, "shipped": value == current, **{k: fig[k] for k in SWEPT}})
    return pd.DataFrame(rows)


def best_point(c: pd.DataFrame, ledger: str = "") -> int | None:
    """The best value of a sweep on one ledger: among the values that meet the issue's targets on the ledger
    (:data:`GUARDRAILS`: non-defaulters restricted <= 15% and revoked <= 5%, no strong stretcher revoked, reviews
    due <= 15%; on the demo also holds <= 10% of customers and <= 15% of sales, :data:`LEDGER_GUARDRAILS`) and
    restrict at least as many defaulters as the shipped value (the target the policy misses), the largest bad debt
    avoided - margin lost; ties: the fewest non-defaulters restricted, the fewest holds, the shipped value, the
    first. So the shipped value is marked best when no other value restricts as many defaulters within the
    targets and earns more. Without a shipped row: the targets and money only."""
    ok = np.ones(len(c), dtype=bool)
    for key in (*GUARDRAILS, *LEDGER_GUARDRAILS.get(ledger, ())):
        if key in c:
            ok &= np.array([TARGETS[key](float(v)) if np.isfinite(float(v)) else False for v in c[key]])
    if "shipped" in c and c["shipped"].any():
        v, r = c["default_restricted"].to_numpy("float64"), float(c[c["shipped"].astype(bool)].iloc[0]["default_restricted"])
        with np.errstate(invalid="ignore"):
            ok &= ~np.isfinite(r) | (np.isfinite(v) & (v >= r - 1e-12))
    ok &= np.isfinite(c["net_money"].to_numpy("float64"))
    if not ok.any():
        return None
    cand = c[ok].assign(_m=-c["net_money"], _n=c.get("nondefault_restricted", 0.0), _holds=c.get("holds_customers", 0.0),
                        _ref=~c["shipped"].astype(bool) if "shipped" in c else True)
    return int(cand.sort_values(["_m", "_n", "_holds", "_ref"], kind="stable").index[0])


def _value_text(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "off"
    if isinstance(v, dict):
        days = sorted(set(v.values()))
        keys = list(v)
        span = f"{keys[0]}-{keys[-1]}" if len(keys) > 1 else keys[0]
        return f"grades {span}: " + ", ".join(f"{d:,.0f}" for d in days)
    if isinstance(v, (list, tuple)):
        return ", ".join(map(str, v))
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return f"{v:,.2f}" if 0 < abs(v) < 10 and not float(v).is_integer() else f"{v:,.0f}"
    return str(v)


def sweep_markdown(curves: dict[str, pd.DataFrame], knob: str) -> str:
    """One markdown table of the sweeps of ``knob`` on every ledger (a row per ledger and value); (best) marks
    :func:`best_point` on each ledger, (shipped) the value of the shipped config."""
    lines = [f"| ledger | `{knob}` | non-defaulters restricted | defaulters restricted | holds | reviews due "
             "| limits changed | bad debt avoided | margin lost | avoided - lost |", "|---|" + "---:|" * 9]
    for name, c in curves.items():
        best = best_point(c, name)
        for i, r in c.iterrows():
            marks = [m for m, on in (("shipped", bool(r.get("shipped", False))), ("best", i == best)) if on]
            mark = f" ({', '.join(marks)})" if marks else ""
            shares = " | ".join(_fmt("holds_customers", r[k]) for k in (
                "nondefault_restricted", "default_restricted", "holds_customers", "reviews_due", "limits_changed"))
            money = " | ".join(_fmt("net_money", r[k]) for k in ("bad_debt_avoided", "margin_lost", "net_money"))
            lines.append(f"| {name} | {_value_text(r['value'])}{mark} | {shares} | {money} |")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------ decision rates
def load_rates(path: Path = RATES) -> dict[str, dict[str, float]]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def doc_section(rates: dict[str, dict[str, float]]) -> str:
    from riskml.scoring.summary import rates_markdown

    return f"{START}\n{rates_markdown(rates)}{END}"


def save_rates(rates: dict[str, dict[str, float]], path: Path = RATES, doc: Path = DOC) -> None:
    """Write the rates file and regenerate the ``decision-rates`` block of ``doc`` from it."""
    path.write_text(json.dumps(rates, indent=1) + "\n", encoding="utf-8")
    text = doc.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{doc}: no {START} ... {END} block to replace")
    doc.write_text(pattern.sub(lambda _: doc_section(rates), text), encoding="utf-8")


def rates_of(data: Path, scores_file: Path) -> dict[str, float]:
    """The decision rates of a scores file scored on the ledger ``data`` (monthly sales from its features as
    of the scores' as-of date)."""
    from riskml.cli.ledger import load_ledger_for_cli
    from riskml.features import build_features
    from riskml.io import read_table
    from riskml.scoring.summary import decision_rates

    scores = read_table(scores_file)
    as_of = pd.to_datetime(scores["as_of"]).max()
    feats = build_features(load_ledger_for_cli(data, None), as_of).set_index("customer_id")
    sales = feats["sales_avg_3m"].reindex(scores["customer_id"].astype("str")).to_numpy()
    return decision_rates(scores, sales)


# ------------------------------------------------------------------------------------------ the runs
def _run(cmd: list[str], env: dict[str, str], log: Path) -> None:
    t0 = time.time()
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    log.write_text(res.stdout + res.stderr, encoding="utf-8")
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {res.returncode}); see {log}:\n{res.stderr[-2000:]}")
    print(f"  {' '.join(cmd[2:4])}: {time.time() - t0:.0f} s", flush=True)


def _generate_train_score(spec: LedgerSpec, folder: Path, customers: int, months: int) -> None:
    """``riskml synth`` (in process) into a fresh ``folder``, then ``riskml train`` and ``riskml score`` as
    subprocesses, with an MLflow sqlite store of their own in ``folder``."""
    from riskml.data.synth import generate_ledger, write_synthetic

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    ledger_dir = folder / "ledger"
    print(f"{spec.name}: {customers} customers x {months} months, mix {spec.mix}, seed {spec.seed}", flush=True)
    write_synthetic(generate_ledger(customers, months, spec.seed, AS_OF, mix=spec.mix), ledger_dir)
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}"}
    riskml = [sys.executable, "-m", "riskml.cli.main"]
    configs = ROOT / "configs"
    _run([*riskml, "train", "--data", str(ledger_dir), "--config", str(configs / "train.yaml"),
          "--features-config", str(configs / "features.yaml"), "--out-model", str(folder / "models")],
         env, folder / "train.log")
    _score(folder, env)


def _score(folder: Path, env: dict[str, str] | None = None) -> None:
    """``riskml score`` of ``folder/ledger`` as of :data:`AS_OF` with the model trained in ``folder/models``."""
    env = env or {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}"}
    riskml = [sys.executable, "-m", "riskml.cli.main"]
    ledger_dir = folder / "ledger"
    model_dir = next((folder / "models").iterdir())
    _run([*riskml, "score", "--data", str(ledger_dir), "--as-of", AS_OF, "--out", str(folder / "scores.parquet"),
          "--model", str(model_dir), "--config", str(ROOT / "configs" / "scoring.yaml")], env, folder / "score.log")


def run_ledger(spec: LedgerSpec, out: Path, customers: int, months: int, reuse: bool = False,
               rescore: bool = False) -> dict[str, float]:
    """Generate, train, score and evaluate one ledger in ``out/<name>`` (a fresh folder each time; with
    ``reuse``, evaluate the scores a previous run left there; with ``rescore``, score again with the ledger and
    model a previous run left there: the decision rules changed, the model did not)."""
    from riskml.data.synth import TRUTH_PATH
    from riskml.data.validate import load_ledger, resolve_data_config
    from riskml.features import build_features

    folder = out / spec.name
    ledger_dir = folder / "ledger"
    scores_path = folder / "scores.parquet"
    if rescore and (folder / "models").is_dir() and ledger_dir.is_dir():
        print(f"{spec.name}: scoring again with the ledger and model in {folder}", flush=True)
        _score(folder)
    elif not (reuse and scores_path.exists()):
        _generate_train_score(spec, folder, customers, months)
    scores = pd.read_parquet(scores_path)
    truth = pd.read_csv(ledger_dir / TRUTH_PATH, dtype={"customer_id": "str"},
                        parse_dates=["default_date", "scheduled_default_date"])
    ledger, _ = load_ledger(ledger_dir, resolve_data_config(ledger_dir, None))
    features = build_features(ledger, AS_OF)
    figures = evaluate_decisions(scores, truth, features, AS_OF)
    figures.update(_training_figures(folder))
    from riskml.config import load_config
    from riskml.scoring.summary import decision_rates

    pd_values = scores.set_index(scores["customer_id"].astype("str"))["pd"].reindex(
        features["customer_id"].astype("str")).to_numpy("float64")
    config = load_config("scoring", ROOT / "configs" / "scoring.yaml")
    figures["_sweep"] = {k: sweep(features, pd_values, truth, config, AS_OF, k, v)  # type: ignore[assignment]
                         for k, v in SWEEPS.items()}
    sales = features.set_index(features["customer_id"].astype("str"))["sales_avg_3m"].reindex(
        scores["customer_id"].astype("str")).to_numpy()
    figures["_rates"] = decision_rates(scores, sales)  # type: ignore[assignment]
    return figures


def _training_figures(folder: Path) -> dict[str, float]:
    """Test AUC and the persona calibration gaps of the training run (its MLflow tables)."""
    out: dict[str, float] = {}
    metrics = next(folder.glob("mlartifacts/**/tables/test_metrics.csv"), None)
    if metrics is not None:
        m = pd.read_csv(metrics, index_col=0)
        out["test_auc"] = float(m.loc["lightgbm", "auc"])
    pc_path = next(folder.glob("mlartifacts/**/tables/persona_calibration.csv"), None)
    if pc_path is not None:
        pc = pd.read_csv(pc_path).set_index("group")
        out["persona_max_gap"] = float(pc["gap"].abs().max() * 100)
        if "within_target" in pc:
            out["persona_outside"] = float((~pc["within_target"].astype(bool)).sum())
        if "strong_late_payer" in pc.index:
            out["strong_gap"] = float(pc.loc["strong_late_payer", "gap"] * 100)
        out["_persona_table"] = pc  # type: ignore[assignment]
    return out


# ------------------------------------------------------------------------------------------ the table
def _fmt(key: str, v: float) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "n/a"
    if key in SHARES:
        return f"{v:.1%}"
    if key in COUNTS:
        return f"{int(v):,}"
    if key in MONEY:
        return f"{v:,.0f}"
    if key == "persona_max_gap":
        return f"{v:.1f}"
    if key.endswith("_gap"):
        return f"{v:+.1f}"
    return f"{v:.3f}"


def markdown(results: dict[str, dict[str, float]], customers: int, months: int, rescored: bool = False) -> str:
    names = list(results)
    lines = [f"| figure | {' | '.join(names)} | target |", "|---|" + "---|" * len(names) + "---|"]
    for key, label, target in ROWS:
        cells = []
        for n in names:
            v = results[n].get(key, float("nan"))
            ok = TARGETS.get(key)
            mark = ""
            if ok is not None and isinstance(v, float) and np.isfinite(v):
                mark = "" if ok(v) else " ✗"
            cells.append(_fmt(key, v) + mark)
        lines.append(f"| {label} | {' | '.join(cells)} | {target} |")
    cmd = (f"python benchmarks/decisions.py --customers {customers} --months {months}" if (customers, months)
           != (2000, 36) else "make decisions")
    if rescored:
        cmd = f"{'python benchmarks/decisions.py' if cmd == 'make decisions' else cmd} --rescore"
    head = (f"Measured by `{cmd}` ({customers:,} customers x {months} months each, scored as of {AS_OF}; "
            "demo = `riskml synth` defaults, seed 7; harsh = `--mix harsh`, seed 11). ✗ = target missed. "
            "Outcome figures count the customers not defaulted at the as-of date; \"default\" = the generator's "
            f"default in the {HORIZON_MONTHS} months after it.")
    if rescored:
        head += (" `--rescore`: the ledgers and models of a previous full run (`make decisions`), scored again: the "
                 "decision rules changed, the model did not.")
    head += (" \"PD ranking alone\" is the frontier of the model's ranking (`pd_frontier`): restrict every customer "
             "from some PD up, and count the defaulters caught at the policy's own share of non-defaulters "
             "restricted, at 15%, and the share of non-defaulters 80% of the defaulters would need.")
    persona = []
    for n in names:
        pc = results[n].get("_persona_table")
        if isinstance(pc, pd.DataFrame):
            row = " ".join(f"{g} {r['mean_pd']:.1%} vs {r['observed_rate']:.1%};" for g, r in pc.iterrows())
            persona.append(f"- {n}: {row.rstrip(';')}")
    tail = ("Calibration per persona on the training run's out-of-time test window (mean PD vs observed rate):\n"
            + "\n".join(persona)) if persona else ""
    sweeps = {n: results[n]["_sweep"] for n in names if isinstance(results[n].get("_sweep"), dict)}
    curve = ""
    if sweeps:
        knobs = list(next(iter(sweeps.values())))
        curve = ("The operating points: the same scores and PDs with one knob of the shipped config swept at a time "
                 "(`apply_policy` again, nothing retrained). Bad debt avoided counts the defaulters, margin lost the "
                 "non-defaulters (`outcome_money` in `benchmarks/decisions.py`: soft holds of non-defaulters count as "
                 "margin delayed, not lost). (shipped) marks the value of `configs/scoring.yaml`; (best) the value "
                 "with the largest difference among those that meet the issue's targets on the ledger (non-defaulters "
                 "restricted <= 15% and revoked <= 5%, no strong stretcher revoked, reviews due <= 15%; on the demo "
                 "also holds <= 10% of customers and <= 15% of sales) and restrict at least as many defaulters as "
                 "the shipped value (`best_point`): a shipped value marked best on both ledgers is one no other "
                 "value of its knob beats.\n\n" + "\n".join(sweep_markdown({n: sweeps[n][k] for n in sweeps}, k) for k in knobs))
    return "\n\n".join(x for x in (head, "\n".join(lines), tail, curve) if x) + "\n"


def write_doc(table: str, doc: Path = DOC) -> None:
    """Put ``table`` between the decisions markers of ``doc`` (appending a section if they are absent)."""
    text = doc.read_text(encoding="utf-8")
    block = f"{BEGIN}\n{table.strip()}\n{END_MARK}"
    if BEGIN in text and END_MARK in text:
        start, stop = text.index(BEGIN), text.index(END_MARK) + len(END_MARK)
        text = text[:start] + block + text[stop:]
    else:
        text = text.rstrip("\n") + "\n\n## Decisions against the generator's truth\n\n" + block + "\n"
    doc.write_text(text, encoding="utf-8")


def rates_main(argv: list[str]) -> None:
    """``rates --data DIR --scores FILE --name NAME`` / ``rates --remove NAME``: add (or drop) a column of the
    decision-rates table."""
    ap = argparse.ArgumentParser(prog="decisions.py rates", description="a scores file's decision rates")
    ap.add_argument("--data", type=Path)
    ap.add_argument("--scores", type=Path)
    ap.add_argument("--name")
    ap.add_argument("--remove")
    args = ap.parse_args(argv)
    rates = load_rates()
    if args.remove:
        rates.pop(args.remove, None)
    if args.scores is not None:
        rates[args.name or args.scores.stem] = rates_of(args.data, args.scores)
    save_rates(rates)
    print(doc_section(rates))


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["rates"]:
        rates_main(argv[1:])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / ".bench" / "decisions")
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--only", default="", help="comma-separated ledger names (demo, harsh)")
    ap.add_argument("--no-docs", action="store_true", help="do not rewrite docs/scoring.md")
    ap.add_argument("--reuse", action="store_true", help="evaluate the scores a previous run left in --out")
    ap.add_argument("--rescore", action="store_true",
                    help="score again with the ledgers and models a previous run left in --out (decision rules changed)")
    args = ap.parse_args(argv)
    only = {x for x in args.only.split(",") if x}
    results = {}
    for spec in LEDGERS:
        if only and spec.name not in only:
            continue
        results[spec.name] = run_ledger(spec, args.out, args.customers, args.months, args.reuse, args.rescore)
    table = markdown(results, args.customers, args.months, rescored=args.rescore)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "decisions.md").write_text(table, encoding="utf-8")
    print(table)
    if not args.no_docs:
        write_doc(table)
        if (args.customers, args.months) == (2000, 36):
            rates = load_rates()
            for name, fig in results.items():
                if isinstance(fig.get("_rates"), dict):
                    rates[RATES_NAMES[name]] = fig["_rates"]
            save_rates(rates)
        print(f"wrote the tables into {DOC}")


if __name__ == "__main__":
    main()
