"""No pre-ping on PostgreSQL, yet a pool whose server-side backends were killed still serves."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text

from linli_shared.database import make_engine, make_session_factory

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

POOL = 3


async def test_the_next_request_succeeds_after_the_pools_backends_are_terminated(
    pg_database_url: str,
) -> None:
    engine = make_engine(pg_database_url, pool_size=POOL, max_overflow=0)
    sessions = make_session_factory(engine)
    held = asyncio.Barrier(POOL)

    async def transaction(hold: bool = False) -> int:
        async with sessions() as session, session.begin():
            connection = await session.connection()
            pid = int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            if hold:  # keep every connection busy at once, so the pool opens all of them
                await held.wait()
            return pid

    admin = await asyncpg.connect(pg_database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        assert not engine.pool._pre_ping  # no round trips at checkout
        pids = set(await asyncio.gather(*(transaction(hold=True) for _ in range(POOL))))
        assert len(pids) == POOL
        for pid in pids:  # what a PostgreSQL restart does to every pooled connection
            assert await admin.fetchval("SELECT pg_terminate_backend($1, 5000)", pid)

        after = await asyncio.gather(*(transaction() for _ in range(POOL)))
    finally:
        await admin.close()
        await engine.dispose()
    assert not pids & set(after), "every transaction ran on a fresh connection"


async def test_a_burst_beyond_the_pool_waits_for_its_connections_and_opens_no_more(
    pg_database_url: str,
) -> None:
    """SQLAlchemy's default overflow opens a connection for each request beyond the pool and closes
    it after: under load most requests then paid for a new backend. Beyond the pool they wait."""
    engine = make_engine(pg_database_url, pool_size=POOL)
    sessions = make_session_factory(engine)
    database = pg_database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(pg_database_url.replace("postgresql+asyncpg://", "postgresql://"))

    async def opened() -> int:
        await admin.execute("SELECT pg_stat_clear_snapshot()")
        return int(await admin.fetchval("SELECT sessions FROM pg_stat_database WHERE datname = $1", database))

    async def transaction() -> None:
        async with sessions() as session, session.begin():
            connection = await session.connection()
            await connection.execute(text("SELECT pg_sleep(0.005)"))

    try:
        before = await opened()
        await asyncio.gather(*(transaction() for _ in range(10 * POOL)))
        assert await opened() - before <= POOL
    finally:
        await admin.close()
        await engine.dispose()
