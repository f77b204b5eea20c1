"""Overrides over a scores frame (riskml.scoring.overrides) and the batched check (riskml.serving.book),
on hand-made frames: no server."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskml.config import ScoringConfig
from riskml.scoring.overrides import OVERRIDE_COLUMNS, active_overrides, apply_overrides, is_active
from riskml.scoring.policy import POLICY_INPUTS

pytestmark = pytest.mark.integration


def test_is_active_is_inclusive_and_reads_no_clock() -> None:
    assert is_active("2026-10-01", "2026-10-31", "2026-10-01")
    assert is_active("2026-10-01", "2026-10-31", "2026-10-31")
    assert not is_active("2026-10-01", "2026-10-31", "2026-11-01")
    assert not is_active("2026-10-01", "2026-10-31", "2026-09-30")
    assert is_active("2026-10-01", None, "2099-01-01")
    assert not is_active("2026-10-01", None, "2026-10-02", withdrawn=True)


def _scores() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["A", "B", "C", "D"],
        "current_limit": [10_000.0, 20_000.0, np.nan, 5_000.0],
        "suggested_limit": [12_000.0, 0.0, 8_000.0, 5_000.0],
        "limit_change": [2_000.0, -20_000.0, np.nan, 0.0],
        "action": ["increase", "revoke", "set", "keep"],
        "order_hold": [False, True, False, True],
        "hold_reason": ["", "oldest open invoice 50 days past due (tolerance 30 days); credit terms revoked: grade 10",
                        "", "exposure 9,000 (incl. open orders 0) over the limit 5,000 + 10% tolerance"],
        "hold_codes": ["", "past_due;revoked", "", "over_limit"],
        "limit_rationale": ["need x", "revoke", "starter", "keep"],
    })


def _overrides(rows: list[dict]) -> pd.DataFrame:
    base = {"max_amount": np.nan, "limit": np.nan, "action": None, "reason": "agreed", "approver": "jane",
            "approver_level": "credit_manager", "effective_from": pd.Timestamp("2026-09-01"), "expires_on": None}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_apply_overrides_worked_example() -> None:
    ovs = _overrides([
        {"override_id": 1, "customer_id": "A", "kind": "limit", "limit": 9_000.0},
        {"override_id": 2, "customer_id": "B", "kind": "action", "action": "keep"},
        {"override_id": 3, "customer_id": "D", "kind": "hold_release", "expires_on": pd.Timestamp("2026-10-31")},
        {"override_id": 4, "customer_id": "ZZ", "kind": "limit", "limit": 1.0},  # not in the scores
    ])
    out = apply_overrides(_scores(), ovs).set_index("customer_id")
    assert set(OVERRIDE_COLUMNS) <= set(out.columns)
    # A: the limit override decides the limit; the change and action follow
    assert out.loc["A", "suggested_limit"] == 9_000 and out.loc["A", "limit_change"] == -1_000
    assert out.loc["A", "action"] == "decrease" and out.loc["A", "policy_suggested_limit"] == 12_000
    assert out.loc["A", "limit_rationale"].startswith("override #1 by jane")
    # B: keep lifts the revoke (limit kept) but not the past-due hold
    assert out.loc["B", "action"] == "keep" and out.loc["B", "suggested_limit"] == 20_000
    assert out.loc["B", "hold_codes"] == "past_due" and out.loc["B", "order_hold"]
    assert "revoked" not in out.loc["B", "hold_reason"] and out.loc["B", "policy_action"] == "revoke"
    # D: released; the codes stay for the record
    assert not out.loc["D", "order_hold"] and out.loc["D", "hold_codes"] == "over_limit"
    assert out.loc["D", "override_expires_on"] == "2026-10-31" and out.loc["D", "policy_order_hold"]
    # C: untouched
    assert out.loc["C", "override_ids"] == "" and out.loc["C", "suggested_limit"] == 8_000
    assert np.isnan(out.loc["C", "override_limit"])


def test_revoke_override_holds_orders() -> None:
    out = apply_overrides(_scores(), _overrides([{"override_id": 7, "customer_id": "A", "kind": "action",
                                                  "action": "revoke"}])).set_index("customer_id")
    assert out.loc["A", "action"] == "revoke" and out.loc["A", "order_hold"] and out.loc["A", "hold_codes"] == "revoked"


def test_active_overrides_latest_of_a_kind_wins_and_expired_drop() -> None:
    ovs = _overrides([
        {"override_id": 1, "customer_id": "A", "kind": "limit", "limit": 1.0},
        {"override_id": 2, "customer_id": "A", "kind": "limit", "limit": 2.0},
        {"override_id": 3, "customer_id": "B", "kind": "limit", "limit": 3.0,
         "expires_on": pd.Timestamp("2026-09-15")},
        {"override_id": 4, "customer_id": "C", "kind": "limit", "limit": 4.0,
         "effective_from": pd.Timestamp("2026-10-01")},
    ])
    act = active_overrides(ovs, "2026-09-30")
    assert act["override_id"].tolist() == [2]
    assert active_overrides(ovs.iloc[0:0], "2026-09-30").empty


def test_no_overrides_change_nothing() -> None:
    s = _scores()
    out = apply_overrides(s, _overrides([]).reindex(columns=["override_id", "customer_id", "kind"]))
    pd.testing.assert_frame_equal(out[s.columns], s)


def test_a_batch_of_checks_decides_each_as_alone(small_features: pd.DataFrame) -> None:
    from riskml.serving.book import OrderInput, build_book, check_order, check_orders

    feats = small_features
    rng = np.random.default_rng(3)
    scores = pd.DataFrame({"customer_id": feats["customer_id"], "as_of": feats["as_of"],
                           "pd": rng.uniform(0.001, 0.4, len(feats)), "model_version": "m", "data_fingerprint": "f"})
    book = build_book(scores, feats[["customer_id", *POLICY_INPUTS]], ScoringConfig())
    ids = feats["customer_id"].astype(str).tolist()[:60] + ["UNKNOWN"]
    orders = [OrderInput(c, float(rng.uniform(10, 50_000)), float(rng.uniform(0, 10_000))) for c in ids]
    batch = check_orders(book, orders)
    for o, b in zip(orders, batch, strict=True):
        assert b == check_order(book, o.customer_id, o.amount, o.released_since)
    assert {b["decision"] for b in batch} >= {"release", "soft_hold"}
    assert batch[-1]["known_customer"] is False and "new_account" in batch[-1]["reason_codes"]


@pytest.fixture(scope="module")
def small_features(small_ledger) -> pd.DataFrame:
    from riskml.features import build_features

    return build_features(small_ledger, pd.Timestamp("2026-09-30"))
