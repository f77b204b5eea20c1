"""One worklist measurement in a fresh process (peak memory is this process's own).

python -m benchmarks.worklist_measure LEDGER_DIR AS_OF COLLECTORS OUT_DIR

Loads and validates the ledger, builds the features as of AS_OF, makes scores with the decision policy from a
fixed PD formula (no model: the worklist's own cost is measured), then times :func:`riskml.collect.build_worklist`
(open items, amounts, ranking, scripts, escalation, paperwork queue, assignment to COLLECTORS collectors), a
second run from its own assignment, and writing every file (CSV, Parquet, HTML pages). Prints one JSON line."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    data, as_of, n_coll, out = Path(sys.argv[1]), pd.Timestamp(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    from benchmarks.common import peak_rss_gb
    from riskml.collect import build_worklist, write_worklist
    from riskml.collect.inputs import collectors_from_count, prepare_scores
    from riskml.data.validate import load_ledger, resolve_data_config
    from riskml.features import build_features
    from riskml.scoring.policy import apply_policy

    ledger, _ = load_ledger(data, resolve_data_config(data, None))
    feats = build_features(ledger, as_of)
    x = -4.0 + 0.04 * feats["dbt_avg_6m"].fillna(0) + 0.025 * feats["oldest_dpd"].fillna(0)
    p = 1 / (1 + np.exp(-x.to_numpy("float64")))
    scores = pd.concat([feats[["customer_id", "as_of"]].reset_index(drop=True), pd.DataFrame({"pd": p}),
                        apply_policy(feats, p)], axis=1)
    scores = prepare_scores(scores, as_of=as_of)
    team = collectors_from_count(n_coll)
    t0, c0 = time.perf_counter(), time.process_time()
    res = build_worklist(ledger, as_of, scores, team, features=feats)
    build_s, build_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    again = build_worklist(ledger, as_of, scores, team, previous=res.assignment, features=feats)
    rerun_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_worklist(res, out)
    write_s = time.perf_counter() - t0
    print(json.dumps({
        "customers": len(feats), "lines": len(res.lines), "paperwork": len(res.paperwork),
        "escalations": len(res.escalations), "build_s": build_s, "build_cpu_s": build_cpu, "rerun_s": rerun_s,
        "write_s": write_s, "balanced": bool(res.collectors["within_tolerance"].all()),
        "kept_share": float((again.assignment["assignment_status"] == "kept").mean()), "peak_rss_gb": peak_rss_gb(),
    }))


if __name__ == "__main__":
    main()
