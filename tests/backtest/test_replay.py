"""The replay end to end on a generated ledger: sanity policies that cannot be faked, monotone sweeps,
no leakage from rows dated after a replay date, and clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskml.backtest.models import given_model, model_knowledge_end, train_walk_forward
from riskml.backtest.policies import load_policies
from riskml.backtest.replay import BacktestResult, run_backtest
from riskml.config import BacktestConfig, FeatureConfig
from riskml.data.ledger import Ledger
from riskml.errors import ModelError, RiskmlError
from riskml.features import build_snapshots, month_ends
from tests.backtest.conftest import BT, FAST, extreme_policies

pytestmark = pytest.mark.integration


def _rows(result: BacktestResult, policy: str) -> pd.DataFrame:
    return result.frame.loc[result.frame["policy"] == policy].reset_index(drop=True)


def test_shape_and_population(bt_result: BacktestResult) -> None:
    f = bt_result.frame
    assert len(f) == len(bt_result.dates) * len(bt_result.policies)
    assert f.groupby("policy").size().nunique() == 1
    assert list(bt_result.summary["policy"]) == [p.name for p in bt_result.policies]
    # there is something to catch and something to lose, else the sanity tests below prove nothing
    champ = _rows(bt_result, "champion")
    assert champ["bad_customers"].sum() > 10 and champ["sales_invoiced"].sum() > 0
    # every policy is decided on the same customers and the same scores
    for d in bt_result.dates:
        base = bt_result.decisions[("champion", d)]
        for p in bt_result.policies:
            other = bt_result.decisions[(p.name, d)]
            assert other["customer_id"].tolist() == base["customer_id"].tolist()
            np.testing.assert_array_equal(other["pd"].to_numpy(), base["pd"].to_numpy())


def test_hold_nobody_catches_nothing_and_loses_nothing(bt_result: BacktestResult) -> None:
    r = _rows(bt_result, "hold_nobody")
    assert (r["holds"] == 0).all() and (r["revokes"] == 0).all() and (r["cuts"] == 0).all()
    assert (r["bad_exposure_caught"] == 0).all() and (r["bad_customers_caught"] == 0).all()
    assert (r["sales_lost"] == 0).all() and (r["margin_lost"] == 0).all() and (r["bad_debt_avoided"] == 0).all()
    # all of the realised loss stays
    champ = _rows(bt_result, "champion")
    np.testing.assert_allclose(r["bad_debt_realised"], champ["bad_debt_avoided"] + champ["bad_debt_realised"])


def test_revoke_everybody_catches_all_and_loses_all(bt_result: BacktestResult) -> None:
    r = _rows(bt_result, "revoke_all")
    assert (r["revokes"] == r["customers"]).all() and (r["holds"] == r["customers"]).all()
    assert np.allclose(r["bad_exposure_missed"], 0) and (r["bad_customers_caught"] == r["bad_customers"]).all()
    assert np.allclose(r["sales_kept"], 0) and np.allclose(r["bad_debt_realised"], 0)
    s = bt_result.summary.set_index("policy")
    assert s.loc["revoke_all", "bad_exposure_caught_share"] == 1.0
    assert s.loc["revoke_all", "sales_lost_share"] == 1.0
    # what hold-nobody keeps is exactly what revoke-all loses
    nobody = _rows(bt_result, "hold_nobody")
    np.testing.assert_allclose(r["sales_lost"], nobody["sales_kept"])


def test_sweep_moves_both_figures_monotonically(bt_result: BacktestResult) -> None:
    names = [f"hold_past_due_days={v}" for v in (15, 30, 45, 60)]
    by = {n: _rows(bt_result, n) for n in names}
    for a, b in zip(names, names[1:], strict=False):
        for col in ("sales_lost", "bad_debt_avoided", "bad_exposure_caught", "holds"):
            assert (by[a][col] >= by[b][col] - 1e-6).all(), (a, b, col)
    s = bt_result.summary.set_index("policy").loc[names]
    assert s["sales_lost"].is_monotonic_decreasing and s["bad_debt_avoided"].is_monotonic_decreasing
    assert s["sales_lost"].iloc[0] > s["sales_lost"].iloc[-1]  # the threshold matters on this ledger
    # the loosest threshold loses least: nothing with less margin lost avoids as much bad debt
    assert s["on_frontier"].iloc[-1]
    # the champion's own value gives the champion's figures
    pd.testing.assert_frame_equal(by["hold_past_due_days=30"].drop(columns="policy"),
                                  _rows(bt_result, "champion").drop(columns="policy"))


def _perturb_after(ledger: Ledger, t: pd.Timestamp, seed: int) -> Ledger:
    """Drop a random half of every table's rows dated after ``t`` and move later order closings."""
    from dataclasses import replace

    from riskml.data.contract import EVENT_DATE

    rng = np.random.default_rng(seed)
    out = {}
    for name, col in EVENT_DATE.items():
        df = ledger.tables()[name]
        after = (df[col] > t).to_numpy()
        keep = ~after | (rng.random(len(df)) < 0.5)
        df = df.loc[keep].copy()
        if name == "orders" and "closed_date" in df:
            late = df["closed_date"] > t
            df.loc[late, "closed_date"] = df.loc[late, "closed_date"] + pd.Timedelta(days=17)
        out[name] = df
    return replace(ledger, **out)


