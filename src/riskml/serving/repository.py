"""Reads and writes of the service, each in one database transaction.

Every operation on a customer (check, release, override, withdrawal) first takes the customer's lock row
(``customer_locks``, ``SELECT ... FOR UPDATE``; on SQLite the transaction itself is ``BEGIN IMMEDIATE``),
then reads what it decides on (orders released since the scoring, active overrides), decides, and writes
the result and its audit row before committing. Two checks of one customer therefore never both see the
headroom the other is about to use; checks of different customers run side by side on PostgreSQL.

The clock is read only to time-stamp audit rows and records (``created_at``, ``at``); decisions use the
order date and the book's as-of date.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from riskml.scoring.approvals import NO_APPROVAL, level_allows, required_levels
from riskml.scoring.overrides import is_active
from riskml.serving.batcher import DecisionBatcher
from riskml.serving.book import Book, OrderInput, OverrideView, check_order, policy_row, release_level
from riskml.serving.db import ApiKey, AuditEvent, CreditCheck, CustomerLock, Override
from riskml.serving.keys import hash_key

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


class Repository:
    """The service's storage operations over one engine and one book."""

    def __init__(self, engine: Engine, book: Book, clock: Callable[[], dt.datetime] = utcnow,
                 key_cache_seconds: float = 5.0):
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

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        if self._write_lock is None:
            yield
        else:
            with self._write_lock:
                yield

    def close(self) -> None:
        self.batcher.close()
        self.engine.dispose()

    # ------------------------------------------------------------------ keys
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
    def _lock(self, s: Session, customer_id: str) -> int:
        """Lock the customer's row for this transaction; returns its version."""
        q = select(CustomerLock.version).where(CustomerLock.customer_id == customer_id).with_for_update()
        version = s.scalar(q)
        if version is None:  # the customer's first write: create its row (a concurrent creator wins quietly)
            s.execute(self._insert(CustomerLock).values(customer_id=customer_id, version=0).on_conflict_do_nothing())
            version = s.scalar(q)
        return int(version or 0)

    def _bump(self, s: Session, customer_id: str) -> None:
        s.execute(update(CustomerLock).where(CustomerLock.customer_id == customer_id)
                  .values(version=CustomerLock.version + 1))

    def _version(self, s: Session, customer_id: str) -> int:
        return int(s.scalar(select(CustomerLock.version).where(CustomerLock.customer_id == customer_id)) or 0)

    def _audit(self, s: Session, key: ApiKey, event: str, detail: dict[str, Any], customer_id: str | None = None,
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
        request = {"customer_id": customer_id, "order_id": order_id, "amount": amount, "currency": currency,
                   "order_date": order_date.isoformat()}
        rhash = _request_hash(request)
        if order_date < self.book.as_of.date():
            raise ServiceError(422, f"order_date: must be on or after the scores' as-of date {self.book.as_of.date()}"
                                    f" (orders before it are in the scored ledger); got {order_date}")
        base_amount = self.book.to_base(amount, currency)
        if base_amount is None:
            known = ", ".join([self.book.currency, *sorted(self.book.fx_rates)])
            raise ServiceError(422, f"currency: must be one of {known} (the book's currency or one with an fx "
                                    f"rate in the data config); got {currency!r}")
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

    def _replay(self, s: Session, key: ApiKey, prior: CreditCheck, rhash: str, request: dict[str, Any]) -> dict[str, Any]:
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
