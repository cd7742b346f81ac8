"""The unit of work: the one thing that commits.

Every write in every service has one shape: decide; record events; commit with the
Idempotency-Key's record, or replay what the key made if it was seen. `UnitOfWork` owns the
session, the key's record and the outbox rows of one transaction, and rolls back unless `commit`
is called. `@write` gives a use case that shape, so the use case itself only decides:

    @write(replay=load_redemption)
    async def redeem(uow: UnitOfWork, caller: Caller, data: RedemptionIn) -> Made[Redemption]:
        ...  # load, check, change rows through uow.session
        uow.record(PointsRedeemed(...), district=item.district, community=item.community)
        return Made(redemption.id, redemption)

A domain error raised while deciding ends the same way in every service: if a twin request (same
key) committed meanwhile, its result is the answer; otherwise the error goes to the caller.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Annotated, Any, Concatenate, Generic, ParamSpec, Protocol, Self, TypeVar

from fastapi import Depends, Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.auth import Caller, CallerDep
from linli_shared.clock import utc_now
from linli_shared.correlation import current_correlation_id
from linli_shared.database import flush_changes
from linli_shared.driver import Row, unbegun_driver
from linli_shared.errors import Conflict, DomainError
from linli_shared.events import Envelope, Event
from linli_shared.idempotency import (
    FIND_KEY,
    KEYS,
    IdempotencyKeyHeader,
    IdempotentRequest,
    idempotent_request_of,
)
from linli_shared.outbox import note_outbox_written
from linli_shared.together import Alone, Part, alone_part, combined, write_together

Result = TypeVar("Result")
Arguments = ParamSpec("Arguments")


@dataclass(frozen=True)
class Made(Generic[Result]):
    """What a write made: the id its Idempotency-Key remembers, and the value returned now."""

    id: str
    value: Result


class Work(Protocol):
    """What a use case may do with its transaction: the real unit of work and the fake both do it."""

    session: AsyncSession
    now: datetime
    idempotency: IdempotentRequest | None

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...

    def record(
        self, event: Event, *, district: str, community: str | None, occurred_at: datetime | None = None
    ) -> Envelope: ...

    async def write_with_events(self, *parts: Part) -> None: ...

    async def commit_alone(
        self, alone: Alone, params: Mapping[str, Any], event: Event, *, district: str, community: str | None
    ) -> Row | None: ...

    async def previous(self) -> str | None: ...

    async def commit(self, result_id: str = "") -> str | None: ...

    async def rollback(self) -> None: ...


class UnitOfWork:
    """One transaction: its session, its Idempotency-Key and its events; rolls back unless committed."""

    session: AsyncSession
    now: datetime

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        idempotency: IdempotentRequest | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self.idempotency = idempotency
        self.events: list[Envelope] = []
        self._written = 0  # how many of self.events are in the outbox table already
        self._committed_alone = False

    async def __aenter__(self) -> Self:
        self.session = self._session_factory()
        self.now = self._clock()
        self.events = []
        self._written = 0
        self._committed_alone = False
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        # Closing rolls back whatever was not committed; unlike rollback() it does not expire the
        # rows already loaded, so a result (a replayed one included) stays readable afterwards.
        await self.session.close()

    def record(
        self, event: Event, *, district: str, community: str | None, occurred_at: datetime | None = None
    ) -> Envelope:
        """Stage an event for this transaction's outbox; it is published only if the work commits.
        Staged events are written together, in one statement, when the work flushes or commits."""
        envelope = self._wrap(event, district, community, occurred_at or self.now)
        self.events.append(envelope)
        return envelope

    def _wrap(self, event: Event, district: str, community: str | None, when: datetime) -> Envelope:
        correlation_id = current_correlation_id()
        return Envelope.wrap(
            event, district=district, community=community, occurred_at=when, correlation_id=correlation_id
        )

    async def commit_alone(
        self, alone: Alone, params: Mapping[str, Any], event: Event, *, district: str, community: str | None
    ) -> Row | None:
        """Make and commit the whole work in one statement sent alone: the write's own queries, its
        one event and its key's row, with no BEGIN or COMMIT round trip (PostgreSQL runs a lone
        statement in a transaction of its own). Returns the row `made` gave.

        None, with nothing kept, when it could not: the statement made nothing (a refusal: the
        long way finds which and says so), the key was taken (a twin or a repeat: the long way
        replays it), or the work cannot go alone (not PostgreSQL, something already sent, or rows or
        events of its own staged). The caller then does the work the long way, in a transaction,
        which gives the right answer."""
        session = self.session
        if self.events or session.new or session.dirty or session.deleted:
            return None  # the work has more to it than the statement: it goes the long way
        if (held := await unbegun_driver(session)) is None:
            return None
        envelope = self._wrap(event, district, community, self.now)
        key = None if self.idempotency is None else self.idempotency.record("", utc_now())
        part = alone_part(alone, envelope, key)
        try:
            rows = await combined([part]).rows_on(held, {**params, **part.params})
        except IntegrityError:
            return None
        if not rows:
            return None
        self._committed_alone = True
        note_outbox_written(session)
        await session.commit()  # sends nothing (nothing began); wakes the relay
        return rows[0]

    async def flush(self) -> None:
        """Send the changed rows and the staged events to the database, still uncommitted."""
        await self.write_with_events()

    async def write_with_events(self, *parts: Part) -> None:
        """Send the changed rows, then these parts and the events staged so far: on PostgreSQL the
        parts and a write's few events go in one statement (linli_shared.together)."""
        await flush_changes(self.session)
        await write_together(self.session, parts, self.events[self._written :])
        self._written = len(self.events)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A part of the work that fails alone: on an error its rows and its events are undone, and
        the rest of the work goes on."""
        mark = len(self.events)
        try:
            async with self.session.begin_nested():
                yield
                await self.flush()
        except BaseException:
            del self.events[mark:]
            self._written = min(self._written, mark)
            raise

    async def previous(self) -> str | None:
        """The id of what this Idempotency-Key made before, or None; the key with another body is a 409."""
        if self.idempotency is None:
            return None
        key = {"scope": self.idempotency.scope, "key": self.idempotency.key}
        record = await FIND_KEY.row(self.session, key)
        if record is None:
            return None
        if record["request_hash"] != self.idempotency.request_hash:
            raise Conflict(
                "this Idempotency-Key was used before with a different request body",
                zh="这个 Idempotency-Key 已用于内容不同的请求，请换一个新的",
            )
        return str(record["result_id"])

    async def commit(self, result_id: str = "") -> str | None:
        """Commit the work together with its key. If a twin request with the same key committed
        first, nothing of ours is kept and the twin's result id is returned; otherwise None."""
        if self._committed_alone:
            return None
        try:
            if self.idempotency is None:
                await self.flush()
            else:  # the key's row goes in the statement of the last events
                key = self.idempotency.record(result_id, utc_now())
                await self.write_with_events(Part.insert(KEYS, key, "key_"))
            await self.session.commit()
        except IntegrityError:
            await self.session.rollback()
            if (twin := await self.previous()) is None:
                raise
            return twin
        return None

    async def rollback(self) -> None:
        await self.session.rollback()
        self.events = []
        self._written = 0


