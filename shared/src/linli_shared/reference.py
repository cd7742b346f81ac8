"""Reference rows that, once made, are never deleted or renamed (communities, grids, a fund's chart
of accounts, a year's receipt counter): a write that only needs to know one exists asks the
database once per process, not on every request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel.ext.asyncio.session import AsyncSession

SEEN = "linli_known_to_exist"


class KnownToExist:
    """Keys found to exist, remembered per database (its engine), so tests and services with
    databases of their own never see each other's. A key is remembered only once the transaction
    that found it commits (what it saw might be its own insert, undone by a rollback); a key not
    found is looked up again next time, as it may be made meanwhile."""

    def __init__(self, limit: int = 100_000) -> None:
        self._found: WeakKeyDictionary[object, set[Hashable]] = WeakKeyDictionary()
        self._limit = limit

    async def exists(
        self, session: AsyncSession, key: Hashable, look_up: Callable[[], Awaitable[bool]]
    ) -> bool:
        if key in self._found.get(session.bind, ()):
            return True
        if not await look_up():
            return False
        session.info.setdefault(SEEN, []).append((self, session.bind, key))
        return True

    def remember(self, bind: object, key: Hashable) -> None:
        found = self._found.setdefault(bind, set())
        if len(found) >= self._limit:
            found.clear()
        found.add(key)


@event.listens_for(Session, "after_commit")
def _remember_what_was_seen(session: Session) -> None:
    for known, bind, key in session.info.pop(SEEN, ()):
        known.remember(bind, key)


@event.listens_for(Session, "after_transaction_end")
def _forget_what_was_seen(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back (a commit has taken them already)
        session.info.pop(SEEN, None)
