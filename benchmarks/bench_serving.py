"""Credit-check service benchmark (issue 13): ``riskml serve`` on the 2,000-customer demo ledger (36 months)
scored with a model trained by riskml's own training step, on SQLite and on PostgreSQL (a local server of its
own, ``riskml.serving.localpg``, fsync on), loaded over loopback:

- startup: from starting the process to ``/ready`` answering (wall), and the service's own figure (reading
  the scores, building the policy inputs from the ledger, migrating the database);
- a fixed rate (RISKML_BENCH_SERVING_RATE checks/s, default 200, for RISKML_BENCH_SERVING_SECONDS, default
  20): an open-loop load generator (`benchmarks.serving_load`: asyncio on uvloop, raw keep-alive connections, its
  own process) sends each check at its scheduled time;
  latency is measured from the scheduled time (no coordinated omission); p50 / p99 / max and the rate
  achieved. Target: p99 under 20 ms at 200 checks/s on SQLite;
- the saturation throughput: ``wrk`` (Debian) with a Lua script posting distinct orders, 8 connections,
  2 threads, 15 s (skipped when wrk is absent).

Every check is a new order id of a random customer, a random amount (100..5,000) dated within 30 days of
the scoring: each one takes the customer's lock, decides, and writes its row and its audit row."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import CACHE, ROOT, ledger_dir

CUSTOMERS = 2000
# uvicorn worker processes measured (startup is measured 3 times with one worker, once with more)
WORKERS = tuple(int(w) for w in os.environ.get("RISKML_BENCH_SERVING_WORKERS", "1,2").split(","))
# SQLite synchronous modes measured (riskml serve --sqlite-sync; full is the default)
SQLITE_SYNC = tuple(os.environ.get("RISKML_BENCH_SERVING_SYNC", "full,normal").split(","))
# databases measured
BACKENDS = tuple(os.environ.get("RISKML_BENCH_SERVING_DB", "sqlite,postgresql").split(","))
AS_OF = "2026-06-30"
# the source tree the server runs (another checkout's src/ to compare two versions on one machine and load)
SRC = Path(os.environ.get("RISKML_BENCH_SERVING_SRC", str(ROOT / "src")))

WRK_LUA = """
counter = 0
local ids = {%s}
local nthreads = 0
function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
end
function init(args)
  math.randomseed(tid * 7919)
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = "%s"
request = function()
  counter = counter + 1
  local cid = ids[math.random(#ids)]
  local day = math.random(1, 30)
  local body = string.format('{"customer_id":"%%s","order_id":"wrk-%%d-%%d-%%d","amount":%%d,"currency":"EUR",' ..
    '"order_date":"2026-07-%%02d"}', cid, %d, tid, counter, math.random(100, 5000), day)
  return wrk.format(nil, "/v1/credit-checks", nil, body)
end
"""


def prepare() -> tuple[Path, Path]:
    """(the ledger directory, the scores file), cached under .bench/."""
    data = ledger_dir(CUSTOMERS, 36)
    scores_path = CACHE / f"serving_scores_{CUSTOMERS}x36.parquet"
    if not scores_path.exists():
        import pandas as pd

        from riskml.config import ScoringConfig, TrainConfig
        from riskml.data.validate import load_ledger
        from riskml.features import build_features
        from riskml.modeling.model import RiskModel
        from riskml.modeling.train import assemble, fit_and_evaluate
        from riskml.scoring.score import score_customers

        model_dir = CACHE / f"scoring_model_{CUSTOMERS}x36"
        ledger, _ = load_ledger(data)
        if not (model_dir / "model.json").exists():
            config = TrainConfig()
            fit_and_evaluate(assemble(ledger, config), config).model.save(model_dir)
        model = RiskModel.load(model_dir)
        feats = build_features(ledger, pd.Timestamp(AS_OF))
        result = score_customers(feats, model, ScoringConfig(), {"model_version": "bench"},
                                 data_fingerprint=ledger.until(pd.Timestamp(AS_OF)).fingerprint(),
                                 with_contributions=False)
        result.scores.to_parquet(scores_path, index=False)
    return data, scores_path


def _env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(SRC) + os.pathsep + e.get("PYTHONPATH", "")
    return e


class Server:
    def __init__(self, scores: Path, data: Path, db: str, log: Path, workers: int = 1, sqlite_sync: str = "full"):
        from riskml.serving.localpg import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [sys.executable, "-m", "riskml.cli.main", "serve", "--scores", str(scores), "--data", str(data),
                     "--db", db, "--port", str(self.port), "--workers", str(workers)]
        if sqlite_sync != "full":
            self.args += ["--sqlite-sync", sqlite_sync]
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> dict[str, float]:
        import httpx

        t0 = time.perf_counter()
        with open(self.log, "ab") as fh:
            self.proc = subprocess.Popen(self.args, stdout=fh, stderr=subprocess.STDOUT, env=_env(), cwd=ROOT)
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text()[-3000:])
            try:
                r = httpx.get(self.url + "/ready", timeout=1)
                if r.status_code == 200:
                    return {"wall": time.perf_counter() - t0, "own": float(r.json()["startup_seconds"])}
            except httpx.HTTPError:
                pass
            time.sleep(0.05)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the server and its worker processes so far."""
        import psutil

        assert self.proc is not None
        root = psutil.Process(self.proc.pid)
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(20)


def fixed_rate(url: str, key: str, ids: list[str], rate: float, seconds: float, tag: str,
               cpu: Callable[[], float] | None = None) -> dict[str, float]:
    """Open-loop load at ``rate`` checks/s (:mod:`benchmarks.serving_load`, its own process: check i is due at
    t0 + i / rate and its latency counts from when it was due). ``cpu``: the server's CPU seconds so far, read
    before and after the run (``server_cpu_ms_per_check``; the warm-up of the load generator's connections
    included, 16 requests); the load generator's own CPU per check is ``loadgen_cpu_ms_per_check``."""
    with tempfile.TemporaryDirectory() as tmp:
        ids_file = Path(tmp) / "ids.txt"
        ids_file.write_text("\n".join(ids))
        port = url.rsplit(":", 1)[1]
        cpu0 = cpu() if cpu else 0.0
        res = subprocess.run([sys.executable, "-m", "benchmarks.serving_load", "--port", port, "--key", key,
                              "--ids", str(ids_file), "--rate", str(rate), "--seconds", str(seconds), "--tag", tag],
                             capture_output=True, text=True, check=True, cwd=ROOT, env=_env())
        out: dict[str, float] = json.loads(res.stdout.strip().splitlines()[-1])
        if cpu:
            out["server_cpu_ms_per_check"] = (cpu() - cpu0) / out["n"] * 1000
    return out


def saturation(url: str, key: str, ids: list[str], seconds: int = 15, tag: int = 1) -> dict[str, float] | None:
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(WRK_LUA % (",".join(f'"{c}"' for c in ids), key, tag))
        res = subprocess.run([wrk, "-t2", "-c8", f"-d{seconds}s", "--latency", "-s", str(script), url],
                             capture_output=True, text=True, check=True)
    out = res.stdout
    import re

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p: str) -> float:
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    n = int(re.search(r"(\d+) requests in", out).group(1))
    return {"per_s": rps, "n": n, "p50_ms": pct("50"), "p99_ms": pct("99"),
            "non_2xx": int(non2xx.group(1)) if non2xx else 0}


def one_backend(name: str, db: str, data: Path, scores: Path, ids: list[str], rate: float, seconds: float,
                log: Path, workers: int = 1, sqlite_sync: str = "full") -> dict:
    from riskml.config import ScoringConfig
    from riskml.serving.db import open_database
    from riskml.serving.keys import add_key

    engine = open_database(db)
    key = add_key(engine, "bench", "order_desk", "", ScoringConfig().approvals)[0]
    engine.dispose()
    srv = Server(scores, data, db, log, workers, sqlite_sync)
    starts = []
    try:
        for _ in range(3 if workers == 1 else 0):
            starts.append(srv.start())
            srv.stop()
        starts.append(srv.start())
        if workers > 1:  # /ready answers when the first worker is up: give the others their load time
            time.sleep(2 * starts[-1]["wall"])
        load0 = os.getloadavg()[0]
        fixed = fixed_rate(srv.url, key, ids, rate, seconds, f"{name}-{workers}-{sqlite_sync}-fixed", srv.cpu_seconds)
        fixed["load_avg"] = max(load0, os.getloadavg()[0])
        cpu1 = srv.cpu_seconds()
        sat = saturation(srv.url, key, ids, tag=workers)
        if sat is not None:
            sat["server_cpu_ms_per_check"] = (srv.cpu_seconds() - cpu1) / max(sat["n"], 1) * 1000
    finally:
        srv.stop()
    return {"backend": name, "workers": workers, "sqlite_sync": sqlite_sync if name == "SQLite" else "",
            "startup_wall_s": statistics.median(s["wall"] for s in starts),
            "startup_own_s": statistics.median(s["own"] for s in starts), "fixed": fixed, "saturation": sat}


def run(into_doc: bool = True) -> str:
    """The section of docs/benchmarks.md; ``into_doc``: its table also into docs/serving.md (not for a run
    against another checkout, ``RISKML_BENCH_SERVING_SRC``)."""
    import pandas as pd

    from riskml.serving.localpg import LocalPostgres, unavailable_reason

    rate = float(os.environ.get("RISKML_BENCH_SERVING_RATE", "200"))
    seconds = float(os.environ.get("RISKML_BENCH_SERVING_SECONDS", "20"))
    data, scores = prepare()
    ids = pd.read_parquet(scores, columns=["customer_id"])["customer_id"].astype(str).tolist()
    results = []
    load_before = os.getloadavg()
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="riskml-bench-serve-") as tmp:
        if "sqlite" in BACKENDS:
            for w in WORKERS:
                for sync in SQLITE_SYNC:
                    results.append(one_backend("SQLite", str(Path(tmp) / f"serve{w}{sync}.db"), data, scores, ids, rate,
                                               seconds, Path(tmp) / "sqlite.log", w, sync))
        reason = unavailable_reason() if "postgresql" in BACKENDS else "not asked for"
        if reason is None:
            with LocalPostgres(durable=True) as pg:
                for w in WORKERS:
                    results.append(one_backend("PostgreSQL", pg.create_database(f"bench{w}"), data, scores, ids,
                                               rate, seconds, Path(tmp) / "pg.log", w))
    print(json.dumps(results), file=sys.stderr)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t0))
    lines = [
        "## Credit-check service (`riskml serve`)", "",
        f"`benchmarks/bench_serving.py`: the {CUSTOMERS:,}-customer x 36-month generated ledger scored as of {AS_OF}; "
        "every check a new order of a random customer (lock, decision, check row and audit row committed). Load "
        f"generator on the same machine over loopback. Fixed rate: {rate:.0f} checks/s for {seconds:.0f} s, open loop "
        "(`benchmarks/serving_load.py`: one process, asyncio on uvloop, keep-alive connections warmed up first, a new "
        "one whenever none is idle; latency from each check's scheduled time to its answer: no coordinated "
        "omission). Saturation: `wrk -t2 -c8 -d15s` with a Lua script posting distinct orders. SQLite sync: "
        "`--sqlite-sync` (full: every commit synced; normal: synced at WAL checkpoints). PostgreSQL: a local "
        "server with fsync on. Target: p99 < 20 ms at 200 checks/s on SQLite.", "",
        f"Run of {when}; load average of the machine before the run {load_before[0]:.1f} / {load_before[1]:.1f} / "
        f"{load_before[2]:.1f} (1 / 5 / 15 min), during each measurement in the table.", "",
        "| database | SQLite sync | workers | startup to /ready | service's own startup | fixed rate achieved | p50 | "
        "p99 | max | errors | server CPU per check | load generator CPU per check | load avg | saturation (wrk) | "
        "wrk p50 | wrk p99 | server CPU per check (wrk) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        f, s = r["fixed"], r["saturation"]
        sat = (f"{s['per_s']:.0f}/s", f"{s['p50_ms']:.1f} ms", f"{s['p99_ms']:.1f} ms",
               f"{s['server_cpu_ms_per_check']:.2f} ms") if s else ("n/a",) * 4
        lines.append(f"| {r['backend']} | {r['sqlite_sync'] or '-'} | {r['workers']} | {r['startup_wall_s']:.2f} s | "
                     f"{r['startup_own_s']:.2f} s | {f['achieved_per_s']:.0f}/s | {f['p50_ms']:.1f} ms | "
                     f"{f['p99_ms']:.1f} ms | {f['max_ms']:.0f} ms | {f['errors']} | "
                     f"{f['server_cpu_ms_per_check']:.2f} ms | {f['loadgen_cpu_ms_per_check']:.2f} ms | "
                     f"{f['load_avg']:.1f} | {' | '.join(sat)} |")
    if reason is not None:
        lines += ["", f"_PostgreSQL not measured: {reason}._"]
    lines += ["", "_Server CPU per check: CPU time of the server processes (all workers) during the fixed-rate run "
              "(or the wrk run) divided by the checks sent; it depends far less on what else the machine runs than "
              "the latencies do (the load average of the machine during each run is beside them). Load generator "
              "CPU per check: the fixed-rate generator's own CPU time (it shares the 2 cores with the server)._"]
    text = "\n".join(lines)
    if into_doc and SRC.resolve() == (ROOT / "src").resolve():
        _into_serving_doc(text)
    return text


SERVING_DOC = ROOT / "docs" / "serving.md"
BEGIN, END = "<!-- bench:serving:begin -->", "<!-- bench:serving:end -->"


def _into_serving_doc(text: str) -> None:
    """The table into docs/serving.md too, between its markers (the speed section quotes the last run)."""
    from riskml.io import write_text

    if not SERVING_DOC.exists():
        return
    doc = SERVING_DOC.read_text(encoding="utf-8")
    if BEGIN not in doc or END not in doc:
        return
    head, rest = doc.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    body = text.split("\n", 2)[2]  # without the section's own heading
    write_text(f"{head}{BEGIN}\n{body.strip()}\n{END}{tail}", SERVING_DOC)


if __name__ == "__main__":
    print(run(into_doc=False))
