"""``riskml serve --workers 2``: two worker processes on one database (SQLite, then PostgreSQL). The
per-customer serialisation is in the database, not in a process, so concurrent checks of one customer
spread over both workers still cannot both pass the limit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="needs the serve extra: pip install 'riskml[serve]'")
httpx = pytest.importorskip("httpx", reason="needs the serve extra: pip install 'riskml[serve]'")

from tests.serving.conftest import Served, Server, start_server  # noqa: E402
from tests.serving.test_service import _pick, check, expected, tolerance  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def two_workers(request: pytest.FixtureRequest, served: Served,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp(f"workers_{request.param}")
    if request.param == "sqlite":
        db = str(tmp / "serve.db")
    else:
        db = request.getfixturevalue("postgres").create_database("serve_workers")
    srv = start_server(served, db, request.param, tmp / "server.log", extra=["--workers", "2"])
    # /ready answers once the first worker is up; wait for the second (each loads the book)
    deadline = time.monotonic() + 120
    while len(srv.workers) < 2 and time.monotonic() < deadline:
        srv.workers.add(httpx.get(srv.url + "/health", timeout=10).json()["worker"])  # a new connection each time
        time.sleep(0.05)
    yield srv
    srv.stop()


def test_two_workers_answer(two_workers: Server) -> None:
    assert len(two_workers.workers) == 2


def test_concurrent_checks_over_two_workers_cannot_both_pass_the_limit(two_workers: Server) -> None:
    server = two_workers

    def room_of(c: str) -> float:
        row = server.served.features.set_index("customer_id").loc[c]
        return float(row["credit_limit"]) * tolerance(expected(server, c, 0.0)["grade"]) - float(row["exposure"])

    # a customer whose orders beyond the room are held (not one the policy would cover with an increase)
    cid = next(c for c in _pick(server, "clean", 20, skip=5) if expected(server, c, room_of(c) * 1.2)["decision"] != "release")
    room = room_of(cid)
    row = server.served.features.set_index("customer_id").loc[cid]
    amount = room / 3.5  # three fit, the fourth does not
    n = 12

    # six keep-alive connections served by each worker (a connection stays with the worker that accepted it)
    by_worker: dict[int, list] = {w: [] for w in server.workers}
    spare = []
    for _ in range(200):
        if all(len(v) >= n // 2 for v in by_worker.values()):
            break
        c = server.client()
        w = c.get("/health").json()["worker"]
        (by_worker[w] if len(by_worker[w]) < n // 2 else spare).append(c)
    clients = [c for v in by_worker.values() for c in v]
    assert len(clients) == n, {w: len(v) for w, v in by_worker.items()}

    def one(i: int) -> tuple[dict, int]:
        c = clients[i]
        r = check(c, cid, f"wrace-{i}", amount)
        assert r.status_code == 201, r.text
        return r.json(), c.get("/health").json()["worker"]

    try:
        with ThreadPoolExecutor(n) as pool:
            out = list(pool.map(one, range(n)))
    finally:
        for c in clients + spare:
            c.close()
    assert len({w for _, w in out}) == 2  # both workers decided checks of the customer
    results = [r for r, _ in out]
    released = [r for r in results if r["decision"] == "release"]
    assert len(released) == 3
    befores = sorted(r["exposure_before"] for r in released)
    assert np.allclose(np.diff(befores), amount)
    assert all(r["exposure_before"] == pytest.approx(float(row["exposure"]) + 3 * amount)
               for r in results if r["decision"] != "release")
    with server.client() as c:
        assert c.get(f"/v1/customers/{cid}").json()["released_since_scoring"] == pytest.approx(3 * amount)
