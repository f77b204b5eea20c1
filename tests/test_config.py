"""The YAML files in configs/ document the defaults: they must parse and equal them; bad values say
what was expected and what was given."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskml.config import SECTIONS, load_config
from riskml.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_shipped_config_equals_defaults(section: str) -> None:
    path = CONFIGS / f"{section}.yaml"
    assert path.exists(), f"configs/{section}.yaml is missing"
    assert load_config(section, path) == SECTIONS[section](), f"configs/{section}.yaml drifted from the defaults"


def test_no_file_gives_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config("features") == SECTIONS["features"]()


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


def test_unknown_section() -> None:
    with pytest.raises(ConfigError, match="one of"):
        load_config("nope")


def test_unquoted_yaml_date_is_read_as_iso_text(tmp_path: Path) -> None:
    path = tmp_path / "data.yaml"
    path.write_text("as_of: 2026-09-30\n")
    assert load_config("data", path).as_of == "2026-09-30"
