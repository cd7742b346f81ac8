"""An in-memory unit of work, so that a use case's rules can be tested without a database.

It keeps rows by (model, primary key), Idempotency-Key records and recorded events in dicts and
lists, and forgets what was staged on rollback. A use case that queries (`session.exec`) needs a
real database: the fake says so instead of pretending.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Self, cast

from sqlalchemy import inspect
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.clock import utc_now
from linli_shared.driver import Row
from linli_shared.errors import Conflict
from linli_shared.events import Envelope, Event
from linli_shared.idempotency import IdempotentRequest
from linli_shared.together import Alone, Part


def primary_key(row: Any) -> tuple[Any, ...]:
    return tuple(getattr(row, column.key) for column in inspect(type(row)).primary_key)


class FakeSession:
    """The part of an AsyncSession that loads and stores rows by primary key, in memory."""

    def __init__(self, committed: dict[tuple[type, tuple[Any, ...]], Any]) -> None:
        self._committed = committed
        self._staged: dict[tuple[type, tuple[Any, ...]], Any] = {}

    def add(self, row: Any) -> None:
        self._staged[(type(row), primary_key(row))] = row

    async def get(self, model: type, key: Any, *, with_for_update: bool = False) -> Any:
        """As the session's; a row lock means nothing here, where one use case runs at a time."""
        key = key if isinstance(key, tuple) else (key,)
        return self._staged.get((model, key)) or self._committed.get((model, key))

    async def flush(self) -> None:
        return None

    async def refresh(self, row: Any, *, with_for_update: bool = False) -> None:
        return None

    async def exec(self, *_: Any, **__: Any) -> Any:
        raise NotImplementedError("this use case queries: test it against a real database")

    def commit_staged(self) -> None:
        self._committed.update(copy.copy(self._staged))
        self._staged.clear()

    def forget_staged(self) -> None:
        self._staged.clear()


class FakeUnitOfWork:
    """Does what UnitOfWork does, in memory: committed rows, keys and events outlive one unit."""

    def __init__(
        self, *, idempotency: IdempotentRequest | None = None, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.idempotency = idempotency
        self.rows: dict[tuple[type, tuple[Any, ...]], Any] = {}
        self.keys: dict[tuple[str, str], tuple[str, str]] = {}
        self.published: list[Envelope] = []
        self.events: list[Envelope] = []
        self.commits = 0
        self._clock = clock

    async def __aenter__(self) -> Self:
        self._session = FakeSession(self.rows)
        self.session = cast(AsyncSession, self._session)
        self.now = self._clock()
        self.events = []
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.rollback()

    def record(
        self, event: Event, *, district: str, community: str | None, occurred_at: datetime | None = None
    ) -> Envelope:
        when = occurred_at or self.now
        envelope = Envelope.wrap(event, district=district, community=community, occurred_at=when)
        self.events.append(envelope)
        return envelope

    async def write_with_events(self, *parts: Part) -> None:
        raise NotImplementedError("rows written as SQL need a database: test this use case on one")

    async def commit_alone(
        self, alone: Alone, params: Mapping[str, Any], event: Event, *, district: str, community: str | None
    ) -> Row | None:
        return None  # no database to send it to: the use case goes the long way

    async def previous(self) -> str | None:
        if self.idempotency is None:
            return None
        found = self.keys.get((self.idempotency.scope, self.idempotency.key))
        if found is None:
            return None
        request_hash, result_id = found
        if request_hash != self.idempotency.request_hash:
            raise Conflict(
                "this Idempotency-Key was used before with a different request body",
                zh="这个 Idempotency-Key 已用于内容不同的请求，请换一个新的",
            )
        return result_id

    async def commit(self, result_id: str = "") -> str | None:
        if self.idempotency is not None:
            key = (self.idempotency.scope, self.idempotency.key)
            if key in self.keys:  # a twin committed first, or this key was used with another body
                await self.rollback()
                return await self.previous()
            self.keys[key] = (self.idempotency.request_hash, result_id)
        self._session.commit_staged()
        self.published.extend(self.events)
        self.events = []
        self.commits += 1
        return None

    async def rollback(self) -> None:
        self._session.forget_staged()
        self.events = []
