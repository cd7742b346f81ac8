"""Residents registered per second: POST /v1/residents to a registry process, beside raw inserts."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import httpx
from sqlalchemy import text

from linli_registry.app import MIGRATIONS
from linli_registry.domain import birth_date_from_id, hash_id_number, id_check_char, mask_id_number
from linli_shared.auth import Role, issue_token
from linli_shared.database import make_engine
from linli_shared.migrations import upgrade_to_head
from tests.bench.infra import Secrets, asyncpg_dsn, service_process

DISTRICT = "bench"
COMMUNITY = "c1"
TAGS = ("living_alone", "dibao", "veteran", "lonely")
TAG_COLUMNS = (
    "living_alone",
    "lonely",
    "disabled",
    "bedridden",
    "dibao",
    "poor_household",
    "orphan",
    "child_in_difficulty",
    "veteran",
    "party_member",
)


@dataclass(frozen=True)
class Timing:
    count: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.count / self.seconds


def id_number(index: int) -> str:
    """A valid, distinct 18-character ID number: region, birth date, sequence, check character."""
    born = date(1940, 1, 1) + timedelta(days=index)
    first17 = f"110105{born:%Y%m%d}{index % 1000:03d}"
    return first17 + id_check_char(first17)


def resident_payloads(start: int, count: int) -> list[dict[str, Any]]:
    """The JSON bodies of POST /v1/residents; every fourth resident carries one tag."""
    return [
        {
            "district": DISTRICT,
            "community": COMMUNITY,
            "full_name": f"Bench Resident {i}",
            "gender": "female" if i % 2 else "male",
            "id_number": id_number(i),
            "tags": [TAGS[i // 4 % len(TAGS)]] if i % 4 == 0 else [],
        }
        for i in range(start, start + count)
    ]


async def run_workers(
    items: Iterable[Any], workers: int, handle: Callable[[int, Any], Awaitable[None]]
) -> None:
    """`workers` tasks take items from one shared iterator until it runs out."""
    source: Iterator[Any] = iter(items)

    async def worker(number: int) -> None:
        for item in source:
            await handle(number, item)

    await asyncio.gather(*(worker(n) for n in range(workers)))


# --- Linli: the registry over HTTP ---------------------------------------------------------------


async def post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    if response.status_code != 201:
        raise RuntimeError(f"POST {path} answered {response.status_code}: {response.text[:500]}")
    result: dict[str, Any] = response.json()
    return result


async def post_residents(base_url: str, token: str, payloads: list[dict[str, Any]], workers: int) -> float:
    """POST every payload with `workers` clients (one keep-alive connection each); return seconds."""
    headers = {"Authorization": f"Bearer {token}"}
    clients = [httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) for _ in range(workers)]
    try:

        async def register(number: int, payload: dict[str, Any]) -> None:
            await post(clients[number], "/v1/residents", payload)

        started = time.perf_counter()
        await run_workers(payloads, workers, register)
        return time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()


async def scalar(database_url: str, sql: str) -> int:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(text(sql))).scalar_one())
    finally:
        await engine.dispose()


async def wait_outbox_drained(database_url: str, expected: int, timeout: float = 120.0) -> float:
    """Seconds until the registry's relay has marked `expected` outbox rows sent (a sanity check)."""
    started = time.perf_counter()
    sent = 0
    while time.perf_counter() - started < timeout:
        sent = await scalar(database_url, "SELECT count(*) FROM outbox_message WHERE sent_at IS NOT NULL")
        if sent >= expected:
            return time.perf_counter() - started
        await asyncio.sleep(0.1)
    raise TimeoutError(f"relay published {sent} of {expected} outbox rows within {timeout}s")


@dataclass(frozen=True)
class HttpRun:
    timing: Timing
    relay_lag_seconds: float


async def registry_over_http(
    workdir: Path, *, database_url: str, nats_url: str, count: int, warmup: int, workers: int
) -> HttpRun:
    keys = Secrets.random()
    admin = issue_token(keys.jwt_secret, role=Role.CITY_ADMIN, district=None, subject="bench-admin")
    worker_token = issue_token(
        keys.jwt_secret, role=Role.COMMUNITY_WORKER, district=DISTRICT, community=COMMUNITY, subject="bench"
    )
    with service_process(
        "registry", workdir, database_url=database_url, nats_url=nats_url, keys=keys
    ) as base_url:
        async with httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {admin}"}, timeout=30
        ) as client:
            await post(client, "/v1/districts", {"code": DISTRICT, "name": "Bench district"})
            await post(
                client,
                "/v1/communities",
                {"district": DISTRICT, "code": COMMUNITY, "name": "Bench community"},
            )
        await post_residents(base_url, worker_token, resident_payloads(0, warmup), workers)
        seconds = await post_residents(base_url, worker_token, resident_payloads(warmup, count), workers)
        lag = await wait_outbox_drained(database_url, 2 * (warmup + count))  # registered + contact_changed
    registered = await scalar(database_url, "SELECT count(*) FROM resident")
    if registered != warmup + count:
        raise RuntimeError(f"expected {warmup + count} residents in the registry, found {registered}")
    return HttpRun(Timing(count, seconds), lag)


