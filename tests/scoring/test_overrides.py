"""Overrides go into the policy (``apply_policy(..., overrides=)``): worked examples per kind on hand-made
rows (:mod:`tests.scoring.frames`: limit 15,000, exposure 10,000 incl. open orders 1,000, open balance 9,000),
computed by hand from the default config (over-limit tolerance by grade: 15% for grade 5, 0% for 9 and 10;
past-due hold beyond 30 days, hard from 60; approval levels analyst / credit_manager / finance_director), except
that over-limit customers are covered by a limit only up to grade 8 here, so the grade-9 customer over its
limit is held (the shipped ``limits.cover_exposure_worst_grade`` covers grade 9 too)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskml.scoring.overrides import OVERRIDE_COLUMNS, ActiveOverride, active_overrides, is_active
from riskml.scoring.policy import DECISION_COLUMNS, apply_policy
from tests.scoring.frames import covering_up_to, rows

CFG = covering_up_to("8")
GRADE_9, GRADE_5, GRADE_3, GRADE_10 = 0.2, 0.03, 0.01, 0.45
PAST_DUE_60 = {"undisputed_oldest_dpd": 60.0, "oldest_dpd": 60.0, "undisputed_past_due_amount": 5_000.0,
               "past_due_amount": 5_000.0}
# a habitual debtor: 60 days past due and paying 25 days later than its own norm (distressed by the ledger, and
# deteriorated beyond the revoke's 15-day shift)
HABITUAL = {**PAST_DUE_60, "dbt_shift_12m": 25.0, "dbt_shift_24m": 25.0, "dbt_shift_max": 25.0}


def ov(id_: int, kind: str, level: str = "credit_manager", **kw: object) -> ActiveOverride:
    return ActiveOverride(id=id_, kind=kind, approver="jane", approver_level=level, reason="agreed", **kw)  # type: ignore[arg-type]


def one(row: dict, p: float, *overrides: ActiveOverride) -> pd.Series:
    """The decision on one customer (C1) with ``overrides``."""
    return apply_policy(rows(row), np.array([p]), CFG, overrides={"C1": {o.kind: o for o in overrides}}).iloc[0]


OVER_LIMIT_9 = {"exposure": 24_000.0, "open_orders_amount": 3_000.0}  # grade 9: no cover, held 24,000 - 15,000


def test_the_policy_holds_the_grade_9_customer_over_its_limit() -> None:
    d = one(OVER_LIMIT_9, GRADE_9)
    assert d["grade"] == "9" and d["hold_codes"] == "over_limit" and d["hold_type"] == "soft"
    assert d["release_amount"] == 9_000.0 and d["action"] == "keep" and d["override_ids"] == ""


def test_a_limit_override_raising_the_limit_releases_the_over_limit_hold() -> None:
    d = one(OVER_LIMIT_9, GRADE_9, ov(1, "limit", "finance_director", limit=30_000.0))
    assert not d["order_hold"] and d["hold_codes"] == "" and d["hold_type"] == "none" and d["release_amount"] == 0
    assert (d["current_limit"], d["suggested_limit"], d["limit_change"], d["action"]) == (15_000, 30_000, 15_000,
                                                                                          "increase")
    assert d["limit_rationale"].startswith("limit 30,000 set by override #1 (jane): agreed")
    assert (d["override_ids"], d["override_kinds"], d["override_limit"]) == ("1", "limit", 30_000.0)
    # the policy's own decision stays on record
    assert d["policy_order_hold"] and d["policy_suggested_limit"] == 15_000 and d["policy_action"] == "keep"
    # a raise that does not cover the exposure: held over the new limit, released by paying the excess
    d = one(OVER_LIMIT_9, GRADE_9, ov(1, "limit", "finance_director", limit=20_000.0))
    assert d["hold_codes"] == "over_limit" and d["release_amount"] == 4_000.0  # 24,000 - 20,000 x (1 + 0%)
    assert "over the limit 20,000" in d["hold_reason"]


def test_a_limit_override_lowering_the_limit_creates_an_over_limit_hold() -> None:
    base = one({"exposure": 14_000.0}, GRADE_5)
    assert not base["order_hold"] and base["grade"] == "5"
    d = one({"exposure": 14_000.0}, GRADE_5, ov(2, "limit", "analyst", limit=10_000.0))
    assert d["order_hold"] and d["hold_codes"] == "over_limit" and d["hold_type"] == "soft"
    assert d["release_amount"] == 2_500.0  # 14,000 - 10,000 x 1.15
    assert (d["suggested_limit"], d["limit_change"], d["action"]) == (10_000, -5_000, "decrease")
    assert not d["policy_order_hold"]


def test_an_action_keep_lifts_the_revoke_and_the_holds_it_covered_apply_again() -> None:
    revoked = one(HABITUAL, GRADE_10)
    assert revoked["action"] == "revoke" and revoked["hold_codes"] == "revoked"
    d = one(HABITUAL, GRADE_10, ov(3, "action", action="keep"))
    assert d["action"] == "keep" and d["suggested_limit"] == 15_000 and d["limit_change"] == 0
    assert d["hold_codes"] == "past_due" and d["hold_type"] == "hard" and d["release_amount"] == 5_000.0
    assert d["override_action"] == "keep" and d["policy_action"] == "revoke"
    # over the limit instead of past due: the over-limit hold (grade 10: no tolerance)
    d = one({"exposure": 20_000.0}, GRADE_10, ov(3, "action", action="keep"))
    assert d["hold_codes"] == "over_limit" and d["release_amount"] == 5_000.0 and d["hold_type"] == "soft"
    # within the limit: released
    d = one({}, GRADE_10, ov(3, "action", action="keep"))
    assert not d["order_hold"] and d["action"] == "keep"


def test_an_action_revoke_holds_every_order() -> None:
    d = one({}, GRADE_3, ov(4, "action", action="revoke"))
    assert (d["action"], d["suggested_limit"], d["limit_change"]) == ("revoke", 0.0, -15_000.0)
    assert d["hold_codes"] == "revoked" and d["hold_type"] == "hard"
    assert d["release_amount"] == 10_000.0  # everything owed (9,000) + the open orders (1,000)
    assert "by override #4 (jane)" in d["hold_reason"] and not d["policy_order_hold"]


def test_a_hold_release_releases_a_hold_its_approver_may_release() -> None:
    d = one(OVER_LIMIT_9, GRADE_9, ov(5, "hold_release", "analyst"))
    assert not d["order_hold"] and d["override_hold_release"] and d["policy_order_hold"]
    # the hold stays on record: its codes, type, release amount and text, and who released it
    assert d["hold_codes"] == "over_limit" and d["hold_type"] == "soft" and d["release_amount"] == 9_000.0
    assert d["hold_reason"].endswith("; released by override #5 (jane)")
    # a hard hold (grade 9, 60 days past due; grades 1-7 are not held for lateness before collections): an analyst may not release it -- the override does not apply
    d = one(PAST_DUE_60, GRADE_9, ov(6, "hold_release", "analyst"))
    assert d["order_hold"] and d["hold_type"] == "hard" and not d["override_hold_release"] and d["override_ids"] == ""
    assert d["override_skipped"] == ("override #6 (jane) (hold_release) not applied: the hard hold needs "
                                     "credit_manager, the approver's level is analyst")
    assert not one(PAST_DUE_60, GRADE_9, ov(6, "hold_release", "credit_manager"))["order_hold"]


def test_a_hold_release_applies_while_its_max_amount_is_not_used_up() -> None:
    d = one(OVER_LIMIT_9, GRADE_9, ov(7, "hold_release", "analyst", max_amount=1_000.0, used=400.0))
    assert not d["order_hold"]
    d = one(OVER_LIMIT_9, GRADE_9, ov(7, "hold_release", "analyst", max_amount=1_000.0, used=1_000.0))
    assert d["order_hold"] and "max_amount 1,000.00 is used up" in d["override_skipped"]


def test_an_override_whose_level_no_longer_suffices_stops_applying() -> None:
    # the same raise by a credit manager: an increase for grade 9 needs a finance director
    d = one(OVER_LIMIT_9, GRADE_9, ov(1, "limit", "credit_manager", limit=30_000.0))
    assert d["order_hold"] and d["suggested_limit"] == 15_000 and np.isnan(d["override_limit"])
    assert "it needs finance_director" in d["override_skipped"] and d["override_ids"] == ""
    # lifting a revoke needs the authority to revoke
    d = one(HABITUAL, GRADE_10, ov(3, "action", "analyst", action="keep"))
    assert d["action"] == "revoke" and d["hold_codes"] == "revoked" and "needs credit_manager" in d["override_skipped"]
    # a release granted on a soft hold that turned hard (the next run's customer is 60 days past due)
    d = one({**OVER_LIMIT_9, **PAST_DUE_60}, GRADE_9, ov(5, "hold_release", "analyst"))
    assert d["order_hold"] and d["hold_type"] == "hard" and "hard hold needs" in d["override_skipped"]


def test_revoke_outranks_a_limit_override_and_the_limit_is_recorded() -> None:
    d = one({}, GRADE_3, ov(1, "limit", "credit_manager", limit=30_000.0), ov(4, "action", action="revoke"))
    assert d["action"] == "revoke" and d["suggested_limit"] == 0 and d["current_limit"] == 15_000
    assert d["override_ids"] == "1; 4" and d["override_limit"] == 30_000.0


def test_a_release_is_judged_at_the_limit_in_force() -> None:
    # lowered to 10,000 by a limit override, held over it, released by a release override the same day
    d = one({"exposure": 14_000.0}, GRADE_5, ov(2, "limit", "analyst", limit=10_000.0), ov(8, "hold_release", "analyst"))
    assert not d["order_hold"] and d["hold_codes"] == "over_limit" and d["override_kinds"] == "limit; hold_release"


def _frame(rows_: list[dict]) -> pd.DataFrame:
    base = {"max_amount": np.nan, "limit": np.nan, "action": None, "reason": "agreed", "approver": "jane",
            "approver_level": "finance_director", "effective_from": pd.Timestamp("2026-09-01"), "expires_on": None,
            "withdrawn": False}
    return pd.DataFrame([{**base, **r} for r in rows_])


def test_only_overrides_active_on_the_as_of_date_apply() -> None:
    f = rows(*([OVER_LIMIT_9] * 5))
    p = np.full(5, GRADE_9)
    frame = _frame([
        {"override_id": 1, "customer_id": "C1", "kind": "limit", "limit": 30_000.0,
         "expires_on": pd.Timestamp("2026-09-29")},                                        # expired
        {"override_id": 2, "customer_id": "C2", "kind": "limit", "limit": 30_000.0, "withdrawn": True},
        {"override_id": 3, "customer_id": "C3", "kind": "limit", "limit": 30_000.0,
         "effective_from": pd.Timestamp("2026-10-01")},                                   # not yet
        {"override_id": 4, "customer_id": "C4", "kind": "limit", "limit": 30_000.0,
         "expires_on": pd.Timestamp("2026-09-30")},                                        # last day
        {"override_id": 5, "customer_id": "ZZ", "kind": "limit", "limit": 1.0},            # not in the book
    ])
    act = active_overrides(frame, "2026-09-30")
    assert act["override_id"].tolist() == [4, 5]
    d = apply_policy(f, p, CFG, overrides=act).set_index(f["customer_id"])
    assert d["order_hold"].tolist() == [True, True, True, False, True]
    assert d.loc["C4", "override_expires_on"] == "2026-09-30" and d.loc["C4", "suggested_limit"] == 30_000
    assert is_active("2026-10-01", "2026-10-31", "2026-10-31") and not is_active("2026-10-01", None, "2026-10-02", True)


def test_customers_without_overrides_decide_as_without_and_no_overrides_change_nothing() -> None:
    f = rows(OVER_LIMIT_9, {"exposure": 14_000.0}, PAST_DUE_60, {})
    p = np.array([GRADE_9, GRADE_5, GRADE_10, GRADE_3])
    plain = apply_policy(f, p, CFG)
    assert not set(OVERRIDE_COLUMNS) & set(plain.columns)
    none = apply_policy(f, p, CFG, overrides=_frame([]).reindex(columns=["override_id", "customer_id", "kind"]))
    pd.testing.assert_frame_equal(none[list(DECISION_COLUMNS)], plain[list(DECISION_COLUMNS)])
    assert (none["override_ids"] == "").all() and none["policy_order_hold"].tolist() == plain["order_hold"].tolist()
    some = apply_policy(f, p, CFG, overrides={"C1": {"limit": ov(1, "limit", "finance_director", limit=30_000.0)}})
    pd.testing.assert_frame_equal(some[list(DECISION_COLUMNS)].iloc[1:], plain[list(DECISION_COLUMNS)].iloc[1:])
    assert some["approval_level"].iloc[0] == "finance_director"  # the decision is the raise the override granted


@pytest.mark.parametrize("kind", ["limit", "action", "hold_release"])
def test_a_block_decides_each_customer_as_alone(kind: str) -> None:
    """Overrides keep the policy's row independence: a customer decided in a block equals it decided alone."""
    f = rows(OVER_LIMIT_9, {"exposure": 14_000.0}, PAST_DUE_60, {}, {**OVER_LIMIT_9, **PAST_DUE_60})
    p = np.array([GRADE_9, GRADE_5, GRADE_10, GRADE_3, GRADE_9])
    o = {"limit": ov(1, "limit", "finance_director", limit=12_000.0), "action": ov(2, "action", action="keep"),
         "hold_release": ov(3, "hold_release", "analyst")}[kind]
    by = {c: {kind: o} for c in ("C1", "C3", "C5")}
    block = apply_policy(f, p, CFG, overrides=by)
    for k in range(len(f)):
        alone = apply_policy(f.iloc[[k]], p[k:k + 1], CFG, overrides=by)
        pd.testing.assert_frame_equal(block.iloc[[k]].reset_index(drop=True), alone)