Replay = Callable[[AsyncSession, Caller, str], Awaitable[Result]]
"""Loads, for this caller, what an earlier request with the same key made, from its id."""

Decide = Callable[Concatenate[Work, Caller, Arguments], Awaitable[Made[Result]]]
Carried = Callable[Concatenate[Work, Caller, Arguments], Awaitable[Result]]


def write(
    replay: Replay[Result],
) -> Callable[[Decide[Arguments, Result]], Carried[Arguments, Result]]:
    """Give a use case the shape of every write: decide; commit with the key; replay if the key was seen."""

    def shape(decide: Decide[Arguments, Result]) -> Carried[Arguments, Result]:
        async def carried(
            uow: Work, caller: Caller, /, *args: Arguments.args, **kwargs: Arguments.kwargs
        ) -> Result:
            async with uow:
                # No look-up of the key first: a key is new on nearly every request, so the work is
                # decided straight away and the key's INSERT at commit is the check. A repeat decides
                # again inside its transaction, finds the key taken (or fails on its own effect,
                # already made) and is rolled back and answered from what the key made.
                try:
                    made = await decide(uow, caller, *args, **kwargs)
                except (DomainError, IntegrityError):
                    await uow.rollback()
                    if (previous := await uow.previous()) is not None:
                        return await replay(uow.session, caller, previous)
                    raise
                if (twin := await uow.commit(made.id)) is not None:
                    return await replay(uow.session, caller, twin)
                return made.value

        functools.update_wrapper(carried, decide)  # its name and docstring stay the use case's
        return carried

    return shape


async def unit_of_work(
    request: Request, caller: CallerDep, idempotency_key: IdempotencyKeyHeader = None
) -> UnitOfWork:
    """A fresh, unopened unit of work for this request, carrying its Idempotency-Key if any. (It reads
    the key itself rather than through a dependency of its own: each level of dependencies costs
    FastAPI a pass on every request.)"""
    idempotency = await idempotent_request_of(request, caller, idempotency_key)
    return UnitOfWork(request.app.state.session_factory, idempotency=idempotency)


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]


async def keyless_unit_of_work(request: Request) -> UnitOfWork:
    """A unit of work that honours no Idempotency-Key: for a route without sign-in (a signed link
    in a message has no caller to scope a key to), or a read that must be recorded every time."""
    return UnitOfWork(request.app.state.session_factory)


KeylessUnitOfWorkDep = Annotated[UnitOfWork, Depends(keyless_unit_of_work)]
