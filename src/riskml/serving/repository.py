"""Reads and writes of the service, each in one database transaction.

Every write that touches a customer (check, release, override, withdrawal) first takes the customer's lock
row (``customer_locks``, ``SELECT ... FOR UPDATE``; on SQLite the transaction itself is ``BEGIN
IMMEDIATE``), reads what it decides on (orders released since the scoring, active overrides), decides, and
writes the result and its audit row before committing. Two checks of one customer therefore never both see
the headroom the other is about to use.

Checks go through group commit (:class:`_GroupWriter`): every check waiting is decided and written in one
transaction, with one policy call per turn. A group that fails as a whole is redone check by check
(:meth:`Repository._check_one`: decide on a snapshot, write if the customer's version did not move).

The clock is read only to time-stamp audit rows and records (``created_at``, ``at``); decisions use the
order date and the book's as-of date.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, NamedTuple

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's busy handler alone orders the writers
    fcntl = None  # type: ignore[assignment]

import pandas as pd
from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from riskml.scoring.approvals import NO_APPROVAL, level_allows
from riskml.scoring.overrides import is_active, override_levels
from riskml.serving.batcher import DecisionBatcher
from riskml.serving.book import (
    Book,
    OrderInput,
    OverrideView,
    check_order,
    check_orders,
    policy_row,
    release_level,
)
from riskml.serving.db import ApiKey, AuditEvent, CreditCheck, CustomerLock, Override
from riskml.serving.keys import hash_key

log = logging.getLogger("riskml.serving")
# the hot path (group commit) runs on a Core connection, the rest on ORM sessions; the helpers take either
Conn = Session | Connection

# optimistic decisions (decided outside the write lock) before one is decided under the lock
OPTIMISTIC_ATTEMPTS = 3


class ServiceError(Exception):
    """An error the client caused: HTTP ``status`` with a one-line ``detail``."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _writer_lock_file(engine: Engine) -> int | None:
    """An open descriptor of ``<sqlite file>-writer.lock`` (None: not a SQLite file, or no ``fcntl``)."""
    db = engine.url.database if engine.dialect.name == "sqlite" else None
    if fcntl is None or not db or db == ":memory:" or db.startswith("file:"):
        return None
    try:
        return os.open(f"{db}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None


def _flock(fd: int, timeout: float = 30.0) -> bool:
    """Take the writer lock file (waiting up to ``timeout``: a writer that hangs holding it leaves the others to
    SQLite's own busy timeout). True when taken."""
    assert fcntl is not None
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.0002)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _request_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class _Pending:
    """A validated check waiting to be decided and written."""

    key: ApiKey
    customer_id: str
    order_id: str
    amount: float
    currency: str
    base_amount: float
    order_date: dt.date
    request: dict[str, Any]
    rhash: str
    future: Future[tuple[dict[str, Any], bool]] = field(default_factory=Future)


