"""The real-data benchmark module's own logic on tiny inputs (no ../shared needed): skipping without the
data sets, subsampling sources, the train config it writes, the split it recomputes and the section text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from benchmarks import real_data as rd


def test_skips_cleanly_without_the_data_sets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKML_DATASETS", str(tmp_path / "absent"))
    text = rd.run()
    assert text.startswith("## Real data (issue 8)")
    assert "_Skipped: the public data sets were not found" in text and "../shared/datasets" in text


def test_unknown_subset_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKML_DATASETS", str(tmp_path))
    monkeypatch.setenv("RISKML_BENCH_REAL_ONLY", "taiwan,nope")
    with pytest.raises(SystemExit, match=r"RISKML_BENCH_REAL_ONLY must name some of .*got \['nope'\]"):
        rd.run()


def test_subsample_keeps_headers_and_order(tmp_path: Path) -> None:
    csv = tmp_path / "src" / "a.csv"
    csv.parent.mkdir()
    csv.write_text("ID,x\n" + "".join(f"{i},{i * 10}\n" for i in range(1, 101)), encoding="utf-8")
    out = rd.subsample(csv, 10, tmp_path)
    df = pd.read_csv(out)
    assert out != csv and len(df) == 10 and list(df.columns) == ["ID", "x"]
    assert df["ID"].is_monotonic_increasing and (df["x"] == df["ID"] * 10).all()
    assert rd.subsample(csv, 500, tmp_path) == csv  # small enough: the source itself

    arff = tmp_path / "src" / "1year.arff"
    arff.write_text("@relation r\n@attribute a numeric\n@attribute class {0,1}\n@data\n"
                    + "".join(f"{i},0\n" for i in range(50)), encoding="utf-8")
    lines = rd.subsample(arff, 5, tmp_path).read_text(encoding="utf-8").splitlines()
    assert lines[:4] == ["@relation r", "@attribute a numeric", "@attribute class {0,1}", "@data"]
    assert len(lines) == 9


def test_train_config_merges_over_the_repository_defaults(tmp_path: Path) -> None:
    from riskml.config import load_config

    path = rd.train_config(tmp_path / "t.yaml", {"model_name": "m", "label": {"dpd_threshold": 15}})
    cfg = load_config("train", path)
    assert cfg.model_name == "m" and cfg.label.dpd_threshold == 15
    assert cfg.label.horizon_months == load_config("train", rd.ROOT / "configs" / "train.yaml").label.horizon_months


def test_recomputed_split_matches_the_training_split(tmp_path: Path) -> None:
    """The benchmark's same-split baselines rely on this: grouped_split assigns the same customers."""
    from riskml.config import load_config
    from riskml.modeling.split import grouped_split

    path = rd.train_config(tmp_path / "t.yaml", {})
    cfg = load_config("train", path)
    ids = pd.Series([f"C{i}" for i in range(2000)], dtype="str")
    y = (np.arange(2000) % 7 == 0).astype(int)
    masks = rd.test_masks(ids, path, y)
    split = grouped_split(pd.DataFrame({"customer_id": ids, "as_of": pd.Timestamp("2020-01-31")}), cfg.split,
                          cfg.seed, y)
    for part in ("train", "valid", "test"):
        assert np.array_equal(masks[part], getattr(split, part))
    # stratified: every part holds the same share of positives, up to one customer
    for part in ("train", "valid", "test"):
        m = getattr(split, part)
        assert abs(y[m].sum() - y.mean() * m.sum()) <= 1.5


def test_auc_interval_brackets_the_estimate() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    s = y + rng.normal(0, 1.0, 400)
    r = rd.auc_with_interval(y, s)
    assert r["lo"] < r["auc"] < r["hi"] and 0.6 < r["auc"] < 0.9


def test_failed_step_is_reported_not_raised() -> None:
    case = rd.GERMAN
    out = rd.Outcome(case)
    step = rd.Step("train", [], 1.0, 1, "", "warning: x\nerror: the labels file has no rows\n")
    assert not rd._step(out, step)
    text = rd.report([out], Path("/data"), None)
    assert "**Not measured:** `riskml train` failed (exit 1): the labels file has no rows" in text
    assert "| german | not measured (below) |" in text
