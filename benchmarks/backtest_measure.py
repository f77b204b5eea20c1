"""One backtest measurement in a fresh process (wall and CPU time are this process's own).

python -m benchmarks.backtest_measure LEDGER_DIR floor|full DATES

``floor``: the one feature pass over every month end the backtest needs (the least any point-in-time
replay must do). ``full``: the backtest of the first DATES replay dates with two policies (the champion and
``actions.hold_past_due_days=45``) and walk-forward models retrained every 6 months."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def replay_window(ledger, n_dates: int):  # noqa: ANN001, ANN201
    """The first ``n_dates`` default replay dates of ``ledger`` (default configs)."""
    from riskml.backtest.replay import choose_dates
    from riskml.config import BacktestConfig, TrainConfig

    dates = choose_dates(ledger, TrainConfig(), BacktestConfig(), 1, None, None, walk_forward=True)
    if len(dates) < n_dates:
        raise SystemExit(f"the ledger allows {len(dates)} replay dates; {n_dates} were asked for")
    return dates[:n_dates]


def main() -> None:
    ledger_dir, kind, n_dates = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    from benchmarks.common import peak_rss_gb
    from riskml.data.validate import load_ledger
    from riskml.features import build_snapshots, month_ends

    ledger, _ = load_ledger(ledger_dir)
    dates = replay_window(ledger, n_dates)
    t0, c0 = time.perf_counter(), _cpu()
    timings: dict[str, float] = {}
    if kind == "floor":
        snaps = build_snapshots(ledger, month_ends(ledger.date_range()[0], dates[-1]))
        extra = {"rows": len(snaps)}
    else:
        from riskml.backtest.policies import load_policies
        from riskml.backtest.replay import run_backtest

        policies = load_policies(None, ["actions.hold_past_due_days=45"])
        result = run_backtest(ledger, policies, start=dates[0], end=dates[-1])
        timings = result.timings
        extra = {"models": len(result.models), "policies": len(policies)}
    print(json.dumps({"wall_s": time.perf_counter() - t0, "cpu_s": _cpu() - c0, "dates": len(dates),
                      "first": str(dates[0].date()), "last": str(dates[-1].date()), "timings": timings,
                      "peak_rss_gb": peak_rss_gb(), **extra}))


if __name__ == "__main__":
    main()
