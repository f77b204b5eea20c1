"""``riskml validate``: check a ledger directory against the contract; list every rejected row."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from riskml.cli.common import console, parse_date, user_errors, warn


def summary_tables(report) -> tuple[Table, Table | None]:
    """The per-table summary and the per-rule counts as rich tables."""
    summary = Table(title="Rows per table", header_style="bold")
    for col in ("table", "file", "read", "accepted", "rejected"):
        summary.add_column(col, justify="left" if col in ("table", "file") else "right")
    for _, r in report.summary.iterrows():
        summary.add_row(Text(str(r["table"])), Text(str(r["file"])), f"{r['read']:,}", f"{r['accepted']:,}",
                        Text(f"{r['rejected']:,}", style="red") if r["rejected"] else "0")
    if not len(report.rule_counts):
        return summary, None
    rules = Table(title="Rejected rows per rule (a row can break several rules)", header_style="bold")
    for col in ("table", "rule", "rows", "what it rejects"):
        rules.add_column(col, justify="right" if col == "rows" else "left")
    from riskml.data.schemas import RULES

    for _, r in report.rule_counts.iterrows():
        rules.add_row(r["table"], r["rule"], f"{r['rows']:,}", RULES[r["rule"]])
    return summary, rules


@user_errors
def validate(
    data: Path = typer.Option(..., "--data", "-d", help="Ledger directory (customers, invoices, payments, ...)."),
    rejects: Path | None = typer.Option(None, "--rejects", "-r",
                                 help="Where to write every rejected row (.csv or .parquet); outside the data "
                                      "directory's tables."),
    data_config: Path | None = typer.Option(
        None, "--data-config", help="Data config (column mapping, date format, currencies); default DATA/data.yaml, "
        "else configs/data.yaml."),
    as_of: str | None = typer.Option(
        None, "--as-of", "-a", help="The export date: events dated after it are rejected (overrides the config's as_of)."),
    suggest_mapping: bool = typer.Option(
        False, "--suggest-mapping", help="Print a starting data.yaml for a flat export (DATA: the file, or a directory "
        "holding only it) from its header and a sample of rows, instead of validating."),
) -> None:
    """Validate a ledger directory: every row is accepted or listed, with its file, line, column and rule,
    in the rejects file (see docs/data-contract.md). Exit code 0 when the ledger can be used (rejected
    rows and warnings allowed), 1 with one line per fatal problem on stderr (missing file or column,
    unreadable file, several currencies without a base currency, nothing usable).

    Example: riskml validate --data data/demo --rejects out/rejects.csv --as-of 2026-09-30
    """
    from riskml.data.validate import LedgerUnusable, load_ledger, resolve_data_config
    from riskml.errors import RiskmlError
    from riskml.io import TABLE_SUFFIXES, guard_output, write_table

    if suggest_mapping:
        _suggest(data, data_config)
        return
    if rejects is None:  # required, except to suggest a mapping: nothing is written into the current directory
        raise RiskmlError("--rejects FILE is required (.csv or .parquet): where the rejected rows are written")
    if rejects.suffix.lower() not in TABLE_SUFFIXES:
        raise RiskmlError(f"--rejects must end in .csv or .parquet; got {str(rejects)!r}")
    guard_output(rejects, "--rejects", {"--data": data, "--data-config": data_config}, (data,))
    cfg = resolve_data_config(data, data_config)
    if as_of is not None:
        cfg = cfg.model_copy(update={"as_of": str(parse_date(as_of).date())})
    try:
        _, report = load_ledger(data, cfg)
    except LedgerUnusable as exc:  # rows were read: show and write why none of a table is usable
        write_table(exc.report.rejects, rejects)
        _print_report(exc.report, rejects)
        raise
    write_table(report.rejects, rejects)
    _print_report(report, rejects)


def _print_report(report, rejects: Path) -> None:
    summary, rules = summary_tables(report)
    console.print(summary)
    if rules is not None:
        console.print(rules)
    for w in report.warnings:
        warn(w)
    total, n_rej = report.n_read, report.n_rejected
    console.print(f"{total:,} rows read, {total - n_rej:,} accepted, {n_rej:,} rejected; rejects written to {rejects}")


def _suggest(data: Path, data_config: Path | None) -> None:
    """Print the suggested data.yaml (plain text on stdout, so that it can be redirected to a file)."""
    from riskml.config import load_config
    from riskml.data.mapping import read_sample, suggest_mapping
    from riskml.errors import RiskmlError

    if data.is_file():
        path = data
    elif data.is_dir():
        files = sorted(p for p in data.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".parquet"))
        if len(files) != 1:
            raise RiskmlError(f"--suggest-mapping: {data} holds {len(files)} .csv/.parquet files "
                              f"({', '.join(p.name for p in files[:6]) or 'none'}); give the export file as --data FILE")
        path = files[0]
    else:
        raise RiskmlError(f"--data {data}: no such file or directory")
    cfg = load_config("data", data_config)
    sample = read_sample(path, cfg.delimiter, cfg.encoding)
    typer.echo(suggest_mapping(sample, path.name), nl=False)


def register(app: typer.Typer) -> None:
    app.command("validate", no_args_is_help=True)(validate)
