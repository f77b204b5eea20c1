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
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from riskml.scoring.approvals import NO_APPROVAL, level_allows, required_levels
from riskml.scoring.overrides import is_active
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
        # busy handler (which sleeps and retries); other processes still wait on BEGIN IMMEDIATE
        self._write_lock = threading.Lock() if engine.dialect.name == "sqlite" else None
        self.group_commit = group_commit
        self._group = _GroupWriter(self)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        if self._write_lock is None:
            yield
        else:
            with self._write_lock:
                yield

    def close(self) -> None:
        self._group.close()
        self.batcher.close()
        self.engine.dispose()

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

        def level(act: str, new: float, hold: str | None = None) -> str:
            import numpy as np

            return str(required_levels(np.array([act], dtype=object), np.array([cur]), np.array([new]),
                                       np.array([grade], dtype=object), cfg.approvals, cfg.master_scale,
                                       hold_type=None if hold is None else np.array([hold], dtype=object))[0])

        if kind == "limit":
            assert limit is not None
            act = "set" if cur != cur else ("increase" if limit > cur else "decrease" if limit < cur else "keep")
            return level(act, limit)
        if kind == "action":  # imposing or lifting a revoke takes the authority to revoke
            return level("revoke", 0.0)
        # hold_release: the level that may release the customer's hold as it stands (a soft hold at least)
        since = self._released_since(s, customer_id, on)
        state = check_order(self.book, customer_id, 0.0, since, self._active_overrides(s, customer_id, on))
        hold = state["hold_type"] if state["hold_type"] != "none" else "soft"
        return release_level(hold, cur if cur == cur else 0.0, grade, cfg)

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
                "order_hold_now": state["hold_type"] != "none", "hold_type_now": state["hold_type"],
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
    :func:`riskml.scoring.overrides.apply_overrides` takes."""
    from riskml.scoring.overrides import OVERRIDE_INPUT_COLUMNS, active_overrides

    with Session(engine.execution_options(riskml_read=True)) as s:
        rows = s.scalars(select(Override).order_by(Override.id)).all()
        frame = pd.DataFrame([{"override_id": r.id, "customer_id": r.customer_id, "kind": r.kind, "limit": r.limit,
                               "action": r.action, "max_amount": r.max_amount, "reason": r.reason,
                               "approver": r.approver, "approver_level": r.approver_level,
                               "effective_from": r.effective_from, "expires_on": r.expires_on,
                               "withdrawn": r.withdrawn_at is not None} for r in rows],
                             columns=[*OVERRIDE_INPUT_COLUMNS, "withdrawn"])
    return active_overrides(frame, on)[list(OVERRIDE_INPUT_COLUMNS)]


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
    wrote meanwhile) is redone check by check (:meth:`Repository._check_one`)."""

    def __init__(self, repo: Repository, max_group: int = 128):
        self.repo = repo
        self.max_group = max_group
        # the group's statements, built once (executed with the group's ids as expanding parameters)
        checks, overrides, locks = CreditCheck.__table__, Override.__table__, CustomerLock.__table__
        self._priors = select(checks).where(checks.c.order_id.in_(bindparam("order_ids", expanding=True)))
        self._released = (select(checks.c.customer_id, checks.c.order_date, checks.c.amount, checks.c.override_id)
                          .where(checks.c.customer_id.in_(bindparam("cids", expanding=True)),
                                 checks.c.released.is_(True)))
        self._overrides = (select(overrides).where(overrides.c.customer_id.in_(bindparam("cids", expanding=True)),
                                                   overrides.c.withdrawn_at.is_(None)).order_by(overrides.c.id))
        self._insert_checks, self._insert_audits = insert(checks), insert(AuditEvent.__table__)
        # a released order bumps its customer's version (creating the customer's row on its first release)
        self._bump = (repo._insert(locks).values(customer_id=bindparam("cid"), version=1)
                      .on_conflict_do_update(index_elements=[locks.c.customer_id],
                                             set_={"version": locks.c.version + 1}))
        # SQLite's write transaction is BEGIN IMMEDIATE, one writer at a time: no row to lock
        self._row_locks = repo.engine.dialect.name != "sqlite"
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
        repo, book = self.repo, self.repo.book
        as_of = book.as_of.date()
        outcomes: list[tuple[_Pending, Any]] = []
        # a Core connection, not an ORM session: rows come back as named tuples (no identity map, no unit of
        # work); the statements are compiled once and cached by SQLAlchemy
        with repo._writing(), repo.engine.begin() as s:
            cids = sorted({p.customer_id for p in group})
            if self._row_locks:
                for cid in cids:
                    repo._lock(s, cid)
            order_ids = sorted({p.order_id for p in group})
            priors = {r.order_id: r for r in s.execute(self._priors, {"order_ids": order_ids})}
            released: dict[str, list[tuple[dt.date, float, int | None]]] = {c: [] for c in cids}
            for cid, day, amount, ov in s.execute(self._released, {"cids": cids}):
                released[cid].append((day, float(amount), ov))
            overrides: dict[str, list[Any]] = {c: [] for c in cids}  # rows of the overrides table
            for r in s.execute(self._overrides, {"cids": cids}):
                overrides[r.customer_id].append(r)
            decided: dict[str, tuple[_Pending, dict[str, Any]]] = {}
            checks: list[dict[str, Any]] = []
            audits: list[dict[str, Any]] = []
            bumped: set[str] = set()
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
                        try:
                            if prior is not None:
                                outcomes.append((p, (repo._replay(s, p.key, prior, p.rhash, p.request), True)))
                            else:
                                first, result = decided[p.order_id]
                                if first.rhash != p.rhash:
                                    raise ServiceError(409, f"order_id: {p.order_id!r} was already checked with "
                                                            "different details (customer, amount, currency or date)")
                                repo._audit(s, p.key, "check_replay", {"request": p.request,
                                                                       "decision": result["decision"]},
                                            p.customer_id, p.order_id)
                                outcomes.append((p, (dict(result), True)))
                        except ServiceError as exc:
                            outcomes.append((p, exc))
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
                        checks.append({"order_id": p.order_id, "customer_id": p.customer_id, "amount": p.base_amount,
                                       "currency": p.currency, "order_date": p.order_date,
                                       "decision": result["decision"], "released": result["released"],
                                       "override_id": result["released_by_override"], "request_hash": p.rhash,
                                       "response": json.dumps(result, default=str), "checked_by": p.key.name,
                                       "created_at": now})
                        audits.append({"at": now, "actor": p.key.name, "role": p.key.role, "event": "check",
                                       "customer_id": p.customer_id, "order_id": p.order_id,
                                       "override_id": result["released_by_override"],
                                       "detail": json.dumps({"request": p.request, "result": result}, sort_keys=True,
                                                            default=str),
                                       "model_version": book.model_version, "data_fingerprint": book.data_fingerprint})
                        if result["released"]:
                            released[p.customer_id].append((p.order_date, p.base_amount,
                                                            result["released_by_override"]))
                            bumped.add(p.customer_id)
                        decided[p.order_id] = (p, result)
                        outcomes.append((p, (result, False)))
                todo = later
            if checks:
                s.execute(self._insert_checks, checks)
            if audits:
                s.execute(self._insert_audits, audits)
            if bumped:
                s.execute(self._bump, [{"cid": c} for c in sorted(bumped)])
        return outcomes

    @staticmethod
    def _active(rows: list[Any], released: list[tuple[dt.date, float, int | None]],
                on: dt.date) -> list[OverrideView]:
        latest: dict[str, Override] = {}
        for r in rows:
            if is_active(r.effective_from, r.expires_on, on):
                latest[r.kind] = r
        return [OverrideView(id=r.id, kind=r.kind, limit=r.limit, action=r.action, max_amount=r.max_amount,
                             approver=r.approver, approver_level=r.approver_level,
                             used=sum(a for _, a, ov in released if ov == r.id))
                for r in latest.values()]
