"""Every command that reads a ledger runs the same validation first, through this one function."""

from __future__ import annotations

from pathlib import Path

from riskml.cli.common import console, warn
from riskml.commands import command
from riskml.data.ledger import Ledger


def load_ledger_for_cli(data: Path, data_config: Path | None = None, quiet: bool = False) -> Ledger:
    """Validate and load ``data``; print a one-line summary and any warnings (to stderr).

    Fatal problems raise :class:`riskml.errors.DataError`, which the command turns into exit 1."""
    from riskml.data.validate import load_ledger, resolve_data_config

    cfg = resolve_data_config(data, data_config)
    ledger, report = load_ledger(data, cfg)
    if not quiet:
        counts = ", ".join(f"{k} {v:,}" for k, v in ledger.row_counts().items() if v)
        n_rej = report.n_rejected
        console.print(f"ledger {data}: {counts}; {n_rej:,} rows rejected"
                      + (f" (run `{command()} validate` for the list)" if n_rej else ""))
        for w in report.warnings:
            warn(w)
    return ledger
