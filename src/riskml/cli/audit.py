"""``riskml audit``: export the credit-check service's audit trail (every check, release and override).

Example: riskml audit --db out/serve.db --out out/audit.csv
"""

from __future__ import annotations

from pathlib import Path

import typer

from riskml.cli.common import console, user_errors
from riskml.errors import RiskmlError

SUFFIXES = (".csv", ".parquet", ".jsonl")


@user_errors
def audit(
    db: str = typer.Option(..., "--db", help="The service's database URL (postgresql://...) or SQLite file path."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file: .csv, .parquet or .jsonl (one event a line)."),
) -> None:
    """Export the audit trail, oldest first: when, who (key name and role), what (event, customer, order,
    override, the detail as JSON), and the model version and data fingerprint the service used.

    Example: riskml audit --db out/serve.db --out out/audit.csv
    """
    if out.suffix.lower() not in SUFFIXES:
        raise RiskmlError(f"--out must end in {', '.join(SUFFIXES)}; got {out.name!r}")
    from riskml.serving import require_extra

    require_extra()
    from sqlalchemy import inspect

    from riskml.io import atomic_path
    from riskml.serving.db import make_engine, migrate
    from riskml.serving.repository import audit_frame

    engine = make_engine(db)
    try:
        has_table = inspect(engine).has_table("audit_events")
    except Exception as exc:  # noqa: BLE001 - unreachable server, unreadable file
        raise RiskmlError(f"--db: cannot open the database: {str(exc).splitlines()[0]}") from None
    if not has_table:
        raise RiskmlError(f"--db: {db} holds no riskml serve database (no audit_events table)")
    migrate(engine)
    frame = audit_frame(engine)
    frame["at"] = frame["at"].astype("str")
    with atomic_path(out) as tmp:
        suffix = out.suffix.lower()
        if suffix == ".csv":
            frame.to_csv(tmp, index=False)
        elif suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
    console.print(f"wrote {len(frame):,} audit events to {out}")


def register(app: typer.Typer) -> None:
    app.command("audit", no_args_is_help=True)(audit)
