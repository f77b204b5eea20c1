"""The ``riskml`` Typer application. Each command lives in its own module and registers itself."""

from __future__ import annotations

import importlib

import typer

from riskml import __version__

app = typer.Typer(
    name="riskml",
    help="Machine-learning credit risk for B2B trade credit: validate a ledger, build features, "
    "train, score and explain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

# one module per command, in the order of the pipeline
COMMAND_MODULES = ("synth", "validate", "features", "train", "score", "report", "worklist", "import_", "backtest", "serve", "audit")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"riskml {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """riskml: calibrated, explained credit decisions from your accounts-receivable ledger."""


for _name in COMMAND_MODULES:
    try:
        _mod = importlib.import_module(f"riskml.cli.{_name}")
    except ModuleNotFoundError as _exc:  # a command not built yet in this checkout
        if _exc.name != f"riskml.cli.{_name}":
            raise
        continue
    _mod.register(app)

if __name__ == "__main__":  # pragma: no cover
    app()
