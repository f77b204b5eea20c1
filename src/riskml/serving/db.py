"""Storage of the credit-check service: SQLAlchemy 2.0 models, the engine and the migrations.

Tables (created and upgraded by the Alembic migrations in ``riskml/serving/migrations``, never by
``create_all``):

- ``api_keys``: who may call (name, role ``order_desk`` / ``approver``, approval level); only the SHA-256
  of each key is stored;
- ``credit_checks``: one row per order id (the idempotency key): the decision returned, whether the order is
  released (released orders add to the exposure until the next batch scoring), the request's fingerprint;
- ``overrides``: limit / action / hold-release overrides with reason, approver, level and validity dates;
- ``audit_events``: append-only trail of every check, release, override and withdrawal;
- ``customer_locks``: one row per customer, locked (``SELECT ... FOR UPDATE``) by every check, release and
  override of that customer, with a ``version`` each write that changes the customer's exposure or
  overrides bumps (see :mod:`riskml.serving.repository`). SQLite has no row locks: every write transaction
  starts with ``BEGIN IMMEDIATE`` (one writer at a time), which serialises them too.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from riskml.errors import RiskmlError

MIGRATIONS = Path(__file__).parent / "migrations"
ROLES = ("order_desk", "approver")


class Base(DeclarativeBase):
    pass


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(50), default="")
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CreditCheck(Base):
    __tablename__ = "credit_checks"
    # a check reads its customer's released orders (migration 0002)
    __table_args__ = (Index("ix_credit_checks_customer_released", "customer_id", "released"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(100), unique=True)
    customer_id: Mapped[str] = mapped_column(String(100), index=True)
    amount: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3))
    order_date: Mapped[dt.date] = mapped_column(Date)
    decision: Mapped[str] = mapped_column(String(20))
    released: Mapped[bool] = mapped_column(Boolean, index=True)
    override_id: Mapped[int | None] = mapped_column(ForeignKey("overrides.id"), nullable=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[str] = mapped_column(Text)
    checked_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    released_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Override(Base):
    __tablename__ = "overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    limit: Mapped[float | None] = mapped_column(Float, nullable=True)
    action: Mapped[str | None] = mapped_column(String(20), nullable=True)
    max_amount: Mapped[float | None] = mapped_column(Float, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    approver: Mapped[str] = mapped_column(String(100))
    approver_level: Mapped[str] = mapped_column(String(50))
    required_level: Mapped[str] = mapped_column(String(50))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    withdrawn_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(30))
    customer_id: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    order_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    override_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[str] = mapped_column(Text)
    model_version: Mapped[str] = mapped_column(String(100))
    data_fingerprint: Mapped[str] = mapped_column(String(100))


class CustomerLock(Base):
    __tablename__ = "customer_locks"

    customer_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    # bumped by every write that changes what a check of this customer reads (released orders, overrides)
    version: Mapped[int] = mapped_column(Integer, default=0)


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def normalise_url(url: str) -> str:
    """A database URL or a plain file path (taken as SQLite); ``postgresql://`` uses psycopg 3."""
    if "://" not in url:
        return sqlite_url(url)
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


SQLITE_SYNC = ("full", "normal")


def make_engine(url: str, pool_size: int = 8, sqlite_sync: str = "full") -> Engine:
    """An engine for ``url`` (a SQLite file is created on first use). SQLite gets WAL, a busy timeout,
    ``BEGIN IMMEDIATE`` for every write transaction and ``synchronous`` = ``sqlite_sync``:

    - ``full`` (default): every commit is synced to disk: a committed check survives a crash of the service,
      of the operating system and a power loss;
    - ``normal``: the write-ahead log is synced at checkpoints only: a committed check survives a crash or
      restart of the service (the database is never corrupted), but the last commits before an operating
      system crash or a power loss may be rolled back (SQLite's documented WAL + NORMAL guarantee)."""
    if sqlite_sync not in SQLITE_SYNC:
        raise RiskmlError(f"--sqlite-sync: must be one of {', '.join(SQLITE_SYNC)}; got {sqlite_sync!r}")
    url = normalise_url(url)
    try:
        if url.startswith("sqlite"):
            db_file = url.split(":///", 1)[1] if ":///" in url else ""
            if db_file and db_file != ":memory:":
                Path(db_file).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                                   pool_size=pool_size, max_overflow=pool_size)
            _sqlite_events(engine, sqlite_sync)
        else:
            engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        raise RiskmlError(f"database URL {url.split('://')[0]}:// needs {exc.name}: "
                          "pip install 'riskml[postgres]'") from None
    except Exception as exc:  # noqa: BLE001 - a malformed URL is the user's
        raise RiskmlError(f"--db: cannot use database URL ({type(exc).__name__}: {exc})") from None
    return engine


def _sqlite_events(engine: Engine, sync: str = "full") -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver opens no transaction of its own
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={sync.upper()}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # reads (engine.execution_options(riskml_read=True)) take a snapshot; writes the write lock at once
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("riskml_read") else "BEGIN IMMEDIATE")


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` with the migrations shipped in the package."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def open_database(url: str, pool_size: int = 8, sqlite_sync: str = "full") -> Engine:
    """The engine for ``url``, migrated to the latest schema; a clear error when unreachable."""
    engine = make_engine(url, pool_size, sqlite_sync)
    try:
        migrate(engine)
    except RiskmlError:
        raise
    except Exception as exc:  # noqa: BLE001 - connection refused, bad credentials, read-only file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RiskmlError(f"--db: cannot open the database: {first}") from None
    return engine
