"""Feature-build benchmarks (issue 3): one as-of date at scale, monthly snapshots, and growth 1x-10x."""

from __future__ import annotations

from benchmarks.common import ledger_dir, measure, median_of

AS_OF = "2026-06-30"


def _fmt_rows(rows: dict) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in rows.items() if v)


def run(repeats: int = 3, big: int = 100_000, snap_customers: int = 10_000, growth=(10_000, 30_000, 100_000)) -> str:
    lines = ["## Feature build (issue 3)", ""]
    # 1. one as-of date at full scale
    d = ledger_dir(big, 36)
    runs = [measure("features_measure", str(d), "single", AS_OF) for _ in range(repeats)]
    r0 = runs[0]
    lines += [
        f"### One as-of date, {big:,} customers x 36 months", "",
        f"Ledger: {_fmt_rows(r0['rows'])} (invoices + payments = "
        f"{r0['rows'].get('invoices', 0) + r0['rows'].get('payments', 0):,}). Median of {repeats} runs, each in a fresh process.", "",
        "| step | median seconds |", "|---|---|",
        f"| read the Parquet ledger once (the floor) | {median_of(runs, 'read_s'):.1f} |",
        f"| load + validate (read, parse, every rule) | {median_of(runs, 'load_validate_s'):.1f} |",
        f"| build features (one as-of date, all customers) | {median_of(runs, 'features_s'):.1f} |",
        f"| peak memory of the process (GB) | {median_of(runs, 'peak_rss_gb'):.2f} |", "",
        f"Feature build / raw read = {median_of(runs, 'features_s') / median_of(runs, 'read_s'):.1f}x. "
        "Targets: under 60 s and 8 GB.", "",
    ]
    # 2. monthly snapshots
    d = ledger_dir(snap_customers, 36)
    runs = [measure("features_measure", str(d), "snapshots", AS_OF, "36") for _ in range(repeats)]
    lines += [
        f"### Monthly snapshots over 36 months, {snap_customers:,} customers", "",
        f"Ledger: {_fmt_rows(runs[0]['rows'])}; {runs[0]['out_rows']:,} (customer, month-end) rows out.", "",
        "| step | median seconds |", "|---|---|",
        f"| read the Parquet ledger once | {median_of(runs, 'read_s'):.2f} |",
        f"| build 36 monthly snapshots in one pass | {median_of(runs, 'features_s'):.2f} |",
        f"| peak memory (GB) | {median_of(runs, 'peak_rss_gb'):.2f} |", "",
        "Target: under 60 s.", "",
    ]
    # 3. growth
    lines += ["### Growth with ledger size (one as-of date, 36 months)", "",
              "| customers | invoices + payments | read s | features s | features s per million rows | peak GB |",
              "|---|---|---|---|---|---|"]
    for n in growth:
        d = ledger_dir(n, 36)
        runs = [measure("features_measure", str(d), "single", AS_OF) for _ in range(repeats)]
        rows = runs[0]["rows"].get("invoices", 0) + runs[0]["rows"].get("payments", 0)
        f = median_of(runs, "features_s")
        lines.append(f"| {n:,} | {rows:,} | {median_of(runs, 'read_s'):.2f} | {f:.2f} | {f / rows * 1e6:.2f} | "
                     f"{median_of(runs, 'peak_rss_gb'):.2f} |")
    lines += ["", "Roughly constant seconds per million rows = linear growth.", ""]
    return "\n".join(lines)
