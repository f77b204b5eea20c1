"""The training pipeline on the small generated ledger: the model beats the logistic benchmark and the
DBT rule out of time and is calibrated; results are deterministic; too few positives, bad labels files
and broken constraints stop the run with a message that says what to change."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskml.config import FeatureConfig, TrainConfig
from riskml.data.synth import SyntheticLedger
from riskml.errors import ConfigError, LabelError, ModelError
from riskml.modeling.model import RiskModel
from riskml.modeling.train import assemble, fit_and_evaluate, read_labels_file

from .conftest import small_config

pytestmark = pytest.mark.integration


def _binomial_gap_ok(table: pd.DataFrame, z: float = 3.0, slack: float = 0.02) -> pd.Series:
    """Per group: |mean predicted PD - observed rate| within z binomial standard errors plus a slack."""
    p = table["mean_pd"].clip(1e-4, 1 - 1e-4)
    se = np.sqrt(p * (1 - p) / table["rows"])
    return (table["mean_pd"] - table["observed_rate"]).abs() <= z * se + slack


# ------------------------------------------------------------------------------------------ quality
def test_split_and_labels_on_the_small_ledger(small_data, small_result) -> None:
    s = small_result.split
    assert s.kind == "oot" and s.gap_months == 6
    assert [str(d.date()) for d in s.oot_dates] == ["2026-01-31", "2026-02-28", "2026-03-31"]
    assert s.train_dates[-1] == pd.Timestamp("2025-07-31")  # + 6 months = the first out-of-time date
    assert {"labeled", "delinquent_at_as_of"} <= set(small_data.status_counts)
    assert small_data.frame["label"].isin([0, 1]).all() and small_data.frame["label"].sum() >= 30
    summary = small_result.split_summary.set_index("part")
    assert (summary["positives"] >= 10).all()


def test_model_beats_benchmark_and_rule_out_of_time(small_result) -> None:
    m = small_result.test_metrics
    # measured on this small ledger: LightGBM 0.792, logistic 0.772, rule 0.706 on a test window with few
    # delinquent customers, too few to separate LightGBM from the benchmark (bootstrap interval -0.13 to
    # +0.13): that comparison is made on the demo-sized ledger below
    assert m["lightgbm"]["auc"] >= 0.75
    assert m["lightgbm"]["auc"] >= m["rule"]["auc"] + 0.05
    for other in ("logistic", "rule"):
        gain = small_result.comparisons[other]
        assert gain["lo"] < gain["diff"] < gain["hi"] and 0 <= gain["share_not_better"] <= 1
    for name in ("lightgbm", "logistic", "rule"):
        assert abs(m[name]["gini"] - (2 * m[name]["auc"] - 1)) < 1e-12
        assert 0 < m[name]["ks"] < 1 and 0 < m[name]["brier"] < 0.25 and 0 < m[name]["pr_auc"] <= 1
        assert m[name]["capture_top10"] <= m[name]["capture_top20"] <= m[name]["capture_top30"] <= 1


def test_calibration_on_the_test_window(small_result, small_synth) -> None:
    m = small_result.test_metrics["lightgbm"]
    assert abs(m["mean_pd"] - m["event_rate"]) < 0.03  # 6.6% predicted vs 8.5% observed
    ct = small_result.calibration_table
    assert len(ct) == 10 and ct["rows"].sum() == m["rows"]
    assert (np.diff(ct["mean_pd"]) >= 0).all()
    # 32 events in 376 rows make deciles noisy: check quintiles of predicted PD against binomial noise
    tf = small_result.test_frame
    from riskml.modeling.metrics import calibration_table

    ok = _binomial_gap_ok(calibration_table(tf["label"], tf["pd_lightgbm"], groups=5))
    assert ok.iloc[1:].all()
    # the lowest quintile (PD well under 1%) holds 4 delinquent snapshots of 2 customers whom the generator made
    # prompt payers that default suddenly: nothing in their ledger foretells it, and the model puts no one else
    # there. Any other delinquent customer in that quintile fails the test.
    low = tf.nsmallest(int(np.ceil(len(tf) / 5)), "pd_lightgbm")
    truth = small_synth.truth.set_index("customer_id")["persona"]
    assert ok.iloc[0] or set(truth.reindex(low.loc[low["label"] == 1, "customer_id"].unique())) <= {"prompt"}
    assert ct["observed_rate"].iloc[-1] > 4 * ct["observed_rate"].iloc[:5].mean()
    # the calibrator was chosen on validation by out-of-fold log loss, and both were scored on test
    scores = small_result.model.calibration_scores_
    chosen = small_result.model.calibration_method_
    assert chosen == min(scores, key=lambda k: scores[k]["log_loss"])
    assert set(small_result.calibration_on_test) == {"isotonic", "platt"}


def test_lift_table_and_importance(small_result) -> None:
    lt = small_result.lift_table
    assert len(lt) == 10 and lt["cum_capture"].iloc[-1] == pytest.approx(1.0)
    assert (np.diff(lt["cum_capture"]) >= -1e-12).all()
    assert lt["lift"].iloc[0] > 2
    imp = small_result.importance
    assert set(imp.index) == set(small_result.model.feature_names_) and (np.diff(imp.to_numpy()) <= 0).all()
    assert small_result.shap_values.shape == (len(small_result.shap_rows), len(small_result.model.feature_names_))


@pytest.mark.slow
def test_demo_sized_ledger_beats_benchmark_with_decile_calibration() -> None:
    """The demo's shape (`make demo-data`: 2,000 customers x 36 months, seed 7) with the default config."""
    from riskml.data.synth import generate_ledger

    ledger = generate_ledger(n_customers=2000, months=36, seed=7, end=pd.Timestamp("2026-09-30")).ledger
    result = fit_and_evaluate(assemble(ledger, TrainConfig()), TrainConfig())
    m = result.test_metrics
    # measured: LightGBM 0.907, logistic 0.879, rule 0.786 on 2,320 test rows (156 delinquent); the
    # gain over the benchmark is +0.028 (95% interval +0.008 to +0.050, not better in 0.0% of replicates)
    assert m["lightgbm"]["auc"] >= m["logistic"]["auc"] + 0.01
    assert m["lightgbm"]["auc"] >= m["rule"]["auc"] + 0.08
    assert result.comparisons["logistic"]["share_not_better"] <= 0.05
    assert abs(m["lightgbm"]["mean_pd"] - m["lightgbm"]["event_rate"]) < 0.01
    assert _binomial_gap_ok(result.calibration_table, slack=0.01).all()


