"""Open-loop HTTP load for the credit-check benchmark (``benchmarks/bench_serving.py``), light enough to share
the machine with the service: one process, asyncio on uvloop, keep-alive connections over loopback, requests
encoded before the clock starts, responses read by their Content-Length (no HTTP client library).

Check ``i`` is due at ``t0 + i / rate`` and is sent then on an idle connection (a new one is opened when
none is idle, so a slow server never delays the schedule: no coordinated omission); its latency counts from
when it was due to the end of its answer. Prints one JSON line: n, p50/p99/max latency (ms), the rate achieved,
the answers that were not 201, the connections used and this process's own CPU time per check.

    python -m benchmarks.serving_load --port 8000 --key rk_... --ids ids.txt --rate 200 --seconds 20 --tag run1
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import random
import resource
import statistics
import time
from pathlib import Path


def bodies(ids: list[str], n: int, tag: str, seed: int = 7) -> list[bytes]:
    """``n`` checks: each a new order id of a random customer, 100..5,000 EUR, dated in July 2026."""
    rng = random.Random(seed)
    return [json.dumps({"customer_id": rng.choice(ids), "order_id": f"{tag}-{i}", "amount": rng.randint(100, 5000),
                        "currency": "EUR", "order_date": f"2026-07-{rng.randint(1, 30):02d}"}).encode()
            for i in range(n)]


def _request(method: str, path: str, key: str, body: bytes = b"") -> bytes:
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {key}\r\n"
            + ("Content-Type: application/json\r\n" if body else "") + f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _answer(reader: asyncio.StreamReader) -> int:
    """Read one HTTP response; its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
            break
    if length:
        await reader.readexactly(length)
    return status


async def run(port: int, key: str, ids: list[str], rate: float, seconds: float, tag: str, conns: int = 16) -> dict:
    reqs = [_request("POST", "/v1/credit-checks", key, b) for b in bodies(ids, int(rate * seconds), tag)]
    # idle connections, used in turn (oldest first), so none sits idle past the server's keep-alive timeout
    idle: collections.deque[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = collections.deque()
    opened = [0]

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        opened[0] += 1
        return await asyncio.open_connection("127.0.0.1", port)

    # warm up: every connection answers once with the key (the service's key cache and the connections are ready)
    for k in range(conns):
        r, w = await connect()
        w.write(_request("GET", f"/v1/customers/{ids[k % len(ids)]}", key))
        await _answer(r)
        idle.append((r, w))
    lat: list[float] = []
    bad, closed = [0], [0]
    statuses: collections.Counter[int] = collections.Counter()  # the answers other than 201

    async def send(req: bytes, due: float) -> None:
        status = 0
        for attempt in range(2):  # a kept-alive connection the server closed meanwhile: once more on a new one
            conn = idle.popleft() if idle and not attempt else None
            try:
                conn = conn or await connect()
                r, w = conn
                w.write(req)
                status = await _answer(r)
                break
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                conn = None
                closed[0] += 1
        if conn is None:
            lat.append(time.perf_counter() - due)  # a failed check counts, with the time it took to fail
            bad[0] += 1
            return
        lat.append(time.perf_counter() - due)
        if status != 201:
            bad[0] += 1
            statuses[status] += 1
        idle.append(conn)

    cpu0 = time.process_time()
    t0 = time.perf_counter() + 0.1
    tasks = []
    for i, req in enumerate(reqs):
        due = t0 + i / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.ensure_future(send(req, due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    for _, w in idle:
        w.close()
    lat.sort()
    q = statistics.quantiles(lat, n=100, method="inclusive")
    n = len(reqs)
    return {"n": n, "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000, "max_ms": lat[-1] * 1000,
            "achieved_per_s": n / elapsed, "errors": bad[0], "connections": opened[0], "reconnects": closed[0],
            "other_statuses": dict(statuses),
            "loadgen_cpu_ms_per_check": cpu / n * 1000,
            "loadgen_rusage_cpu_s": sum(resource.getrusage(resource.RUSAGE_SELF)[:2])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--ids", type=Path, required=True, help="customer ids, one a line")
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--tag", default="load")
    ap.add_argument("--connections", type=int, default=16)
    a = ap.parse_args()
    ids = a.ids.read_text().split()
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop comes with riskml[serve] off Windows
        runner = asyncio.run
    print(json.dumps(runner(run(a.port, a.key, ids, a.rate, a.seconds, a.tag, a.connections))))


if __name__ == "__main__":
    main()
