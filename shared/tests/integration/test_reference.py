"""KnownToExist remembers what a committed transaction found, per database, and nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.database import make_engine, make_session_factory
from linli_shared.reference import KnownToExist

pytestmark = pytest.mark.integration


class Rows:
    """Stands for a table: which keys it holds, and how often it was asked."""

    def __init__(self, *present: Any) -> None:
        self.present = set(present)
        self.lookups = 0

    def look_up(self, key: Any) -> Any:
        async def look() -> bool:
            self.lookups += 1
            return key in self.present

        return look


async def ask(
    factory: async_sessionmaker[AsyncSession], known: KnownToExist, rows: Rows, *, commit: bool = True
) -> bool:
    async with factory() as session:
        await session.connection()  # a transaction, as in a write
        found = await known.exists(session, "c1", rows.look_up("c1"))
        await (session.commit() if commit else session.rollback())
        return found


async def test_a_key_found_by_a_committed_transaction_is_not_looked_up_again(session_factory) -> None:
    known, rows = KnownToExist(), Rows("c1")
    assert await ask(session_factory, known, rows)
    assert await ask(session_factory, known, rows)
    assert rows.lookups == 1


async def test_a_key_found_by_a_rolled_back_transaction_is_looked_up_again(session_factory) -> None:
    known, rows = KnownToExist(), Rows("c1")  # it may have seen its own insert, now undone
    assert await ask(session_factory, known, rows, commit=False)
    assert await ask(session_factory, known, rows)
    assert rows.lookups == 2


async def test_a_missing_key_is_looked_up_every_time_and_found_once_made(session_factory) -> None:
    known, rows = KnownToExist(), Rows()
    assert not await ask(session_factory, known, rows)
    rows.present.add("c1")
    assert await ask(session_factory, known, rows)
    assert rows.lookups == 2


async def test_each_database_is_asked_for_itself(session_factory, tmp_path) -> None:
    known, first, second = KnownToExist(), Rows("c1"), Rows()
    assert await ask(session_factory, known, first)
    other = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    try:
        assert not await ask(make_session_factory(other), known, second)
    finally:
        await other.dispose()