# ------------------------------------------------------------------------------------- determinism
def test_same_data_config_and_seed_give_the_same_model(small_data, small_result) -> None:
    again = fit_and_evaluate(small_data, small_config())
    assert again.test_metrics == small_result.test_metrics
    assert again.model.booster_.model_to_string() == small_result.model.booster_.model_to_string()
    assert np.array_equal(again.test_frame["pd_lightgbm"], small_result.test_frame["pd_lightgbm"])
    assert again.comparisons == small_result.comparisons
    other = fit_and_evaluate(small_data, small_config(seed=7))
    assert other.model.booster_.model_to_string() != small_result.model.booster_.model_to_string()


# ----------------------------------------------------------------------------------- stopping early
def test_too_few_positives_says_how_many_and_what_to_change(small_ledger) -> None:
    config = small_config()
    config.label.dpd_threshold = 400
    config.label.include_write_offs = False
    with pytest.raises(LabelError) as exc:
        assemble(small_ledger, config)
    msg = str(exc.value)
    assert re.search(r"the label definition found \d positive\(s\) among [\d,]+ labeled snapshots", msg)
    assert "at least 30 are needed (label.min_positives)" in msg
    assert "label.dpd_threshold (now 400)" in msg and "label.horizon_months (now 6)" in msg
    assert "label.include_write_offs true (now false)" in msg and "--labels FILE" in msg
    assert "already delinquent at the as-of date" in msg  # says how many were left out and why
    assert re.search(r"The most days past due any invoice of this ledger reached is \d+\.", msg)


def test_max_days_past_due_counts_open_items_to_the_ledger_end() -> None:
    from riskml.modeling.train import max_days_past_due
    from tests.features.ledgers import make_ledger

    ledger = make_ledger(
        [{"customer_id": "A"}],
        invoices=[{"invoice_id": "I1", "customer_id": "A", "invoice_date": "2024-01-01", "due_date": "2024-01-31",
                   "amount": 100.0},
                  {"invoice_id": "I2", "customer_id": "A", "invoice_date": "2024-02-01", "due_date": "2024-03-02",
                   "amount": 100.0}],
        payments=[{"payment_id": "P1", "customer_id": "A", "invoice_id": "I1", "payment_date": "2024-03-11",
                   "amount": 100.0},
                  {"payment_id": "P2", "customer_id": "A", "invoice_id": None, "payment_date": "2024-03-22",
                   "amount": 5.0}],
    )
    # I1 paid 40 days after its due date; I2 still open on the ledger's last date, 20 days past due
    assert max_days_past_due(ledger) == 40.0


