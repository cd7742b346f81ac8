"""KnownToExist remembers what it found, per database, and never what it did not find."""

from __future__ import annotations

from typing import Any, cast

from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.reference import KnownToExist


class Engine:
    """Stands for a database: the cache keys on the session's bind."""


class Session:
    def __init__(self, bind: Engine) -> None:
        self.bind = bind


def session_on(engine: Engine) -> AsyncSession:
    return cast(AsyncSession, Session(engine))


class Rows:
    def __init__(self, *present: Any) -> None:
        self.present = set(present)
        self.lookups = 0

    def look_up(self, key: Any) -> Any:
        async def look() -> bool:
            self.lookups += 1
            return key in self.present

        return look


async def test_a_found_key_is_not_looked_up_again() -> None:
    known, rows, session = KnownToExist(), Rows("c1"), session_on(Engine())
    assert await known.exists(session, "c1", rows.look_up("c1"))
    assert await known.exists(session, "c1", rows.look_up("c1"))
    assert rows.lookups == 1


async def test_a_missing_key_is_looked_up_every_time_and_found_once_made() -> None:
    known, rows, session = KnownToExist(), Rows(), session_on(Engine())
    assert not await known.exists(session, "c1", rows.look_up("c1"))
    rows.present.add("c1")
    assert await known.exists(session, "c1", rows.look_up("c1"))
    assert rows.lookups == 2


async def test_each_database_is_asked_for_itself() -> None:
    known, first, second = KnownToExist(), Rows("c1"), Rows()
    assert await known.exists(session_on(Engine()), "c1", first.look_up("c1"))
    assert not await known.exists(session_on(Engine()), "c1", second.look_up("c1"))