class Repository:
    """The service's storage operations over one engine and one book."""

    def __init__(self, engine: Engine, book: Book, clock: Callable[[], dt.datetime] = utcnow,
                 key_cache_seconds: float = 5.0, group_commit: bool = True):
        self.engine = engine
        self.read_engine = engine.execution_options(riskml_read=True)
        self.book = book
        self.clock = clock
        self.batcher = DecisionBatcher(book)
        self.key_cache_seconds = key_cache_seconds
        self._keys: dict[str, tuple[ApiKey, float]] = {}
        self._insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
        # SQLite has one writer at a time: the threads of this process queue on a lock instead of on SQLite's
        # busy handler (which sleeps up to 100 ms between tries), and the processes of one database (--workers)
        # on a lock file beside it (flock: the next writer starts as soon as the last one commits); BEGIN
        # IMMEDIATE stays the lock that counts (writers that do not take the file lock wait on it as before)
        self._write_lock = threading.Lock() if engine.dialect.name == "sqlite" else None
        self._lock_file = _writer_lock_file(engine)
        self.group_commit = group_commit
        self._group = _GroupWriter(self)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        if self._write_lock is None:
            yield
            return
        with self._write_lock:
            held = self._lock_file is not None and _flock(self._lock_file)
            try:
                yield
            finally:
                if held:
                    fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def close(self) -> None:
        self._group.close()
        self.batcher.close()
        self.engine.dispose()
        if self._lock_file is not None:
            os.close(self._lock_file)
            self._lock_file = None

    # ------------------------------------------------------------------ keys
    def cached_key(self, key: str) -> ApiKey | None:
        """The key row for ``key`` when it is in the cache and still fresh (no database read), else None."""
        hit = self._keys.get(hash_key(key))
        return hit[0] if hit is not None and time.monotonic() < hit[1] else None

    def authenticate(self, key: str) -> ApiKey | None:
        """The active key row for ``key``; valid keys are cached ``key_cache_seconds`` (a revocation takes
        effect within that time), unknown keys are looked up every time."""
        digest = hash_key(key)
        hit = self._keys.get(digest)
        if hit is not None and time.monotonic() < hit[1]:
            return hit[0]
        with Session(self.read_engine) as s:
            row = s.scalar(select(ApiKey).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None)))
            if row is not None:
                s.expunge(row)
        if row is None:
            self._keys.pop(digest, None)
        else:
            self._keys[digest] = (row, time.monotonic() + self.key_cache_seconds)
        return row

    def ping(self) -> None:
        with self.read_engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    # ------------------------------------------------------------------ helpers
    def _lock(self, s: Conn, customer_id: str) -> int:
        """Lock the customer's row for this transaction; returns its version."""
        q = select(CustomerLock.version).where(CustomerLock.customer_id == customer_id).with_for_update()
        version = s.scalar(q)
        if version is None:  # the customer's first write: create its row (a concurrent creator wins quietly)
            s.execute(self._insert(CustomerLock).values(customer_id=customer_id, version=0).on_conflict_do_nothing())
            version = s.scalar(q)
        return int(version or 0)

    def _bump(self, s: Conn, customer_id: str) -> None:
        s.execute(update(CustomerLock).where(CustomerLock.customer_id == customer_id)
                  .values(version=CustomerLock.version + 1))

    def _version(self, s: Session, customer_id: str) -> int:
        return int(s.scalar(select(CustomerLock.version).where(CustomerLock.customer_id == customer_id)) or 0)

    def _audit(self, s: Conn, key: ApiKey, event: str, detail: dict[str, Any], customer_id: str | None = None,
               order_id: str | None = None, override_id: int | None = None) -> None:
        s.execute(insert(AuditEvent).values(
            at=self.clock(), actor=key.name, role=key.role, event=event, customer_id=customer_id, order_id=order_id,
            override_id=override_id, detail=json.dumps(detail, sort_keys=True, default=str),
            model_version=self.book.model_version, data_fingerprint=self.book.data_fingerprint))

    def _released_since(self, s: Session, customer_id: str, order_date: dt.date) -> float:
        """Orders of the customer released by the service, dated after the scoring and up to ``order_date``."""
        total = s.scalar(select(func.coalesce(func.sum(CreditCheck.amount), 0.0)).where(
            CreditCheck.customer_id == customer_id, CreditCheck.released.is_(True),
            CreditCheck.order_date > self.book.as_of.date(), CreditCheck.order_date <= order_date))
        return float(total or 0.0)

    def _active_overrides(self, s: Session, customer_id: str, on: dt.date) -> list[OverrideView]:
        rows = s.scalars(select(Override).where(Override.customer_id == customer_id, Override.withdrawn_at.is_(None))
                         .order_by(Override.id)).all()
        latest: dict[str, Override] = {}
        for r in rows:
            if is_active(r.effective_from, r.expires_on, on):
                latest[r.kind] = r
        out = []
        for r in latest.values():
            used = 0.0
            if r.kind == "hold_release" and r.max_amount is not None:
                used = float(s.scalar(select(func.coalesce(func.sum(CreditCheck.amount), 0.0)).where(
                    CreditCheck.override_id == r.id, CreditCheck.released.is_(True))) or 0.0)
            out.append(OverrideView(id=r.id, kind=r.kind, limit=r.limit, action=r.action, max_amount=r.max_amount,
                                    approver=r.approver, approver_level=r.approver_level, used=used))
        return out

    # ------------------------------------------------------------------ checks
    def check(self, key: ApiKey, customer_id: str, order_id: str, amount: float, currency: str,
              order_date: dt.date) -> tuple[dict[str, Any], bool]:
        """(the decision, replayed): a retried order id returns the stored decision and counts once."""
        pending = self._pending(key, customer_id, order_id, amount, currency, order_date)
        if self.group_commit:
            return self._group.submit(pending)
        return self._check_one(pending)

    async def check_async(self, key: ApiKey, customer_id: str, order_id: str, amount: float, currency: str,
                          order_date: dt.date, timeout: float = 60.0) -> tuple[dict[str, Any], bool]:
        """:meth:`check` for an event loop: the check waits for the group commit without holding a thread (its
        answer comes once its group is committed)."""
        pending = self._pending(key, customer_id, order_id, amount, currency, order_date)
        if not self.group_commit:
            return await asyncio.to_thread(self._check_one, pending)
        self._group.enqueue(pending)
        return await asyncio.wait_for(asyncio.wrap_future(pending.future), timeout)

    def _pending(self, key: ApiKey, customer_id: str, order_id: str, amount: float, currency: str,
                 order_date: dt.date) -> _Pending:
        """A check validated (its date after the scoring, its currency known), ready to be decided."""
        request = {"customer_id": customer_id, "order_id": order_id, "amount": amount, "currency": currency,
                   "order_date": order_date.isoformat()}
        rhash = _request_hash(request)
        if order_date <= self.book.as_of.date():
            raise ServiceError(422, f"order_date: must be after the scores' as-of date {self.book.as_of.date()} "
                                    f"(orders up to it are in the scored ledger); got {order_date}")
        base_amount = self.book.to_base(amount, currency)
        if base_amount is None:
            known = ", ".join([self.book.currency, *sorted(self.book.fx_rates)])
            raise ServiceError(422, f"currency: must be one of {known} (the book's currency or one with an fx "
                                    f"rate in the data config); got {currency!r}")
        return _Pending(key, customer_id, order_id, amount, currency, base_amount, order_date, request, rhash)

    def _check_one(self, p: _Pending) -> tuple[dict[str, Any], bool]:
        """One check in its own transactions (the path when group commit is off, and its fallback)."""
        key, customer_id, order_id, amount, currency = p.key, p.customer_id, p.order_id, p.amount, p.currency
        base_amount, order_date, request, rhash = p.base_amount, p.order_date, p.request, p.rhash
        try:
            # decide outside the write lock on a snapshot, then write only if the customer's version did not
            # move meanwhile (else decide again); the last attempt decides while holding the lock
            for attempt in range(OPTIMISTIC_ATTEMPTS + 1):
                locked = attempt == OPTIMISTIC_ATTEMPTS
                if not locked:
                    with Session(self.read_engine) as s, s.begin():
                        version = self._version(s, customer_id)
                        result = self._decide(s, customer_id, base_amount, order_date)
                with self._writing(), Session(self.engine) as s, s.begin():
                    current = self._lock(s, customer_id)
                    prior = s.scalar(select(CreditCheck).where(CreditCheck.order_id == order_id))
                    if prior is not None:
                        return self._replay(s, key, prior, rhash, request), True
                    if locked:
                        result = self._decide(s, customer_id, base_amount, order_date)
                    elif current != version:
                        continue
                    result.update({"order_id": order_id, "amount": amount, "order_currency": currency,
                                   "amount_in_book_currency": base_amount, "order_date": order_date.isoformat()})
                    s.execute(insert(CreditCheck).values(
                        order_id=order_id, customer_id=customer_id, amount=base_amount, currency=currency,
                        order_date=order_date, decision=result["decision"], released=result["released"],
                        override_id=result["released_by_override"], request_hash=rhash,
                        response=json.dumps(result, default=str), checked_by=key.name, created_at=self.clock()))
                    if result["released"]:
                        self._bump(s, customer_id)
                    self._audit(s, key, "check", {"request": request, "result": result}, customer_id, order_id,
                                result["released_by_override"])
                    return result, False
        except IntegrityError:
            raise ServiceError(409, f"order_id: {order_id!r} is being checked for another customer") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _decide(self, s: Session, customer_id: str, amount: float, order_date: dt.date) -> dict[str, Any]:
        since = self._released_since(s, customer_id, order_date)
        ovs = self._active_overrides(s, customer_id, order_date)
        return self.batcher.decide(OrderInput(customer_id, amount, since, tuple(ovs)))

    def _replay(self, s: Conn, key: ApiKey, prior: Any, rhash: str, request: dict[str, Any]) -> dict[str, Any]:
        if prior.request_hash != rhash:
            raise ServiceError(409, f"order_id: {prior.order_id!r} was already checked with different details "
                                    "(customer, amount, currency or date)")
        result = json.loads(prior.response)
        result["released"] = prior.released
        self._audit(s, key, "check_replay", {"request": request, "decision": result["decision"]},
                    prior.customer_id, prior.order_id)
        return result

    def get_check(self, order_id: str) -> dict[str, Any]:
        with Session(self.read_engine) as s:
            row = s.scalar(select(CreditCheck).where(CreditCheck.order_id == order_id))
            if row is None:
                raise ServiceError(404, f"order_id: no check for order {order_id!r}")
            out = json.loads(row.response)
            out.update({"released": row.released, "released_by": row.released_by,
                        "released_at": row.released_at.isoformat() if row.released_at else None})
            return out

    def release(self, key: ApiKey, order_id: str, reason: str) -> dict[str, Any]:
        """An approver releases a held order (needs the level the hold asks for)."""
        with self._writing(), Session(self.engine) as s, s.begin():
            cid = s.scalar(select(CreditCheck.customer_id).where(CreditCheck.order_id == order_id))
            if cid is None:
                raise ServiceError(404, f"order_id: no check for order {order_id!r}")
            self._lock(s, cid)
            row = s.scalar(select(CreditCheck).where(CreditCheck.order_id == order_id))
            assert row is not None
            if row.released:
                raise ServiceError(409, f"order_id: order {order_id!r} is already released")
            stored = json.loads(row.response)
            needed = stored.get("approval_level") or NO_APPROVAL
            if not level_allows(key.level, needed, self.book.config.approvals):
                raise ServiceError(403, f"approval level {needed} is needed to release this {stored['hold_type']} "
                                        f"hold; your key's level is {key.level or 'none'}")
            row.released, row.released_by, row.released_at = True, key.name, self.clock()
            self._bump(s, cid)
            self._audit(s, key, "release", {"reason": reason, "decision": row.decision, "amount": row.amount,
                                            "approval_level": needed}, cid, order_id)
            stored.update({"released": True, "released_by": key.name, "released_at": row.released_at.isoformat()})
            return stored

    # ------------------------------------------------------------------ overrides
    def required_level(self, s: Session, customer_id: str, kind: str, limit: float | None, action: str | None,
                       on: dt.date) -> str:
        """The approval level an override needs (``riskml.scoring.approvals``)."""
        cfg = self.book.config
        base, _, _ = policy_row(self.book, customer_id)
        cur = float(base.get("credit_limit", float("nan")))
        sc = self.book.scores.get(customer_id) or {}
        grade = str(sc.get("grade") or "")

        if kind in ("limit", "action"):  # the rule the checks and the batch apply it by (it stops when it no longer holds)
            import numpy as np

            return str(override_levels([kind], np.array([cur]), np.array([float("nan") if limit is None else limit]),
                                       np.array([grade], dtype=object), cfg)[0])
        # hold_release: the level that may release the customer's hold as it stands (a soft hold at least)
        since = self._released_since(s, customer_id, on)
        state = check_order(self.book, customer_id, 0.0, since, self._active_overrides(s, customer_id, on))
        hold = state["hold_type"] if state["hold_type"] != "none" else "soft"
        in_force = state["limit"] if state["limit"] is not None else 0.0  # a limit override's, as the check judges it
        return release_level(hold, in_force, grade, cfg)

    def add_override(self, key: ApiKey, body: dict[str, Any]) -> dict[str, Any]:
        cid = body["customer_id"]
        effective = body.get("effective_from") or self.book.as_of.date()
        with self._writing(), Session(self.engine) as s, s.begin():
            self._lock(s, cid)
            needed = self.required_level(s, cid, body["kind"], body.get("limit"), body.get("action"), effective)
            if not level_allows(key.level, needed, self.book.config.approvals):
                raise ServiceError(403, f"approval level {needed} is needed for this override; your key's level is "
                                        f"{key.level or 'none'}")
            row = Override(customer_id=cid, kind=body["kind"], limit=body.get("limit"), action=body.get("action"),
                           max_amount=body.get("max_amount"), reason=body["reason"], approver=key.name,
                           approver_level=key.level, required_level=needed or "", effective_from=effective,
                           expires_on=body["expires_on"], created_at=self.clock())
            s.add(row)
            s.flush()
            self._bump(s, cid)
            out = override_dict(row)
            self._audit(s, key, "override", out, cid, override_id=row.id)
        return out

    def list_overrides(self, customer_id: str | None = None, active_on: dt.date | None = None) -> list[dict[str, Any]]:
        with Session(self.read_engine) as s:
            q = select(Override).order_by(Override.id)
            if customer_id is not None:
                q = q.where(Override.customer_id == customer_id)
            rows = s.scalars(q).all()
            out = [override_dict(r) for r in rows]
        if active_on is not None:
            out = [o for o in out if is_active(o["effective_from"], o["expires_on"], active_on,
                                               o["withdrawn_at"] is not None)]
        return out

    def get_override(self, override_id: int) -> dict[str, Any]:
        with Session(self.read_engine) as s:
            row = s.get(Override, override_id)
            if row is None:
                raise ServiceError(404, f"override_id: no override {override_id}")
            return override_dict(row)

    def withdraw_override(self, key: ApiKey, override_id: int, reason: str) -> dict[str, Any]:
        with self._writing(), Session(self.engine) as s, s.begin():
            cid = s.scalar(select(Override.customer_id).where(Override.id == override_id))
            if cid is None:
                raise ServiceError(404, f"override_id: no override {override_id}")
            self._lock(s, cid)
            row = s.get(Override, override_id)
            assert row is not None
            if row.withdrawn_at is not None:
                raise ServiceError(409, f"override_id: override {override_id} is already withdrawn")
            if not level_allows(key.level, row.required_level, self.book.config.approvals):
                raise ServiceError(403, f"approval level {row.required_level} is needed to withdraw this override; "
                                        f"your key's level is {key.level or 'none'}")
            row.withdrawn_at, row.withdrawn_by = self.clock(), key.name
            self._bump(s, cid)
            out = override_dict(row)
            self._audit(s, key, "override_withdrawn", {"reason": reason, "override": out}, cid,
                        override_id=override_id)
        return out

    # ------------------------------------------------------------------ customers
    def customer(self, customer_id: str, on: dt.date | None = None) -> dict[str, Any]:
        on = on or self.book.as_of.date()
        score = self.book.customer(customer_id)
        with Session(self.read_engine) as s:
            since = self._released_since(s, customer_id, dt.date.max)
            ovs = self._active_overrides(s, customer_id, on)
        state = check_order(self.book, customer_id, 0.0, since, ovs)
        return {"customer_id": customer_id, "known_customer": score is not None, "as_of": str(self.book.as_of.date()),
                "model_version": self.book.model_version, "data_fingerprint": self.book.data_fingerprint,
                "score": score, "released_since_scoring": since,
                "exposure_now": state["exposure_after"], "limit": state["limit"], "headroom": state["headroom"],
                "order_hold_now": state["decision"] != "release", "hold_type_now": state["hold_type"],
                "hold_reasons_now": state["reasons"],
                "overrides": [o for o in self.list_overrides(customer_id, on)]}


