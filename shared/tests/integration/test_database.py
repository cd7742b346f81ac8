"""SQLite connections close, however SQLAlchemy's cancellation handling closes them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from linli_shared.database import make_engine, sqlite_connector

pytestmark = [pytest.mark.integration]


async def test_a_close_racing_a_forced_stop_finishes(tmp_path: Path) -> None:
    """What SQLAlchemy does to a connection whose query was cancelled twice: a graceful close,
    then, before it ends, a forced stop. Both must end, or shutdown waits for ever."""
    connection = await sqlite_connector(f"sqlite+aiosqlite:///{tmp_path / 'race.db'}")()
    closing = asyncio.create_task(connection.close())
    await asyncio.sleep(0)  # one turn of the loop: the close has queued its work for the thread
    connection.stop()

    async with asyncio.timeout(10):
        await closing
    connection._thread.join(timeout=10)  # it resolves the last future just before it ends
    assert not connection._thread.is_alive()


async def test_the_engine_opens_sqlite_with_its_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'pragmas.db'}")
    try:
        async with engine.connect() as connection:
            journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar()
            busy = (await connection.execute(text("PRAGMA busy_timeout"))).scalar()
            foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar()
    finally:
        await engine.dispose()
    assert (journal, busy, foreign_keys) == ("wal", 30000, 1)
    assert (tmp_path / "pragmas.db").exists()
