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