def override_dict(r: Override) -> dict[str, Any]:
    return {"override_id": r.id, "customer_id": r.customer_id, "kind": r.kind, "limit": r.limit, "action": r.action,
            "max_amount": r.max_amount, "reason": r.reason, "approver": r.approver,
            "approver_level": r.approver_level, "required_level": r.required_level or None,
            "effective_from": r.effective_from.isoformat(),
            "expires_on": r.expires_on.isoformat() if r.expires_on else None,
            "created_at": r.created_at.isoformat(),
            "withdrawn_at": r.withdrawn_at.isoformat() if r.withdrawn_at else None, "withdrawn_by": r.withdrawn_by}


def active_overrides_frame(engine: Engine, on: object) -> pd.DataFrame:
    """The overrides in force on ``on`` (for ``riskml score --overrides-db``): the frame
    :func:`riskml.scoring.overrides.active_overrides` gives, with ``used``: the orders released under each (a
    ``hold_release`` with a ``max_amount``), dated on or before ``on``."""
    from riskml.scoring.overrides import OVERRIDE_INPUT_COLUMNS, active_overrides

    day = pd.Timestamp(on).date()
    with Session(engine.execution_options(riskml_read=True)) as s:
        rows = s.scalars(select(Override).order_by(Override.id)).all()
        used: dict[int, float] = dict(s.execute(select(CreditCheck.override_id, func.sum(CreditCheck.amount)).where(
            CreditCheck.override_id.is_not(None), CreditCheck.released.is_(True), CreditCheck.order_date <= day)
            .group_by(CreditCheck.override_id)).all())
        frame = pd.DataFrame([{"override_id": r.id, "customer_id": r.customer_id, "kind": r.kind, "limit": r.limit,
                               "action": r.action, "max_amount": r.max_amount, "reason": r.reason,
                               "approver": r.approver, "approver_level": r.approver_level,
                               "effective_from": r.effective_from, "expires_on": r.expires_on,
                               "withdrawn": r.withdrawn_at is not None, "used": float(used.get(r.id) or 0.0)}
                              for r in rows], columns=[*OVERRIDE_INPUT_COLUMNS, "withdrawn", "used"])
    return active_overrides(frame, on)[[*OVERRIDE_INPUT_COLUMNS, "used"]]


