"""The application in-process (no server) for what a real server cannot easily be made to do: an internal
error; and the key and audit commands' user errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("fastapi")

with warnings.catch_warnings():  # starlette's TestClient warns about httpx at import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402

from riskml.cli.main import app as cli  # noqa: E402
from riskml.config import ActionPolicy, ScoringConfig  # noqa: E402
from riskml.scoring.actions import over_limit_tolerance  # noqa: E402
from riskml.scoring.policy import POLICY_INPUTS, apply_policy  # noqa: E402
from riskml.serving.app import create_app  # noqa: E402
from riskml.serving.book import build_book  # noqa: E402
from riskml.serving.db import current_revision, open_database  # noqa: E402
from riskml.serving.keys import add_key, hash_key, list_keys  # noqa: E402
from riskml.serving.repository import Repository  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.fixture()
def repo(tmp_path: Path):
    inputs = pd.DataFrame({"customer_id": ["A"], **{c: [0.0] for c in POLICY_INPUTS}})
    inputs["credit_limit"] = 10_000.0
    scores = pd.DataFrame({"customer_id": ["A"], "as_of": [pd.Timestamp("2026-09-30")], "pd": [0.01],
                           "model_version": ["m1"], "data_fingerprint": ["fp"]})
    engine = open_database(str(tmp_path / "s.db"))
    r = Repository(engine, build_book(scores, inputs, ScoringConfig()))
    yield r
    r.close()


def test_an_internal_error_shows_no_trace(repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    key, _ = add_key(repo.engine, "desk", "order_desk", "", ScoringConfig().approvals)

    def boom(*_a, **_k):
        raise RuntimeError("secret connection string postgresql://admin:hunter2@db")

    monkeypatch.setattr(repo, "customer", boom)
    with TestClient(create_app(repo), raise_server_exceptions=False) as c:
        r = c.get("/v1/customers/A", headers={"X-API-Key": key})
        assert r.status_code == 500
        assert "hunter2" not in r.text and "Traceback" not in r.text and "reference" in r.json()["detail"]
        ok = c.post("/v1/credit-checks", headers={"X-API-Key": key},
                    json={"customer_id": "A", "order_id": "1", "amount": 100.0, "currency": "EUR",
                          "order_date": "2026-10-01"})
        assert ok.status_code == 201 and ok.json()["decision"] == "release"
        assert ok.json()["headroom"] == pytest.approx(9_900.0)


def test_keys_are_stored_hashed_and_migrations_ran(repo: Repository) -> None:
    key, row = add_key(repo.engine, "jane", "approver", "credit_manager", ScoringConfig().approvals)
    assert key.startswith(f"rk_{row.prefix}_") and len(key) > 40
    stored = list_keys(repo.engine)[0]
    assert stored.key_hash == hash_key(key) and key not in stored.key_hash
    assert current_revision(repo.engine) == "0002"


def test_key_and_audit_commands_refuse_bad_input(tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    run = CliRunner().invoke
    r = run(cli, ["serve", "keys", "add", "--db", db, "--name", "x", "--role", "boss"])
    assert r.exit_code == 1 and "--role" in r.output and "Traceback" not in r.output
    r = run(cli, ["serve", "keys", "add", "--db", db, "--name", "x", "--role", "approver", "--level", "king"])
    assert r.exit_code == 1 and "--level" in r.output
    r = run(cli, ["serve", "keys", "add", "--db", db, "--name", "x", "--role", "order_desk", "--level", "analyst"])
    assert r.exit_code == 1 and "--level" in r.output
    r = run(cli, ["serve", "keys", "add", "--db", db, "--name", "erp", "--role", "order_desk"])
    assert r.exit_code == 0 and r.stdout.strip().startswith("rk_")
    r = run(cli, ["serve", "keys", "revoke", "99", "--db", db])
    assert r.exit_code == 1 and "99" in r.output
    r = run(cli, ["serve", "--db", db])
    assert r.exit_code == 1 and "--scores" in r.output
    r = run(cli, ["serve", "--db", db, "--scores", str(tmp_path / "s.parquet"), "--sqlite-sync", "off"])
    assert r.exit_code == 1 and "--sqlite-sync" in r.output and "Traceback" not in r.output
    r = run(cli, ["audit", "--db", db, "--out", str(tmp_path / "a.xlsx")])
    assert r.exit_code == 1 and "--out" in r.output
    r = run(cli, ["audit", "--db", str(tmp_path / "empty.db"), "--out", str(tmp_path / "a.csv")])
    assert r.exit_code == 1 and "no riskml serve database" in r.output
    r = run(cli, ["audit", "--db", "postgresql://nobody@127.0.0.1:1/none", "--out", str(tmp_path / "a.csv")])
    assert r.exit_code == 1 and "--db" in r.output and "Traceback" not in r.output



def _orders_that_fit(inputs: pd.DataFrame, scores: pd.DataFrame, amount: float, n: int) -> int:
    """How many orders of ``amount`` fit the customer's limit plus the over-limit tolerance of its grade, as
    the policy grades it and reads the tolerance (:func:`over_limit_tolerance`)."""
    grade = apply_policy(inputs.assign(as_of=scores["as_of"]), scores["pd"].to_numpy())["grade"].to_numpy()
    tol = float(over_limit_tolerance(grade, ActionPolicy(), 1)[0])
    limit = float(inputs["credit_limit"].iloc[0])
    fits = sum(1 for k in range(1, n + 1) if not k * amount > limit * (1.0 + tol))
    assert 0 < fits < n, (grade, tol, fits)  # some pass and some are held: the test proves the limit holds
    return fits


@pytest.mark.parametrize("group_commit", [True, False])
def test_parallel_checks_of_one_customer_in_process(tmp_path: Path, group_commit: bool) -> None:
    """Both write paths (group commit, and one check per transaction with the optimistic version check)
    give what serial checks give: of 10 orders of 3,000 on a limit of 10,000 (+ the tolerance of the
    customer's grade), exactly the number that fits pass."""
    import datetime as dt
    from concurrent.futures import ThreadPoolExecutor

    inputs = pd.DataFrame({"customer_id": ["A"], **{c: [0.0] for c in POLICY_INPUTS}})
    inputs["credit_limit"] = 10_000.0
    scores = pd.DataFrame({"customer_id": ["A"], "as_of": [pd.Timestamp("2026-09-30")], "pd": [0.01]})
    fits = _orders_that_fit(inputs, scores, 3000.0, 10)
    r = Repository(open_database(str(tmp_path / "r.db")), build_book(scores, inputs, ScoringConfig()),
                   group_commit=group_commit)
    _, key = add_key(r.engine, "desk", "order_desk", "", ScoringConfig().approvals)
    try:
        with ThreadPoolExecutor(10) as pool:
            out = list(pool.map(lambda i: r.check(key, "A", f"o{i}", 3000.0, "EUR", dt.date(2026, 10, 1))[0],
                                range(10)))
        assert sum(o["decision"] == "release" for o in out) == fits
        assert sorted(o["exposure_before"] for o in out if o["released"]) == [3000.0 * k for k in range(fits)]
        assert all(o["exposure_before"] == 3000.0 * fits for o in out if not o["released"])
        assert r.customer("A")["released_since_scoring"] == 3000.0 * fits
    finally:
        r.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_services_on_one_database_share_the_headroom(tmp_path: Path, backend: str,
                                                         request: pytest.FixtureRequest) -> None:
    """Two services (two engines, two group writers: as two worker processes) on one database: the
    database's lock serialises the customer, so of 10 orders of 3,000 on 10,000 (+ the grade's tolerance)
    exactly the number that fits pass."""
    import datetime as dt
    from concurrent.futures import ThreadPoolExecutor

    if backend == "sqlite":
        db = str(tmp_path / "two.db")
    else:
        db = request.getfixturevalue("postgres").create_database("two_services")
    inputs = pd.DataFrame({"customer_id": ["A"], **{c: [0.0] for c in POLICY_INPUTS}})
    inputs["credit_limit"] = 10_000.0
    scores = pd.DataFrame({"customer_id": ["A"], "as_of": [pd.Timestamp("2026-09-30")], "pd": [0.01]})
    fits = _orders_that_fit(inputs, scores, 3000.0, 10)
    repos = [Repository(open_database(db), build_book(scores, inputs, ScoringConfig())) for _ in range(2)]
    _, key = add_key(repos[0].engine, "desk", "order_desk", "", ScoringConfig().approvals)
    try:
        with ThreadPoolExecutor(10) as pool:
            out = list(pool.map(lambda i: repos[i % 2].check(key, "A", f"o{i}", 3000.0, "EUR",
                                                             dt.date(2026, 10, 1))[0], range(10)))
        assert sum(o["decision"] == "release" for o in out) == fits
        assert repos[1].customer("A")["released_since_scoring"] == 3000.0 * fits
    finally:
        for r in repos:
            r.close()


def test_the_policy_gets_the_customers_row_as_the_batch_has_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check hands the policy (:func:`limits_and_holds_overridden`, as :func:`apply_policy` calls it) the book's
    as-of date and the optional text inputs as text (country, industry: segments and adverse-action countries), and answers with
    the policy's hold type and release amount."""
    import riskml.serving.book as book_mod
    from riskml.serving.book import OrderInput, check_orders

    inputs = pd.DataFrame({"customer_id": ["A", "B"], **{c: [0.0, 0.0] for c in POLICY_INPUTS}})
    inputs["as_of"] = pd.Timestamp("2026-09-30")
    inputs["credit_limit"] = 10_000.0
    inputs["country"] = ["US", None]
    inputs["industry"] = ["retail", "food"]
    scores = pd.DataFrame({"customer_id": ["A", "B"], "as_of": [pd.Timestamp("2026-09-30")] * 2, "pd": [0.01, 0.02]})
    book = build_book(scores, inputs, ScoringConfig())
    seen: list[pd.DataFrame] = []

    real = book_mod.limits_and_holds_overridden

    def spy(frame: pd.DataFrame, *a, **k):
        seen.append(frame.to_frame() if isinstance(frame, book_mod.Rows) else frame.copy())
        return real(frame, *a, **k)

    monkeypatch.setattr(book_mod, "limits_and_holds_overridden", spy)
    out = check_orders(book, [OrderInput("NEW", 10.0), OrderInput("A", 20_000.0), OrderInput("B", 100.0)])
    frame = seen[0]
    assert (pd.to_datetime(frame["as_of"]) == pd.Timestamp("2026-09-30")).all()
    assert [None if pd.isna(v) else v for v in frame["country"]] == [None, "US", None]
    assert [None if pd.isna(v) else v for v in frame["industry"]] == [None, "retail", "food"]
    want = apply_policy(frame, np.array([np.nan, 0.01, 0.02]), ScoringConfig())
    assert [o["hold_type"] for o in out] == want["hold_type"].tolist()
    assert out[1]["decision"] == f"{want['hold_type'][1]}_hold" and out[1]["release_amount"] == pytest.approx(
        float(want["release_amount"][1])) and out[1]["release_amount"] > 0
