"""The credit-check service end to end: a real ``riskml serve`` process (SQLite, then PostgreSQL) and a
real HTTP client. Tests use disjoint customers so they share one server (and database) per backend."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("fastapi", reason="needs the serve extra: pip install 'riskml[serve]'")
pytest.importorskip("httpx", reason="needs the serve extra: pip install 'riskml[serve]'")

from riskml.config import ScoringConfig  # noqa: E402
from riskml.scoring.actions import over_limit_tolerance  # noqa: E402
from riskml.scoring.policy import POLICY_INPUTS, POLICY_OPTIONAL_INPUTS, apply_policy  # noqa: E402
from tests.serving.conftest import Server  # noqa: E402

pytestmark = pytest.mark.integration

ORDER_DATE = "2026-10-05"
CFG = ScoringConfig()


def tolerance(grade: object) -> float:
    """1 + the over-limit tolerance the policy gives ``grade`` (None: an ungraded customer)."""
    grades = None if grade is None else np.array([grade], dtype=object)
    return 1.0 + float(over_limit_tolerance(grades, CFG.actions, 1)[0])


def _customers(server: Server) -> pd.DataFrame:
    s = server.served
    return s.features.merge(s.scores[["customer_id", "pd", "order_hold", "hold_codes", "hold_type", "action"]],
                            on="customer_id")


def _pick(server: Server, kind: str, n: int, skip: int = 0) -> list[str]:
    """Disjoint groups of customers by their state at scoring (``skip`` moves along the group)."""
    c = _customers(server)
    clean = (~c["order_hold"]) & c["credit_limit"].notna() & (c["action"] != "revoke") & c["pd"].notna()
    masks = {
        "clean": clean & (c["exposure"] < c["credit_limit"] * 0.8) & (c["action"] != "increase"),
        "soft": c["order_hold"] & (c["hold_codes"] == "over_limit"),
        "hard": c["order_hold"] & (c["hold_type"] == "hard") & ~c["hold_codes"].str.contains("revoked"),
        "revoked": c["hold_codes"].str.contains("revoked"),
    }
    ids = c.loc[masks[kind], "customer_id"].astype(str).tolist()
    assert len(ids) >= skip + n, f"only {len(ids)} {kind} customers"
    return ids[skip:skip + n]


def expected(server: Server, cid: str, amount: float, since: float = 0.0, limit: float | None = None) -> dict:
    """The batch policy's decision on the customer's row with ``since`` + ``amount`` added to the exposure."""
    s = server.served
    cols = ["customer_id", *POLICY_INPUTS, *(c for c in POLICY_OPTIONAL_INPUTS if c in s.features.columns)]
    row = s.features.loc[s.features["customer_id"] == cid, list(dict.fromkeys(cols))].copy()
    row["exposure"] = row["exposure"] + since + amount
    row["open_orders_amount"] = row["open_orders_amount"] + since + amount
    if limit is not None:
        row["credit_limit"] = limit
    p = s.scores.loc[s.scores["customer_id"] == cid, "pd"].to_numpy()
    dec = apply_policy(row, p, CFG).iloc[0]
    codes = [c for c in dec["hold_codes"].split(";") if c]
    kind = f"{dec['hold_type']}_hold" if dec["order_hold"] else "release"
    return {"decision": kind, "codes": codes, "grade": dec["grade"], "persona": dec["persona"],
            "suggested_limit": dec["suggested_limit"], "action": dec["action"], "hold_type": dec["hold_type"],
            "release_amount": float(dec["release_amount"])}


def check(client, cid: str, order: str, amount: float, date: str = ORDER_DATE, currency: str = "EUR"):
    return client.post("/v1/credit-checks", json={"customer_id": cid, "order_id": order, "amount": amount,
                                                  "currency": currency, "order_date": date})


def test_health_and_ready_need_no_key(server: Server) -> None:
    with server.client(None) as c:
        health = c.get("/health").json()
        assert health["status"] == "ok" and health["worker"] == server.proc.pid
        ready = c.get("/ready").json()
        assert ready["status"] == "ready" and ready["customers"] == len(server.served.scores)
        assert ready["as_of"] == "2026-09-30" and ready["model_version"] == "tiny-1"
        assert c.get("/docs").status_code == 200 and "/v1/credit-checks" in c.get("/openapi.json").text


def test_decisions_equal_the_batch_policy(server: Server) -> None:
    groups = {k: _pick(server, k, 4) for k in ("clean", "soft", "hard", "revoked")}
    seen = set()
    with server.client() as c:
        for kind, ids in groups.items():
            for i, cid in enumerate(ids):
                row = server.served.features.set_index("customer_id").loc[cid]
                tol = tolerance(expected(server, cid, 0.0)["grade"])
                # an order that fits, and one that pushes the exposure over the limit plus the tolerance of the
                # customer's grade (for clean customers)
                amounts = [100.0, max(1000.0, float(row["credit_limit"]) * tol - float(row["exposure"]) + 500.0)]
                since = 0.0
                for j, amount in enumerate(amounts):
                    r = check(c, cid, f"eq-{kind}-{i}-{j}", amount)
                    assert r.status_code == 201, r.text
                    got = r.json()
                    want = expected(server, cid, amount, since)
                    assert got["decision"] == want["decision"], (cid, amount, got, want)
                    assert got["reason_codes"] == want["codes"] and got["hold_type"] == want["hold_type"]
                    assert got["grade"] == want["grade"] and got["persona"] == want["persona"]
                    assert got["action"] == want["action"]
                    assert got["exposure_before"] == pytest.approx(float(row["exposure"]) + since)
                    assert got["exposure_after"] == pytest.approx(float(row["exposure"]) + since + amount)
                    assert got["limit"] == pytest.approx(float(row["credit_limit"]))
                    assert got["headroom"] == pytest.approx(float(row["credit_limit"]) - got["exposure_after"])
                    assert got["model_version"] == "tiny-1" and got["data_fingerprint"]
                    if got["decision"] == "release":
                        assert got["approval_level"] is None and got["release_amount"] == 0
                        since += amount
                        seen.add(got["decision"])
                        continue
                    # what releases the order is the policy's amount
                    assert got["release_amount"] == pytest.approx(want["release_amount"])
                    if got["reason_codes"] == ["over_limit"]:  # the excess over the limit + the grade's tolerance
                        assert got["release_amount"] == pytest.approx(got["exposure_after"] - got["limit"] * tol,
                                                                      abs=0.01)
                        assert got["release_amount"] > 0
                        seen.add("over_limit_amount")
                    if got["decision"] == "soft_hold":
                        assert got["approval_level"] == "analyst"
                    else:
                        assert got["approval_level"] == "credit_manager"
                    seen.add(got["decision"])
        # a small order decides as the batch scores did
        for kind, ids in groups.items():
            cid = ids[0]
            hold = bool(server.served.scores.set_index("customer_id").loc[cid, "order_hold"])
            assert (kind != "clean") == hold
    assert seen == {"release", "soft_hold", "hard_hold", "over_limit_amount"}


def test_unknown_customer_gets_the_new_account_policy(server: Server) -> None:
    starter = CFG.limits.thin_file_starter_limit
    with server.client() as c:
        small = check(c, "NEW-1", "new-1", starter / 2)
        assert small.status_code == 201
        body = small.json()
        assert body["decision"] == "release" and body["known_customer"] is False
        assert body["reason_codes"] == ["new_account"] and body["limit"] == starter
        assert starter / 2 + starter > starter * tolerance(None)  # over the limit + an ungraded tolerance
        big = check(c, "NEW-1", "new-2", starter).json()
        assert big["decision"] == "soft_hold" and big["reason_codes"] == ["over_limit", "new_account"]
        assert big["exposure_before"] == pytest.approx(starter / 2)
        info = c.get("/v1/customers/NEW-1").json()
        assert info["known_customer"] is False and info["released_since_scoring"] == pytest.approx(starter / 2)


def test_retried_order_counts_once(server: Server) -> None:
    cid = _pick(server, "clean", 1, skip=4)[0]
    with server.client() as c:
        first = check(c, cid, "idem-1", 1000.0)
        again = check(c, cid, "idem-1", 1000.0)
        assert first.status_code == 201 and again.status_code == 200
        assert again.json()["replayed"] is True and again.json()["decision"] == first.json()["decision"]
        assert c.get(f"/v1/customers/{cid}").json()["released_since_scoring"] == pytest.approx(1000.0)
        nxt = check(c, cid, "idem-2", 10.0).json()
        assert nxt["exposure_before"] == pytest.approx(first.json()["exposure_after"])
        clash = check(c, cid, "idem-1", 2000.0)
        assert clash.status_code == 409 and "order_id" in clash.json()["detail"]
        assert c.get("/v1/credit-checks/idem-1").json()["amount"] == 1000.0


def test_concurrent_checks_cannot_both_pass_the_limit(server: Server) -> None:
    def room_of(cid: str) -> float:
        row = server.served.features.set_index("customer_id").loc[cid]
        return float(row["credit_limit"]) * tolerance(expected(server, cid, 0.0)["grade"]) - float(row["exposure"])

    # a customer whose orders beyond the room are held (not one the policy would cover with an increase); clean
    # customers 8 and 10 are other tests'
    pool = [c for i, c in enumerate(_pick(server, "clean", 20, skip=5)) if i + 5 not in (8, 10)]
    cid = next(c for c in pool if expected(server, c, room_of(c) * 1.2)["decision"] != "release")
    row = server.served.features.set_index("customer_id").loc[cid]
    room = room_of(cid)
    amount = room / 3.5  # three fit, the fourth does not
    n = 12

    def one(i: int) -> dict:
        with server.client() as c:
            r = check(c, cid, f"race-{i}", amount)
            assert r.status_code == 201, r.text
            return r.json()

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(one, range(n)))
    released = [r for r in results if r["decision"] == "release"]
    assert len(released) == 3
    assert sum(r["amount"] for r in released) <= room
    # each release saw the ones before it: exposures before are distinct steps of the amount
    befores = sorted(r["exposure_before"] for r in released)
    assert np.allclose(np.diff(befores), amount)
    assert all(r["exposure_before"] == pytest.approx(float(row["exposure"]) + 3 * amount)
               for r in results if r["decision"] != "release")


def test_bad_input_gets_422_naming_the_field(server: Server) -> None:
    good = {"customer_id": "C1", "order_id": "bad-1", "amount": 10, "currency": "EUR", "order_date": ORDER_DATE}
    cases = [
        ({k: v for k, v in good.items() if k != "amount"}, "amount"),
        ({**good, "amount": -5}, "amount"),
        ({**good, "amount": 0}, "amount"),
        ({**good, "amount": "ten"}, "amount"),
        ({**good, "amount": 1e13}, "amount"),
        ({**good, "customer_id": 123}, "customer_id"),
        ({**good, "customer_id": ""}, "customer_id"),
        ({**good, "order_id": "x" * 101}, "order_id"),
        ({**good, "currency": "eur"}, "currency"),
        ({**good, "currency": "USD"}, "currency"),
        ({**good, "order_date": "31/10/2026"}, "order_date"),
        ({**good, "order_date": "2026-02-30"}, "order_date"),
        ({**good, "order_date": "2026-09-01"}, "order_date"),  # before the scores' as-of
        ({**good, "order_date": "2026-09-30"}, "order_date"),  # on it: in the scored ledger
        ({**good, "colour": "red"}, "colour"),
    ]
    with server.client() as c:
        for body, field in cases:
            r = c.post("/v1/credit-checks", json=body)
            assert r.status_code == 422, (body, r.text)
            assert field in r.json()["detail"], (field, r.json())
            assert "Traceback" not in r.text
        for raw in (b'{"customer_id": "C1", "amount": NaN', b"[1, 2]", b"", b"\xff\xfe"):
            r = c.post("/v1/credit-checks", content=raw, headers={"content-type": "application/json"})
            assert r.status_code == 422 and "body" in r.json()["detail"] and "Traceback" not in r.text
        r = c.post("/v1/credit-checks", content=b'{"amount": NaN}', headers={"content-type": "application/json"})
        assert r.status_code == 422
        bad_override = c.post("/v1/overrides", json={})  # the order desk: the role is checked first
        assert bad_override.status_code == 403
    with server.client("manager") as c:
        cases = [
            ({"customer_id": "C1", "kind": "limit", "reason": "why not", "expires_on": "2026-12-31"}, "limit"),
            ({"customer_id": "C1", "kind": "action", "reason": "why not", "expires_on": "2026-12-31"}, "action"),
            ({"customer_id": "C1", "kind": "action", "action": "explode", "reason": "why not",
              "expires_on": "2026-12-31"}, "action"),
            ({"customer_id": "C1", "kind": "hold_release", "reason": "why not"}, "expires_on"),
            ({"customer_id": "C1", "kind": "hold_release", "reason": "  ", "expires_on": "2026-12-31"}, "reason"),
            ({"customer_id": "C1", "kind": "limit", "limit": 5, "reason": "ok ok", "effective_from": "2026-12-01",
              "expires_on": "2026-11-01"}, "expires_on"),
            ({"customer_id": "C1", "kind": "teleport", "reason": "ok ok", "expires_on": "2026-12-31"}, "kind"),
        ]
        for body, field in cases:
            r = c.post("/v1/overrides", json=body)
            assert r.status_code == 422 and field in r.json()["detail"], (body, r.text)
        assert c.get("/v1/overrides/notanumber").status_code == 422
        assert c.get("/v1/overrides/999999").status_code == 404
        assert c.get("/v1/credit-checks/nope").status_code == 404
        assert c.post("/v1/credit-checks/nope/release", json={"reason": "because"}).status_code == 404


def test_keys_and_roles(server: Server) -> None:
    body = {"customer_id": "C1", "order_id": "auth-1", "amount": 10, "currency": "EUR", "order_date": ORDER_DATE}
    with server.client(None) as c:
        r = c.post("/v1/credit-checks", json=body)
        assert r.status_code == 401 and "X-API-Key" in r.json()["detail"]
        for path in ("/v1/customers/C1", "/v1/overrides", "/v1/credit-checks/auth-1"):
            assert c.get(path).status_code == 401
        r = c.post("/v1/credit-checks", json=body, headers={"X-API-Key": "rk_00000000_forged"})
        assert r.status_code == 401
        # a key works until revoked (revocation checked on the next uncached lookup)
        from riskml.config import ScoringConfig as _S
        from riskml.serving.db import open_database
        from riskml.serving.keys import add_key, revoke_key

        engine = open_database(server.db)
        key, row = add_key(engine, "temp", "order_desk", "", _S().approvals)
        revoke_key(engine, row.id)
        engine.dispose()
        assert c.get("/v1/customers/C1", headers={"X-API-Key": key}).status_code == 401
    with server.client("desk") as c:
        assert c.post("/v1/overrides", json={"customer_id": "C1", "kind": "hold_release", "reason": "please",
                                             "expires_on": "2026-12-31"}).status_code == 403
        assert c.delete("/v1/overrides/1").status_code == 403
        assert c.post("/v1/credit-checks/auth-1/release", json={"reason": "please"}).status_code == 403
        assert c.get("/v1/customers/C1").status_code == 200
    with server.client("analyst") as c:  # approvers may check too
        assert c.post("/v1/credit-checks", json=body).status_code == 201


def _override(client, cid: str, kind: str, **extra):
    body = {"customer_id": cid, "kind": kind, "reason": "agreed with the customer", "expires_on": "2026-12-31",
            **extra}
    return client.post("/v1/overrides", json=body)


def test_overrides_respect_approval_levels(server: Server) -> None:
    soft, hard, revoked, clean = (_pick(server, "soft", 1, skip=6)[0], _pick(server, "hard", 1, skip=6)[0],
                                  _pick(server, "revoked", 1, skip=4)[0], _pick(server, "clean", 1, skip=8)[0])
    with server.client("analyst") as analyst, server.client("manager") as manager, \
            server.client("director") as director, server.client() as desk:
        # a soft hold: any approver releases it, by override; the next order goes through
        assert check(desk, soft, "ov-soft-0", 100.0).json()["decision"] == "soft_hold"
        ov = _override(analyst, soft, "hold_release", max_amount=150.0)
        assert ov.status_code == 201, ov.text
        assert ov.json()["required_level"] == "analyst" and ov.json()["approver"] == "analyst"
        got = check(desk, soft, "ov-soft-1", 100.0).json()
        assert got["decision"] == "release" and got["released_by_override"] == ov.json()["override_id"]
        assert got["reason_codes"] == ["over_limit"]  # the hold's reasons stay on record
        assert check(desk, soft, "ov-soft-2", 100.0).json()["decision"] == "soft_hold"  # beyond max_amount
        # a hard hold: an analyst may not release it, a credit manager may
        assert _override(analyst, hard, "hold_release").status_code == 403
        assert _override(manager, hard, "hold_release").status_code == 201
        assert check(desk, hard, "ov-hard-1", 100.0).json()["decision"] == "release"
        # lifting a revoke needs the authority to revoke
        assert _override(analyst, revoked, "action", action="keep").status_code == 403
        assert _override(manager, revoked, "action", action="keep").status_code == 201
        got = check(desk, revoked, "ov-rev-1", 1.0).json()
        rest = [c for c in expected(server, revoked, 1.0)["codes"] if c != "revoked"]
        assert got["reason_codes"] == rest
        assert got["decision"] == ("release" if not rest else "hard_hold" if "past_due" in rest else "soft_hold")
        # a limit: the level follows the size of the limit and of the change
        row = server.served.features.set_index("customer_id").loc[clean]
        big = float(row["credit_limit"]) + 2_000_000
        r = _override(manager, clean, "limit", limit=big)
        assert r.status_code == 403 and "finance_director" in r.json()["detail"]
        r = _override(director, clean, "limit", limit=big)
        assert r.status_code == 201 and r.json()["required_level"] == "finance_director"
        amount = float(row["credit_limit"]) * 2 + 1000
        got = check(desk, clean, "ov-lim-1", amount).json()
        assert got["limit"] == big and got["decision"] == expected(server, clean, amount, limit=big)["decision"]
        assert got["decision"] == "release"
        # the overrides show on the customer
        info = desk.get(f"/v1/customers/{clean}").json()
        assert [o["kind"] for o in info["overrides"]] == ["limit"] and info["limit"] == big


def test_overrides_expire_and_can_be_withdrawn(server: Server) -> None:
    soft = _pick(server, "soft", 2, skip=7)
    with server.client("analyst") as analyst, server.client() as desk:
        ov = _override(analyst, soft[0], "hold_release", effective_from="2026-10-10", expires_on="2026-10-20").json()
        assert check(desk, soft[0], "exp-1", 10.0, date="2026-10-09").json()["decision"] == "soft_hold"
        assert check(desk, soft[0], "exp-2", 10.0, date="2026-10-10").json()["decision"] == "release"
        assert check(desk, soft[0], "exp-3", 10.0, date="2026-10-20").json()["decision"] == "release"
        assert check(desk, soft[0], "exp-4", 10.0, date="2026-10-21").json()["decision"] == "soft_hold"
        listed = desk.get("/v1/overrides", params={"customer_id": soft[0], "active_on": "2026-10-15"}).json()
        assert [o["override_id"] for o in listed] == [ov["override_id"]]
        assert desk.get("/v1/overrides", params={"customer_id": soft[0], "active_on": "2026-10-25"}).json() == []
        ov2 = _override(analyst, soft[1], "hold_release").json()
        assert check(desk, soft[1], "wd-1", 10.0).json()["decision"] == "release"
        r = analyst.delete(f"/v1/overrides/{ov2['override_id']}", params={"reason": "customer missed the promise"})
        assert r.status_code == 200 and r.json()["withdrawn_by"] == "analyst"
        assert analyst.delete(f"/v1/overrides/{ov2['override_id']}").status_code == 409
        assert check(desk, soft[1], "wd-2", 10.0).json()["decision"] == "soft_hold"


def test_release_of_a_held_order_by_level(server: Server) -> None:
    soft, hard = _pick(server, "soft", 1, skip=9)[0], _pick(server, "hard", 1, skip=9)[0]
    with server.client("analyst") as analyst, server.client("manager") as manager, server.client() as desk:
        s = check(desk, soft, "rel-soft", 500.0).json()
        h = check(desk, hard, "rel-hard", 500.0).json()
        assert s["decision"] == "soft_hold" and h["decision"] == "hard_hold"
        r = analyst.post("/v1/credit-checks/rel-soft/release", json={"reason": "customer paid by wire"})
        assert r.status_code == 200 and r.json()["released"] is True and r.json()["released_by"] == "analyst"
        assert analyst.post("/v1/credit-checks/rel-soft/release", json={"reason": "again"}).status_code == 409
        r = analyst.post("/v1/credit-checks/rel-hard/release", json={"reason": "trust me"})
        assert r.status_code == 403 and "credit_manager" in r.json()["detail"]
        assert manager.post("/v1/credit-checks/rel-hard/release", json={"reason": "paid today"}).status_code == 200
        # the released orders now count in the exposure
        nxt = check(desk, soft, "rel-soft-2", 1.0).json()
        assert nxt["exposure_before"] == pytest.approx(s["exposure_after"])


def test_overrides_flow_into_the_next_batch_scoring(server: Server, tmp_path) -> None:
    from riskml.cli.main import app

    clean, soft = _pick(server, "clean", 1, skip=10)[0], _pick(server, "soft", 1, skip=10)[0]
    expired = _pick(server, "soft", 1, skip=11)[0]
    lowered, revoked = _pick(server, "clean", 1, skip=11)[0], _pick(server, "revoked", 1, skip=5)[0]
    withdrawn = _pick(server, "clean", 1, skip=12)[0]
    feats = server.served.features.set_index("customer_id")
    below = float(np.floor(feats.loc[lowered, "exposure"] / 2))  # half the exposure: over any tolerance
    with server.client("manager") as manager, server.client("director") as director:
        lim = _override(manager, clean, "limit", limit=12345.0).json()
        _override(manager, soft, "hold_release")
        _override(manager, expired, "hold_release", effective_from="2026-09-01", expires_on="2026-09-29")
        assert _override(director, lowered, "limit", limit=below).status_code == 201
        assert _override(director, revoked, "action", action="keep").status_code == 201
        gone = _override(director, withdrawn, "action", action="revoke").json()
        assert director.delete(f"/v1/overrides/{gone['override_id']}", params={"reason": "paid"}).status_code == 200
    with server.client() as desk:  # the service's view of each customer now (no order released since)
        now = {c: desk.get(f"/v1/customers/{c}").json() for c in (clean, soft, lowered, revoked)}
    out = tmp_path / "scores.parquet"
    result = CliRunner().invoke(app, ["score", "--data", str(server.served.data_dir), "--as-of", "2026-09-30",
                                      "--model", str(server.served.model_dir), "--out", str(out),
                                      "--overrides-db", server.db])
    assert result.exit_code == 0, result.output
    scores = pd.read_parquet(out).set_index("customer_id")
    before = server.served.scores.set_index("customer_id")
    assert scores.loc[clean, "suggested_limit"] == 12345.0 and scores.loc[clean, "override_limit"] == 12345.0
    assert scores.loc[clean, "override_ids"] == str(lim["override_id"])
    assert scores.loc[clean, "policy_suggested_limit"] == before.loc[clean, "suggested_limit"]
    assert not scores.loc[soft, "order_hold"] and scores.loc[soft, "override_hold_release"]
    assert scores.loc[soft, "policy_order_hold"] and "over_limit" in scores.loc[soft, "hold_codes"]
    assert scores.loc[expired, "order_hold"] and scores.loc[expired, "override_ids"] == ""
    # a limit below the exposure holds the customer over it in the batch as in the service
    assert scores.loc[lowered, "order_hold"] and scores.loc[lowered, "hold_codes"] == "over_limit"
    assert scores.loc[lowered, "suggested_limit"] == below and scores.loc[lowered, "action"] == "decrease"
    assert not scores.loc[lowered, "policy_order_hold"]
    # lifting the revoke: no revoke, and the holds it covered are the service's
    assert scores.loc[revoked, "action"] == "keep" and "revoked" not in scores.loc[revoked, "hold_codes"]
    assert scores.loc[revoked, "policy_action"] == "revoke" and scores.loc[revoked, "override_action"] == "keep"
    for c in (clean, soft, lowered, revoked):  # the batch row is the service's decision for the same exposure
        assert now[c]["order_hold_now"] == bool(scores.loc[c, "order_hold"]), c
        assert now[c]["limit"] == pytest.approx(scores.loc[c, "override_limit"] if c in (clean, lowered)
                                                else feats.loc[c, "credit_limit"]), c
        held = [t for t in scores.loc[c, "hold_reason"].split("; ") if t]
        assert now[c]["hold_reasons_now"] == held, c
    assert scores.loc[withdrawn, "override_ids"] == "" and scores.loc[withdrawn, "action"] != "revoke"
    others = scores.index.difference([clean, soft, lowered, revoked])
    others = [c for c in others if scores.loc[c, "override_ids"] == ""]
    assert (scores.loc[others, "suggested_limit"].fillna(-1) == before.loc[others, "suggested_limit"].fillna(-1)).all()
    assert (scores.loc[others, "order_hold"] == before.loc[others, "order_hold"]).all()


def test_audit_trail_and_restart_lose_nothing(server: Server, tmp_path) -> None:
    from riskml.cli.main import app

    with server.client() as desk:
        held = check(desk, _pick(server, "soft", 1, skip=12)[0], "restart-1", 10.0).json()
        before = {o: desk.get(f"/v1/credit-checks/{o}").json() for o in ("idem-1", "rel-soft", "restart-1")}
        overrides = desk.get("/v1/overrides").json()
    out = tmp_path / "audit.csv"
    r = CliRunner().invoke(app, ["audit", "--db", server.db, "--out", str(out)])
    assert r.exit_code == 0, r.output
    audit = pd.read_csv(out)
    assert {"check", "check_replay", "override", "override_withdrawn", "release"} <= set(audit["event"])
    assert (audit["model_version"] == "tiny-1").all()
    assert (audit["data_fingerprint"] == server.served.scores["data_fingerprint"].iloc[0]).all()
    assert audit["actor"].isin(["desk", "analyst", "manager", "director"]).all()
    assert (audit["id"].diff().dropna() > 0).all()

    server.stop()
    server.start()
    with server.client() as desk:
        for o, body in before.items():
            assert desk.get(f"/v1/credit-checks/{o}").json() == body
        assert desk.get("/v1/overrides").json() == overrides
        again = check(desk, held["customer_id"], "restart-2", 10.0).json()
        assert again["exposure_before"] == pytest.approx(held["exposure_before"])  # the held one is not counted
        replay = check(desk, held["customer_id"], "restart-1", 10.0)
        assert replay.status_code == 200 and replay.json()["decision"] == held["decision"]
    out2 = tmp_path / "audit2.jsonl"
    assert CliRunner().invoke(app, ["audit", "--db", server.db, "--out", str(out2)]).exit_code == 0
    assert len(pd.read_json(out2, lines=True)) == len(audit) + 2
