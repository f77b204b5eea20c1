"""Shared benchmark helpers: machine description, cached generated ledgers, subprocess measurements."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".bench"


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024**2:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    import lightgbm
    import numpy
    import pandas

    return (f"{cpu}, {os.cpu_count()} cores, {mem}; Python {platform.python_version()}, pandas {pandas.__version__}, "
            f"numpy {numpy.__version__}, lightgbm {lightgbm.__version__}; {platform.platform()}")


def ledger_dir(customers: int, months: int, seed: int = 11, end: str = "2026-06-30") -> Path:
    """A generated Parquet ledger, cached under .bench/ (generated once per size)."""
    out = CACHE / f"ledger_{customers}x{months}_s{seed}"
    if not (out / "customers.parquet").exists():
        from riskml.data.synth import generate_ledger
        from riskml.data.writer import write_ledger

        synth = generate_ledger(n_customers=customers, months=months, seed=seed, end=end)
        write_ledger(synth.ledger, out, fmt="parquet")
    return out


def measure(module: str, *args: str, env: dict[str, str] | None = None) -> dict:
    """Run ``python -m benchmarks.<module> args`` in a fresh process; it prints one JSON line. ``env``:
    extra environment variables for that process."""
    cmd = [sys.executable, "-m", f"benchmarks.{module}", *args]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False,
                         env={**os.environ, **env} if env else None)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def peak_rss_gb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