def test_score_customers_puts_the_overrides_into_its_decisions(tiny_model, small_features, tmp_path) -> None:
    """``score_customers(overrides=)`` (what ``riskml score --overrides-db`` runs): the overridden customers'
    rows are ``apply_policy(..., overrides=)``'s for the model's PD, the others are the run without overrides,
    in several blocks; the override columns come last, typed, and survive the scores file."""
    from riskml.io import read_table
    from riskml.scoring.score import ScoreResult, output_columns, score_customers, write_outputs

    cfg = CFG.model_copy(update={"chunk_size": 97})
    plain = score_customers(small_features, tiny_model, cfg, with_contributions=False).scores
    ids = plain["customer_id"].tolist()
    by = {ids[3]: {"action": ov(1, "action", "finance_director", action="revoke")},
          ids[150]: {"limit": ov(2, "limit", "finance_director", limit=1_000.0)},
          ids[-1]: {"hold_release": ov(3, "hold_release", "finance_director")}}
    frame = pd.DataFrame([{"override_id": o.id, "customer_id": cid, "kind": o.kind, "limit": o.limit,
                           "action": o.action, "max_amount": np.nan, "reason": o.reason, "approver": o.approver,
                           "approver_level": o.approver_level, "effective_from": pd.Timestamp("2026-09-01"),
                           "expires_on": None} for cid, kinds in by.items() for o in kinds.values()])
    scores = score_customers(small_features, tiny_model, cfg, overrides=frame, with_contributions=False).scores
    assert list(scores.columns) == [*output_columns(cfg.n_reasons), *OVERRIDE_COLUMNS]
    assert scores["override_limit"].dtype == "float64" and scores["policy_order_hold"].dtype == bool
    rows_ = [ids.index(c) for c in by]
    want = apply_policy(small_features.iloc[rows_], plain["pd"].to_numpy()[rows_], cfg, overrides=by)
    for col in ("action", "suggested_limit", "order_hold", "hold_codes", "release_amount", "override_ids"):
        assert scores[col].iloc[rows_].tolist() == want[col].tolist(), col
    assert scores.loc[3, "action"] == "revoke" and scores.loc[150, "suggested_limit"] == 1_000.0
    rest = [k for k in range(len(ids)) if k not in rows_]
    pd.testing.assert_frame_equal(scores[list(plain.columns)].iloc[rest], plain.iloc[rest])
    out = tmp_path / "scores.csv"
    write_outputs(ScoreResult(scores, None), out)
    back = read_table(out)
    assert back["override_ids"].tolist()[3] == "1" and back["override_ids"].dtype == "str"  # ids stay text in a CSV

