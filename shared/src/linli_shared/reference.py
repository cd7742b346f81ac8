"""Reference rows that, once made, are never deleted or renamed (communities, grids): a write that
only needs to know one exists asks the database once per process, not on every request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from weakref import WeakKeyDictionary

from sqlmodel.ext.asyncio.session import AsyncSession


class KnownToExist:
    """Keys found to exist, remembered per database (its engine), so tests and services with
    databases of their own never see each other's. Only finding a row is remembered: a key not
    found is looked up again next time, as it may be made meanwhile."""

    def __init__(self, limit: int = 100_000) -> None:
        self._found: WeakKeyDictionary[object, set[Hashable]] = WeakKeyDictionary()
        self._limit = limit

    async def exists(
        self, session: AsyncSession, key: Hashable, look_up: Callable[[], Awaitable[bool]]
    ) -> bool:
        found = self._found.setdefault(session.bind, set())
        if key in found:
            return True
        if not await look_up():
            return False
        if len(found) >= self._limit:
            found.clear()
        found.add(key)
        return True
