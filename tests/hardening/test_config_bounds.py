"""Issue 14, items 7, 8 and 10 (config side): hostile config files are refused fast with one bounded
line; LightGBM settings are checked when the config is read; non-finite numbers are refused where they
make no sense."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskml.cli.main import app
from riskml.config import MAX_CONFIG_BYTES, load_config
from riskml.errors import ConfigError

runner = CliRunner()
ALIAS_BOMB = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    bomb = tmp_path / "data.yaml"
    bomb.write_text(ALIAS_BOMB)
    start = time.process_time()
    with pytest.raises(ConfigError, match="aliases") as exc:
        load_config("data", bomb)
    assert time.process_time() - start < 2.0  # the bomb expands to 387 million values: never built
    assert len(str(exc.value)) < 300


def test_an_alias_bomb_in_the_data_directory_is_one_line_from_the_cli(small_ledger_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    for f in small_ledger_dir.glob("*.csv"):
        (data / f.name).write_bytes(f.read_bytes())
    (data / "data.yaml").write_text(ALIAS_BOMB)
    res = runner.invoke(app, ["validate", "--data", str(data), "--rejects", str(tmp_path / "r.csv")])
    assert res.exit_code == 1 and "aliases" in res.output and len(res.output) < 1000


def test_recursive_aliases_and_huge_files_are_refused(tmp_path: Path) -> None:
    rec = tmp_path / "rec.yaml"
    rec.write_text("column_map: &a\n  customers: *a\n")
    with pytest.raises(ConfigError):
        load_config("data", rec)
    big = tmp_path / "big.yaml"
    big.write_text("as_of: '" + "x" * (MAX_CONFIG_BYTES + 10) + "'\n")
    with pytest.raises(ConfigError, match="at most"):
        load_config("data", big)


def test_values_echoed_in_errors_are_bounded(tmp_path: Path) -> None:
    cfg = tmp_path / "data.yaml"
    cfg.write_text("delimiter: '" + ";" * 50_000 + "'\n")
    with pytest.raises(ConfigError) as exc:
        load_config("data", cfg)
    assert len(str(exc.value)) < 600 and "50,00" in str(exc.value)


@pytest.mark.parametrize("key,value", [
    ("overpayment_tolerance_pct", ".inf"), ("overpayment_tolerance_abs", ".nan"), ("overpayment_tolerance_pct", "-.inf"),
])
def test_non_finite_numbers_are_refused(tmp_path: Path, key: str, value: str) -> None:
    cfg = tmp_path / "data.yaml"
    cfg.write_text(f"{key}: {value}\n")
    with pytest.raises(ConfigError, match=key):
        load_config("data", cfg)


def test_the_approval_levels_keep_inf_as_no_bound() -> None:
    assert load_config("scoring").approvals.levels[-1].max_limit == float("inf")


@pytest.mark.parametrize("setting,message", [
    ("learning_rate: -1", "learning_rate must be a number > 0"),
    ("num_leaves: 1", "num_leaves must be a whole number >= 2"),
    ("objective: multiclass", "objective must be binary"),
    ("objective: regression", "objective must be binary"),
    ("lerning_rate: 0.1", "lerning_rate is not a LightGBM parameter"),
    ("bagging_fraction: 1.5", "bagging_fraction must be a number > 0 and <= 1"),
])
def test_bad_lightgbm_settings_are_refused_before_any_work(tmp_path: Path, small_ledger_dir: Path, setting: str,
                                                           message: str) -> None:
    cfg = tmp_path / "train.yaml"
    cfg.write_text(f"lightgbm:\n  {setting}\n")
    with pytest.raises(ConfigError, match=message):
        load_config("train", cfg)
    start = time.process_time()
    res = runner.invoke(app, ["train", "--data", str(small_ledger_dir), "--config", str(cfg)])
    assert res.exit_code == 1 and message in res.output and "Traceback" not in res.output
    assert time.process_time() - start < 10  # refused before the ledger's features are built


def test_good_lightgbm_aliases_pass(tmp_path: Path) -> None:
    cfg = tmp_path / "train.yaml"
    cfg.write_text("lightgbm:\n  eta: 0.1\n  min_data_in_leaf: 20\n  colsample_bytree: 0.9\n")
    assert load_config("train", cfg).lightgbm["eta"] == 0.1
