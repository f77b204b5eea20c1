"""One report measurement: ``riskml report`` in a child process, timed from here.

python -m benchmarks.reports_measure LEDGER MODEL_DIR SCORES AS_OF JOBS all|half

``all`` reports every customer of the scores file; ``half`` the first half (``--customer`` repeated).
Prints one JSON line: pages, wall seconds, CPU seconds of the command and its workers, the largest
process's peak memory (MB) and the size of the report directory (MB)."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def main() -> None:
    ledger, model_dir, scores, as_of, jobs, which = sys.argv[1:7]
    ids = pd.read_parquet(scores, columns=["customer_id"])["customer_id"].astype("str").tolist()
    chosen = ids if which == "all" else ids[: len(ids) // 2]
    out = Path(tempfile.mkdtemp(prefix="riskml-bench-report-")) / "reports"
    cmd = [sys.executable, "-m", "riskml.cli.main", "report", "--data", ledger, "--as-of", as_of, "--scores", scores,
           "--model", model_dir, "--out", str(out), "--jobs", jobs]
    if which != "all":
        for cid in chosen:
            cmd += ["--customer", cid]
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, check=False,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        if res.returncode != 0:
            raise SystemExit(f"riskml report failed:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        pages = sum(1 for _ in (out / "customers").glob("*.html"))
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
    print(json.dumps({
        "pages": pages,
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "peak_rss_mb": after.ru_maxrss / 1024,
        "out_mb": size / 1024**2,
        "load": (load + os.getloadavg()[0]) / 2,  # 1-minute load average of the machine, start and end
    }))


if __name__ == "__main__":
    main()
