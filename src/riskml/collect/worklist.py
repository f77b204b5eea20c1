"""The collector worklist as pure functions: who has something to collect, how much, how urgent, by which
channel, with which words, and who passes to an agency or legal.

Ranking (``CollectionsConfig``):

- ``expected_loss``: the score's own column when the scores carry it (decisions contract: PD x LGD x exposure,
  net of insurance), else PD x ``limits.lgd`` x open balance (customers that could not be scored take
  ``collections.unscored_pd``);
- ``urgency`` = 1 + sum over the ageing buckets of ``ageing_weights[bucket]`` x the bucket's share of the open
  balance + ``broken_promise_weight`` x broken promises (at most ``max_broken_promises``);
- ``priority`` = expected loss x urgency; the worklist is sorted by it (largest first; ties by past-due
  balance, then customer id).

Amounts: ``amount_to_collect`` is everything owed and due (the whole past-due balance, every past-due invoice,
not only the oldest; disputed ones included and counted apart in ``disputed_past_due``, which billing and sales
resolve through the paperwork queue). ``release_amount`` is what must be paid to release held orders: the
score's column when present, else the larger of the open amount more than ``actions.hold_past_due_days`` past
due (hold ``past_due``) and the exposure above the limit plus tolerance (hold ``over_limit``); a revoked
account is not released by a payment (NaN).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from riskml.collect.amounts import AGEING_BUCKETS
from riskml.config import ScoringConfig

# the worklist's columns, in order (docs/collections.md describes each)
WORKLIST_COLUMNS = (
    "rank", "customer_id", "name", "collector", "assignment_status", "persona", "grade", "pd", "pd_assumed",
    "expected_loss", "urgency", "priority", "amount_to_collect", "past_due_invoices", "disputed_past_due",
    "open_balance", "not_yet_due", "release_amount", "order_hold", "hold_codes", "channel", "channel_reason",
    "script", "pattern", "usual_days_late", "days_late_now", "oldest_item", "oldest_item_due",
    "oldest_item_amount", "last_payment_date", "last_payment_amount", "unapplied_cash", "broken_promises",
    "next_promise_date", "next_promise_amount", "escalate", "escalation_reason", "escalation_amount", "action",
    "treatment", "collections_track", "portfolio",
)
ESCALATION_COLUMNS = ("customer_id", "name", "collector", "persona", "grade", "pd", "escalation_codes",
                      "escalation_reason", "escalation_amount", "amount_to_collect", "disputed_past_due",
                      "open_balance", "oldest_dpd", "action")
ESCALATION_CODES = {
    "revoked_open": "terms revoked and the oldest open item past the escalation point",
    "broken_plan": "an instalment of a payment plan was broken",
    "high_pd_90": "high PD with money more than 90 days past due",
}
PROMISE_SUMMARY = ("broken_promises", "broken_plan", "broken_amount", "next_promise_date", "next_promise_amount")


def money(x: object) -> str:
    """An amount as a collector reads it: 12,345 (n/a when missing)."""
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "n/a"
    return f"{v:,.0f}" if math.isfinite(v) else "n/a"


# ------------------------------------------------------------------------------------------------ promises
def evaluate_promises(promises: pd.DataFrame | None, payments: pd.DataFrame, as_of: pd.Timestamp,
                      grace_days: int, shortfall_pct: float) -> pd.DataFrame:
    """Per customer: ``broken_promises`` (promises and plan instalments whose window closed short),
    ``broken_plan`` (one of them an instalment of a payment plan), ``broken_amount`` (the largest shortfall),
    and the next promise still running (``next_promise_date``, ``next_promise_amount``).

    The promises of one plan (``plan_id``) are judged cumulatively: by each instalment's date plus
    ``grace_days``, the cash received since the plan was made must reach the instalments due so far, less
    ``shortfall_pct``. Only promises made on or before ``as_of`` and cash received on or before it count."""
    empty = pd.DataFrame({"broken_promises": pd.Series([], dtype="int64"), "broken_plan": pd.Series([], dtype=bool),
                          "broken_amount": pd.Series([], dtype="float64"),
                          "next_promise_date": pd.Series([], dtype="datetime64[ns]"),
                          "next_promise_amount": pd.Series([], dtype="float64")},
                         index=pd.Index([], name="customer_id", dtype="str"))
    if promises is None or not len(promises):
        return empty
    as_of = pd.Timestamp(as_of).normalize()
    pr = promises.loc[promises["made_date"] <= as_of].sort_values(["plan_id", "promised_date"], kind="stable")
    if not len(pr):
        return empty
    pay = payments.loc[payments["payment_date"] <= as_of]
    pay_by = {c: (g["payment_date"].to_numpy("datetime64[ns]"), g["amount"].to_numpy("float64"))
              for c, g in pay.assign(customer_id=pay["customer_id"].astype("str")).sort_values("payment_date")
              .groupby("customer_id")}
    rows = []
    grace = pd.Timedelta(days=grace_days)
    for _, g in pr.groupby("plan_id", sort=True):
        cid = str(g["customer_id"].iloc[0])
        made = g["made_date"].min().to_datetime64()
        days, amts = pay_by.get(cid, (np.array([], "datetime64[ns]"), np.array([])))
        cum = np.cumsum(amts)
        promised = 0.0
        for date, amount, kind in zip(g["promised_date"], g["amount"], g["kind"], strict=True):
            promised += float(amount)
            end = date + grace
            if end >= as_of:  # still running: not judged yet
                rows.append((cid, 0, False, 0.0, date, float(amount)))
                continue
            lo = np.searchsorted(days, made, side="left")
            hi = np.searchsorted(days, end.to_datetime64(), side="right")
            cash = (cum[hi - 1] if hi > 0 else 0.0) - (cum[lo - 1] if lo > 0 else 0.0)
            broken = cash < promised * (1.0 - shortfall_pct) - 1e-9
            rows.append((cid, int(broken), bool(broken and kind == "plan"), max(promised - cash, 0.0) if broken else 0.0,
                         pd.NaT, np.nan))
    r = pd.DataFrame(rows, columns=["customer_id", "broken", "plan", "short", "next_date", "next_amount"])
    nxt = r.dropna(subset=["next_date"]).sort_values(["customer_id", "next_date"]).groupby("customer_id").first()
    out = pd.DataFrame({
        "broken_promises": r.groupby("customer_id")["broken"].sum().astype("int64"),
        "broken_plan": r.groupby("customer_id")["plan"].any(),
        "broken_amount": r.groupby("customer_id")["short"].max(),
    })
    out["next_promise_date"] = pd.to_datetime(nxt["next_date"]).reindex(out.index)
    out["next_promise_amount"] = nxt["next_amount"].reindex(out.index)
    out.index = out.index.astype("str").rename("customer_id")
    return out


# ---------------------------------------------------------------------------------------------- amounts
def release_amounts(frame: pd.DataFrame, items: pd.DataFrame, config: ScoringConfig) -> np.ndarray:
    """What each customer must pay to release held orders: the score's ``release_amount`` when present, else
    derived from the hold codes (module docstring); 0 when nothing is held."""
    given = pd.to_numeric(frame["release_amount"], errors="coerce").to_numpy("float64")
    if "release_amount" in str(frame["decision_columns"].iloc[0] if len(frame) else ""):
        return np.where(frame["order_hold"].to_numpy(bool), given, 0.0)
    codes = frame["hold_codes"].astype("str")
    tol_days = config.actions.hold_past_due_days
    over_days = items.loc[items["dpd"] > tol_days].groupby("customer_id")["open_amount"].sum()
    a = over_days.reindex(frame["customer_id"]).fillna(0.0).to_numpy("float64")
    a = np.where(codes.str.contains("past_due").to_numpy(), a, 0.0)
    limit = frame["credit_limit"].to_numpy("float64")
    with np.errstate(invalid="ignore"):
        b = frame["exposure"].to_numpy("float64") - limit * (1.0 + config.actions.hold_over_limit_pct)
    b = np.where(codes.str.contains("over_limit").to_numpy() & np.isfinite(b), np.clip(b, 0.0, None), 0.0)
    out = np.fmax(a, b)
    out = np.where(codes.str.contains("revoked").to_numpy(), np.nan, out)
    return np.where(frame["order_hold"].to_numpy(bool), out, 0.0)


def expected_losses(frame: pd.DataFrame, config: ScoringConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(expected loss, PD used, PD assumed) per row: the score's ``expected_loss`` where given, else PD x LGD x
    open balance, with ``collections.unscored_pd`` for customers without a PD."""
    p = frame["pd"].to_numpy("float64")
    assumed = ~np.isfinite(p)
    p_used = np.where(assumed, config.collections.unscored_pd, p)
    fallback = p_used * config.limits.lgd * frame["open_balance"].to_numpy("float64")
    given = pd.to_numeric(frame["expected_loss"], errors="coerce").to_numpy("float64")
    return np.where(np.isfinite(given), given, fallback), p_used, assumed


