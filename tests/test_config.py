"""Configuration: the defaults shipped inside the package load and validate (they may be tuned away from
the pydantic defaults), layered under ``./configs/`` and ``--config``; an installed riskml finds them from
any directory; bad values say what was expected and what was given."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

import riskml
from riskml import config as config_mod
from riskml.config import SECTIONS, config_files, load_config, read_yaml, shipped_config
from riskml.errors import ConfigError

REPO_CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_shipped_config_loads_and_validates(section: str) -> None:
    path = shipped_config(section)
    assert path.is_file(), f"the package ships no {path}"
    raw = read_yaml(path)
    assert isinstance(raw, dict) and raw, f"{path} holds no settings"
    # the file on its own is a valid config, and every key it sets is one riskml knows (extra="forbid")
    SECTIONS[section].model_validate(raw)
    assert load_config(section, path) == SECTIONS[section].model_validate(raw)


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_repository_configs_are_the_shipped_ones(section: str) -> None:
    repo = REPO_CONFIGS / f"{section}.yaml"
    if not repo.exists():
        pytest.skip("no repository configs/ beside this package")
    assert repo.read_bytes() == shipped_config(section).read_bytes(), (
        f"configs/{section}.yaml differs from the package's {shipped_config(section)}")


def test_no_local_file_gives_the_shipped_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for section, model in SECTIONS.items():
        assert config_files(section) == [shipped_config(section)]
        assert load_config(section) == model.model_validate(read_yaml(shipped_config(section)))


def test_layers_pydantic_shipped_local_and_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = tmp_path / "pkg"
    shipped.mkdir()
    (shipped / "scoring.yaml").write_text("limits:\n  max_days_beyond_terms: 33.5\n  grace_days: 1234\nn_reasons: 4\n")
    monkeypatch.setattr(config_mod, "PACKAGE_CONFIG_DIR", shipped)
    work = tmp_path / "work"
    (work / "configs").mkdir(parents=True)
    monkeypatch.chdir(work)
    defaults = SECTIONS["scoring"]()
    got = load_config("scoring")  # the shipped file over the pydantic defaults
    assert (got.limits.max_days_beyond_terms, got.limits.grace_days, got.n_reasons) == (33.5, 1234, 4)
    assert got.actions == defaults.actions
    (work / "configs" / "scoring.yaml").write_text("limits:\n  grace_days: 99\n")
    got = load_config("scoring")  # ./configs/ over the shipped file, key by key within a section
    assert (got.limits.max_days_beyond_terms, got.limits.grace_days, got.n_reasons) == (33.5, 99, 4)
    given = tmp_path / "mine.yaml"
    given.write_text("n_reasons: 2\n")
    got = load_config("scoring", given)  # --config replaces ./configs/, still over the shipped file
    assert (got.limits.max_days_beyond_terms, got.limits.grace_days, got.n_reasons) == (33.5, 1234, 2)
    assert config_files("scoring", given) == [shipped / "scoring.yaml", given]


def test_a_mapping_setting_is_replaced_not_merged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = tmp_path / "pkg"
    shipped.mkdir()
    (shipped / "features.yaml").write_text("exclude: [dbt_avg_3m, history_months]\nlate_grace_days: 3\n")
    monkeypatch.setattr(config_mod, "PACKAGE_CONFIG_DIR", shipped)
    mine = tmp_path / "features.yaml"
    mine.write_text("exclude: [oldest_dpd]\n")
    got = load_config("features", mine)
    assert got.exclude == ["oldest_dpd"] and got.late_grace_days == 3


def test_nothing_shipped_gives_the_pydantic_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config_mod, "PACKAGE_CONFIG_DIR", tmp_path / "none")
    monkeypatch.chdir(tmp_path)
    assert load_config("train") == SECTIONS["train"]()


@pytest.mark.slow
def test_an_installed_riskml_runs_from_another_directory(tmp_path: Path) -> None:
    """riskml copied as an installed package (the shipped YAML as real files), run from a directory with
    no configs/: it uses the shipped defaults (here a tuned grace period that makes nobody late), and a
    configs/ there overrides them."""
    site = tmp_path / "site"
    shutil.copytree(Path(riskml.__file__).parent, site / "riskml",
                    ignore=shutil.ignore_patterns("__pycache__"))  # follows the checkout's configs link
    tuned = site / "riskml" / "configs" / "features.yaml"
    assert tuned.is_file() and not tuned.is_symlink()
    tuned.write_text(yaml.safe_dump({**read_yaml(tuned), "late_grace_days": 400}))
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}

    def riskml_cli(*args: str) -> None:
        run = subprocess.run([sys.executable, "-m", "riskml.cli.main", *args], cwd=work, env=env,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr

    riskml_cli("synth", "--out", "ledger", "--customers", "40", "--months", "14", "--seed", "3",
               "--end", "2026-09-30")
    riskml_cli("features", "--data", "ledger", "--as-of", "2026-09-30", "--out", "shipped.parquet")
    assert (pd.read_parquet(work / "shipped.parquet")["late_paid_count_12m"] == 0).all()
    (work / "configs").mkdir()
    (work / "configs" / "features.yaml").write_text("late_grace_days: 0\n")
    riskml_cli("features", "--data", "ledger", "--as-of", "2026-09-30", "--out", "local.parquet")
    assert (pd.read_parquet(work / "local.parquet")["late_paid_count_12m"] > 0).any()


def test_bad_value_names_file_key_and_value(tmp_path: Path) -> None:
    bad = tmp_path / "features.yaml"
    bad.write_text("settled_share: 1.5\n")
    with pytest.raises(ConfigError) as exc:
        load_config("features", bad)
    msg = str(exc.value)
    assert str(bad) in msg and "settled_share" in msg and "1.5" in msg


def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "features.yaml"
    bad.write_text("setled_share: 0.9\n")
    with pytest.raises(ConfigError, match="setled_share"):
        load_config("features", bad)


def test_not_a_mapping(tmp_path: Path) -> None:
    bad = tmp_path / "features.yaml"
    bad.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config("features", bad)


def test_missing_given_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config("features", tmp_path / "nope.yaml")


def test_unknown_section() -> None:
    with pytest.raises(ConfigError, match="one of"):
        load_config("nope")


def test_unquoted_yaml_date_is_read_as_iso_text(tmp_path: Path) -> None:
    path = tmp_path / "data.yaml"
    path.write_text("as_of: 2026-09-30\n")
    assert load_config("data", path).as_of == "2026-09-30"