# --- Baseline: the same resident rows, inserted raw ----------------------------------------------

COLUMNS = (
    "id",
    "district",
    "community",
    "grid_code",
    "household_id",
    "full_name",
    "gender",
    "birth_date",
    "id_number_hash",
    "id_number_masked",
    "phone",
    *TAG_COLUMNS,
    "status",
    "status_on",
    "registered_at",
)


def resident_rows(payloads: list[dict[str, Any]], id_key: bytes) -> list[tuple[Any, ...]]:
    """The rows the registry would write for these payloads (hashing done here, outside the timing)."""
    rows = []
    for payload in payloads:
        number = payload["id_number"]
        rows.append(
            (
                str(uuid.uuid4()),
                payload["district"],
                payload["community"],
                None,
                None,
                payload["full_name"],
                payload["gender"],
                birth_date_from_id(number),
                hash_id_number(number, id_key),
                mask_id_number(number),
                None,
                *(column in payload["tags"] for column in TAG_COLUMNS),
                "active",
                None,
                datetime.now(UTC).replace(tzinfo=None),  # stored naive UTC, as UtcDateTime does
            )
        )
    return rows


def sqlite_values(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Values as SQLAlchemy stores them in SQLite: ISO text for dates, 0/1 for booleans."""
    converted: list[Any] = []
    for value in row:
        if isinstance(value, datetime):
            converted.append(value.isoformat(sep=" ", timespec="microseconds"))
        elif isinstance(value, date):
            converted.append(value.isoformat())
        elif isinstance(value, bool):
            converted.append(int(value))
        else:
            converted.append(value)
    return tuple(converted)


async def create_schema(database_url: str, migrations: Path = MIGRATIONS) -> None:
    """A service's own schema (the registry's unless told), by its own migrations, so indexes and keys
    are the same."""
    engine = make_engine(database_url)
    try:
        await upgrade_to_head(engine, migrations)
    finally:
        await engine.dispose()


async def raw_postgres_inserts(database_url: str, rows: list[tuple[Any, ...]], workers: int) -> float:
    placeholders = ", ".join(f"${n}" for n in range(1, len(COLUMNS) + 1))
    sql = f"INSERT INTO resident ({', '.join(COLUMNS)}) VALUES ({placeholders})"
    connections = [await asyncpg.connect(asyncpg_dsn(database_url)) for _ in range(workers)]
    try:

        async def insert(number: int, row: tuple[Any, ...]) -> None:
            connection = connections[number]
            async with connection.transaction():
                await connection.execute(sql, *row)

        started = time.perf_counter()
        await run_workers(rows, workers, insert)
        return time.perf_counter() - started
    finally:
        for connection in connections:
            await connection.close()


async def sqlite_connection(path: Path) -> aiosqlite.Connection:
    """Configured as linli_shared.database.make_engine configures SQLite."""
    connection = await aiosqlite.connect(path, timeout=30, isolation_level=None)
    for pragma in ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON", "synchronous=FULL"):
        await connection.execute(f"PRAGMA {pragma}")
    return connection


async def raw_sqlite_inserts(path: Path, rows: list[tuple[Any, ...]], workers: int) -> float:
    sql = f"INSERT INTO resident ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
    connections = [await sqlite_connection(path) for _ in range(workers)]
    try:

        async def insert(number: int, row: tuple[Any, ...]) -> None:
            connection = connections[number]
            await connection.execute("BEGIN IMMEDIATE")
            try:
                await connection.execute(sql, row)
            except BaseException:
                await connection.execute("ROLLBACK")
                raise
            await connection.execute("COMMIT")

        converted = [sqlite_values(row) for row in rows]
        started = time.perf_counter()
        await run_workers(converted, workers, insert)
        return time.perf_counter() - started
    finally:
        for connection in connections:
            await connection.close()


async def raw_inserts(
    database_url: str, *, sqlite_path: Path | None, count: int, warmup: int, workers: int
) -> Timing:
    """Insert the same resident rows into a freshly migrated database, one transaction per row."""
    await create_schema(database_url)
    id_key = Secrets.random().id_hash_key.encode()
    warm_rows = resident_rows(resident_payloads(0, warmup), id_key)
    rows = resident_rows(resident_payloads(warmup, count), id_key)
    if sqlite_path is None:
        await raw_postgres_inserts(database_url, warm_rows, workers)
        seconds = await raw_postgres_inserts(database_url, rows, workers)
    else:
        await raw_sqlite_inserts(sqlite_path, warm_rows, workers)
        seconds = await raw_sqlite_inserts(sqlite_path, rows, workers)
    inserted = await scalar(database_url, "SELECT count(*) FROM resident")
    if inserted != warmup + count:
        raise RuntimeError(f"expected {warmup + count} raw rows, found {inserted}")
    return Timing(count, seconds)