def audit_frame(engine: Engine) -> pd.DataFrame:
    """The audit trail, oldest first."""
    cols = ["id", "at", "actor", "role", "event", "customer_id", "order_id", "override_id", "detail",
            "model_version", "data_fingerprint"]
    with Session(engine.execution_options(riskml_read=True)) as s:
        rows = s.execute(select(*[getattr(AuditEvent, c) for c in cols]).order_by(AuditEvent.id)).all()
    df = pd.DataFrame([tuple(r) for r in rows], columns=cols)
    df["override_id"] = df["override_id"].astype("Int64")
    return df


class _GroupWriter:
    """Group commit: one thread takes every check waiting, decides them with one policy call per round and
    writes them in one transaction (one commit, one fsync for the group).

    The transaction first locks every customer of the group (in customer order, so two groups of two
    processes cannot deadlock), then reads the prior checks of the group's order ids, the customers'
    released orders since the scoring and their overrides. Orders of one customer are decided in turns
    (round k holds each customer's k-th order), each seeing the releases before it, exactly as if the checks
    had come one by one in arrival order. A group that fails as a whole (e.g. an order id another process
    wrote meanwhile) is redone check by check (:meth:`Repository._check_one`).

    The group's statements go to the database driver directly (:class:`_GroupSQL`: a handful of fixed
    statements, written once for SQLite and PostgreSQL, with the column types SQLAlchemy stores): the
    statement layer of SQLAlchemy cost more per check than the statements themselves."""

    def __init__(self, repo: Repository, max_group: int = 128):
        self.repo = repo
        self.max_group = max_group
        self.sql = _GroupSQL(repo.engine.dialect.name)
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="riskml-checks", daemon=True)
        self._thread.start()

    def submit(self, p: _Pending, timeout: float = 60.0) -> tuple[dict[str, Any], bool]:
        self._queue.put(p)
        return p.future.result(timeout=timeout)

    def enqueue(self, p: _Pending) -> None:
        """Queue ``p``; its ``future`` gets the answer."""
        self._queue.put(p)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            while len(group) < self.max_group:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                group.append(nxt)
            try:
                done = self._write(group)
            except Exception:  # noqa: BLE001 - redo one by one: each check gets its own answer or error
                log.warning("group of %d checks redone one by one", len(group), exc_info=True)
                for p in group:
                    if p.future.done():
                        continue
                    try:
                        p.future.set_result(self.repo._check_one(p))
                    except Exception as exc:  # noqa: BLE001 - handed to the waiting request
                        p.future.set_exception(exc)
                continue
            for p, outcome in done:
                if isinstance(outcome, BaseException):
                    p.future.set_exception(outcome)
                else:
                    p.future.set_result(outcome)

    def _write(self, group: list[_Pending]) -> list[tuple[_Pending, Any]]:
        repo = self.repo
        with repo._writing():
            raw = repo.engine.raw_connection()
            try:
                cur = raw.cursor()
                try:
                    self.sql.begin(cur)
                    outcomes = self._decide_and_write(cur, group)
                    self.sql.commit(cur, raw)
                except BaseException:
                    self.sql.rollback(cur, raw)
                    raise
                finally:
                    cur.close()
            finally:
                raw.close()
        return outcomes

    def _decide_and_write(self, cur: Any, group: list[_Pending]) -> list[tuple[_Pending, Any]]:
        repo, book, sql = self.repo, self.repo.book, self.sql
        as_of = book.as_of.date()
        outcomes: list[tuple[_Pending, Any]] = []
        cids = sorted({p.customer_id for p in group})
        sql.lock(cur, cids)
        priors = sql.priors(cur, sorted({p.order_id for p in group}))
        released: dict[str, list[tuple[dt.date, float, int | None]]] = {c: [] for c in cids}
        for cid, day, amount, ov in sql.released(cur, cids):
            released[cid].append((day, amount, ov))
        overrides: dict[str, list[Any]] = {c: [] for c in cids}
        for r in sql.overrides(cur, cids):
            overrides[r.customer_id].append(r)
        decided: dict[str, tuple[_Pending, dict[str, Any]]] = {}
        checks: list[tuple[Any, ...]] = []
        audits: list[tuple[Any, ...]] = []
        bumped: set[str] = set()

        def audit(p: _Pending, event: str, detail: dict[str, Any], override_id: int | None, now: dt.datetime) -> None:
            audits.append(sql.audit_row(now, p.key.name, p.key.role, event, p.customer_id, p.order_id, override_id,
                                        json.dumps(detail, sort_keys=True, default=str), book.model_version,
                                        book.data_fingerprint))

        todo = list(group)
        while todo:
            turn: list[_Pending] = []
            later: list[_Pending] = []
            busy: set[str] = set()
            for p in todo:
                if p.customer_id in busy or p.order_id in busy:
                    later.append(p)
                    continue
                prior = priors.get(p.order_id)
                if prior is not None or p.order_id in decided:
                    # a retried order id: the first answer again (as Repository._replay), audited as a replay
                    first_hash = prior.request_hash if prior is not None else decided[p.order_id][0].rhash
                    if first_hash != p.rhash:
                        outcomes.append((p, ServiceError(409, f"order_id: {p.order_id!r} was already checked with "
                                                              "different details (customer, amount, currency or date)")))
                        continue
                    if prior is not None:
                        result = json.loads(prior.response)
                        result["released"] = prior.released
                        owner = prior.customer_id
                    else:
                        result = dict(decided[p.order_id][1])
                        owner = p.customer_id
                    audits.append(sql.audit_row(repo.clock(), p.key.name, p.key.role, "check_replay", owner,
                                                p.order_id, None,
                                                json.dumps({"request": p.request, "decision": result["decision"]},
                                                           sort_keys=True, default=str),
                                                book.model_version, book.data_fingerprint))
                    outcomes.append((p, (result, True)))
                    continue
                busy.update((p.customer_id, p.order_id))
                turn.append(p)
            if turn:
                inputs = [OrderInput(p.customer_id, p.base_amount,
                                     sum(a for d, a, _ in released[p.customer_id] if as_of < d <= p.order_date),
                                     tuple(self._active(overrides[p.customer_id], released[p.customer_id],
                                                        p.order_date)))
                          for p in turn]
                for p, result in zip(turn, check_orders(book, inputs), strict=True):
                    result.update({"order_id": p.order_id, "amount": p.amount, "order_currency": p.currency,
                                   "amount_in_book_currency": p.base_amount,
                                   "order_date": p.order_date.isoformat()})
                    now = repo.clock()
                    checks.append(sql.check_row(p.order_id, p.customer_id, p.base_amount, p.currency, p.order_date,
                                                result["decision"], result["released"], result["released_by_override"],
                                                p.rhash, json.dumps(result, default=str), p.key.name, now))
                    audit(p, "check", {"request": p.request, "result": result}, result["released_by_override"], now)
                    if result["released"]:
                        released[p.customer_id].append((p.order_date, p.base_amount, result["released_by_override"]))
                        bumped.add(p.customer_id)
                    decided[p.order_id] = (p, result)
                    outcomes.append((p, (result, False)))
            todo = later
        sql.write(cur, checks, audits, sorted(bumped))
        return outcomes

    @staticmethod
    def _active(rows: list[Any], released: list[tuple[dt.date, float, int | None]],
                on: dt.date) -> list[OverrideView]:
        latest: dict[str, Any] = {}
        for r in rows:
            if is_active(r.effective_from, r.expires_on, on):
                latest[r.kind] = r
        return [OverrideView(id=r.id, kind=r.kind, limit=r.limit, action=r.action, max_amount=r.max_amount,
                             approver=r.approver, approver_level=r.approver_level,
                             used=sum(a for _, a, ov in released if ov == r.id))
                for r in latest.values()]


