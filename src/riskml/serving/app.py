"""The FastAPI application of ``riskml serve`` (OpenAPI docs at ``/docs``).

Every endpoint but ``/health`` and ``/ready`` needs an API key in the ``X-API-Key`` header: a missing,
unknown or revoked key gets 401, a key of the wrong role 403 (``order_desk`` keys check orders and read
customers; ``approver`` keys also release held orders and grant or withdraw overrides, within their
approval level). Malformed bodies get 422 naming the field; no error ever returns a stack trace.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import uuid
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from riskml import __version__
from riskml.serving.db import ApiKey
from riskml.serving.repository import Repository, ServiceError

log = logging.getLogger("riskml.serving")

Id = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]
Money = Annotated[float, Field(gt=0, le=1e12, allow_inf_nan=False)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CheckRequest(_Body):
    """An order to check."""

    customer_id: Id
    order_id: Id
    amount: Money = Field(description="order amount, in `currency`")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR")
    order_date: dt.date = Field(description="the order's date (YYYY-MM-DD): the check is as of this date")


class CheckResponse(BaseModel):
    """The decision on an order (documentation of the answer; see docs/serving.md)."""

    decision: Literal["release", "soft_hold", "hard_hold"]
    released: bool = Field(description="the order counts in the exposure (released now, or later by an approver)")
    replayed: bool = Field(description="a retried order id: this is the first answer again")
    customer_id: str
    known_customer: bool = Field(description="false: a new account, decided by the new-account policy")
    order_id: str
    amount: float
    order_currency: str
    amount_in_book_currency: float
    currency: str = Field(description="the book's currency (exposures, limits, amounts)")
    order_date: dt.date
    reason_codes: list[str] = Field(description="past_due, over_limit, revoked; new_account")
    reasons: list[str] = Field(description="the reasons in plain words")
    reason_texts: dict[str, str]
    hold_type: Literal["none", "soft", "hard"]
    exposure_before: float
    exposure_after: float
    limit: float | None
    headroom: float | None
    grade: str | None
    pd: float | None
    persona: str | None
    suggested_limit: float | None
    action: str
    approval_level: str | None = Field(description="the level that may release the hold (none when released)")
    release_amount: float | None = Field(description="what the customer pays to release it (none: revoked terms)")
    overrides_applied: list[int]
    released_by_override: int | None
    as_of: dt.date
    model_version: str
    data_fingerprint: str


class ErrorResponse(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "missing, unknown or revoked API key"},
    403: {"model": ErrorResponse, "description": "wrong role, or an approval level too low"},
    422: {"model": ErrorResponse, "description": "invalid request, naming each field"},
}


class ReleaseRequest(_Body):
    reason: str = Field(min_length=3, max_length=1000)


class OverrideRequest(_Body):
    """An override: ``limit`` (give ``limit``), ``action`` (``keep`` or ``revoke``) or ``hold_release``
    (optionally up to ``max_amount`` of orders), valid from ``effective_from`` (default the scores' as-of)
    through ``expires_on``."""

    customer_id: Id
    kind: Literal["limit", "action", "hold_release"]
    limit: float | None = Field(default=None, ge=0, le=1e12, allow_inf_nan=False)
    action: Literal["keep", "revoke"] | None = None
    max_amount: Money | None = None
    reason: str = Field(min_length=3, max_length=1000)
    effective_from: dt.date | None = None
    expires_on: dt.date

    @field_validator("reason")
    @classmethod
    def _reason_text(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("reason must not be blank")
        return v

    @model_validator(mode="after")
    def _fields_of_kind(self) -> OverrideRequest:
        if self.kind == "limit" and self.limit is None:
            raise ValueError("limit: required when kind is limit")
        if self.kind != "limit" and self.limit is not None:
            raise ValueError(f"limit: only for kind limit; got kind {self.kind}")
        if self.kind == "action" and self.action is None:
            raise ValueError("action: required when kind is action (keep or revoke)")
        if self.kind != "action" and self.action is not None:
            raise ValueError(f"action: only for kind action; got kind {self.kind}")
        if self.kind != "hold_release" and self.max_amount is not None:
            raise ValueError(f"max_amount: only for kind hold_release; got kind {self.kind}")
        if self.effective_from is not None and self.expires_on < self.effective_from:
            raise ValueError("expires_on: must be on or after effective_from")
        return self


def _field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ())]
        where = loc[0] if loc else "body"
        field = ".".join(loc[1:]) or where
        msg = str(e.get("msg", "invalid"))
        if e.get("type") == "json_invalid":
            field, msg = "body", "the body is not valid JSON"
        elif e.get("type") == "model_attributes_type":
            field, msg = "body", "the body must be a JSON object"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
            if ": " in msg and field == where:
                field = msg.split(": ", 1)[0]
        out.append({"field": field, "location": where, "message": msg})
    return out


def _json_safe(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _json_safe(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_json_safe(x) for x in v]
    return v


def create_app(repo: Repository, startup_seconds: float | None = None) -> FastAPI:
    """The application over ``repo`` (its database and its book)."""
    book = repo.book
    app = FastAPI(
        title="riskml credit check", version=__version__,
        description="Order-time credit checks on the last batch scoring, with overrides, approvals and an "
                    "audit trail. Send the API key in the X-API-Key header. See docs/serving.md.",
    )
    header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key (riskml serve keys add)")

    def authorise(*roles: str) -> Any:
        async def dependency(key: str | None = Security(header)) -> ApiKey:
            if not key:
                raise ServiceError(401, "missing API key: send it in the X-API-Key header")
            # a cached key is checked on the event loop; an unknown one is looked up in the database off it
            row = repo.cached_key(key) or await run_in_threadpool(repo.authenticate, key)
            if row is None:
                raise ServiceError(401, "invalid or revoked API key")
            if row.role not in roles:
                raise ServiceError(403, f"this needs the role {' or '.join(roles)}; your key's role is {row.role}")
            return row

        return Depends(dependency)

    any_role = authorise("order_desk", "approver")
    approver = authorise("approver")

    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        headers = {"WWW-Authenticate": "ApiKey"} if exc.status == 401 else None
        return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        line = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse({"detail": f"invalid request: {line}", "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        ref = uuid.uuid4().hex[:12]
        log.error("internal error %s on %s %s", ref, request.method, request.url.path, exc_info=exc)
        return JSONResponse({"detail": f"internal error (reference {ref}); the service logged the cause"},
                            status_code=500)

    @app.get("/health", tags=["service"])
    def health() -> dict[str, Any]:
        """The process is up (``worker``: its process id; with ``--workers N`` each worker answers with its own)."""
        return {"status": "ok", "worker": os.getpid()}

    @app.get("/ready", tags=["service"])
    def ready() -> JSONResponse:
        """The book is loaded and the database answers."""
        try:
            repo.ping()
        except Exception:  # noqa: BLE001 - any database failure means not ready
            return JSONResponse({"status": "unavailable", "detail": "database unreachable"}, status_code=503)
        return JSONResponse({"status": "ready", "customers": len(book), "as_of": str(book.as_of.date()),
                             "model_version": book.model_version, "data_fingerprint": book.data_fingerprint,
                             "startup_seconds": getattr(app.state, "startup_seconds", startup_seconds)})

    @app.post("/v1/credit-checks", tags=["checks"], status_code=201,
              responses={201: {"model": CheckResponse, "description": "the decision"},
                         200: {"model": CheckResponse, "description": "a retried order id: the first decision"},
                         409: {"model": ErrorResponse, "description": "the order id was checked with other details"},
                         **ERRORS})
    async def credit_check(body: CheckRequest, key: ApiKey = any_role) -> JSONResponse:
        """Decide an order: release, soft_hold or hard_hold, with reasons, exposure, limit, headroom and
        what releases it. A retried order id returns the first decision (status 200, ``replayed`` true)."""
        # on the event loop: the check waits for its group commit (repository thread) without a thread of its own
        result, replayed = await repo.check_async(key, body.customer_id, body.order_id, body.amount, body.currency,
                                                  body.order_date)
        return JSONResponse(_json_safe({**result, "replayed": replayed}), status_code=200 if replayed else 201)

    @app.get("/v1/credit-checks/{order_id}", tags=["checks"])
    def get_check(order_id: str, key: ApiKey = any_role) -> dict[str, Any]:
        return _json_safe(repo.get_check(order_id))

    @app.post("/v1/credit-checks/{order_id}/release", tags=["checks"], responses=ERRORS)
    def release(order_id: str, body: ReleaseRequest, key: ApiKey = approver) -> dict[str, Any]:
        """Release a held order (an approver of the level the hold needs)."""
        return _json_safe(repo.release(key, order_id, body.reason))

    @app.get("/v1/customers/{customer_id}", tags=["customers"], responses=ERRORS)
    def customer(customer_id: str, on: dt.date | None = Query(default=None, description="overrides active on"),
                 key: ApiKey = any_role) -> dict[str, Any]:
        """The latest score, limit, actions and reasons, the exposure now and the active overrides."""
        return _json_safe(repo.customer(customer_id, on))

    @app.post("/v1/overrides", tags=["overrides"], status_code=201, responses=ERRORS)
    def add_override(body: OverrideRequest, key: ApiKey = approver) -> dict[str, Any]:
        """Grant an override (within your approval level)."""
        return _json_safe(repo.add_override(key, body.model_dump()))

    @app.get("/v1/overrides", tags=["overrides"])
    def list_overrides(customer_id: str | None = None, active_on: dt.date | None = None,
                       key: ApiKey = any_role) -> list[dict[str, Any]]:
        return _json_safe(repo.list_overrides(customer_id, active_on))

    @app.get("/v1/overrides/{override_id}", tags=["overrides"])
    def get_override(override_id: int, key: ApiKey = any_role) -> dict[str, Any]:
        return _json_safe(repo.get_override(override_id))

    @app.delete("/v1/overrides/{override_id}", tags=["overrides"], responses=ERRORS)
    def withdraw(override_id: int, reason: str = Query(default="withdrawn", min_length=3, max_length=1000),
                 key: ApiKey = approver) -> dict[str, Any]:
        """Withdraw an override (it stops applying at once; the row and its audit stay)."""
        return _json_safe(repo.withdraw_override(key, override_id, reason))

    return app


SETTINGS_ENV = "RISKML_SERVE_SETTINGS"


def app_from_env() -> FastAPI:
    """The application for one uvicorn worker process (``riskml serve --workers N``): the settings come
    from :data:`SETTINGS_ENV` (JSON written by the CLI); each worker loads the book and opens the database.
    Workers share nothing but the database, which serialises each customer's checks."""
    import json
    import os
    import time
    from pathlib import Path

    from riskml.config import load_config
    from riskml.serving.book import load_book
    from riskml.serving.db import open_database

    start = time.perf_counter()
    s = json.loads(os.environ[SETTINGS_ENV])
    def path(k: str) -> Path | None:
        return Path(s[k]) if s.get(k) else None

    scores = path("scores")
    assert scores is not None
    book = load_book(scores, path("data"), load_config("scoring", path("config")), path("data_config"),
                     s.get("currency"), s.get("new_account_limit"))
    app = create_app(Repository(open_database(str(s["db"]), sqlite_sync=s.get("sqlite_sync", "full")), book))
    app.state.startup_seconds = time.perf_counter() - start + float(s.get("parent_seconds", 0.0))
    return app
