"""``riskml serve``: the order-time credit-check service (FastAPI on uvicorn), and its API keys.

Example: riskml serve --scores out/scores.parquet --data data/demo --db out/serve.db --port 8000
Example: riskml serve keys add --db out/serve.db --name erp --role order_desk
Example: riskml serve keys add --db out/serve.db --name jane --role approver --level credit_manager
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from riskml.cli.common import console, err_console, user_errors
from riskml.errors import RiskmlError

DEFAULT_DB = "out/serve.db"

serve_app = typer.Typer(help="The order-time credit-check service and its API keys (docs/serving.md).\n\n"
                        "Example: riskml serve --scores out/scores.parquet --data data/demo --db out/serve.db",
                        no_args_is_help=False, invoke_without_command=True)
keys_app = typer.Typer(help="API keys of the service: add (shown once, stored hashed), list, revoke.",
                       no_args_is_help=True)
serve_app.add_typer(keys_app, name="keys")

DbOption = typer.Option(DEFAULT_DB, "--db", help="Database URL (postgresql://...) or SQLite file path.")


@serve_app.callback()
@user_errors
def serve(
    ctx: typer.Context,
    scores: Path | None = typer.Option(None, "--scores", "-s", help="Scores file of the last batch run (riskml score)."),
    data: Path | None = typer.Option(None, "--data", "-d",
                                     help="Ledger the scores were made from (exposure, open orders, days past due)."),
    db: str = DbOption,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on.", min=1, max=65535),
    config: Path | None = typer.Option(None, "--config", "-c", help="Scoring config (default configs/scoring.yaml)."),
    data_config: Path | None = typer.Option(None, "--data-config", help="Data config (column mapping, currencies)."),
    currency: str | None = typer.Option(None, "--currency",
                                        help="The book's currency (default the data config's base_currency, else EUR)."),
    new_account_limit: float | None = typer.Option(
        None, "--new-account-limit", min=0,
        help="Limit of a customer not in the scores (default the scoring config's thin-file starter limit)."),
    workers: int = typer.Option(1, "--workers", min=1, max=64,
                                help="Worker processes (each loads the book; the database serialises each customer)."),
    sqlite_sync: str = typer.Option("full", "--sqlite-sync",
                                    help="SQLite only: full (every commit synced; survives a power loss) or normal "
                                         "(synced at checkpoints; survives a restart, not a power loss)."),
) -> None:
    """Serve order-time credit checks on the last batch scoring (OpenAPI docs at /docs).

    Example: riskml serve --scores out/scores.parquet --data data/demo --db out/serve.db
    """
    if ctx.invoked_subcommand is not None:
        return
    if scores is None:
        raise RiskmlError("--scores is required (the scores file of the last riskml score run)")
    if sqlite_sync not in ("full", "normal"):
        raise RiskmlError(f"--sqlite-sync: must be full or normal; got {sqlite_sync!r}")
    from riskml.serving import require_extra

    require_extra()
    start = time.perf_counter()
    import uvicorn

    from riskml.config import load_config
    from riskml.serving.app import create_app
    from riskml.serving.book import load_book
    from riskml.serving.db import open_database
    from riskml.serving.repository import Repository

    scoring_config = load_config("scoring", config)
    from riskml.cli.ledger import load_ledger_for_cli

    book = load_book(scores, data, scoring_config, data_config, currency, new_account_limit,
                     read_ledger=load_ledger_for_cli)
    engine = open_database(db, sqlite_sync=sqlite_sync)
    elapsed = time.perf_counter() - start
    console.print(f"{len(book):,} customers scored as of {book.as_of.date()} (model {book.model_version or '?'}); "
                  f"database {engine.url.render_as_string(hide_password=True)}; loaded in {elapsed:.2f} s")
    console.print(f"listening on http://{host}:{port} (docs at /docs)" + (f", {workers} workers" if workers > 1 else ""))
    if workers > 1:  # every worker loads the book itself (checked above, so it loads cleanly)
        import json
        import os

        from riskml.serving.app import SETTINGS_ENV

        engine.dispose()
        del book
        os.environ[SETTINGS_ENV] = json.dumps({
            "scores": str(scores), "data": str(data) if data else None, "db": db,
            "config": str(config) if config else None, "data_config": str(data_config) if data_config else None,
            "currency": currency, "new_account_limit": new_account_limit, "parent_seconds": elapsed,
            "sqlite_sync": sqlite_sync})
        uvicorn.run("riskml.serving.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level="warning", access_log=False)
        return
    app = create_app(Repository(engine, book))
    app.state.startup_seconds = elapsed
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


@keys_app.command("add")
@user_errors
def keys_add(
    name: str = typer.Option(..., "--name", help="Who or what uses the key (a person, the ERP system)."),
    role: str = typer.Option(..., "--role", help="order_desk (checks orders) or approver (also overrides, releases)."),
    level: str = typer.Option("", "--level", help="Approval level of an approver, e.g. analyst, credit_manager."),
    db: str = DbOption,
    config: Path | None = typer.Option(None, "--config", "-c", help="Scoring config (approval levels)."),
) -> None:
    """Create an API key; it is printed once, only its hash is stored.

    Example: riskml serve keys add --db out/serve.db --name jane --role approver --level credit_manager
    """
    from riskml.config import load_config
    from riskml.serving import require_extra

    require_extra()
    from riskml.serving.db import open_database
    from riskml.serving.keys import add_key

    key, row = add_key(open_database(db), name, role, level, load_config("scoring", config).approvals)
    err_console.print(f"key {row.id} ({row.name}, {row.role}{', ' + row.level if row.level else ''}) created; "
                      "it is shown only now: store it in the caller's secret store")
    typer.echo(key)


@keys_app.command("list")
@user_errors
def keys_list(db: str = DbOption) -> None:
    """List the keys (never the keys themselves).

    Example: riskml serve keys list --db out/serve.db
    """
    from riskml.serving import require_extra

    require_extra()
    from riskml.serving.db import open_database
    from riskml.serving.keys import list_keys

    for k in list_keys(open_database(db)):
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        console.print(f"{k.id}\t{k.name}\t{k.role}\t{k.level or '-'}\trk_{k.prefix}_...\t{state}")


@keys_app.command("revoke")
@user_errors
def keys_revoke(key_id: int = typer.Argument(..., help="Key id (keys list)."), db: str = DbOption) -> None:
    """Revoke a key: calls with it get 401 from then on.

    Example: riskml serve keys revoke 3 --db out/serve.db
    """
    from riskml.serving import require_extra

    require_extra()
    from riskml.serving.db import open_database
    from riskml.serving.keys import revoke_key

    revoke_key(open_database(db), key_id)
    console.print(f"key {key_id} revoked")


def register(app: typer.Typer) -> None:
    app.add_typer(serve_app, name="serve")
