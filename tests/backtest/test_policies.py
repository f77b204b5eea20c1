"""Policies: the champion, partial challenger files deep-merged over it, sweeps, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskml.backtest.policies import deep_merge, load_policies, parse_sweep
from riskml.config import ScoringConfig
from riskml.errors import ConfigError


def test_deep_merge_merges_mappings_and_replaces_the_rest() -> None:
    base = {"a": {"x": 1, "y": {"p": 1, "q": 2}}, "b": [1, 2], "c": 3}
    out = deep_merge(base, {"a": {"y": {"q": 9}}, "b": [7]})
    assert out == {"a": {"x": 1, "y": {"p": 1, "q": 9}}, "b": [7], "c": 3}
    assert base["a"]["y"]["q"] == 2  # not mutated


def test_challenger_file_holds_only_its_overrides(tmp_path: Path) -> None:
    champ = tmp_path / "champ.yaml"
    champ.write_text("actions:\n  hold_past_due_days: 20\n")
    ch = tmp_path / "strict.yaml"
    ch.write_text("limits:\n  lgd: 0.8\n")
    pols = load_policies([champ, ch])
    assert [p.name for p in pols] == ["champion", "strict"]
    assert pols[0].config.actions.hold_past_due_days == 20
    # the challenger inherits the champion's settings, not the defaults
    assert pols[1].config.actions.hold_past_due_days == 20 and pols[1].config.limits.lgd == 0.8
    assert pols[1].config.limits.gross_margin == ScoringConfig().limits.gross_margin


def test_unknown_key_in_a_policy_file_is_refused_clearly(tmp_path: Path) -> None:
    ch = tmp_path / "typo.yaml"
    ch.write_text("actions:\n  hold_past_due_dayz: 45\n")
    with pytest.raises(ConfigError) as exc:
        load_policies([Path("configs/scoring.yaml"), ch])
    msg = str(exc.value)
    assert str(ch) in msg and "actions.hold_past_due_dayz" in msg and "unknown setting" in msg


def test_bad_value_in_a_policy_file(tmp_path: Path) -> None:
    ch = tmp_path / "bad.yaml"
    ch.write_text("limits:\n  revoke_grade: '11'\n")
    with pytest.raises(ConfigError, match="revoke_grade"):
        load_policies([Path("configs/scoring.yaml"), ch])


def test_sweep_makes_one_policy_per_value() -> None:
    pols = load_policies(None, ["actions.hold_past_due_days=15,45", "limits.grade_multiplier.7=0.5"])
    assert [p.name for p in pols] == ["champion", "hold_past_due_days=15", "hold_past_due_days=45", "7=0.5"]
    assert [p.config.actions.hold_past_due_days for p in pols[:3]] == [30, 15, 45]
    assert pols[3].config.limits.grade_multiplier["7"] == 0.5
    assert parse_sweep("limits.lgd=0.4, 0.6") == ("limits.lgd", [0.4, 0.6])


@pytest.mark.parametrize(("spec", "match"), [
    ("actions.hold_past_due_dayz=15", "'hold_past_due_dayz' is not a setting of actions"),
    ("action.hold_past_due_days=15", "'action' is not a setting of the scoring config"),
    ("actions.hold_past_due_days.x=1", "is a single setting, not a section"),
    ("actions.hold_past_due_days", "must look like"),
    ("actions.hold_past_due_days=15,,30", "comma-separated"),
    ("actions.hold_past_due_days=-5", r"--sweep actions.hold_past_due_days=-5: actions.hold_past_due_days"),
    ("actions.hold_past_due_days=15,15", "unique"),
])
def test_bad_sweeps_are_refused_clearly(spec: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_policies(None, [spec])


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_policies([Path("configs/scoring.yaml"), tmp_path / "nope.yaml"])
