"""Generate ``docs/features.md`` from the registry: ``python -m riskml.features.docs docs/features.md``."""

from __future__ import annotations

import sys

from riskml.features.engine import AGGREGATES
from riskml.features.registry import FAMILIES, REGISTRY, FeatureSpec

DIRECTION = {1: "+1 (higher = riskier)", -1: "-1 (higher = safer)", 0: "0 (unconstrained)"}
# the side a reason may cite an unconstrained feature on (``@feature(adverse=...)``)
ADVERSE = {1: "0 (unconstrained; cited when high)", -1: "0 (unconstrained; cited when low)"}


def direction(spec: FeatureSpec) -> str:
    """The monotone column: the constraint, and for an unconstrained feature its declared adverse side."""
    return ADVERSE.get(spec.adverse, DIRECTION[0]) if spec.monotone == 0 else DIRECTION[spec.monotone]


def render_markdown() -> str:
    lines = [
        "# Features",
        "",
        "Generated from the feature registry (`src/riskml/features/definitions.py`) by `make docs`; "
        "do not edit by hand.",
        "",
        "Every feature is computed **as of a date** from ledger rows dated on or before it (a payment made "
        "after the as-of date counts as unpaid). Windows such as `3m` mean the months ending on the as-of "
        "date (calendar months when the as-of date is a month end). *Monotone* is the direction the model "
        "is constrained to (LightGBM `monotone_constraints`, verified after training); for an unconstrained "
        "feature it names the side a reason code may cite it on (either side when not said). *Model* says whether "
        "the model uses it (the others feed reports and the limit policy). A share over an empty base is "
        "missing (no evidence), and the `history` family says explicitly when there is no history yet.",
        "",
    ]
    for fam, heading in FAMILIES.items():
        specs = [s for s in REGISTRY.values() if s.family == fam]
        if not specs:
            continue
        lines += [f"## {heading} (`{fam}`)", "", "| feature | meaning | unit | window | monotone | model | reason text |",
                  "|---|---|---|---|---|---|---|"]
        for s in specs:
            reason = s.reason.replace("|", "\\|")
            lines.append(f"| `{s.name}` | {s.description} | {s.unit} | {s.window or '-'} | "
                         f"{direction(s)} | {'yes' if s.model else 'no'} | {reason} |")
        lines.append("")
    lines += [
        "## User-declared customer attributes (`attributes`)",
        "",
        "Columns of the customer master declared in `configs/data.yaml` under `extra_attributes` (for "
        "example a bureau score or financial ratios) are passed through as features, numeric or "
        "categorical, with the monotone direction and reason text declared there.",
        "",
        "## Point-in-time aggregates",
        "",
        "The features are built from these aggregates, computed for all as-of dates in one pass "
        "(`src/riskml/features/engine.py`).",
        "",
        "| aggregate | meaning |",
        "|---|---|",
    ]
    lines += [f"| `{k}` | {v} |" for k, v in AGGREGATES.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    from riskml.io import write_text

    argv = sys.argv[1:] if argv is None else argv
    target = argv[0] if argv else "docs/features.md"
    write_text(render_markdown(), target)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
