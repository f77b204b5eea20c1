"""One feature-build measurement in a fresh process (peak memory is this process's own).

python -m benchmarks.features_measure LEDGER_DIR single|snapshots AS_OF [MONTHS]"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd


def main() -> None:
    ledger_dir, kind, as_of = Path(sys.argv[1]), sys.argv[2], pd.Timestamp(sys.argv[3])
    months = int(sys.argv[4]) if len(sys.argv) > 4 else 36
    from benchmarks.common import peak_rss_gb
    from riskml.data.validate import load_ledger
    from riskml.features import build_features, build_snapshots, month_ends

    t0, c0 = time.perf_counter(), time.process_time()
    raw = {p.stem: pd.read_parquet(p) for p in sorted(ledger_dir.glob("*.parquet"))}
    t_read, c_read = time.perf_counter() - t0, time.process_time() - c0
    rows = {k: len(v) for k, v in raw.items()}
    del raw
    t0 = time.perf_counter()
    ledger, _ = load_ledger(ledger_dir)
    t_load = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    if kind == "single":
        out = build_features(ledger, as_of)
    else:
        first = as_of - pd.DateOffset(months=months - 1)
        out = build_snapshots(ledger, month_ends(first, as_of))
    t_feat, c_feat = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"read_s": t_read, "load_validate_s": t_load, "features_s": t_feat, "rows": rows,
                      "read_cpu_s": c_read, "features_cpu_s": c_feat,
                      "out_rows": len(out), "peak_rss_gb": peak_rss_gb()}))


if __name__ == "__main__":
    main()
