"""Collections worklist benchmark (issue 17): `build_worklist` at growing ledger sizes, its rerun from its own
assignment, and writing the files."""

from __future__ import annotations

import tempfile

from benchmarks.common import ledger_dir, measure, median_of

AS_OF = "2026-06-30"


def run(repeats: int = 3, sizes=(2_000, 10_000, 30_000), collectors: int = 8) -> str:
    lines = ["## Collections worklist (issue 17)", "",
             f"`riskml.collect.build_worklist` as of {AS_OF} on generated ledgers of 36 months (features built "
             f"beforehand, scores from the decision policy), {collectors} collectors; then a second run from its own "
             "assignment, and writing every file (CSV, Parquet, one HTML page per collector). Median of "
             f"{repeats} runs, each in a fresh process.", "",
             "| customers | accounts listed | paperwork items | build s (CPU s) | rerun s | write s | balanced | "
             "kept on rerun | peak GB |", "|---|---|---|---|---|---|---|---|---|"]
    for n in sizes:
        d = ledger_dir(n, 36)
        with tempfile.TemporaryDirectory(prefix="riskml-bench-worklist-") as out:
            runs = [measure("worklist_measure", str(d), AS_OF, str(collectors), out) for _ in range(repeats)]
        r = runs[0]
        lines.append(f"| {n:,} | {r['lines']:,} | {r['paperwork']:,} | {median_of(runs, 'build_s'):.2f} "
                     f"({median_of(runs, 'build_cpu_s'):.2f}) | {median_of(runs, 'rerun_s'):.2f} | "
                     f"{median_of(runs, 'write_s'):.2f} | {'yes' if all(x['balanced'] for x in runs) else 'no'} | "
                     f"{r['kept_share']:.0%} | {median_of(runs, 'peak_rss_gb'):.2f} |")
    lines += ["", "Build excludes reading the ledger and building the features (measured in the feature section).", ""]
    return "\n".join(lines)