def urgency(frame: pd.DataFrame, config: ScoringConfig) -> np.ndarray:
    """1 + ageing-weighted shares of the open balance + the broken-promise weight (module docstring)."""
    c = config.collections
    open_bal = frame["open_balance"].to_numpy("float64")
    u = np.ones(len(frame))
    with np.errstate(invalid="ignore", divide="ignore"):
        for bucket, col in AGEING_BUCKETS.items():
            share = np.where(open_bal > 0, frame[col].to_numpy("float64") / open_bal, 0.0)
            u += c.ageing_weights.get(bucket, 0.0) * np.nan_to_num(share)
    broken = np.minimum(frame["broken_promises"].to_numpy("float64"), c.max_broken_promises)
    return u + c.broken_promise_weight * broken


# ------------------------------------------------------------------------------------------- escalation
def escalations(frame: pd.DataFrame, config: ScoringConfig) -> pd.DataFrame:
    """``escalate``, ``escalation_codes``, ``escalation_reason`` (with the figures) and ``escalation_amount``
    (the undisputed past-due balance: what an agency or a lawyer can claim) per row."""
    rules = config.collections.escalation
    n = len(frame)
    dpd = frame["oldest_dpd"].to_numpy("float64")
    revoked = (frame["action"].astype("str").eq("revoke") | frame["hold_codes"].astype("str").str.contains("revoked")
               ).to_numpy()
    p = frame["pd"].to_numpy("float64")
    ninety = frame["aging_90p"].to_numpy("float64")
    amount = np.clip(frame["past_due_balance"].to_numpy("float64") - frame["disputed_past_due"].to_numpy("float64"),
                     0.0, None)
    with np.errstate(invalid="ignore"):
        hits: dict[str, tuple[np.ndarray, Callable[[int], str]]] = {
            "revoked_open": (
                revoked & (rules.revoked_open_days > 0) & (dpd >= rules.revoked_open_days)
                & (frame["open_balance"].to_numpy("float64") > 0),
                lambda i: (f"terms revoked and the oldest open item {dpd[i]:.0f} days past due "
                           f"(escalation point {rules.revoked_open_days} days)")),
            "broken_plan": (
                frame["broken_plan"].to_numpy(bool) & rules.broken_plan,
                lambda i: (f"payment plan broken: {int(frame['broken_promises'].iloc[i])} instalment(s) missed, "
                           f"{money(frame['broken_amount'].iloc[i])} short")),
            "high_pd_90": (
                np.isfinite(p) & (p >= rules.high_pd) & (ninety > 0),
                lambda i: (f"PD {100 * p[i]:.1f}% (escalation point {100 * rules.high_pd:.0f}%) with "
                           f"{money(ninety[i])} more than 90 days past due")),
        }
    codes: list[list[str]] = [[] for _ in range(n)]
    texts: list[list[str]] = [[] for _ in range(n)]
    for code, (mask, text) in hits.items():
        for i in np.flatnonzero(mask & (amount > 0)):
            codes[i].append(code)
            texts[i].append(text(int(i)))
    esc = np.array([bool(c) for c in codes], dtype=bool)
    reason = np.array(["; ".join(t) + (f"; pass {money(amount[i])} (undisputed past due) to the agency or legal"
                                       if t else "") for i, t in enumerate(texts)], dtype=object)
    return pd.DataFrame({"escalate": esc, "escalation_codes": [";".join(c) for c in codes],
                         "escalation_reason": reason, "escalation_amount": np.where(esc, amount, 0.0)},
                        index=frame.index)


