"""A registry of a million residents: statistics and search latency, p50/p95, per kind of caller.

The residents are bulk-loaded with SQL, not through the API: asyncpg's COPY
(`copy_records_to_table`) into a database of this run's own on the PostgreSQL at
LINLI_TEST_PG_URL, with the resident table's secondary indexes dropped during the copy and built
again after it (as a restore would); the statistics rollup is then filled by
`linli_registry.tally.refill`, and VACUUM ANALYZE runs. The registry app runs in this process
(httpx over ASGI, lifespan and a NATS server of its own included), and each query is timed one at a
time, so the figures are the service's latency, not a load test. The database is dropped after.

    LINLI_BENCH_SCALE_RESIDENTS=20000 .venv/bin/python -m tests.bench.scale   # a quick smoke run

Size: LINLI_BENCH_SCALE_RESIDENTS (default 1,000,000). Goals at 1M: statistics < 100 ms, every
search p95 < 50 ms.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from linli_registry.app import MIGRATIONS, create_app
from linli_registry.settings import RegistrySettings
from linli_registry.tally import TAGS, refill
from linli_shared.auth import Role, issue_token
from linli_shared.database import make_engine
from linli_shared.migrations import upgrade_to_head
from linli_shared.testing.http import running_app
from tests.bench.infra import Secrets, asyncpg_dsn, nats_server, pg_database, temp_dir

DISTRICTS, COMMUNITIES, GRIDS = 10, 30, 8  # per city, per district, per community
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "建国华明丽芳军伟秀英敏静强磊洋艳勇杰娟涛超兰霞平刚桂红玉凤文志海燕春玲德福荣"
RARE_NAME = "欧阳雪梅"  # a handful of residents in the whole city
TAG_ODDS = dict(zip(TAGS, (0.06, 0.01, 0.03, 0.01, 0.03, 0.02, 0.001, 0.002, 0.02, 0.05), strict=True))
COLUMNS = (
    "id district community grid_code full_name gender birth_date id_number_hash id_number_masked "
    "status status_on registered_at"
).split() + list(TAGS)
SAMPLES, WARMUP = 40, 3


def place(index: int) -> tuple[str, str, str]:
    district = index % DISTRICTS
    community = index // DISTRICTS % COMMUNITIES
    grid = index // (DISTRICTS * COMMUNITIES) % GRIDS
    return f"d{district:02d}", f"c{community:02d}", f"g{grid}"


def full_name(chance: random.Random) -> str:
    surname = SURNAMES[min(int(chance.expovariate(0.08)), len(SURNAMES) - 1)]
    return surname + "".join(chance.choice(GIVEN) for _ in range(chance.choice((1, 2, 2))))


def resident(index: int, chance: random.Random, total: int, now: datetime) -> tuple[Any, ...]:
    district, community, grid = place(index)
    name = RARE_NAME if index % max(total // 5, 1) == 7 else full_name(chance)
    status = chance.choices(("active", "moved_out", "deceased"), (95, 3, 2))[0]
    digest = hashlib.sha256(f"scale-{index}".encode()).hexdigest()
    return (
        str(uuid.UUID(int=chance.getrandbits(128), version=4)),
        district,
        community,
        grid if index % 50 else None,
        name,
        chance.choice(("female", "male")),
        date(1925, 1, 1) + timedelta(days=chance.randrange(100 * 365)),
        digest,
        f"110105********{index % 10000:04d}",
        status,
        None if status == "active" else date(2025, 6, 1),
        now,
        *(chance.random() < odds for odds in TAG_ODDS.values()),
    )


def residents(total: int, chunk: int) -> Iterator[list[tuple[Any, ...]]]:
    chance, now = random.Random(12), datetime.now(UTC).replace(tzinfo=None)
    for start in range(0, total, chunk):
        yield [resident(i, chance, total, now) for i in range(start, min(start + chunk, total))]


async def insert_places(connection: asyncpg.Connection) -> None:
    """The districts, communities and grids the residents live in."""
    districts = [(f"d{d:02d}",) for d in range(DISTRICTS)]
    await connection.executemany("INSERT INTO district (code, name) VALUES ($1, $1)", districts)
    places = sorted({place(i) for i in range(DISTRICTS * COMMUNITIES * GRIDS)})
    communities = sorted({p[:2] for p in places})
    await connection.executemany(
        "INSERT INTO community (district, code, name) VALUES ($1, $2, $2)", communities
    )
    await connection.executemany(
        "INSERT INTO grid (district, community, code, name) VALUES ($1, $2, $3, $3)", places
    )


async def load(url: str, total: int) -> dict[str, float]:
    """Migrate, copy the residents in, rebuild the indexes, fill the rollup; seconds of each step."""
    engine = make_engine(url)
    await upgrade_to_head(engine, MIGRATIONS)
    connection = await asyncpg.connect(asyncpg_dsn(url))
    seconds: dict[str, float] = {}
    try:
        await insert_places(connection)
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'resident' "
            "AND indexname NOT IN ('resident_pkey') AND indexdef NOT LIKE 'CREATE UNIQUE%'"
        )
        for row in indexes:
            await connection.execute(f'DROP INDEX "{row["indexname"]}"')
        started = time.perf_counter()
        for records in residents(total, 50_000):
            await connection.copy_records_to_table("resident", records=records, columns=COLUMNS)
        seconds["copy"] = time.perf_counter() - started
        started = time.perf_counter()
        await connection.execute("SET maintenance_work_mem = '512MB'")
        for row in indexes:
            await connection.execute(row["indexdef"])
        seconds["indexes"] = time.perf_counter() - started
    finally:
        await connection.close()
    started = time.perf_counter()
    async with engine.begin() as sa_connection:
        await sa_connection.run_sync(refill)
    seconds["rollup"] = time.perf_counter() - started
    await engine.dispose()
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        started = time.perf_counter()
        await connection.execute("VACUUM ANALYZE")
        seconds["vacuum analyze"] = time.perf_counter() - started
    finally:
        await connection.close()
    return seconds


def cases(secret: str) -> list[tuple[str, str, dict[str, str], str]]:
    """(caller, query, params, path) of every timed request."""

    def token(role: Role, district: str | None = None, community: str | None = None) -> str:
        return issue_token(secret, role=role, district=district, community=community, subject="bench")

    city, district = token(Role.CITY_ADMIN), token(Role.DISTRICT_ADMIN, "d03")
    worker = token(Role.COMMUNITY_WORKER, "d03", "c07")
    stats, search = "/v1/statistics", "/v1/residents"
    return [
        (city, "city admin: statistics by community", {}, stats),
        (city, "city admin: statistics by grid", {"by": "grid"}, stats),
        (city, "city admin: statistics of one district", {"district": "d03"}, stats),
        (district, "district admin: statistics by grid", {"by": "grid"}, stats),
        (district, "district admin: list (first page)", {}, search),
        (district, "district admin: list by tag (orphan, rare)", {"tag": "orphan"}, search),
        (district, "district admin: list by grid", {"grid_code": "g3"}, search),
        (district, "district admin: name 王 (common)", {"name": "王"}, search),
        (district, "district admin: name 建国 (2 chars)", {"name": "建国"}, search),
        (district, f"district admin: rare name {RARE_NAME}", {"name": RARE_NAME}, search),
        (district, "district admin: moved out", {"status": "moved_out"}, search),
        (worker, "community worker: statistics by grid", {"by": "grid"}, stats),
        (worker, "community worker: list (first page)", {}, search),
        (worker, "community worker: list by tag (living alone)", {"tag": "living_alone"}, search),
        (worker, "community worker: list by grid", {"grid_code": "g5"}, search),
        (worker, "community worker: name 李", {"name": "李"}, search),
        (worker, f"community worker: rare name {RARE_NAME}", {"name": RARE_NAME}, search),
    ]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def measure(client: httpx.AsyncClient, secret: str) -> list[tuple[str, float, float, bool]]:
    rows = []
    for token, label, params, path in cases(secret):
        headers = {"Authorization": f"Bearer {token}"}
        timings = []
        for sample in range(WARMUP + SAMPLES):
            started = time.perf_counter()
            response = await client.get(path, params=params, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"{label}: {response.status_code} {response.text[:300]}")
            if sample >= WARMUP:
                timings.append(elapsed)
        goal = 100.0 if path.endswith("statistics") else 50.0
        p50, p95 = statistics.median(timings), percentile(timings, 0.95)
        rows.append((label, p50, p95, p95 < goal))
    return rows


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


async def main() -> None:
    admin_url = os.environ.get("LINLI_TEST_PG_URL")
    if not admin_url:
        raise SystemExit("LINLI_TEST_PG_URL is not set: the bench needs a PostgreSQL server")
    total = int(os.environ.get("LINLI_BENCH_SCALE_RESIDENTS", "1000000"))
    keys = Secrets.random()
    print(f"registry at scale: {total:,} residents; load average {load_average()}")
    async with pg_database(admin_url, "scale") as url:
        seconds = await load(url, total)
        print("loaded: " + ", ".join(f"{step} {s:.1f} s" for step, s in seconds.items()))
        with temp_dir("linli-scale-") as folder, nats_server(folder, "linli-scale") as nats:
            settings = RegistrySettings(
                database_url=url, nats_url=nats.url, jwt_secret=keys.jwt_secret, id_hash_key=keys.id_hash_key
            )
            async with running_app(create_app(settings)) as client:
                rows = await measure(client, keys.jwt_secret)
    print(f"{'query':<52} {'p50 ms':>8} {'p95 ms':>8}  goal")
    for label, p50, p95, met in rows:
        goal = "< 100 ms" if "statistics" in label else "p95 < 50 ms"
        print(f"{label:<52} {p50:>8.1f} {p95:>8.1f}  {goal} {'ok' if met else 'MISSED'}")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    # The registry runs in this process: its request logs (httpx's, the service's INFO lines) would
    # bury the table and cost every timed request a log line.
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main())
