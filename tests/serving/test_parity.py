"""The order-time check decides as the batch policy: for random customers, orders, orders released since the
scoring and limit overrides, :func:`riskml.serving.book.check_orders` (the customer's context computed once,
the limit and hold rules per order) gives what :func:`riskml.scoring.policy.apply_policy` gives on the
customer's feature row with the same exposure and open orders (and the same limit override, through
``apply_policy(..., overrides=)``). And an override lifting a revoke re-decides the holds the revoke covered."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskml.config import ScoringConfig
from riskml.scoring.policy import POLICY_INPUTS, POLICY_OPTIONAL_INPUTS, apply_policy
from riskml.serving.book import Book, OrderInput, OverrideView, build_book, check_orders, policy_row

CFG = ScoringConfig()
AS_OF = pd.Timestamp("2026-09-30")


@pytest.fixture(scope="module")
def book_and_rows(small_ledger) -> tuple[Book, pd.DataFrame, np.ndarray]:
    from riskml.features import build_features

    feats = build_features(small_ledger, AS_OF)
    rng = np.random.default_rng(11)
    # PDs over the whole master scale (revokes, holds and increases all occur), a few customers unscored
    p = rng.choice([0.002, 0.01, 0.03, 0.08, 0.2, 0.45, np.nan], len(feats), p=[.2, .2, .2, .15, .1, .1, .05])
    scores = pd.DataFrame({"customer_id": feats["customer_id"].astype(str), "as_of": AS_OF, "pd": p,
                           "model_version": "m", "data_fingerprint": "f"})
    cols = [c for c in dict.fromkeys((*POLICY_INPUTS, *POLICY_OPTIONAL_INPUTS)) if c in feats.columns]
    book = build_book(scores, feats[["customer_id", *cols]], CFG)
    return book, feats.reset_index(drop=True), p


def _expected(book: Book, feats: pd.DataFrame, p: np.ndarray, picks: list[tuple[int, float, float, float | None]],
              ) -> pd.DataFrame:
    """apply_policy on each pick's row: the customer's features (or the new-account row) with the released
    orders and the order added to the exposure and the open orders, and the override's limit (a row with a limit
    override on its own: overrides are per customer)."""
    rows, pds = [], []
    for i, since, amount, _ in picks:
        if i < len(feats):
            row = feats.iloc[i].to_dict()
            pds.append(p[i])
        else:  # a customer not in the book
            row, _, _ = policy_row(book, "NEW")
            row = {**row, "customer_id": "NEW", "as_of": AS_OF}
            pds.append(math.nan)
        row["exposure"] = float(np.nan_to_num(row["exposure"], nan=0.0)) + since + amount
        row["open_orders_amount"] = float(np.nan_to_num(row["open_orders_amount"], nan=0.0)) + since + amount
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["as_of"] = AS_OF
    out = apply_policy(frame, np.array(pds, dtype="float64"), CFG)
    parts = [out.iloc[[k]] if limit is None else
             apply_policy(frame.iloc[[k]], np.array(pds[k:k + 1], dtype="float64"), CFG,
                          overrides={str(frame["customer_id"].iloc[k]): {"limit": _limit_override(limit)}})[out.columns]
             for k, (*_, limit) in enumerate(picks)]
    return pd.concat(parts, ignore_index=True)


def _limit_override(limit: float) -> OverrideView:
    return OverrideView(id=1, kind="limit", limit=limit, approver="fd", approver_level="finance_director")


picks_strategy = st.lists(
    st.tuples(st.integers(0, 10_000), st.floats(0, 1), st.floats(0, 1.5), st.one_of(st.none(), st.floats(0, 2))),
    min_size=1, max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=picks_strategy)
def test_the_check_decides_as_apply_policy(book_and_rows, raw) -> None:
    book, feats, p = book_and_rows
    n = len(feats)
    picks = []
    for j, since_f, amount_f, limit_f in raw:
        i = j % (n + 1)  # n: a new account
        base = float(feats["credit_limit"].iloc[i]) if i < n else book.new_account_limit
        scale = base if math.isfinite(base) and base > 0 else 10_000.0
        limit = None if limit_f is None else round(limit_f * scale, 2)
        picks.append((i, round(since_f * scale, 2), round(amount_f * scale, 2) + 0.01, limit))
    orders = [OrderInput(str(feats["customer_id"].iloc[i]) if i < n else "NEW", amount, since,
                         (_limit_override(limit),) if limit is not None else ())
              for i, since, amount, limit in picks]
    got = check_orders(book, orders)
    want = _expected(book, feats, p, picks)
    for g, (_, w), (i, *_) in zip(got, want.iterrows(), picks, strict=True):
        codes = [c for c in w["hold_codes"].split(";") if c]
        assert g["reason_codes"] == codes + ([] if i < n else ["new_account"])
        assert g["hold_type"] == w["hold_type"]
        assert g["decision"] == ("release" if w["hold_type"] == "none" else f"{w['hold_type']}_hold")
        texts = [t for t in w["hold_reason"].split("; ") if t]
        assert g["reasons"][:len(texts)] == texts
        assert g["release_amount"] == pytest.approx(float(w["release_amount"]) if codes else 0.0)
        assert g["action"] == w["action"]
        assert g["suggested_limit"] == pytest.approx(w["suggested_limit"], nan_ok=True) or (
            g["suggested_limit"] is None and math.isnan(w["suggested_limit"]))
        assert (g["grade"] or "") == (w["grade"] if isinstance(w["grade"], str) else "")
        assert g["persona"] == (w["persona"] or None)


def test_lifting_a_revoke_decides_the_other_holds(book_and_rows) -> None:
    """A customer the policy revokes, with an override ``keep``: an order within the limit plus tolerance is
    released (no past due), one beyond it is held over the limit with the policy's release amount -- the
    same decision the policy takes for the customer when it does not revoke."""
    book, feats, p = book_and_rows
    keep = (OverrideView(id=9, kind="action", action="keep", approver="mgr", approver_level="finance_director"),)
    probe = check_orders(book, [OrderInput(c, 1.0) for c in feats["customer_id"].astype(str)])
    revoked = [r for r in probe if r["reason_codes"] == ["revoked"] and r["limit"] and r["limit"] > 0]
    assert revoked, "the fixture should hold revoked customers with a limit"
    lifted = check_orders(book, [OrderInput(r["customer_id"], 1.0, 0.0, keep) for r in revoked])
    assert all(x["action"] == "keep" and x["overrides_applied"] == [9] and "revoked" not in x["reason_codes"]
               for x in lifted)
    # customers past due at the scoring: lifting the revoke does not release their orders, the holds the revoke
    # covered are decided now (over the limit: the order beyond it below)
    assert any("past_due" in x["reason_codes"] for x in lifted)
    free = [x for x in lifted if x["decision"] == "release"]
    assert free, "some revoked customer within its limit and not past due"
    cid, limit, before = free[0]["customer_id"], free[0]["limit"], free[0]["exposure_before"]
    big = max(limit * 2 - before, 1.0)
    over = check_orders(book, [OrderInput(cid, big, 0.0, keep)])[0]
    assert over["decision"] == "soft_hold" and over["reason_codes"] == ["over_limit"]
    assert 0 < over["release_amount"] < big
    # imposing a revoke holds even a small order, with what releases it (everything owed + the orders)
    revoke = (OverrideView(id=10, kind="action", action="revoke", approver="mgr", approver_level="finance_director"),)
    clean = next(x for x in probe if x["decision"] == "release")
    held = check_orders(book, [OrderInput(clean["customer_id"], 5.0, 0.0, revoke)])[0]
    assert held["decision"] == "hard_hold" and "revoked" in held["reason_codes"] and held["action"] == "revoke"
    assert held["release_amount"] >= 5.0 and any("override #10" in t for t in held["reasons"])


def test_preloaded_release_levels_are_the_approval_rule(book_and_rows) -> None:
    """The release levels computed for the whole book at load equal the rule applied hold by hold."""
    from riskml.serving.book import release_level

    book = book_and_rows[0]
    items = list(book.level_cache.items())
    assert book.frame is not None and book.context is not None
    lim = np.nan_to_num(book.frame["credit_limit"].to_numpy("float64"), nan=0.0)
    assert all((h, float(v), str(g or "")) in book.level_cache
               for v, g in zip(lim, book.context.grades, strict=True) for h in ("none", "soft", "hard"))
    rng = np.random.default_rng(5)
    for k in rng.choice(len(items), 60, replace=False):
        (hold, limit, grade), level = items[k]
        assert level == release_level(hold, limit, grade, CFG)
    assert {lv for _, lv in items} >= {"analyst", "credit_manager"}


def test_every_customer_decides_the_same_on_numpy_rows(book_and_rows) -> None:
    """The check's fast form (the rules on numpy rows, :class:`~riskml.serving.book.Rows`, with the review flags
    computed at load) decides every customer of the book -- each persona, holds past due and over the limit,
    revokes, the collections track, unscored customers, new accounts -- at three order sizes, with orders
    released since, limit, action and release overrides, exactly as the reference form (the same rules on a
    pandas frame, the review calendar run per row) and, where no person overrode the action or the hold, as
    :func:`apply_policy` on the same row."""
    book, feats, p = book_and_rows
    n = len(feats)
    rng = np.random.default_rng(3)
    picks: list[tuple[int, float, float, float | None]] = []
    orders: list[OrderInput] = []
    plain: list[int] = []  # orders apply_policy decides as they are (no action or release override)
    for i in [*range(n), n, n, n]:
        base = float(feats["credit_limit"].iloc[i]) if i < n else book.new_account_limit
        exp = float(np.nan_to_num(feats["exposure"].iloc[i], nan=0.0)) if i < n else 0.0
        scale = base if math.isfinite(base) and base > 0 else 10_000.0
        for amount in (1.0, round(max(scale - exp, 0.0) * 0.9, 2) + 1.0, round(scale * 1.5, 2)):
            since = float(rng.choice([0.0, round(scale * 0.3, 2)]))
            kind = rng.choice(["", "", "", "limit", "keep", "revoke", "hold_release"])
            ovs: tuple[OverrideView, ...] = ()
            limit = None
            if kind == "limit":
                limit = round(scale * float(rng.choice([0.5, 2.0])), 2)
                ovs = (_limit_override(limit),)
            elif kind in ("keep", "revoke"):
                ovs = (OverrideView(id=2, kind="action", action=str(kind), approver="mgr"),)
            elif kind == "hold_release":
                ovs = (OverrideView(id=3, kind="hold_release", approver="mgr", approver_level="credit_manager",
                                    max_amount=float(rng.choice([scale, 1e9]))),)
            if kind in ("", "limit"):
                plain.append(len(orders))
            cid = str(feats["customer_id"].iloc[i]) if i < n else "NEW"
            picks.append((i, since, amount, limit))
            orders.append(OrderInput(cid, amount, since, ovs))
    fast = [check_orders(book, [o])[0] for o in orders]  # one order per call, as the service decides them
    ref = check_orders(book, orders, reference=True)
    assert fast == ref
    want = _expected(book, feats, p, [picks[k] for k in plain])
    for k, (_, w) in zip(plain, want.iterrows(), strict=True):
        g = fast[k]
        codes = [c for c in w["hold_codes"].split(";") if c]
        assert g["reason_codes"] == codes + ([] if picks[k][0] < n else ["new_account"])
        assert (g["hold_type"], g["action"]) == (w["hold_type"], w["action"])
        texts = [t for t in w["hold_reason"].split("; ") if t]
        assert g["reasons"][:len(texts)] == texts
        assert g["release_amount"] == pytest.approx(float(w["release_amount"]) if codes else 0.0)
        assert g["suggested_limit"] == pytest.approx(w["suggested_limit"], nan_ok=True) or (
            g["suggested_limit"] is None and math.isnan(w["suggested_limit"]))
        assert (g["grade"] or "", g["persona"]) == (w["grade"] if isinstance(w["grade"], str) else "",
                                                   w["persona"] or None)
    # the book covers what the rules decide
    assert {r["persona"] for r in fast} >= {"thin_file", "distressed", "weak_late_payer", "regular", "prompt_payer"}
    assert {c for r in fast for c in r["reason_codes"]} >= {"past_due", "over_limit", "revoked", "collections",
                                                           "new_account"}
    assert {r["decision"] for r in fast} == {"release", "soft_hold", "hard_hold"}
    assert {r["action"] for r in fast} >= {"increase", "keep", "decrease", "revoke", "collections"}
    assert any(r["pd"] is None and r["known_customer"] for r in fast)  # unscored customers
    assert any(r["released_by_override"] for r in fast) and any(r["overrides_applied"] for r in fast)
    # both ways to the review flag are taken: from the load, and the calendar per check
    assert book.review_fixed is not None and book.review_fixed.any() and not book.review_fixed[:-1].all()
