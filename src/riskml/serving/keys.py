"""API keys: random 256-bit tokens shown once; the service stores only their SHA-256.

A key is ``rk_<prefix>_<secret>``; the prefix (8 characters, stored in clear) names the key in listings
and logs. A fast hash is the right one here: the secret is 32 random bytes, not a password, so no
brute force can reach it, and a lookup must cost microseconds on every request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from riskml.config import ApprovalPolicy
from riskml.errors import RiskmlError
from riskml.scoring.approvals import level_names
from riskml.serving.db import ROLES, ApiKey

if TYPE_CHECKING:
    from sqlalchemy import CursorResult


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> tuple[str, str]:
    """(the key to hand out, its prefix)."""
    prefix = secrets.token_hex(4)
    return f"rk_{prefix}_{secrets.token_urlsafe(32)}", prefix


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)


def add_key(engine: Engine, name: str, role: str, level: str, approvals: ApprovalPolicy,
            now: dt.datetime | None = None) -> tuple[str, ApiKey]:
    """Create a key; returns (the key, shown only now, its stored row). Approvers need an approval level;
    order-desk keys have none."""
    name = name.strip()
    if not name:
        raise RiskmlError("--name must not be empty")
    if role not in ROLES:
        raise RiskmlError(f"--role must be one of {', '.join(ROLES)}; got {role!r}")
    levels = level_names(approvals)
    if role == "approver":
        if level not in levels:
            raise RiskmlError(f"--level must be one of {', '.join(levels)} for an approver; got {level!r}")
    elif level:
        raise RiskmlError("--level is for approver keys only (the order desk approves nothing)")
    key, prefix = new_key()
    row = ApiKey(name=name, role=role, level=level, key_hash=hash_key(key), prefix=prefix,
                 created_at=now or dt.datetime.now(dt.UTC))
    with Session(engine) as s, s.begin():
        s.add(row)
        s.flush()
        s.expunge(row)
    return key, row


def list_keys(engine: Engine) -> list[ApiKey]:
    with Session(engine) as s:
        rows = list(s.scalars(select(ApiKey).order_by(ApiKey.id)))
        s.expunge_all()
    return rows


def revoke_key(engine: Engine, key_id: int, now: dt.datetime | None = None) -> None:
    with Session(engine) as s, s.begin():
        res = s.execute(update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
                        .values(revoked_at=now or dt.datetime.now(dt.UTC)))
        done = cast("CursorResult[Any]", res).rowcount
    if not done:
        raise RiskmlError(f"no active key with id {key_id} (riskml serve keys list shows them)")