# ------------------------------------------------------------------------------------------------ channel
def channels(frame: pd.DataFrame, config: ScoringConfig) -> tuple[np.ndarray, np.ndarray]:
    """(``phone`` or ``email``, why) per row: phone for high risk, large amounts, the personas of
    ``phone_personas``, a broken promise, an account on the collections track (the score's
    ``collections_track``) or one to escalate; e-mail for routine reminders."""
    c = config.collections
    p = frame["p_used"].to_numpy("float64")
    amt = frame["amount_to_collect"].to_numpy("float64")
    triggers = [
        (p >= c.phone_min_pd, lambda i: f"PD {100 * p[i]:.1f}% >= {100 * c.phone_min_pd:.0f}%"),
        (amt >= c.phone_min_amount, lambda i: f"{money(amt[i])} to collect >= {money(c.phone_min_amount)}"),
        (frame["persona"].isin(c.phone_personas).to_numpy(),
         lambda i: f"persona {frame['persona'].iloc[i].replace('_', ' ')}"),
        (frame["broken_promises"].to_numpy("float64") > 0, lambda i: "broken promise to pay"),
        (frame["collections_track"].to_numpy(bool), lambda i: "on the collections track"),
        (frame["escalate"].to_numpy(bool), lambda i: "to escalate"),
    ]
    why: list[list[str]] = [[] for _ in range(len(frame))]
    for mask, text in triggers:
        for i in np.flatnonzero(mask):
            why[i].append(text(int(i)))
    phone = np.array([bool(w) for w in why], dtype=bool)
    return (np.where(phone, "phone", "email").astype(object),
            np.array(["; ".join(w) if w else "routine reminder" for w in why], dtype=object))


