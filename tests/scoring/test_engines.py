"""One policy, both engines: the Spark engine's batch function (riskml.spark.score.score_batch, plain
pandas, no Spark needed) gives exactly the pandas engine's scores when fed the same PDs and reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskml.config import ScoringConfig
from riskml.scoring.score import score_customers
from riskml.spark.score import PREVIOUS, SERVED, score_batch


def test_spark_batch_equals_pandas_scores(small_features, tiny_model) -> None:
    config = ScoringConfig()
    info = {"model_version": "7"}
    previous = pd.DataFrame({"customer_id": small_features["customer_id"].astype("str").iloc[::3],
                             "grade": "4", "as_of": pd.Timestamp("2026-06-30")})
    ref = score_customers(small_features, tiny_model, config, info, previous=previous, data_fingerprint="fp",
                          with_contributions=False).scores
    reason_cols = [*(f"reason_{j + 1}" for j in range(config.n_reasons)), "reason_codes"]
    pdf = small_features.copy()
    pdf[f"{SERVED}pd"] = ref["pd"].to_numpy()
    for col in reason_cols:
        pdf[f"{SERVED}{col}"] = ref[col].to_numpy()
    prev = previous.set_index("customer_id")["grade"]
    pdf[f"{PREVIOUS}grade"] = pdf["customer_id"].astype("str").map(prev)
    # shuffled and in two batches: every row is decided on its own
    order = np.random.default_rng(1).permutation(len(pdf))
    parts = [pdf.iloc[order[:100]], pdf.iloc[order[100:]]]
    out = pd.concat([score_batch(p, feature_cols=list(small_features.columns), names=list(tiny_model.feature_names_),
                                 categories=getattr(tiny_model, "categories_", {}) or {}, config=config,
                                 model_info=info, fingerprint="fp", previous_as_of=pd.Timestamp("2026-06-30"),
                                 reason_cols=reason_cols) for p in parts], ignore_index=True)
    out = out.set_index("customer_id").loc[ref["customer_id"]].reset_index()
    pd.testing.assert_frame_equal(out, ref, check_dtype=True)
