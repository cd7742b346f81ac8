"""Idempotency-Key: the same key and body give one effect and the same answer, however often sent."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.auth import CallerDep
from linli_shared.clock import UtcDateTime, utc_now
from linli_shared.errors import Conflict, DomainError, Invalid

Result = TypeVar("Result")


class IdempotencyRecord(SQLModel, table=True):
    """A request already carried out: which key, from whom, on which route, and what it made."""

    __tablename__ = "idempotency_record"

    scope: str = Field(primary_key=True, max_length=300)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    result_id: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UtcDateTime)


@dataclass(frozen=True)
class IdempotentRequest:
    """The key of one request, scoped to its caller and route, with a digest of its body."""

    key: str
    scope: str
    request_hash: str


async def previous_result(session: AsyncSession, request: IdempotentRequest) -> str | None:
    """The id of what this key made before, or None; the same key with another body is refused."""
    record = await session.get(IdempotencyRecord, (request.scope, request.key))
    if record is None:
        return None
    if record.request_hash != request.request_hash:
        raise Conflict("this Idempotency-Key was used before with a different request body")
    return record.result_id


async def replay_or_raise(
    session: AsyncSession,
    request: IdempotentRequest | None,
    error: DomainError,
    load_previous: Callable[[str], Awaitable[Result]],
) -> Result:
    """A request that lost a race to its own twin (same key) answers with the twin's result; any
    other loser gets `error`. Call it where the state shows the effect already happened."""
    await session.rollback()
    if request and (previous := await previous_result(session, request)):
        return await load_previous(previous)
    raise error


async def commit_once(
    session: AsyncSession,
    request: IdempotentRequest | None,
    result_id: str,
    load_previous: Callable[[str], Awaitable[Result]],
    result: Result,
) -> Result:
    """Commit the effect together with its key; if a twin request committed first, return its result.

    The key's row is part of the effect's transaction, so of two racing requests with one key
    only one commits; the other rolls back whole and answers with the winner's result.
    """
    if request is not None:
        session.add(
            IdempotencyRecord(
                scope=request.scope,
                key=request.key,
                request_hash=request.request_hash,
                result_id=result_id,
                created_at=utc_now(),
            )
        )
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        if request is None or (previous := await previous_result(session, request)) is None:
            raise
        return await load_previous(previous)
    return result


async def idempotent_request(
    request: Request,
    caller: CallerDep,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=200, description="Send the same key to retry safely: one effect, same answer."),
    ] = None,
) -> IdempotentRequest | None:
    if idempotency_key is None:
        return None
    if not idempotency_key.strip():
        raise Invalid("Idempotency-Key must not be blank")
    body = await request.body()
    return IdempotentRequest(
        key=idempotency_key,
        scope=f"{caller.subject}:{request.method}:{request.url.path}",
        request_hash=hashlib.sha256(body).hexdigest(),
    )


IdempotencyDep = Annotated[IdempotentRequest | None, Depends(idempotent_request)]
