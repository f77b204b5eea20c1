"""On the demo-like generated ledger (300 customers x 24 months): the ranking, the amounts and the totals
against independent computations on the raw ledger files; escalation and paperwork lines complete;
point in time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskml.collect.inputs import collectors_from_count, prepare_scores
from riskml.collect.run import WorklistResult, build_worklist
from riskml.config import ScoringConfig
from riskml.data.ledger import Ledger
from riskml.features import build_features

from .conftest import AS_OF, policy_scores

SETTLED_SHARE = 0.99  # FeatureConfig.settled_share


def raw_open_items(ledger_dir: Path, as_of: pd.Timestamp) -> pd.DataFrame:
    """Open invoices from the CSV files with plain pandas (a second implementation): cash and adjustments tied
    to the invoice up to ``as_of``; open until they reach 99% of the amount."""
    inv = pd.read_csv(ledger_dir / "invoices.csv", dtype={"invoice_id": str, "customer_id": str},
                      parse_dates=["invoice_date", "due_date", "dispute_date"])
    pay = pd.read_csv(ledger_dir / "payments.csv", dtype={"invoice_id": str, "customer_id": str},
                      parse_dates=["payment_date"])
    adj = pd.read_csv(ledger_dir / "adjustments.csv", dtype={"invoice_id": str, "customer_id": str},
                      parse_dates=["date"])
    inv = inv[inv["invoice_date"] <= as_of]
    paid = pay[(pay["payment_date"] <= as_of) & pay["invoice_id"].notna()].groupby("invoice_id")["amount"].sum()
    cred = adj[(adj["date"] <= as_of) & adj["invoice_id"].notna()].groupby("invoice_id")["amount"].sum()
    settled = paid.reindex(inv["invoice_id"]).fillna(0).to_numpy() + cred.reindex(inv["invoice_id"]).fillna(0).to_numpy()
    inv = inv.assign(open=np.maximum(inv["amount"].to_numpy() - settled, 0.0), settled=settled,
                     dpd=(as_of - inv["due_date"]).dt.days)
    return inv[inv["settled"] < SETTLED_SHARE * inv["amount"] - 1e-9]


@pytest.fixture(scope="module")
def raw(small_ledger_dir: Path) -> pd.DataFrame:
    return raw_open_items(small_ledger_dir, AS_OF)


def test_totals_reconcile_with_the_raw_ledger(demo_result: WorklistResult, raw: pd.DataFrame) -> None:
    past_due = raw[raw["dpd"] > 0].groupby("customer_id")["open"].sum()
    lines = demo_result.lines.set_index("customer_id")
    assert len(lines) > 50
    # everyone with something past due is listed; the others only for a hold a payment would release
    assert set(past_due[past_due > 0].index) <= set(lines.index)
    others = lines.loc[~lines.index.isin(past_due[past_due > 0].index)]
    assert (others["order_hold"] & (others["release_amount"] > 0)).all()
    assert lines["amount_to_collect"].sum() == pytest.approx(past_due.reindex(lines.index).fillna(0).sum(), rel=1e-9)
    np.testing.assert_allclose(lines["amount_to_collect"], past_due.reindex(lines.index).fillna(0.0), atol=0.01)
    open_bal = raw.groupby("customer_id")["open"].sum()
    np.testing.assert_allclose(lines["open_balance"], open_bal.reindex(lines.index).fillna(0.0), atol=0.01)


def test_ranking_equals_an_independent_computation(demo_result: WorklistResult, raw: pd.DataFrame,
                                                   demo_scores: pd.DataFrame) -> None:
    lines = demo_result.lines
    ids = lines["customer_id"]
    p = demo_scores.set_index("customer_id")["pd"].reindex(ids).to_numpy()
    open_bal = raw.groupby("customer_id")["open"].sum().reindex(ids).fillna(0).to_numpy()
    # the decisions' own expected loss where the scores carry it (net of insurance), else PD x LGD x open balance
    given = (demo_scores.set_index("customer_id")["expected_loss"].reindex(ids).to_numpy("float64")
             if "expected_loss" in demo_scores else np.full(len(ids), np.nan))
    el = np.where(np.isfinite(given), given, p * 0.6 * open_bal)
    weights = [(0, 30, 0.25), (30, 60, 0.5), (60, 90, 1.0), (90, np.inf, 2.0)]
    u = np.ones(len(ids))
    for lo, hi, w in weights:
        amt = raw[(raw["dpd"] > lo) & (raw["dpd"] <= hi)].groupby("customer_id")["open"].sum().reindex(ids).fillna(0)
        u += w * np.where(open_bal > 0, amt.to_numpy() / np.where(open_bal > 0, open_bal, 1), 0)
    np.testing.assert_allclose(lines["expected_loss"], el, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(lines["priority"], el * u, rtol=1e-9, atol=1e-6)
    past = lines["amount_to_collect"].to_numpy()
    order = sorted(range(len(ids)), key=lambda i: (-round(el[i] * u[i], 6), -past[i], ids.iloc[i]))
    assert ids.iloc[order].tolist() == ids.tolist()
    # the top carries the largest expected losses: urgency lies in [1, 3], so a line ranked above another has at
    # least a third of its expected loss; the top 10 hold most of the expected loss of the 10 largest
    assert all(el[i] * 3 >= el[j] - 1e-9 for i in range(len(el)) for j in range(i + 1, len(el)))
    top10 = np.sort(el)[::-1][:10].sum()
    assert el[:10].sum() >= 0.8 * top10
    assert el[:10].sum() > 5 * el[-10:].sum()


def test_every_escalation_and_paperwork_line_has_reason_and_amount(demo_result: WorklistResult) -> None:
    esc, q = demo_result.escalations, demo_result.paperwork
    assert len(esc) > 0 and len(q) > 0
    assert (esc["escalation_reason"].str.len() > 20).all() and (esc["escalation_amount"] > 0).all()
    assert esc["escalation_codes"].str.len().gt(0).all()
    for r in esc.itertuples():
        assert f"{r.escalation_amount:,.0f}" in r.escalation_reason
    assert (q["reason"].str.len() > 20).all() and (q["amount"] > 0).all()
    assert q["documents_to_request"].str.len().gt(10).all() and q["owner"].isin(["billing", "sales"]).all()
    assert set(q["kind"]) >= {"unapplied_cash", "disputed_invoice", "deduction"}
    assert q["queue_rank"].tolist() == list(range(1, len(q) + 1))
    # held accounts that their own unapplied cash would release come first
    top = q["releases_hold"] & (q["kind"] == "unapplied_cash")
    assert not top.any() or top.to_numpy().argmin() == top.sum()


def test_unapplied_cash_is_never_netted(demo_result: WorklistResult, small_ledger_dir: Path) -> None:
    pay = pd.read_csv(small_ledger_dir / "payments.csv", dtype={"invoice_id": str, "customer_id": str},
                      parse_dates=["payment_date"])
    window = (pay["payment_date"] > AS_OF - pd.DateOffset(months=12)) & (pay["payment_date"] <= AS_OF)
    raw = pay[window & pay["invoice_id"].isna()].groupby("customer_id")["amount"].sum()
    q = demo_result.paperwork
    un = q[q["kind"] == "unapplied_cash"].set_index("customer_id")["amount"]
    assert set(un.index) == set(raw[raw > 0].index)
    np.testing.assert_allclose(un.sort_index(), raw.reindex(un.index).sort_index(), atol=1e-6)
    both = set(un.index) & set(q.loc[q["kind"] == "deduction", "customer_id"])
    assert both, "the demo should have accounts with both unapplied cash and deductions"


def test_escalation_rules_hold(demo_result: WorklistResult) -> None:
    lines = demo_result.lines
    esc = lines[lines["escalate"]]
    cfg = ScoringConfig().collections.escalation
    for r in esc.itertuples():
        revoked = r.action == "revoke" or "revoked" in r.hold_codes
        high = r.pd >= cfg.high_pd and "more than 90 days past due" in r.escalation_reason
        assert (revoked and r.days_late_now >= cfg.revoked_open_days) or high
        assert r.escalation_amount == pytest.approx(r.amount_to_collect - r.disputed_past_due)
        assert r.channel == "phone"


def test_rows_after_the_as_of_date_change_nothing(small_ledger: Ledger) -> None:
    as_of = pd.Timestamp("2026-06-30")
    team = collectors_from_count(3)
    results = []
    for led in (small_ledger, small_ledger.until(as_of)):
        feats = build_features(led, as_of)
        scores = prepare_scores(policy_scores(feats), as_of=as_of)
        results.append(build_worklist(led, as_of, scores, team, features=feats))
    for name in ("lines", "paperwork", "escalations", "assignment"):
        pd.testing.assert_frame_equal(getattr(results[0], name), getattr(results[1], name))


def test_decision_columns_are_used_when_present(small_ledger: Ledger, demo_scores: pd.DataFrame,
                                                demo_features: pd.DataFrame) -> None:
    s = demo_scores.copy()
    s["expected_loss"] = np.arange(len(s), dtype="float64")  # a made-up column, to see it is taken as given
    s["release_amount"] = 123.0
    r = build_worklist(small_ledger, AS_OF, prepare_scores(s, as_of=AS_OF), collectors_from_count(1),
                       features=demo_features)
    given = s.set_index("customer_id")["expected_loss"]
    np.testing.assert_allclose(r.lines["expected_loss"], given.reindex(r.lines["customer_id"]))
    held = r.lines["order_hold"]
    assert (r.lines.loc[held, "release_amount"] == 123.0).all()


def test_open_items_add_up_to_the_engine(small_ledger: Ledger, demo_features: pd.DataFrame) -> None:
    from riskml.collect.amounts import open_items

    items = open_items(small_ledger, AS_OF)
    f = demo_features.set_index("customer_id")
    by = items.groupby("customer_id")
    np.testing.assert_allclose(by["open_amount"].sum().reindex(f.index).fillna(0), f["open_balance"], atol=1e-3)
    past = items[items["dpd"] > 0].groupby("customer_id")["open_amount"].sum()
    np.testing.assert_allclose(past.reindex(f.index).fillna(0), f["past_due_amount"], atol=1e-3)
    disputed = items[items["disputed"]].groupby("customer_id")["open_amount"].sum().reindex(f.index).fillna(0)
    np.testing.assert_allclose(disputed, (f["disputed_open_share"] * f["open_balance"]).fillna(0), atol=1e-3)
    oldest = by["dpd"].max().reindex(f.index).fillna(0).clip(lower=0)
    np.testing.assert_allclose(oldest, f["oldest_dpd"], atol=1e-9)