def test_too_few_positives_in_a_split_part(small_data) -> None:
    config = small_config()
    config.split.min_split_positives = 40
    with pytest.raises(LabelError, match=r"the \w+ part of the oot split holds \d+ positive.*"
                                         r"split.min_split_positives.*split.oot_snapshots \(now 3\)"):
        fit_and_evaluate(small_data, config)


def test_a_broken_constraint_fails_the_run(small_data, monkeypatch: pytest.MonkeyPatch) -> None:
    """If LightGBM ignored the constraints, the check after training stops the run."""
    original = RiskModel._lgb_params

    def unconstrained(self):
        params, rounds, stop = original(self)
        return {**params, "monotone_constraints": [0] * len(self.feature_names_)}, rounds, stop

    monkeypatch.setattr(RiskModel, "_lgb_params", unconstrained)
    with pytest.raises(ModelError, match="monotonicity check failed"):
        fit_and_evaluate(small_data, small_config())


def test_lightgbm_settings_override_defaults_and_reserved_ones_are_refused(tmp_path: Path) -> None:
    from riskml.config import LIGHTGBM_DEFAULTS, load_config

    assert TrainConfig(lightgbm={"learning_rate": 0.1}).lightgbm == {**LIGHTGBM_DEFAULTS, "learning_rate": 0.1}
    bad = tmp_path / "train.yaml"
    bad.write_text("lightgbm:\n  monotone_constraints: [1, 0]\n  seed: 3\n")
    with pytest.raises(ConfigError) as exc:
        load_config("train", bad)
    assert "monotone_constraints (riskml takes it from the feature registry" in str(exc.value)
    assert "seed (riskml takes it from the top-level seed)" in str(exc.value)


# -------------------------------------------------------------------------------- user labels files
def _truth_labels(synth: SyntheticLedger, dates: list[str], months: int = 6) -> pd.DataFrame:
    """Outcomes as a company might keep them: default (collection agency) within `months` of the date."""
    truth = synth.truth.set_index("customer_id")["default_date"]
    rows = []
    for d in pd.to_datetime(dates):
        end = d + pd.DateOffset(months=months)
        for cid, when in truth.items():
            if pd.isna(when) or when > d:
                rows.append({"customer_id": cid, "as_of": d.date().isoformat(),
                             "label": int(pd.notna(when) and d < when <= end)})
    return pd.DataFrame(rows)


def test_user_labels_train_out_of_time(small_synth, small_ledger, tmp_path: Path) -> None:
    dates = [str(d.date()) for d in pd.date_range("2025-03-31", "2026-03-31", freq="ME")]
    path = tmp_path / "labels.csv"
    _truth_labels(small_synth, dates).to_csv(path, index=False)
    labels = read_labels_file(path)
    data = assemble(small_ledger, small_config(), labels=labels, labels_source=str(path))
    assert data.label_source == str(path) and "user-supplied" in data.label_definition
    result = fit_and_evaluate(data, small_config())
    assert result.split.kind == "oot"
    assert result.test_metrics["lightgbm"]["auc"] > 0.7