@pytest.mark.parametrize("seed", [0, 1])
def test_rows_after_the_replay_date_change_nothing_at_it(bt_ledger: Ledger, bt_result: BacktestResult,
                                                         seed: int) -> None:
    t0, t1 = bt_result.dates[0], bt_result.dates[1]
    policies = [*load_policies(None, None), *extreme_policies()]
    changed = _perturb_after(bt_ledger, t0, seed)
    assert changed.row_counts() != bt_ledger.row_counts()
    a = run_backtest(bt_ledger, policies, FAST, backtest=BT, start=t0, end=t1, keep_decisions=True)
    b = run_backtest(changed, policies, FAST, backtest=BT, start=t0, end=t1, keep_decisions=True)
    for p in policies:
        pd.testing.assert_frame_equal(a.decisions[(p.name, t0)], b.decisions[(p.name, t0)])
    # ... while what happened after t0 did change (the outcomes are read from the future, by design)
    assert not a.frame["sales_invoiced"].equals(b.frame["sales_invoiced"])


def test_walk_forward_model_sees_nothing_after_its_date(bt_ledger: Ledger, bt_result: BacktestResult) -> None:
    r = bt_result.dates[0]
    changed = _perturb_after(bt_ledger, r, 5)
    fc, tc = FeatureConfig(), FAST
    snaps = build_snapshots(bt_ledger, month_ends(bt_ledger.date_range()[0], r))
    snaps2 = build_snapshots(changed, month_ends(bt_ledger.date_range()[0], r))
    m1 = train_walk_forward(bt_ledger, snaps, r, tc, BT, fc)
    m2 = train_walk_forward(changed, snaps2, r, tc, BT, fc)
    X = snaps.loc[snaps["as_of"] == r, m1.model.feature_names_]
    np.testing.assert_array_equal(m1.model.predict_pd(X), m2.model.predict_pd(X))
    assert m1.train_dates[-1] <= r - pd.DateOffset(months=tc.label.horizon_months)


def test_given_model_is_refused_within_its_training_window(bt_result: BacktestResult) -> None:
    fitted = bt_result.models[0].model
    model = fitted.with_metadata(data_window={"train_dates": ["2025-01-31"], "oot_dates": ["2025-06-30"]},
                                 label_config={"horizon_months": 12})
    assert model_knowledge_end(model) == pd.Timestamp("2026-06-30")
    with pytest.raises(ModelError, match="trained on outcomes up to 2026-06-30.*--from 2026-06-30"):
        given_model(model, "models:/x/1", bt_result.dates)
    assert given_model(model, "m", [pd.Timestamp("2026-06-30")]).knowledge_end == pd.Timestamp("2026-06-30")
    model = fitted.with_metadata(data_window=None, label_config=None)
    with pytest.raises(ModelError, match="records no training window"):
        given_model(model, "m", bt_result.dates)


def test_too_little_history(bt_ledger: Ledger) -> None:
    short = bt_ledger.until(pd.Timestamp("2025-06-30"))
    with pytest.raises(RiskmlError, match="too little history for even one replay date"):
        run_backtest(short, load_policies(None, None), backtest=BT)


def test_no_outcomes_yet(bt_ledger: Ledger) -> None:
    with pytest.raises(RiskmlError, match="no outcomes yet in the window"):
        run_backtest(bt_ledger, load_policies(None, None), backtest=BT, end=pd.Timestamp("2026-09-30"))


def test_a_later_start_needs_enough_labels(bt_ledger: Ledger) -> None:
    with pytest.raises(RiskmlError, match="walk-forward model at 2025-01-31"):
        run_backtest(bt_ledger, load_policies(None, None), backtest=BacktestConfig(),
                     start=pd.Timestamp("2025-01-31"), end=pd.Timestamp("2025-02-28"))


def test_shorter_holds_block_less(bt_ledger: Ledger, bt_result: BacktestResult) -> None:
    t0, t1 = bt_result.dates[0], bt_result.dates[2]
    policies = load_policies(None, None)
    week = run_backtest(bt_ledger, policies, FAST, backtest=BT.model_copy(update={"hold_days": 7}), start=t0, end=t1)
    month = _rows(bt_result, "champion").iloc[:3]
    assert (week.frame["sales_lost_holds"].to_numpy() <= month["sales_lost_holds"].to_numpy() + 1e-6).all()
    assert week.frame["sales_lost_holds"].sum() < month["sales_lost_holds"].sum()
    # the decisions are the same: only what a hold blocks changes
    np.testing.assert_array_equal(week.frame["holds"], month["holds"])
