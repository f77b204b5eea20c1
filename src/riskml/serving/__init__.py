"""The order-time credit check: an HTTP service an ERP calls when a sales order arrives (``riskml serve``).

- :mod:`riskml.serving.book`: the scored book held in memory and the check itself (the batch policy,
  :func:`riskml.scoring.policy.apply_policy`, re-applied with the order and the orders released since the
  scoring added to the exposure);
- :mod:`riskml.serving.db`: the SQLAlchemy models, the engine (SQLite or PostgreSQL) and the Alembic
  migrations shipped in ``riskml/serving/migrations``;
- :mod:`riskml.serving.repository`: reads and writes (released orders, overrides, audit trail, API keys);
- :mod:`riskml.serving.app`: the FastAPI application.

Needs ``pip install 'riskml[serve]'`` (and ``riskml[postgres]`` for PostgreSQL); docs/serving.md.
"""

from __future__ import annotations

from riskml.errors import RiskmlError


def require_extra() -> None:
    """A friendly error when the ``serve`` extra is missing."""
    try:
        import alembic  # noqa: F401
        import fastapi  # noqa: F401
        import sqlalchemy  # noqa: F401
        import uvicorn  # noqa: F401
    except ModuleNotFoundError as exc:
        raise RiskmlError(f"riskml serve needs the serve extra ({exc.name} is missing): "
                          "pip install 'riskml[serve]'") from None
