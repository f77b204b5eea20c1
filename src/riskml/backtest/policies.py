"""The policies a backtest compares: the champion (a full scoring config), challengers (files that may
hold only the settings they change, deep-merged over the champion) and sweeps (one policy per value of a
setting, ``actions.hold_past_due_days=15,30,45,60``).

Every policy is a validated :class:`~riskml.config.ScoringConfig`: an unknown key or a wrong value stops
the run with the file (or the sweep), the key and the value.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from riskml.config import ScoringConfig, load_config
from riskml.errors import ConfigError

CHAMPION = "champion"


@dataclass(frozen=True)
class Policy:
    """A named scoring config: ``name`` labels its rows, ``source`` says where it came from."""

    name: str
    config: ScoringConfig
    source: str


def deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` laid over it: mappings merge key by key, anything else is replaced."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _validate(raw: dict[str, Any], where: str) -> ScoringConfig:
    try:
        return ScoringConfig.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown setting (not a key of the scoring config; check the spelling and the section)"
            lines.append(f"{where}: {loc}: {msg} (got {err.get('input')!r})")
        raise ConfigError("\n".join(lines)) from None


def read_overrides(path: Path) -> dict[str, Any]:
    """The mapping of settings in a challenger file (may be partial)."""
    if not path.exists():
        raise ConfigError(f"{path}: policy file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of scoring settings; got {type(raw).__name__}")
    return raw


def challenger(champion: ScoringConfig, overrides: dict[str, Any], where: str) -> ScoringConfig:
    """The champion's config with ``overrides`` deep-merged over it, validated."""
    return _validate(deep_merge(champion.model_dump(mode="json"), overrides), where)


def _field_path(path: str) -> list[str]:
    """The dotted path checked against the ScoringConfig model (sections and fields must exist)."""
    parts = path.split(".")
    if not path or any(not p for p in parts):
        raise ConfigError(f"--sweep: {path!r} is not a dotted setting name such as actions.hold_past_due_days")
    model: type[BaseModel] = ScoringConfig
    for i, part in enumerate(parts):
        fields = model.model_fields
        if part not in fields:
            where = ".".join(parts[:i]) or "the scoring config"
            raise ConfigError(f"--sweep: {path}: {part!r} is not a setting of {where} "
                              f"(settings: {', '.join(fields)})")
        ann = fields[part].annotation
        if i == len(parts) - 1:
            break
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
        elif getattr(ann, "__origin__", None) is dict and i == len(parts) - 2:
            break  # a key of a mapping such as limits.grade_multiplier.7: the validator checks it
        else:
            raise ConfigError(f"--sweep: {path}: {'.'.join(parts[:i + 1])} is a single setting, not a section")
    return parts


def parse_sweep(spec: str) -> tuple[str, list[Any]]:
    """``"actions.hold_past_due_days=15,30"`` -> (path, [15, 30]); values read as YAML scalars."""
    if "=" not in spec:
        raise ConfigError(f"--sweep must look like actions.hold_past_due_days=15,30,45,60; got {spec!r}")
    path, _, values = spec.partition("=")
    path = path.strip()
    _field_path(path)
    items = [v.strip() for v in values.split(",")]
    if not items or any(v == "" for v in items):
        raise ConfigError(f"--sweep {path}: give one or more comma-separated values; got {values!r}")
    parsed = []
    for v in items:
        try:
            parsed.append(yaml.safe_load(v))
        except yaml.YAMLError:
            raise ConfigError(f"--sweep {path}: {v!r} is not a value") from None
    return path, parsed


def _nest(path: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    cur = out
    parts = path.split(".")
    for p in parts[:-1]:
        cur[p] = {}
        cur = cur[p]
    cur[parts[-1]] = value
    return out


def sweep_policies(base: Policy, spec: str) -> list[Policy]:
    """One policy per value of the sweep, each the base policy with that one setting changed."""
    path, values = parse_sweep(spec)
    leaf = path.split(".")[-1]
    out = []
    for v in values:
        name = f"{leaf}={v}"
        cfg = challenger(base.config, _nest(path, v), f"--sweep {path}={v}")
        out.append(Policy(name, cfg, f"{base.name} with {path}={v}"))
    return out


def load_policies(paths: list[Path] | None = None, sweeps: list[str] | None = None) -> list[Policy]:
    """The champion (first ``--policy``, a full config; default ``configs/scoring.yaml`` or the defaults),
    the challengers (later ``--policy`` files, overrides merged over the champion) and the sweeps' policies
    (over the champion). Names are unique: the champion is ``champion``, a file its stem."""
    paths = list(paths or [])
    sweeps = list(sweeps or [])
    champ_cfg = load_config("scoring", paths[0] if paths else None)
    champ_src = str(paths[0]) if paths else "configs/scoring.yaml (or the defaults)"
    policies = [Policy(CHAMPION, champ_cfg, champ_src)]
    for path in paths[1:]:
        cfg = challenger(champ_cfg, read_overrides(path), str(path))
        policies.append(Policy(path.stem, cfg, str(path)))
    for spec in sweeps:
        policies.extend(sweep_policies(policies[0], spec))
    names = [p.name for p in policies]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"policy names must be unique (a file's name without .yaml, or setting=value of a sweep); "
                          f"got {dup} more than once")
    return policies