# ------------------------------------------------------------------------------------- pattern and script
def pattern_text(usual: float, now: float) -> str:
    """The customer's usual lateness against today's: "usually pays 35 days late, now 62"."""
    now_txt = f"now {now:.0f} days late" if now > 0 else "nothing past due yet"
    if not math.isfinite(usual):
        return f"no payment in the last 12 months; {now_txt}"
    if usual < 1:
        return f"usually pays on time; {now_txt}"
    return f"usually pays {usual:.0f} days late, " + (f"now {now:.0f}" if now > 0 else "nothing past due yet")


def _docs(r: dict[str, Any]) -> str:
    return r["documents_missing"] or "none listed: confirm the remittance of the next payment"


def _release(r: dict[str, Any]) -> str:
    if not r["order_hold"]:
        return ""
    rel = r["release_amount"]
    if isinstance(rel, float) and not math.isfinite(rel):
        return " Orders are on hold: terms are revoked, new orders ship on cash in advance only."
    hard = " (a hard hold: a credit manager also approves the release)" if r.get("hold_type") == "hard" else ""
    return f" Orders are on hold until {money(rel)} is paid{hard}."


def _treatment(r: dict[str, Any]) -> str:
    t = str(r.get("treatment") or "").strip()
    return f" Treatment: {t.rstrip('.')}." if t else ""