class _OverrideRow(NamedTuple):
    id: int
    customer_id: str
    kind: str
    limit: float | None
    action: str | None
    max_amount: float | None
    approver: str
    approver_level: str
    effective_from: dt.date
    expires_on: dt.date | None


class _PriorRow(NamedTuple):
    order_id: str
    customer_id: str
    released: bool
    request_hash: str
    response: str


class _GroupSQL:
    """The group commit's statements on a driver cursor (sqlite3 or psycopg), with the values as SQLAlchemy
    stores them for the tables of :mod:`riskml.serving.db`: on SQLite dates as ``YYYY-MM-DD`` and times as
    ``YYYY-MM-DD HH:MM:SS.ffffff`` text, booleans as 0/1; on PostgreSQL the driver's own types. SQLite's
    transaction is ``BEGIN IMMEDIATE`` (the write lock); PostgreSQL locks each customer's row in
    ``customer_locks`` (``FOR UPDATE``, in customer order), creating it on the customer's first write."""

    def __init__(self, dialect: str):
        self.sqlite = dialect == "sqlite"
        self.q = "?" if self.sqlite else "%s"

    def _in(self, n: int) -> str:
        return "(" + ", ".join([self.q] * n) + ")"

    def _day(self, v: Any) -> dt.date:
        return dt.date.fromisoformat(v) if isinstance(v, str) else v

    def begin(self, cur: Any) -> None:
        if self.sqlite:
            cur.execute("BEGIN IMMEDIATE")

    def commit(self, cur: Any, raw: Any) -> None:
        if self.sqlite:
            cur.execute("COMMIT")
        else:
            raw.commit()

    def rollback(self, cur: Any, raw: Any) -> None:
        try:
            if self.sqlite:
                if raw.driver_connection.in_transaction:
                    cur.execute("ROLLBACK")
            else:
                raw.rollback()
        except Exception:  # noqa: BLE001 - the error that made us roll back is the one to report
            log.warning("rollback of a check group failed", exc_info=True)

    def lock(self, cur: Any, cids: list[str]) -> None:
        if self.sqlite:
            return
        q = self.q
        for cid in cids:
            cur.execute(f"SELECT version FROM customer_locks WHERE customer_id = {q} FOR UPDATE", (cid,))
            if cur.fetchone() is None:
                cur.execute(f"INSERT INTO customer_locks (customer_id, version) VALUES ({q}, 0) "
                            "ON CONFLICT (customer_id) DO NOTHING", (cid,))
                cur.execute(f"SELECT version FROM customer_locks WHERE customer_id = {q} FOR UPDATE", (cid,))
                cur.fetchone()

    def priors(self, cur: Any, order_ids: list[str]) -> dict[str, _PriorRow]:
        cur.execute("SELECT order_id, customer_id, released, request_hash, response FROM credit_checks "
                    f"WHERE order_id IN {self._in(len(order_ids))}", order_ids)
        return {r[0]: _PriorRow(r[0], r[1], bool(r[2]), r[3], r[4]) for r in cur.fetchall()}

    def released(self, cur: Any, cids: list[str]) -> list[tuple[str, dt.date, float, int | None]]:
        cur.execute("SELECT customer_id, order_date, amount, override_id FROM credit_checks "
                    f"WHERE customer_id IN {self._in(len(cids))} AND released = {self.q}", [*cids, True])
        return [(r[0], self._day(r[1]), float(r[2]), r[3]) for r in cur.fetchall()]

    def overrides(self, cur: Any, cids: list[str]) -> list[_OverrideRow]:
        cur.execute('SELECT id, customer_id, kind, "limit", action, max_amount, approver, approver_level, '
                    f"effective_from, expires_on FROM overrides WHERE customer_id IN {self._in(len(cids))} "
                    "AND withdrawn_at IS NULL ORDER BY id", cids)
        return [_OverrideRow(*r[:8], self._day(r[8]), None if r[9] is None else self._day(r[9]))
                for r in cur.fetchall()]

    def _stamp(self, v: dt.datetime) -> Any:
        # SQLAlchemy's SQLite DateTime: the fields as they are, as text
        return v.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else v

    def check_row(self, order_id: str, customer_id: str, amount: float, currency: str, order_date: dt.date,
                  decision: str, released: bool, override_id: int | None, request_hash: str, response: str,
                  checked_by: str, created_at: dt.datetime) -> tuple[Any, ...]:
        return (order_id, customer_id, amount, currency, order_date.isoformat() if self.sqlite else order_date,
                decision, bool(released), override_id, request_hash, response, checked_by, self._stamp(created_at))

    def audit_row(self, at: dt.datetime, actor: str, role: str, event: str, customer_id: str | None,
                  order_id: str | None, override_id: int | None, detail: str, model_version: str,
                  data_fingerprint: str) -> tuple[Any, ...]:
        return (self._stamp(at), actor, role, event, customer_id, order_id, override_id, detail, model_version,
                data_fingerprint)

    def write(self, cur: Any, checks: list[tuple[Any, ...]], audits: list[tuple[Any, ...]],
              bumped: list[str]) -> None:
        q = self.q
        if checks:
            cur.executemany("INSERT INTO credit_checks (order_id, customer_id, amount, currency, order_date, "
                            "decision, released, override_id, request_hash, response, checked_by, created_at) "
                            f"VALUES {self._in(12)}", checks)
        if audits:
            cur.executemany("INSERT INTO audit_events (at, actor, role, event, customer_id, order_id, override_id, "
                            f"detail, model_version, data_fingerprint) VALUES {self._in(10)}", audits)
        if bumped:
            # a released order bumps its customer's version (creating its row on its first write)
            cur.executemany(f"INSERT INTO customer_locks (customer_id, version) VALUES ({q}, 1) "
                            "ON CONFLICT (customer_id) DO UPDATE SET version = customer_locks.version + 1",
                            [(c,) for c in bumped])
