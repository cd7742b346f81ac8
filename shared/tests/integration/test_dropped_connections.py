"""No pre-ping on PostgreSQL, yet a pool whose server-side backends were killed still serves."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import event, text

from linli_shared.database import make_engine, make_session_factory
from linli_shared.settings import ServiceSettings

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


async def test_requests_in_waves_reuse_the_pools_connections(pg_database_url: str) -> None:
    """SQLAlchemy's default pool (5) closes a connection given back beyond it: with 8 requests in
    flight in waves, most of them paid for a new backend (79 opened for 160). The service's pool
    covers that many in flight and reuses its connections."""
    in_flight = 8
    pool_size = ServiceSettings.model_fields["database_pool_size"].default
    engine = make_engine(pg_database_url, pool_size=pool_size)
    sessions = make_session_factory(engine)
    opened: list[object] = []
    event.listen(engine.sync_engine, "connect", lambda connection, _record: opened.append(connection))

    async def transaction() -> None:
        async with sessions() as session, session.begin():
            connection = await session.connection()
            await connection.execute(text("SELECT pg_sleep(0.002)"))

    try:
        for _ in range(20):
            await asyncio.gather(*(transaction() for _ in range(in_flight)))
        assert len(opened) <= in_flight
    finally:
        await engine.dispose()
