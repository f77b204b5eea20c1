"""Worked examples of the pieces: blocked amounts, the figures of one date, window sums, invoice losses,
replay dates and the frontier."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskml.backtest.dates import parse_every, replay_dates, retrain_schedule
from riskml.backtest.frontier import front_line, pareto_front
from riskml.backtest.metrics import blocked_amounts, date_figures, summarise
from riskml.backtest.outcomes import invoice_losses, window_sums
from riskml.config import LabelConfig, ScoringConfig
from riskml.data.ledger import Ledger, empty_table
from riskml.errors import RiskmlError


def test_blocked_amounts_worked_example() -> None:
    held = np.array([True, False, False, False])
    new_limit = np.array([0.0, np.inf, 1000.0, 1000.0])
    receivables = np.array([500.0, 500.0, 800.0, 200.0])
    invoiced = np.array([300.0, 300.0, 600.0, 600.0])
    settled = np.array([0.0, 0.0, 100.0, 100.0])
    # held: all; no new limit: nothing; 800 + 600 - 100 = 1300 -> 300 over 1000; 200 + 600 - 100 = 700 fits
    np.testing.assert_allclose(blocked_amounts(held, new_limit, receivables, invoiced, settled), [300, 0, 300, 0])
    # never more than the period's invoices
    assert blocked_amounts(np.array([False]), np.array([0.0]), np.array([5000.0]), np.array([10.0]),
                           np.array([0.0]))[0] == 10.0


def _decisions(action, hold, suggested, persona) -> pd.DataFrame:
    n = len(action)
    return pd.DataFrame({"action": action, "order_hold": hold, "suggested_limit": suggested,
                         "current_limit": [1000.0] * n, "review_due": [True, False, False, True][:n],
                         "review_priority": [1, 0, 0, 3][:n], "persona": persona, "grade": ["5"] * n})


def test_date_figures_worked_example() -> None:
    # customers: a held bad one, a cut good one, a good strong late payer let through, an already delinquent one
    dec = _decisions(["keep", "decrease", "keep", "revoke"], [True, False, False, True],
                     [1000.0, 400.0, 1000.0, 0.0], ["distressed", "regular", "strong_late_payer", "distressed"])
    feats = pd.DataFrame({"exposure": [900.0, 600.0, 100.0, 2000.0], "open_balance": [900.0, 500.0, 100.0, 2000.0]})
    out = pd.DataFrame({"status": ["labeled", "labeled", "labeled", "delinquent_at_as_of"],
                        "bad": [True, False, False, False], "invoiced": [200.0, 300.0, 1000.0, 50.0],
                        "settled": [0.0, 250.0, 800.0, 0.0], "loss": [150.0, 0.0, 0.0, 50.0]})
    cfg = ScoringConfig()  # gross margin 0.20, LGD 0.6
    f = date_figures(dec, feats, np.array([0.2, 0.05, 0.01, 0.5]), out, cfg, previous_held=np.array([True, False,
                     False, False]), approval_levels=np.array(["", "analyst", "", "credit_manager"], dtype=object))
    # cut: 500 + 300 - 250 - 400 = 150 blocked of the good customer's 300
    assert f["sales_lost"] == 150.0 and f["sales_lost_cuts"] == 150.0 and f["sales_lost_holds"] == 0.0
    assert f["margin_lost"] == pytest.approx(30.0)
    assert f["sales_kept"] == 150.0 + 1000.0 and f["margin_kept"] == pytest.approx(230.0)
    # the held bad customer's 200 and the already delinquent one's 50 are blocked: their losses avoided
    assert f["sales_blocked_bad"] == 250.0 and f["bad_debt_avoided"] == 200.0 and f["bad_debt_realised"] == 0.0
    assert f["bad_customers"] == 1 and f["bad_customers_caught"] == 1 and f["already_delinquent"] == 1
    assert f["bad_exposure_caught"] == 900.0 and f["bad_exposure_missed"] == 0.0
    assert f["holds"] == 2 and f["holds_new"] == 1 and f["revokes"] == 1 and f["cuts"] == 1
    assert f["reviews_due"] == 2 and f["reviews_urgent"] == 1 and f["approvals"] == 2 and f["approvals_new"] == 2
    assert f["good_customers_restricted"] == 1
    assert f["strong_late_payers"] == 1 and f["strong_late_payers_restricted"] == 0
    # expected loss: PD x 0.6 x what is let through (0 + 150 + 1000 + 0)
    assert f["expected_loss"] == pytest.approx(0.05 * 0.6 * 150 + 0.01 * 0.6 * 1000)
    assert f["net"] == pytest.approx(230.0)


def test_summarise_sums_flows_and_averages_counts() -> None:
    rows = []
    for d, (lost, holds, caught, bad) in enumerate([(10.0, 2, 50.0, 100.0), (30.0, 4, 0.0, 100.0)]):
        rows.append({"policy": "p", "as_of": pd.Timestamp("2025-01-31") + pd.offsets.MonthEnd(d),
                     **dict.fromkeys(("sales_invoiced", "sales_lost_holds", "sales_lost_cuts", "margin_lost",
                                      "sales_kept", "margin_kept", "sales_blocked_bad", "bad_debt_avoided",
                                      "bad_debt_realised", "expected_loss", "net", "net_expected",
                                      "strong_late_payer_sales_lost"), 1.0),
                     "sales_lost": lost, "holds": holds, "bad_exposure_caught": caught, "bad_exposure": bad,
                     "bad_exposure_missed": bad - caught, "bad_customers": 2, "bad_customers_caught": 1})
    s = summarise(pd.DataFrame(rows)).iloc[0]
    assert s["sales_lost"] == 40.0 and s["holds_per_date"] == 3.0 and s["bad_exposure_caught_share"] == 0.25
    assert s["bad_customers_caught_share"] == 0.5 and s["sales_lost_share"] == 40.0 / 42.0


def test_window_sums_against_a_loop() -> None:
    rng = np.random.default_rng(0)
    cust = rng.integers(0, 5, 200)
    day = rng.integers(0, 100, 200)
    amt = rng.uniform(0, 100, 200).round(2)
    q = rng.integers(0, 6, 50)
    lo = rng.integers(0, 80, 50)
    hi = lo + rng.integers(0, 30, 50)
    expect = [amt[(cust == c) & (day > a) & (day <= b)].sum() for c, a, b in zip(q, lo, hi, strict=True)]
    np.testing.assert_allclose(window_sums(cust, day, amt, q, lo, hi), expect, atol=1e-9)


def test_invoice_losses_worked_example() -> None:
    d = pd.Timestamp
    customers = pd.DataFrame({"customer_id": ["A"], "credit_limit": [1000.0], "payment_terms_days": [30]})
    invoices = pd.DataFrame({
        "invoice_id": ["i1", "i2", "i3", "i4"], "customer_id": ["A"] * 4,
        "invoice_date": [d("2025-01-01"), d("2025-01-01"), d("2025-01-01"), d("2025-08-01")],
        "due_date": [d("2025-01-31"), d("2025-01-31"), d("2025-01-31"), d("2025-08-31")],
        "amount": [100.0, 200.0, 300.0, 400.0], "disputed": [False, False, True, False]})
    payments = pd.DataFrame({"payment_id": ["p1"], "customer_id": ["A"], "invoice_id": ["i1"],
                             "payment_date": [d("2025-02-10")], "amount": [100.0]})
    adjustments = pd.DataFrame({"adjustment_id": ["a1"], "customer_id": ["A"], "invoice_id": ["i2"],
                                "date": [d("2025-06-30")], "amount": [120.0], "kind": ["write_off"]})
    ledger = Ledger(customers=customers, invoices=invoices, payments=payments, adjustments=adjustments,
                    orders=empty_table("orders"))
    # ledger ends 2025-08-01: i1 paid; i2 120 written off + 80 open 90+ days past due; i3 disputed; i4 not due
    np.testing.assert_allclose(invoice_losses(ledger, LabelConfig()), [0.0, 200.0, 0.0, 0.0])


def test_replay_dates_and_retraining() -> None:
    assert parse_every("1m") == 1 and parse_every("3") == 3 and parse_every(" 6 months") == 6
    for bad in ("0m", "1w", "x"):
        with pytest.raises(RiskmlError, match="--every"):
            parse_every(bad)
    dates = replay_dates(pd.Timestamp("2025-01-15"), pd.Timestamp("2025-12-30"), 2)
    assert [x.strftime("%Y-%m-%d") for x in dates] == ["2025-01-31", "2025-03-31", "2025-05-31", "2025-07-31",
                                                       "2025-09-30", "2025-11-30"]
    sched = retrain_schedule(replay_dates(pd.Timestamp("2025-01-31"), pd.Timestamp("2025-12-31"), 1), 6)
    assert sorted({v.strftime("%Y-%m") for v in sched.values()}) == ["2025-01", "2025-07"]
    assert sched[pd.Timestamp("2025-06-30")] == pd.Timestamp("2025-01-31")


def test_pareto_front() -> None:
    cost = np.array([0.0, 10.0, 10.0, 20.0, 30.0, 5.0])
    gain = np.array([0.0, 50.0, 40.0, 50.0, 80.0, 0.0])
    # (10,40) and (20,50) are beaten by (10,50); (5,0) by (0,0)
    assert pareto_front(cost, gain).tolist() == [True, True, False, False, True, False]
    assert front_line(cost, gain) == [(0.0, 0.0), (10.0, 50.0), (30.0, 80.0)]
    assert pareto_front(np.array([1.0, 1.0]), np.array([2.0, 2.0])).tolist() == [True, True]


def test_a_hold_lasting_some_days_blocks_only_those_days() -> None:
    # a held customer (current limit 1000) and a held one the policy also cuts to 300
    dec = _decisions(["keep", "decrease"], [True, True], [1000.0, 300.0], ["regular", "regular"])
    feats = pd.DataFrame({"exposure": [200.0, 200.0], "open_balance": [200.0, 200.0]})
    out = pd.DataFrame({"status": ["labeled", "labeled"], "bad": [True, True], "invoiced": [300.0, 300.0],
                        "settled": [0.0, 0.0], "loss": [90.0, 90.0], "invoiced_hold": [100.0, 100.0],
                        "loss_hold": [30.0, 30.0]})
    f = date_figures(dec, feats, np.array([0.1, 0.1]), out, ScoringConfig())
    # first: the hold's 100 and its loss 30; second: the hold's 100, then the cut: 200 + 100 + 200 - 300 = 200
    # over, all of the remaining 200 (its loss 60 with it)
    assert f["sales_blocked_bad"] == 100.0 + 300.0
    assert f["bad_debt_avoided"] == pytest.approx(30.0 + 90.0) and f["bad_debt_realised"] == pytest.approx(60.0)
    # without a hold duration, a hold blocks the whole period
    f = date_figures(dec, feats, np.array([0.1, 0.1]), out.drop(columns=["invoiced_hold", "loss_hold"]),
                     ScoringConfig())
    assert f["sales_blocked_bad"] == 600.0 and f["bad_debt_avoided"] == pytest.approx(180.0)


def test_docs_figures_from_a_summary() -> None:
    from benchmarks.bench_backtest import compact_markdown, figures_markdown, trade_offs

    base = {c: 1.0 for c in ("bad_exposure_caught_share", "bad_customers_caught_share", "bad_debt_realised",
                             "sales_lost_holds", "sales_lost_cuts", "sales_lost_share", "holds_per_date",
                             "holds_new_per_date", "reviews_due_per_date", "reviews_urgent_per_date",
                             "approvals_per_date", "approvals_new_per_date", "strong_late_payers_restricted_per_date")}
    summary = pd.DataFrame([
        {**base, "policy": "champion", "bad_debt_avoided": 20.0, "margin_lost": 1000.0, "sales_lost": 5000.0,
         "net": 50.0, "on_frontier": True},
        {**base, "policy": "x=1", "bad_debt_avoided": 30.0, "margin_lost": 3000.0, "sales_lost": 15000.0,
         "net": 40.0, "on_frontier": True},
        {**base, "policy": "x=2", "bad_debt_avoided": 20.0, "margin_lost": 1000.0, "sales_lost": 5000.0,
         "net": 50.0, "on_frontier": False},
    ])
    lines = trade_offs(summary)
    assert lines[0].startswith("- `x=2` -> `x=1`: 10 more bad debt avoided for 2,000 more margin lost")
    assert "per unit of bad debt avoided: 200" in lines[0] and "highest for `champion`" in lines[-1]
    text = figures_markdown(summary, "riskml backtest ...", "riskml synth ...", "2022-03-31", "2025-02-28")
    assert "| on the frontier | yes | yes | no |" in text and "off it: x=2." in text
    assert "| net | 50 | 40 | 50 |" in compact_markdown(summary, "cmd")


def test_columns_a_newer_policy_adds_are_used_when_present() -> None:
    dec = _decisions(["keep", "keep"], [True, True], [1000.0, 1000.0], ["strong_late_payer", "stretching"])
    dec = dec.assign(hold_type=["soft", "hard"], margin_at_risk=[10.0, 5.0])
    feats = pd.DataFrame({"exposure": [1.0, 1.0], "open_balance": [1.0, 1.0]})
    out = pd.DataFrame({"status": ["labeled"] * 2, "bad": [False] * 2, "invoiced": [100.0, 50.0],
                        "settled": [0.0, 0.0], "loss": [0.0, 0.0]})
    f = date_figures(dec, feats, np.array([0.01, 0.01]), out, ScoringConfig())
    assert f["holds_soft"] == 1 and f["holds_hard"] == 1 and f["margin_at_risk"] == 15.0
    # both persona codes count as strong late payers (the new code and the old one)
    assert f["strong_late_payers_restricted"] == 2 and f["strong_late_payer_sales_lost"] == 150.0
