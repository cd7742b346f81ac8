"""Idempotency-Key: the same key and body give one effect and the same answer, however often sent."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import Table, bindparam, select
from sqlmodel import Field, SQLModel

from linli_shared.auth import Caller, CallerDep
from linli_shared.clock import UtcDateTime
from linli_shared.driver import DriverStatement
from linli_shared.errors import Invalid


class IdempotencyRecord(SQLModel, table=True):
    """A request already carried out: which key, from whom, on which route, and what it made."""

    __tablename__ = "idempotency_record"

    scope: str = Field(primary_key=True, max_length=300)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    result_id: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UtcDateTime)


KEYS: Table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
# Built once and run on the driver: every keyed write inserts its key.
FIND_KEY = DriverStatement(
    select(KEYS.c.request_hash, KEYS.c.result_id).where(
        KEYS.c.scope == bindparam("scope"), KEYS.c.key == bindparam("key")
    )
)


@dataclass(frozen=True)
class IdempotentRequest:
    """The key of one request, scoped to its caller and route, with a digest of its body."""

    key: str
    scope: str
    request_hash: str

    def record(self, result_id: str, at: datetime) -> dict[str, object]:
        """The idempotency_record row that remembers what this request made."""
        return {
            "scope": self.scope,
            "key": self.key,
            "request_hash": self.request_hash,
            "result_id": result_id,
            "created_at": at,
        }


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(max_length=200, description="Send the same key to retry safely: one effect, same answer."),
]


async def idempotent_request_of(
    request: Request, caller: Caller, idempotency_key: str | None
) -> IdempotentRequest | None:
    """The request's key scoped to its caller and route, with its body's digest; None without a key."""
    if idempotency_key is None:
        return None
    if not idempotency_key.strip():
        raise Invalid("Idempotency-Key must not be blank", zh="Idempotency-Key 不能为空")
    body = await request.body()
    return IdempotentRequest(
        key=idempotency_key,
        scope=f"{caller.subject}:{request.method}:{request.url.path}",
        request_hash=hashlib.sha256(body).hexdigest(),
    )


async def idempotent_request(
    request: Request, caller: CallerDep, idempotency_key: IdempotencyKeyHeader = None
) -> IdempotentRequest | None:
    return await idempotent_request_of(request, caller, idempotency_key)


IdempotencyDep = Annotated[IdempotentRequest | None, Depends(idempotent_request)]
