"""How to spell a command in a hint the user can paste: ``riskml`` when it is on PATH, else its path in
the environment running now (``.venv/bin/riskml`` after ``make train``, which does not activate it)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def command(name: str = "riskml") -> str:
    """``name`` if the shell finds this environment's script by that name, else the script's path
    (relative to the working directory when inside it); ``name`` when this environment has no such script."""
    script = Path(sys.executable).parent / name  # not resolved: a venv's python is a symlink
    if not script.exists():
        return name
    found = shutil.which(name)
    if found is not None and Path(found).absolute() == script.absolute():
        return name
    try:
        return str(script.absolute().relative_to(Path.cwd().absolute()))
    except ValueError:
        return str(script)
