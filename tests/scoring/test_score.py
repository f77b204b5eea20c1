"""Batch scoring end to end on the small generated ledger with a tiny real model: one row per customer,
PD and contributions equal the model's, unscorable rows flagged and kept, single row = batch row,
chunking invisible, atomic writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskml.config import ScoringConfig
from riskml.errors import DataError, ModelError, RiskmlError
from riskml.io import read_table
from riskml.modeling.model import RiskModel
from riskml.scoring import score as score_mod
from riskml.scoring.grades import UNSCORED, assign_grades
from riskml.scoring.score import (
    BASE_VALUE_FEATURE,
    CONTRIBUTION_COLUMNS,
    contributions_path,
    load_previous,
    output_columns,
    score_customers,
    summarise,
    write_outputs,
)

INFO = {"model_version": "3", "uri": "models:/riskml-delinquency/3"}


@pytest.fixture(scope="module")
def batch(small_features: pd.DataFrame, tiny_model: RiskModel) -> score_mod.ScoreResult:
    return score_customers(small_features, tiny_model, ScoringConfig(), INFO, data_fingerprint="fp123")


def test_one_row_per_customer_in_order_with_documented_columns(batch, small_features) -> None:
    s = batch.scores
    assert list(s.columns) == output_columns(3)
    assert s["customer_id"].tolist() == small_features["customer_id"].astype("str").tolist()
    assert s["customer_id"].is_unique and len(s) == len(small_features)
    assert s["scored"].all() and (s["score_error"] == "").all()
    assert (s["model_version"] == "3").all() and (s["data_fingerprint"] == "fp123").all()
    assert (s["as_of"] == pd.Timestamp("2026-09-30")).all()


def test_pd_grade_and_contributions_are_the_models(batch, small_features, tiny_model) -> None:
    s = batch.scores
    X = small_features[tiny_model.feature_names_]
    # scoring's PD is the calibrated row sum of the contributions (no second tree walk): the tree walk's PD
    # up to float rounding of the sum
    assert np.allclose(s["pd"].to_numpy(), tiny_model.predict_pd(X), rtol=0, atol=1e-12)
    assert s["grade"].tolist() == assign_grades(s["pd"].to_numpy(), ScoringConfig().master_scale).tolist()
    c = batch.contributions
    assert list(c.columns) == list(CONTRIBUTION_COLUMNS)
    k = len(tiny_model.feature_names_)
    assert len(c) == len(s) * (k + 1)
    # contributions (with the expected value) add up to the raw score, per customer
    total = c.groupby("customer_id", observed=True, sort=False)["contribution"].sum()
    raw = pd.Series(tiny_model.predict_raw(X), index=s["customer_id"])
    assert np.allclose(total.reindex(raw.index).to_numpy(), raw.to_numpy(), atol=1e-9)
    # values are the customers' own figures
    one = c[(c["customer_id"] == s["customer_id"].iloc[5]) & (c["feature"] == "dbt_avg_12m")]
    assert one["value"].iloc[0] == pytest.approx(small_features["dbt_avg_12m"].iloc[5], nan_ok=True)
    assert one["family"].iloc[0] == "dbt"
    assert (c.loc[c["feature"] == BASE_VALUE_FEATURE, "family"] == "").all()


def test_reasons_and_policies_are_filled(batch) -> None:
    s = batch.scores
    assert (s["reason_1"] != "").all() and (s["reason_codes"] != "").all()
    assert set(s["action"]) <= {"increase", "keep", "decrease", "revoke", "set", "collections"}
    revoked = s["action"] == "revoke"
    assert (s.loc[revoked, "suggested_limit"] == 0).all() and s.loc[revoked, "order_hold"].all()
    assert ((s["hold_reason"] != "") == s["order_hold"]).all() and ((s["hold_codes"] != "") == s["order_hold"]).all()
    assert ((s["review_reason"] != "") == s["review_due"]).all()
    assert ((s["review_priority"] > 0) == s["review_due"]).all() and s["review_priority"].isin([0, 1, 2, 3]).all()
    assert (s["limit_rationale"] != "").all()
    has = s["current_limit"].notna()
    assert np.allclose(s.loc[has, "limit_change"], s.loc[has, "suggested_limit"] - s.loc[has, "current_limit"])
    assert s.loc[~has, "limit_change"].isna().all() and (s.loc[~has, "action"] != "increase").all()


def test_unscorable_rows_are_flagged_not_dropped(small_features, tiny_model, batch) -> None:
    feats = small_features.copy()
    feats["dbt_avg_3m"] = feats["dbt_avg_3m"].astype(object)
    feats.loc[3, "dbt_avg_3m"] = "abc"
    feats.loc[7, "sales_avg_12m"] = np.inf
    res = score_customers(feats, tiny_model, ScoringConfig(), INFO)
    s = res.scores
    assert len(s) == len(feats) and s["customer_id"].tolist() == batch.scores["customer_id"].tolist()
    bad = s.iloc[[3, 7]]
    assert not bad["scored"].any() and bad["pd"].isna().all() and (bad["grade"] == UNSCORED).all()
    assert "dbt_avg_3m = 'abc' is not a finite number" in bad["score_error"].iloc[0]
    assert "sales_avg_12m = inf" in bad["score_error"].iloc[1]
    assert bad["reason_1"].str.startswith("Not scored: feature").all()
    assert bad["review_due"].all() and bad["review_reason"].str.contains("could not be scored").all()
    assert (bad["review_priority"] == 1).all()
    assert (bad["action"] == "keep").all()
    pd.testing.assert_series_equal(bad["suggested_limit"], bad["current_limit"], check_names=False)
    # the other rows are untouched, and unscored rows have no contributions
    ok = s.drop(index=[3, 7])
    assert np.array_equal(ok["pd"].to_numpy(), batch.scores.drop(index=[3, 7])["pd"].to_numpy())
    assert not res.contributions["customer_id"].isin(bad["customer_id"]).any()


class _FailsOnSentinel:
    """A real model that raises on rows whose dbt_avg_12m is a sentinel (a model failure on one row)."""

    def __init__(self, model: RiskModel, sentinel: float | None = 777.0):
        self.model, self.sentinel = model, sentinel
        self.feature_names_ = model.feature_names_
        self.medians = model.medians

    def _check(self, X: pd.DataFrame) -> None:
        if self.sentinel is None or (X["dbt_avg_12m"] == self.sentinel).any():
            raise ValueError("boom")

    def predict_pd(self, X: pd.DataFrame) -> np.ndarray:
        self._check(X)
        return self.model.predict_pd(X)

    def contributions(self, X: pd.DataFrame) -> np.ndarray:
        return self.model.contributions(X)


def test_model_failure_on_one_row_does_not_sink_the_batch(small_features, tiny_model, batch) -> None:
    feats = small_features.copy()
    feats.loc[11, "dbt_avg_12m"] = 777.0
    res = score_customers(feats, _FailsOnSentinel(tiny_model), ScoringConfig(chunk_size=100), INFO)
    s = res.scores
    assert s["scored"].sum() == len(s) - 1 and not s["scored"].iloc[11]
    assert s["score_error"].iloc[11] == "model failed on this row: ValueError: boom"
    same = s.drop(index=[11])
    # this wrapper is not a RiskModel, so not explained by the explainer layer: its PD is the tree walk's
    # (equal up to rounding)
    assert np.allclose(same["pd"].to_numpy(), batch.scores.drop(index=[11])["pd"].to_numpy(), rtol=0, atol=1e-12)


def test_model_failing_everywhere_is_an_error(small_features, tiny_model) -> None:
    with pytest.raises(ModelError, match="no customer could be scored"):
        score_customers(small_features.head(5), _FailsOnSentinel(tiny_model, None), ScoringConfig(), INFO)


def test_single_customer_equals_batch_row(small_features, tiny_model, batch) -> None:
    for i in (0, 17, 123, len(small_features) - 1):
        one = score_customers(small_features.iloc[[i]], tiny_model, ScoringConfig(), INFO, data_fingerprint="fp123")
        pd.testing.assert_frame_equal(one.scores, batch.scores.iloc[[i]].reset_index(drop=True))
        want = batch.contributions[batch.contributions["customer_id"] == batch.scores["customer_id"].iloc[i]]
        assert np.array_equal(one.contributions["contribution"].to_numpy(), want["contribution"].to_numpy())


def test_chunking_is_invisible_and_reports_progress(small_features, tiny_model, batch) -> None:
    calls: list[tuple[int, int]] = []
    res = score_customers(small_features, tiny_model, ScoringConfig(chunk_size=60), INFO, data_fingerprint="fp123",
                          progress=lambda done, total: calls.append((done, total)))
    pd.testing.assert_frame_equal(res.scores, batch.scores)
    pd.testing.assert_frame_equal(res.contributions, batch.contributions)
    n = len(small_features)
    assert calls[-1] == (n, n) and len(calls) == -(-n // 60)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


@pytest.mark.slow
def test_threads_and_blocks_never_change_a_result(small_features, tiny_model, batch) -> None:
    for threads, chunk in ((1, 300), (2, 37)):
        res = score_customers(small_features, tiny_model, ScoringConfig(num_threads=threads, chunk_size=chunk), INFO,
                              data_fingerprint="fp123")
        pd.testing.assert_frame_equal(res.scores, batch.scores)
        pd.testing.assert_frame_equal(res.contributions, batch.contributions)


def test_previous_scores_trigger_grade_reviews(small_features, tiny_model, batch) -> None:
    s = batch.scores
    i = int(np.flatnonzero(s["grade"].isin(["4", "5", "6"]).to_numpy())[0])
    prev = pd.DataFrame({"customer_id": s["customer_id"], "grade": s["grade"], "as_of": pd.Timestamp("2026-06-30")})
    moved = str(int(s["grade"].iloc[i]) + 3)
    prev.loc[i, "grade"] = moved
    res = score_customers(small_features, tiny_model, ScoringConfig(), INFO, previous=prev)
    assert f"grade moved 3 notches, from {moved} to {s['grade'].iloc[i]} (previous score 2026-06-30)" in \
        res.scores["review_reason"].iloc[i]
    assert not res.scores["review_reason"].drop(index=[i]).str.contains("grade moved").any()


def test_whole_table_problems_stop_the_run(small_features, tiny_model) -> None:
    with pytest.raises(DataError, match="oldest_dpd"):
        score_customers(small_features.drop(columns=["oldest_dpd"]), tiny_model)
    with pytest.raises(DataError, match="unique"):
        score_customers(pd.concat([small_features.head(2), small_features.head(1)]), tiny_model)
    with pytest.raises(ModelError, match="dbt_trend_12m"):
        score_customers(small_features.drop(columns=["dbt_trend_12m"]), tiny_model)


def test_summary_counts(batch) -> None:
    summ = summarise(batch.scores)
    n = len(batch.scores)
    assert summ["customers"] == n and sum(summ["by_grade"].values()) == n
    assert sum(summ["by_action"].values()) == n and sum(summ["by_persona"].values()) == n
    assert summ["total_limit_change"] == pytest.approx(batch.scores["limit_change"].sum())
    assert summ["order_holds"] == batch.scores["order_hold"].sum()
    assert sum(summ["reviews_by_priority"].values()) == summ["reviews_due"] == batch.scores["review_due"].sum()
    codes = batch.scores["review_codes"].str.split(";").explode()
    assert summ["reviews_by_reason"] == {c: int((codes == c).sum()) for c in summ["reviews_by_reason"]}
    assert summ["holds_by_reason"] and set(summ["holds_by_reason"]) <= {"past_due", "over_limit", "revoked", "collections"}
    assert summ["increase_with_hold"] == 0
    assert sum(summ["holds_by_type"].values()) == summ["order_holds"]
    assert summ["total_expected_loss"] == pytest.approx(batch.scores["expected_loss"].sum(), abs=0.01)
    assert summ["total_margin_at_risk"] == pytest.approx(batch.scores["margin_at_risk"].sum(), abs=0.01)


def test_decision_columns_of_the_scores(batch) -> None:
    s = batch.scores
    # grade is an ordered categorical on the master scale, unscored last
    assert isinstance(s["grade"].dtype, pd.CategoricalDtype) and s["grade"].cat.ordered
    assert list(s["grade"].cat.categories)[:3] == ["1", "2", "3"] and s["grade"].cat.categories[-1] == ""
    assert set(s["hold_type"]) <= {"none", "soft", "hard"}
    assert ((s["hold_type"] != "none") == s["order_hold"]).all()
    assert (s.loc[~s["order_hold"], "release_amount"] == 0).all() and (s.loc[s["order_hold"], "release_amount"] >= 0).all()
    assert not ((s["action"] == "increase") & s["order_hold"]).any()
    assert (s.loc[s["collections_track"], "hold_type"] == "hard").all()
    assert s["next_review"].notna().all() and (s["next_review"] >= s["as_of"]).all()
    assert (s.loc[s["review_due"], "next_review"] == s.loc[s["review_due"], "as_of"]).all()
    # amounts in cents
    for col in ("current_limit", "suggested_limit", "limit_change", "release_amount", "expected_loss", "margin_at_risk"):
        v = s[col].dropna().to_numpy()
        assert np.allclose(v, np.round(v, 2), rtol=0, atol=1e-9), col
    assert (s["expected_loss"].dropna() >= 0).all() and (s["margin_at_risk"] >= 0).all()
    assert set(s["approval_level"]) <= {"", "analyst", "credit_manager", "finance_director"}
    assert (s.loc[s["action"] == "revoke", "approval_level"] != "analyst").all()
    assert (s.loc[s["action"] == "keep", "approval_level"].isin(["", "credit_manager", "finance_director"])).all()


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_write_outputs_and_read_back_as_previous(batch, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"scores{suffix}"
    written = write_outputs(batch, out)
    assert written == [out, tmp_path / "scores.contributions.parquet"] == [out, contributions_path(out)]
    back = read_table(out)
    assert len(back) == len(batch.scores) and list(back.columns) == list(batch.scores.columns)
    prev = load_previous(out)
    assert prev["grade"].tolist() == batch.scores["grade"].tolist()
    dbt = batch.contributions[batch.contributions["feature"] == "dbt_avg_3m"]["value"].to_numpy()
    assert np.allclose(prev["dbt_avg_3m"].to_numpy(), dbt, equal_nan=True)


def test_a_failed_write_leaves_no_file(batch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "scores.parquet"
    out.write_bytes(b"old")
    calls = {"n": 0}
    real = pd.DataFrame.to_parquet

    def dying(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the contributions file: as if the run were killed mid-way
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", dying)
    with pytest.raises(KeyboardInterrupt):
        write_outputs(batch, out)
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.parquet"]


def test_bad_output_paths(batch, tmp_path: Path) -> None:
    with pytest.raises(RiskmlError, match="must end in .parquet or .csv"):
        write_outputs(batch, tmp_path / "scores.xlsx")
    with pytest.raises(RiskmlError, match="must differ"):
        write_outputs(batch, tmp_path / "a.parquet", tmp_path / "a.parquet")


def test_load_previous_needs_grade(tmp_path: Path) -> None:
    p = tmp_path / "prev.csv"
    pd.DataFrame({"customer_id": ["C1"], "pd": [0.1]}).to_csv(p, index=False)
    with pytest.raises(DataError, match=r"prev.csv.*grade"):
        load_previous(p)
