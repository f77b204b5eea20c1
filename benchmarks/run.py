"""`make bench`: run the benchmarks and write docs/benchmarks.md (figures with the machine they ran on).

Sections come from benchmarks/bench_*.py modules, each exposing run() -> markdown. Set
RISKML_BENCH_ONLY=features,scoring to run a subset (the other sections keep their previous text)."""

from __future__ import annotations

import importlib
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import ROOT, machine  # noqa: E402

SECTIONS = ("features", "scoring", "spark", "real_data", "reports", "backtest", "worklist", "serving")
DOC = ROOT / "docs" / "benchmarks.md"


def _previous_sections() -> dict[str, str]:
    if not DOC.exists():
        return {}
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^<!-- section: (\w+) -->$", text, flags=re.M)
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def main() -> None:
    only = {s for s in os.environ.get("RISKML_BENCH_ONLY", "").split(",") if s}
    previous = _previous_sections()
    out = ["# Benchmarks", "",
           "Written by `make bench` (`benchmarks/run.py`); figures are medians of repeated runs. Each section says "
           "when and on which machine it ran.", ""]
    for name in SECTIONS:
        if only and name not in only:
            body = previous.get(name, f"_Section `{name}` not run yet._")
        else:
            try:
                mod = importlib.import_module(f"benchmarks.bench_{name}")
            except ModuleNotFoundError:
                body = previous.get(name, f"_Section `{name}`: no benchmark module yet._")
            else:
                t0 = time.time()
                print(f"running {name} benchmarks ...", flush=True)
                text = mod.run()
                stamp = time.strftime("%Y-%m-%d", time.gmtime())
                body = (f"{text.strip()}\n\n_Ran {stamp} in {time.time() - t0:.0f} s on: {machine()}._")
        out += [f"<!-- section: {name} -->", body, ""]
    from riskml.io import write_text

    write_text("\n".join(out), DOC)
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
