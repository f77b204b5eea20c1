"""One scoring measurement in a fresh process (peak memory is this process's own).

python -m benchmarks.scoring_measure FEATURES_PARQUET MODEL_DIR bare|predict|score THREADS [OUT_DIR|-] [EXPLAINER]

``bare``: LightGBM's own ``predict`` and ``predict(pred_contrib=True)`` on the model's feature matrix of
the same rows, with ``THREADS`` threads (the floor any scoring can reach), and the fast explainer's
contributions (:class:`riskml.explain.explainer.PatternExplainer`) on the same matrix and threads; the
process's peak memory is taken before the fast explainer runs too (``peak_rss_gb_lgb``). ``predict``:
the same without ``pred_contrib``. ``score``: the whole scoring
step, :func:`riskml.scoring.score.score_customers` from the feature table to the scores and the long
contributions table (PD, grade, limits, actions, holds, reviews, personas, reason codes) with the
contributions back end EXPLAINER (``fast``, ``pred_contrib`` or ``auto``; default the config's), then,
when OUT_DIR is given (not ``-``), writing both files there."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd


def main() -> None:
    features_path, model_dir, mode, threads = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    out_dir = Path(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[5] != "-" else None
    explainer = sys.argv[6] if len(sys.argv) > 6 else None
    from benchmarks.common import peak_rss_gb
    from riskml.modeling.model import RiskModel

    feats = pd.read_parquet(features_path)
    model = RiskModel.load(model_dir)
    result: dict[str, float | int] = {"rows": len(feats), "trees": model.booster_.num_trees(),
                                      "features": len(model.feature_names_)}
    if mode in ("bare", "predict"):
        X = model.prepare(feats[model.feature_names_]).to_numpy("float64")
        t0, c0 = time.perf_counter(), time.process_time()
        model.booster_.predict(X, raw_score=True, num_threads=threads)
        result["predict_s"], result["predict_cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
        if mode == "bare":
            t0, c0 = time.perf_counter(), time.process_time()
            model.booster_.predict(X, pred_contrib=True, num_threads=threads)
            result["contrib_s"], result["contrib_cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
        result["peak_rss_gb_lgb"] = peak_rss_gb()
        from riskml.explain.explainer import PatternExplainer

        t0, c0 = time.perf_counter(), time.process_time()
        fast = PatternExplainer(model.booster_, threads=threads)
        result["fast_build_s"] = time.perf_counter() - t0
        fast.contributions_matrix(X)
        result["fast_s"], result["fast_cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
    else:
        from riskml.config import ScoringConfig
        from riskml.scoring.score import score_customers, write_outputs

        config = ScoringConfig(num_threads=threads, **({"explainer": explainer} if explainer else {}))
        t0, c0 = time.perf_counter(), time.process_time()
        res = score_customers(feats, model, config, {"model_version": "bench"}, data_fingerprint="bench")
        result["score_s"], result["score_cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
        result["scored"] = int(res.scores["scored"].sum())
        result["contribution_rows"] = len(res.contributions)
        result["explainer"] = res.explainer
        if out_dir is not None:
            t0 = time.perf_counter()
            write_outputs(res, out_dir / "scores.parquet")
            result["write_s"] = time.perf_counter() - t0
    result["peak_rss_gb"] = peak_rss_gb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
