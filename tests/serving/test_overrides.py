"""Overrides in the order-time check (riskml.serving.book) and in the batch policy
(``apply_policy(..., overrides=)``) decide alike: the same customers and overrides give the same decision,
hold, codes, texts, release amount, action and suggested limit for the same exposure. No server."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskml.config import ScoringConfig
from riskml.scoring.overrides import ActiveOverride, active_overrides, is_active
from riskml.scoring.policy import POLICY_INPUTS, POLICY_OPTIONAL_INPUTS, apply_policy

pytestmark = pytest.mark.integration


def test_is_active_is_inclusive_and_reads_no_clock() -> None:
    assert is_active("2026-10-01", "2026-10-31", "2026-10-01")
    assert is_active("2026-10-01", "2026-10-31", "2026-10-31")
    assert not is_active("2026-10-01", "2026-10-31", "2026-11-01")
    assert not is_active("2026-10-01", "2026-10-31", "2026-09-30")
    assert is_active("2026-10-01", None, "2099-01-01")
    assert not is_active("2026-10-01", None, "2026-10-02", withdrawn=True)


def _overrides(rows: list[dict]) -> pd.DataFrame:
    base = {"max_amount": np.nan, "limit": np.nan, "action": None, "reason": "agreed", "approver": "jane",
            "approver_level": "credit_manager", "effective_from": pd.Timestamp("2026-09-01"), "expires_on": None}
    return pd.DataFrame([{**base, **r} for r in rows])


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


LEVELS = ("analyst", "credit_manager", "finance_director")


def test_the_check_and_the_batch_apply_overrides_alike(small_features: pd.DataFrame) -> None:
    """Random overrides of every kind (approvers of every level, so some no longer suffice; releases with
    their max_amount partly or wholly used) on customers over the whole scale: the service's check of the
    customer's state (an order of 0 on the exposure at scoring, as ``GET /v1/customers`` judges it) equals
    the batch row of ``apply_policy(..., overrides=)`` -- decision, hold type, codes, texts, release amount,
    action, suggested limit and the overrides applied."""
    from riskml.serving.book import OrderInput, build_book, check_orders

    feats = small_features.reset_index(drop=True)
    cfg = ScoringConfig()
    rng = np.random.default_rng(17)
    p = rng.choice([0.002, 0.01, 0.03, 0.08, 0.2, 0.45, np.nan], len(feats), p=[.2, .2, .2, .15, .1, .1, .05])
    scores = pd.DataFrame({"customer_id": feats["customer_id"].astype(str), "as_of": feats["as_of"], "pd": p,
                           "model_version": "m", "data_fingerprint": "f"})
    cols = [c for c in dict.fromkeys((*POLICY_INPUTS, *POLICY_OPTIONAL_INPUTS)) if c in feats.columns]
    book = build_book(scores, feats[["customer_id", *cols]], cfg)
    ids = feats["customer_id"].astype(str).tolist()
    by: dict[str, dict[str, ActiveOverride]] = {}
    next_id = 1
    for i in rng.choice(len(ids), min(150, len(ids)), replace=False):
        cid, lim = ids[i], float(np.nan_to_num(feats["credit_limit"].iloc[i], nan=10_000.0))
        for kind in rng.choice(["limit", "action", "hold_release"], rng.integers(1, 4), replace=False):
            kw: dict = {}
            if kind == "limit":
                kw["limit"] = float(round(lim * rng.choice([0.3, 0.8, 1.5, 4.0]), -2))
            elif kind == "action":
                kw["action"] = str(rng.choice(["keep", "revoke"]))
            else:
                kw.update(max_amount=[None, 1_000.0][int(rng.integers(0, 2))],
                          used=float(rng.choice([0.0, 400.0, 1_000.0])))
            by.setdefault(cid, {})[str(kind)] = ActiveOverride(
                id=next_id, kind=str(kind), approver=f"a{next_id}", approver_level=str(rng.choice(LEVELS)),
                reason="why", **kw)
            next_id += 1
    batch = apply_policy(feats, p, cfg, overrides=by)
    service = check_orders(book, [OrderInput(c, 0.0, 0.0, tuple(by.get(c, {}).values())) for c in ids])
    seen: set[str] = set()
    for k, (cid, got) in enumerate(zip(ids, service, strict=True)):
        want = batch.iloc[k]
        codes = [c for c in want["hold_codes"].split(";") if c]
        assert got["reason_codes"] == codes, cid
        assert got["decision"] == ("release" if not want["order_hold"] else f"{want['hold_type']}_hold"), cid
        assert got["hold_type"] == want["hold_type"], cid
        assert got["reasons"] == [t for t in want["hold_reason"].split("; ") if t], cid
        assert got["release_amount"] == pytest.approx(float(want["release_amount"]) if codes else 0.0), cid
        assert got["action"] == want["action"], cid
        assert got["suggested_limit"] == pytest.approx(want["suggested_limit"], nan_ok=True) or (
            got["suggested_limit"] is None and np.isnan(want["suggested_limit"])), cid
        # the service names a release override only when it released the order (the batch lists it when it may)
        applied = [int(x) for x in want["override_ids"].split("; ") if x]
        rel = by.get(cid, {}).get("hold_release")
        assert sorted(got["overrides_applied"]) == [a for a in applied if rel is None or a != rel.id
                                                    or got["released_by_override"] == a], cid
        seen.update(want["override_kinds"].split("; "))
        if want["policy_order_hold"] != want["order_hold"]:
            seen.add("hold changed")
    assert {"limit", "action", "hold_release", "hold changed"} <= seen
    skipped = batch["override_skipped"]
    assert skipped.str.contains("not applied: it needs").any() and skipped.str.contains("used up").any()
