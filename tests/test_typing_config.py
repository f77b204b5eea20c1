"""The mypy settings of ``make lint`` name only modules that exist (a module taken out of the code must
leave the list of modules whose errors are not reported yet)."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_mypy_overrides_name_existing_modules() -> None:
    mypy = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["mypy"]
    assert mypy["files"] == ["src/riskml"]
    ignored = [m for o in mypy["overrides"] if o.get("ignore_errors") for m in o["module"]]
    assert ignored == sorted(ignored) and len(set(ignored)) == len(ignored)
    missing = [m for m in ignored if importlib.util.find_spec(m) is None]
    assert not missing, f"pyproject.toml [tool.mypy] ignores modules that do not exist: {missing}"
