"""pytest plugin (registered by linli-shared): real servers for every service's tests.

With LINLI_REQUIRE_SERVERS=1 (as in CI) a server that cannot be had fails the test instead of
skipping it.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from linli_shared.natsserver import NatsServer
from linli_shared.testing.postgres import async_url, postgres_server


def unavailable(reason: str) -> None:
    if os.environ.get("LINLI_REQUIRE_SERVERS") == "1":
        pytest.fail(f"required server unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    try:
        with postgres_server() as url:
            yield url
    except LookupError as error:
        unavailable(str(error))


def _admin_dsn(admin_url: str) -> str:
    return admin_url.replace("postgresql+asyncpg://", "postgresql://")


@contextmanager
def fresh_pg_database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server for as long as the block runs, then dropped."""
    name = f"linli_test_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(_admin_dsn(admin_url))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield async_url(admin_url, name)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_database_url(pg_admin_url: str) -> Iterator[str]:
    """A database of this test's own on the PostgreSQL server, dropped afterwards."""
    with fresh_pg_database(pg_admin_url) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes this runs twice: on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    return str(request.getfixturevalue("pg_database_url"))


@pytest.fixture(scope="session")
def nats_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """NATS_URL if given, else a JetStream server from the wheel for this test worker."""
    if url := os.environ.get("NATS_URL"):
        yield url
        return
    server = NatsServer(tmp_path_factory.mktemp("nats"), name="linli-test")
    try:
        server.start()
    except (RuntimeError, TimeoutError) as error:
        unavailable(f"cannot start nats-server: {error}")
    yield server.url
    server.stop()


async def delete_all_streams(url: str) -> None:
    client = await nats.connect(url)
    try:
        jetstream = client.jetstream()
        for stream in await jetstream.streams_info():
            if stream.config.name is not None:
                await jetstream.delete_stream(stream.config.name)
    finally:
        await client.close()


@pytest.fixture
def nats_url(nats_server_url: str) -> str:
    """The worker's NATS, without the streams earlier tests left. A service on a fresh database
    replays its streams from the start: other tests' events (some broken on purpose) would churn
    through it behind this test's back, holding its database's write lock."""
    if not os.environ.get("NATS_URL"):  # a server we were lent is never emptied
        asyncio.run(delete_all_streams(nats_server_url))
    return nats_server_url


@pytest.fixture
def own_nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A NATS server this test owns, so it may stop and restart it (data survives restarts)."""
    server = NatsServer(tmp_path / "nats", name="linli-own")
    try:
        server.start()
    except (RuntimeError, TimeoutError) as error:
        unavailable(f"cannot start nats-server: {error}")
    yield server
    server.stop()


@pytest.fixture
async def nats_client(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    yield client
    await client.drain()


@pytest.fixture
def jetstream(nats_client: Client) -> JetStreamContext:
    return nats_client.jetstream()


@pytest.fixture
def sent_to_postgresql(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[str]]:
    """Call in a test: from then on, what the test's own task sends to PostgreSQL, BEGIN and COMMIT
    included (a service's periodic jobs, in tasks of their own, are not counted)."""

    def watching() -> list[str]:
        queries: list[str] = []
        simple, extended, mine = (
            asyncpg.Connection.execute,
            asyncpg.Connection._execute,
            asyncio.current_task(),
        )

        async def execute(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
            if asyncio.current_task() is mine:
                queries.append(query)
            return await simple(self, query, *args, **kwargs)

        async def fetch(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
            if asyncio.current_task() is mine:
                queries.append(query)
            return await extended(self, query, *args, **kwargs)

        monkeypatch.setattr(asyncpg.Connection, "execute", execute)
        monkeypatch.setattr(asyncpg.Connection, "_execute", fetch)
        return queries

    return watching