def _disputed(r: dict[str, Any]) -> str:
    d = r["disputed_past_due"]
    if d <= 0:
        return ""
    rest = r["amount_to_collect"] - d
    if rest < 0.5:
        return f" All of it is disputed and with {r['dispute_owner']}: confirm they have what they need."
    return f" {money(d)} of it is disputed and with {r['dispute_owner']}: ask for the undisputed {money(rest)} now."


def _unapplied(r: dict[str, Any]) -> str:
    u = r["unapplied_cash"]
    return (f" {money(u)} received is unapplied: ask which invoices it pays (remittance advice) before chasing them."
            if u > 0 else "")


def _ask(r: dict[str, Any]) -> str:
    n = int(r["past_due_invoices"])
    if r["amount_to_collect"] <= 0:
        return "Nothing is past due yet."
    what = "the past-due invoice" if n == 1 else f"all {n} past-due invoices"
    return f"Ask for {what}: {money(r['amount_to_collect'])}."


SCRIPTS: dict[str, Callable[[dict[str, Any]], str]] = {
    "strong_late_payer": lambda r: (
        f"Firm reminder of terms: net {r['terms']:.0f} days, {r['pattern']}. {_ask(r)} Remind them of the "
        f"late-payment fee in our terms (and the early-payment discount if they pay on time).{_release(r)}"
        f"{_disputed(r)}{_unapplied(r)}"),
    "weak_late_payer": lambda r: (
        f"{_ask(r)} If they cannot pay it all now, agree a payment plan in writing (dated instalments), ask for "
        f"security (guarantee, letter of credit) and warn that supply stops.{_release(r)} {r['pattern'].capitalize()}."
        f"{_disputed(r)}{_unapplied(r)}"),
    "distressed": lambda r: (
        f"High risk: {_ask(r)} Get a firm payment date or a written payment plan with security; no new supply "
        f"on credit.{_release(r)} {r['pattern'].capitalize()}.{_disputed(r)}{_unapplied(r)}"),
    "disorganised": lambda r: (
        f"The paperwork, not the money, is the problem: documents missing: {_docs(r)}. Billing and sales work "
        f"the paperwork queue ({r['paperwork_items']} item(s)). {_ask(r)}{_disputed(r)}{_release(r)}"),
    "thin_file": lambda r: (
        f"New customer: confirm the invoices reached the right person (accounts-payable contact, purchase order "
        f"numbers). {_ask(r)}{_release(r)}{_disputed(r)}{_unapplied(r)}"),
    "prompt_payer": lambda r: (
        f"Friendly reminder: usually pays on time, so check for a lost invoice or a missing purchase order. "
        f"{_ask(r)}{_release(r)}{_disputed(r)}{_unapplied(r)}"),
    "regular": lambda r: (
        f"Reminder: {_ask(r)} Ask for the payment date. {r['pattern'].capitalize()}.{_release(r)}{_disputed(r)}"
        f"{_unapplied(r)}"),
}


def scripts(frame: pd.DataFrame) -> np.ndarray:
    """A short script per row, by persona (unknown personas get the regular script)."""
    cols = ["persona", "pattern", "amount_to_collect", "past_due_invoices", "order_hold", "release_amount",
            "disputed_past_due", "unapplied_cash", "documents_missing", "paperwork_items", "dispute_owner",
            "hold_type", "treatment"]
    recs = frame[cols].assign(terms=frame["payment_terms_days"].fillna(0.0)).to_dict("records")
    return np.array([(SCRIPTS.get(r["persona"], SCRIPTS["regular"])(r) + _treatment(r)).strip() for r in recs],
                    dtype=object)


