"""``riskml features --engine spark`` and ``riskml score --engine spark`` end to end on Spark
``local[2]``: the same customers, values, grades, actions and reason codes as the pandas engine on the
same generated ledger (the one with every kind of row error, so validation is part of what agrees)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from riskml.cli.main import app
from riskml.data.validate import load_ledger
from riskml.features import build_features
from tests.spark.conftest import AS_OF, SPARK_WARNINGS

pytestmark = [pytest.mark.spark, pytest.mark.slow, *SPARK_WARNINGS]
runner = CliRunner()


def _invoke(*args: str | Path) -> object:
    res = runner.invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, f"{res.output}\n{res.stderr}\n{res.exception!r}"
    return res


def assert_same_rows(got: pd.DataFrame, expected: pd.DataFrame, skip: tuple[str, ...] = ()) -> None:
    """Same columns in the same order, same customers, numbers within 1e-9, texts and everything else
    equal (a customer's features depend on its own rows only, whatever group Spark puts it in)."""
    assert list(got.columns) == list(expected.columns)
    got = got.sort_values("customer_id").reset_index(drop=True)
    expected = expected.sort_values("customer_id").reset_index(drop=True)
    assert got["customer_id"].tolist() == expected["customer_id"].tolist()
    for col in expected.columns:
        if col in skip:
            continue
        e, g = expected[col], got[col]
        if e.dtype.kind == "f":
            assert np.allclose(g.to_numpy("float64"), e.to_numpy("float64"), rtol=1e-9, atol=1e-9, equal_nan=True), col
        elif e.dtype.kind == "M":
            assert (pd.to_datetime(g).astype("datetime64[ns]") == e.astype("datetime64[ns]")).all(), col
        else:
            assert g.astype("str").tolist() == e.astype("str").tolist(), col


def test_features_on_spark_equal_the_pandas_features(spark, dirty_ledger_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "features.parquet"
    res = _invoke("features", "--data", dirty_ledger_dir, "--as-of", AS_OF, "--out", out, "--engine", "spark")
    ledger, report = load_ledger(dirty_ledger_dir)
    assert f"{report.n_rejected:,} rows rejected" in res.output
    assert out.is_dir() and (out / "_SUCCESS").exists()
    expected = build_features(ledger, AS_OF)
    assert_same_rows(pd.read_parquet(out), expected)


def test_scores_on_spark_equal_the_pandas_scores(spark, dirty_ledger_dir: Path, registered_model: str,
                                                 tmp_path: Path) -> None:
    previous = tmp_path / "previous.parquet"  # an earlier run: grade moves since then trigger reviews
    _invoke("score", "--data", dirty_ledger_dir, "--as-of", "2026-03-31", "--out", previous, "--model", registered_model)
    common = ["--data", dirty_ledger_dir, "--as-of", AS_OF, "--model", registered_model, "--previous", previous]
    _invoke("score", *common, "--out", tmp_path / "pandas.parquet")
    res = _invoke("score", *common, "--out", tmp_path / "spark.parquet", "--engine", "spark")
    assert "Run summary" in res.output and "no contributions file" in res.output

    expected = pd.read_parquet(tmp_path / "pandas.parquet")
    got = pd.read_parquet(tmp_path / "spark.parquet")
    assert_same_rows(got, expected, skip=("data_fingerprint",))
    assert got["data_fingerprint"].nunique() == 1 and got["data_fingerprint"].iloc[0].startswith("spark-")
    assert expected["scored"].all() and expected["grade"].nunique() > 3  # a real model, a spread of grades
    assert expected["review_reason"].str.contains("previous score").any()  # the previous run was used
    assert not (tmp_path / "spark.contributions.parquet").exists()


def test_spark_scoring_refuses_what_it_cannot_do(spark, small_ledger_dir: Path, tmp_path: Path) -> None:
    base = ["score", "--data", str(small_ledger_dir), "--as-of", AS_OF, "--engine", "spark"]
    res = runner.invoke(app, [*base, "--out", str(tmp_path / "s.parquet"), "--contributions", str(tmp_path / "c.parquet")])
    assert res.exit_code == 1 and "--contributions: not available with --engine spark" in res.stderr
    res = runner.invoke(app, [*base, "--out", str(tmp_path / "s.csv")])
    assert res.exit_code == 1 and "writes Parquet" in res.stderr
    model_dir = tmp_path / "bare_model"
    model_dir.mkdir()
    (model_dir / "model.json").write_text("{}")
    res = runner.invoke(app, [*base, "--out", str(tmp_path / "s.parquet"), "--model", str(model_dir)])
    assert res.exit_code == 1 and "scores with an MLflow model" in res.stderr
    assert "Traceback" not in res.output + res.stderr