def test_user_labels_with_one_date_use_a_grouped_split_and_say_so(small_synth, small_ledger,
                                                                  tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    _truth_labels(small_synth, ["2025-06-30"], months=12).to_csv(path, index=False)
    config = small_config()
    config.label.min_positives = 10
    config.split.min_split_positives = 3
    data = assemble(small_ledger, config, labels=read_labels_file(path), labels_source=str(path))
    assert data.status_counts["not_started"] > 0 and data.notes  # customers onboarded later: said, not hidden
    said = []
    result = fit_and_evaluate(data, config, echo=said.append)
    assert result.split.kind == "grouped"
    assert any(s.startswith("WARNING: grouped by customer (NOT out of time)") for s in said)


def _write(tmp_path: Path, text: str, name: str = "labels.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "message"), [
    ("customer_id,as_of\nC1,2025-01-31\n", r"missing column\(s\) \['label'\]"),
    ("customer_id,as_of,label\nC1,2025-01-31,1\nC2,soon,0\n", r"row 3, column as_of: expected a date like 2025-06-30 \(got 'soon'\)"),
    ("customer_id,as_of,label\nC1,2025-01-31,yes\n", r"row 2, column label: must be 0 or 1 \(got 'yes'\)"),
    ("customer_id,as_of,label\nC1,2025-01-31,2\n", r"row 2, column label: must be 0 or 1"),
    ("customer_id,as_of,label\n,2025-01-31,1\n", r"row 2, column customer_id: empty"),
    ("customer_id,as_of,label\nC1,2025-01-31,1\nC1,2025-01-31,0\n", r"row 3: customer C1 appears twice"),
    ("customer_id,as_of,label\n", r"has no rows"),
])
def test_bad_labels_files_name_row_and_column(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(LabelError, match=message) as exc:
        read_labels_file(path)
    assert str(path) in str(exc.value)


def test_labels_file_reading(tmp_path: Path) -> None:
    with pytest.raises(LabelError, match="labels file not found"):
        read_labels_file(tmp_path / "nope.csv")
    with pytest.raises(LabelError, match="cannot read the labels file"):
        read_labels_file(_write(tmp_path, "x", "labels.txt"))
    got = read_labels_file(_write(tmp_path, "customer_id,as_of,label\n00123,2025-01-31,true\n 7 ,2025-02-28,0\n"))
    assert got["customer_id"].tolist() == ["00123", "7"]  # ids stay text, trimmed
    assert got["label"].tolist() == [1, 0] and got["as_of"].dt.day.tolist() == [31, 28]


def test_labels_for_unknown_customers_or_dates_outside_the_ledger(small_ledger, tmp_path: Path) -> None:
    cid = str(small_ledger.customers["customer_id"].iloc[0])
    unknown = read_labels_file(_write(tmp_path, f"customer_id,as_of,label\n{cid},2025-06-30,0\nNOPE,2025-06-30,1\n"))
    with pytest.raises(LabelError, match=r"1 row\(s\) name customers not in the ledger's master, e.g. rows \[3\]"):
        assemble(small_ledger, small_config(), labels=unknown, labels_source="labels.csv")
    late = read_labels_file(_write(tmp_path, f"customer_id,as_of,label\n{cid},2030-01-31,0\n"))
    with pytest.raises(LabelError, match=r"row 2, column as_of: 2030-01-31 is outside the ledger's dates"):
        assemble(small_ledger, small_config(), labels=late, labels_source="labels.csv")


def test_too_few_positives_in_a_labels_file(small_ledger, tmp_path: Path) -> None:
    ids = small_ledger.customers["customer_id"].astype("str").head(50)
    text = "customer_id,as_of,label\n" + "".join(f"{c},2025-06-30,{int(i < 3)}\n" for i, c in enumerate(ids))
    labels = read_labels_file(_write(tmp_path, text))
    with pytest.raises(LabelError, match=r"labels.csv holds \d positive\(s\) among 40 labeled snapshots \(left out: 10 not yet "
                                          r"customers\).*Supply more positive labels"):
        assemble(small_ledger, small_config(), labels=labels, labels_source="labels.csv")


def test_excluded_features_are_left_out(small_ledger) -> None:
    data = assemble(small_ledger, small_config(), FeatureConfig(exclude=["dbt_avg_3m", "history_months"]))
    assert "dbt_avg_3m" not in data.features and "history_months" not in data.features
    assert "dbt_avg_3m" not in data.monotone
    kept = set(assemble(small_ledger, small_config()).features) - {"dbt_avg_3m", "history_months"}
    assert kept <= set(data.features)


def test_calibration_per_persona_on_the_test_window(small_data) -> None:
    from riskml.cli.train import persona_segmenter
    from riskml.config import ScoringConfig
    from riskml.modeling.card import model_card
    from riskml.scoring.personas import PERSONAS

    config = small_config()
    result = fit_and_evaluate(small_data, config, segmenter=persona_segmenter(ScoringConfig()),
                              segment_order=list(PERSONAS))
    pc = result.persona_calibration
    tf = result.test_frame
    assert pc["rows"].sum() == len(tf) and set(pc["group"]) <= set(PERSONAS)
    # each persona's figures are those of its test rows
    for _, row in pc.iterrows():
        rows = tf[tf["persona"] == row["group"]]
        assert row["mean_pd"] == pytest.approx(rows["pd_lightgbm"].mean())
        assert row["observed_rate"] == pytest.approx(rows["label"].mean())
    card = model_card(result, config, {})
    assert "By collector persona" in card and "| persona | rows | events | mean PD | observed |" in card
    # without a segmenter nothing changes
    assert "By collector persona" not in model_card(dataclasses.replace(result, persona_calibration=pd.DataFrame()),
                                                    config, {})