# ---------------------------------------------------------------------------------------------- worklist
def merge_inputs(amounts: pd.DataFrame, scores: pd.DataFrame, items: pd.DataFrame, promises: pd.DataFrame,
                 config: ScoringConfig) -> pd.DataFrame:
    """One row per customer of the master: ``amounts`` (:func:`riskml.collect.amounts.customer_amounts`), the
    decisions of ``scores`` (:func:`riskml.collect.inputs.prepare_scores`; customers missing from them count as
    not scored), the promises (:func:`evaluate_promises`) and the amount that releases held orders."""
    f = amounts.copy()
    f.index = f.index.astype("str").rename("customer_id")
    s = scores.set_index("customer_id")
    for col in ("pd", "grade", "persona", "order_hold", "hold_codes", "action", "expected_loss", "release_amount",
                "hold_type", "treatment", "collections_track", "decision_columns"):
        f[col] = s[col].reindex(f.index)
    f["in_scores"] = f.index.isin(s.index)
    f["grade"] = f["grade"].where(f["grade"].notna(), "")
    f["persona"] = f["persona"].where(f["persona"].notna(), "regular")
    f["order_hold"] = f["order_hold"].where(f["order_hold"].notna(), False).astype(bool)
    for col in ("hold_codes", "action", "hold_type", "treatment", "decision_columns"):
        f[col] = f[col].where(f[col].notna(), "").astype(object)
    f["collections_track"] = f["collections_track"].where(f["collections_track"].notna(), False).astype(bool)
    pr = promises.reindex(f.index)
    f["broken_promises"] = pr["broken_promises"].fillna(0).astype("int64")
    f["broken_plan"] = pr["broken_plan"].where(pr["broken_plan"].notna(), False).astype(bool)
    f["broken_amount"] = pr["broken_amount"].fillna(0.0)
    f["next_promise_date"] = pd.to_datetime(pr["next_promise_date"])
    f["next_promise_amount"] = pr["next_promise_amount"]
    f = f.reset_index()
    f["release_amount"] = release_amounts(f, items, config)
    return f


def build_lines(merged: pd.DataFrame, paperwork_by_customer: pd.DataFrame, config: ScoringConfig) -> pd.DataFrame:
    """Every customer with something to collect (past-due balance above ``collections.min_past_due``, or a hold
    a payment would release), ranked by priority, with amounts, channel, script, pattern and escalation.

    ``merged`` is :func:`merge_inputs`; ``paperwork_by_customer`` (index customer_id: ``documents_missing``,
    ``paperwork_items``) is :func:`riskml.collect.paperwork.documents_by_customer`. The ``collector`` columns
    are left empty (:func:`riskml.collect.assign.assign_collectors` fills them)."""
    c = config.collections
    f = merged.copy()
    f["amount_to_collect"] = f["past_due_balance"]
    releasable = np.nan_to_num(f["release_amount"].to_numpy("float64"), nan=0.0) > 0
    listed = (f["past_due_balance"].to_numpy("float64") > c.min_past_due) | (f["order_hold"].to_numpy(bool) & releasable)
    f = f.loc[listed].reset_index(drop=True)

    el, p_used, assumed = expected_losses(f, config)
    f["expected_loss"], f["p_used"], f["pd_assumed"] = el, p_used, assumed
    f["urgency"] = urgency(f, config)
    f["priority"] = f["expected_loss"] * f["urgency"]
    f["days_late_now"] = f["oldest_dpd"]
    f["pattern"] = [pattern_text(u, n) for u, n in zip(f["usual_days_late"].to_numpy("float64"),
                                                        f["days_late_now"].to_numpy("float64"), strict=True)]
    esc = escalations(f, config)
    f = pd.concat([f, esc], axis=1)
    f["channel"], f["channel_reason"] = channels(f, config)
    pw = paperwork_by_customer.reindex(f["customer_id"])
    f["documents_missing"] = pw["documents_missing"].fillna("").to_numpy(dtype=object)
    f["paperwork_items"] = pw["paperwork_items"].fillna(0).astype("int64").to_numpy()
    f["dispute_owner"] = c.paperwork_owner.get("disputed_invoice", "sales")
    f["script"] = scripts(f)
    f = f.sort_values(["priority", "amount_to_collect", "customer_id"], ascending=[False, False, True],
                      kind="stable").reset_index(drop=True)
    f["rank"] = np.arange(1, len(f) + 1)
    f["collector"] = ""
    f["assignment_status"] = ""
    return f
