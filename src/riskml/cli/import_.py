"""``riskml import``: turn a public data set (IBM AR, UCI Taiwan, Polish bankruptcy, German credit) into a
ledger directory."""

from __future__ import annotations

import warnings
from pathlib import Path

import typer

from riskml.cli.common import console, err_console, user_errors


@user_errors
def import_command(
    name: str = typer.Argument(..., help="Data set: ibm, taiwan, polish or german.", show_default=False),
    source: Path = typer.Option(..., "--source", "-s", help="The published file (.csv; .arff for polish; german.data)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output ledger directory (created if absent)."),
    force: bool = typer.Option(False, "--force", help="Overwrite a directory holding a ledger not written by "
                               "riskml import."),
) -> None:
    """Import a public data set into a ledger directory: the contract tables, labels.csv when the data
    set has outcomes, and data.yaml (as-of date, declared customer attributes).

    Mappings, choices and what each loses: docs/real-data.md.

    Example: riskml import taiwan --source ../shared/datasets/uci_taiwan_credit_default/UCI_Credit_Card.csv --out data/taiwan
    """
    from riskml.data.contract import TABLES
    from riskml.importers import ChecksumWarning, import_dataset
    from riskml.io import LEDGER_SIDE_FILES, guard_output

    guard_output(out, "--out", {"--source": source},
                 writes=tuple(f"{t}.csv" for t in TABLES) + tuple(sorted(LEDGER_SIDE_FILES)))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ChecksumWarning)
        result = import_dataset(name, source, out, overwrite=force)
    for w in caught:
        if issubclass(w.category, ChecksumWarning):
            err_console.print(f"warning: {w.message}")
    counts = ", ".join(f"{k} {v:,}" for k, v in result.row_counts.items())
    console.print(f"imported {result.name} from {result.source} into {result.out_dir}: {counts}")
    if result.label_rate is not None:
        console.print(f"labels: {result.row_counts['labels']:,} rows, {result.label_rate:.2%} positive")
    for note in result.notes:
        if result.checksum_ok is False and note.startswith(result.source.name):
            continue  # already printed as a warning
        console.print(f"  - {note}")


def register(app: typer.Typer) -> None:
    app.command("import", no_args_is_help=True)(import_command)
