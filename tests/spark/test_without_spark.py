"""Without the optional extra, ``--engine spark`` says how to install it (exit 1, no traceback) and the
pandas engine keeps working; the helpers that need no Spark, tested without it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from riskml.cli.main import app
from riskml.errors import ConfigError, ModelError, RiskmlError
from riskml.spark.output import _AUTHORITY_SCHEMES, as_location, check_parquet_target
from riskml.spark.score import pyfunc_uri
from riskml.spark.tables import strftime_to_java

runner = CliRunner()


@pytest.fixture()
def no_pyspark(monkeypatch: pytest.MonkeyPatch) -> None:
    """``import pyspark`` fails, as where the extra is not installed."""
    monkeypatch.setitem(sys.modules, "pyspark", None)


@pytest.mark.parametrize("command", ["features", "score"])
def test_engine_spark_without_pyspark_says_how_to_install(no_pyspark, command: str, tmp_path: Path) -> None:
    res = runner.invoke(app, [command, "--data", str(tmp_path), "--as-of", "2026-09-30",
                              "--out", str(tmp_path / "out.parquet"), "--engine", "spark"])
    assert res.exit_code == 1
    assert isinstance(res.exception, SystemExit)
    assert "pip install 'riskml[spark]'" in res.stderr and "pyspark is not installed" in res.stderr
    assert "Traceback" not in res.output + res.stderr


def test_pandas_engine_works_without_pyspark(no_pyspark, small_ledger_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "features.parquet"
    res = runner.invoke(app, ["features", "--data", str(small_ledger_dir), "--as-of", "2026-09-30", "--out", str(out)])
    assert res.exit_code == 0, res.output + res.stderr
    assert out.is_file()


@pytest.mark.parametrize("command", ["features", "score"])
def test_unknown_engine_is_a_clean_error(command: str, tmp_path: Path) -> None:
    res = runner.invoke(app, [command, "--data", str(tmp_path), "--as-of", "2026-09-30",
                              "--out", str(tmp_path / "o.parquet"), "--engine", "dask"])
    assert res.exit_code == 1 and "--engine must be one of pandas, spark; got 'dask'" in res.stderr


def test_strftime_formats_become_java_patterns() -> None:
    assert strftime_to_java("%d/%m/%Y") == "d/M/yyyy"
    assert strftime_to_java("%Y%m%d") == "yyyyMMdd"
    assert strftime_to_java("%d.%m.%y") == "d.M.yy"
    assert strftime_to_java("%Y-%m-%dT%H:%M:%S") == "yyyy-M-d'T'H:m:s"
    with pytest.raises(ConfigError, match="does not support '%A'"):
        strftime_to_java("%A %d")


@given(scheme=st.sampled_from(_AUTHORITY_SCHEMES),
       parts=st.lists(st.from_regex(r"[a-z0-9][a-z0-9._-]{0,7}", fullmatch=True), min_size=1, max_size=4))
@pytest.mark.slow
def test_uris_survive_typer_paths(scheme: str, parts: list[str]) -> None:
    uri = f"{scheme}://" + "/".join(parts)  # bucket (or container, host) and key segments
    assert as_location(Path(uri)) == uri  # Path() drops the second slash; as_location puts it back
    assert as_location(uri) == uri


def test_local_paths_and_single_slash_uris_are_left_alone() -> None:
    assert as_location(Path("data/demo")) == "data/demo"
    assert as_location("dbfs:/mnt/ledger") == "dbfs:/mnt/ledger"
    assert as_location("file:/tmp/ledger") == "file:/tmp/ledger"


def test_spark_outputs_are_parquet_and_models_mlflow_models(tmp_path: Path) -> None:
    assert check_parquet_target("out/scores.parquet") == "out/scores.parquet"
    with pytest.raises(RiskmlError, match="writes Parquet"):
        check_parquet_target("out/scores.csv")
    assert pyfunc_uri("models:/m@champion") == "models:/m@champion"
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    assert pyfunc_uri(str(tmp_path)) == str(tmp_path.resolve())
    with pytest.raises(ModelError, match="riskml model directory"):
        pyfunc_uri(str(tmp_path / "elsewhere"))
