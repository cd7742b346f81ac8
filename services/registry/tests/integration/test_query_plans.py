"""No search or statistics query walks the whole resident table (EXPLAIN on PostgreSQL).

Five thousand residents in ten districts are stored with one INSERT … SELECT and ANALYZEd; every
query the search and statistics use cases send, for a district admin and a community worker (and
the statistics for a city admin), is EXPLAINed as planned for its values and as the generic plan a
prepared statement may switch to after a few runs. A sequential scan of the residents, or a walk
of their primary key (the plan that took seconds at a million), fails the test.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from linli_registry.app import MIGRATIONS
from linli_registry.domain import Status, Tag
from linli_registry.tally import refill
from linli_registry.usecases.residents import search_residents
from linli_registry.usecases.statistics import statistics
from linli_shared.auth import Caller, Role
from linli_shared.database import make_engine, make_session_factory
from linli_shared.migrations import upgrade_to_head
from linli_shared.paging import encode_cursor

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

RESIDENTS = 5000
FULL_SCAN = re.compile(r"Seq Scan on resident\b|Index (Only )?Scan using resident_pkey")
CITY = Caller(subject="city", role=Role.CITY_ADMIN)
DISTRICT = Caller(subject="district", role=Role.DISTRICT_ADMIN, district="d3")
WORKER = Caller(subject="worker", role=Role.COMMUNITY_WORKER, district="d3", community="c7")
SEARCHES: list[dict[str, Any]] = [
    {},
    {"name": "王"},
    {"name": "王建国"},
    {"name": "欧阳雪梅"},
    {"tag": Tag.ORPHAN},
    {"tag": Tag.LIVING_ALONE},
    {"grid_code": "g2"},
    {"status": Status.MOVED_OUT},
    {"cursor": encode_cursor("8")},
]
INSERT = f"""
INSERT INTO resident (id, district, community, grid_code, full_name, gender, birth_date,
    id_number_hash, id_number_masked, living_alone, lonely, disabled, bedridden, dibao,
    poor_household, orphan, child_in_difficulty, veteran, party_member, status, registered_at)
SELECT md5('r' || i), 'd' || i % 10, 'c' || i / 10 % 10, CASE WHEN i % 50 > 0 THEN 'g' || i / 100 % 4 END,
    CASE WHEN i % 1000 = 7 THEN '欧阳雪梅'
         ELSE (ARRAY['王', '李', '张', '刘', '陈', '杨', '赵'])[1 + i % 7]
              || (ARRAY['建国', '秀英', '明', '桂兰', '伟'])[1 + i / 7 % 5] END,
    'female', DATE '1925-01-01' + (i * 37 % 36500), md5('h' || i), 'masked',
    i % 20 = 1, i % 90 = 2, i % 40 = 3, i % 90 = 4, i % 30 = 5, i % 50 = 6, i % 997 = 8,
    i % 499 = 9, i % 50 = 10, i % 20 = 11,
    CASE WHEN i % 25 = 0 THEN 'moved_out' WHEN i % 41 = 0 THEN 'deceased' ELSE 'active' END, now()
FROM generate_series(1, {RESIDENTS}) AS i
"""


@pytest.fixture
async def engine(pg_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(pg_database_url)
    await upgrade_to_head(engine, MIGRATIONS)
    async with engine.begin() as connection:
        await connection.execute(text(INSERT))
        await connection.run_sync(refill)
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("VACUUM ANALYZE"))
    yield engine
    await engine.dispose()


async def sent_queries(engine: AsyncEngine) -> list[tuple[str, str, tuple[Any, ...]]]:
    """(what, SQL, parameters) of every resident query the use cases send, for each caller."""
    sent: list[tuple[str, tuple[Any, ...]]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if re.search(r"\bFROM resident\b", statement):
            sent.append((statement, tuple(parameters or ())))

    event.listen(engine.sync_engine, "before_cursor_execute", keep)
    queries = []
    try:
        async with make_session_factory(engine)() as session:
            for caller in (DISTRICT, WORKER):
                for search in SEARCHES:
                    await search_residents(session, caller, id_key=b"k" * 32, **search)
                    queries += [(f"{caller.role} {search}", *query) for query in sent]
                    sent.clear()
            for caller in (CITY, DISTRICT, WORKER):
                for by_grid in (False, True):
                    for day in (datetime.now(UTC).date(), date(2028, 2, 29)):
                        await statistics(session, caller, by_grid=by_grid, district="d3", today=day)
                        await statistics(session, caller, by_grid=by_grid, district=None, today=day)
                        queries += [(f"{caller.role} statistics", *query) for query in sent]
                        sent.clear()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", keep)
    return queries


def literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "ARRAY[" + ", ".join(literal(item) for item in value) + "]::text[]"
    return "'" + str(value).replace("'", "''") + "'"


async def plans(engine: AsyncEngine, statement: str, parameters: tuple[Any, ...]) -> dict[str, str]:
    """The plan for these values, and the generic plan of the same statement prepared."""
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        custom = await driver.fetch(f"EXPLAIN {statement}", *parameters)
        await driver.execute("SET plan_cache_mode = force_generic_plan")
        await driver.execute(f"PREPARE checked AS {statement}")
        values = ", ".join(literal(value) for value in parameters)
        generic = await driver.fetch(
            f"EXPLAIN EXECUTE checked({values})" if values else "EXPLAIN EXECUTE checked"
        )
        await driver.execute("DEALLOCATE checked; RESET plan_cache_mode")
    return {
        "custom": "\n".join(row[0] for row in custom),
        "generic": "\n".join(row[0] for row in generic),
    }


async def test_no_search_or_statistics_plan_scans_the_residents(engine: AsyncEngine) -> None:
    queries = await sent_queries(engine)
    assert len(queries) >= 2 * len(SEARCHES) + 3, queries  # each search, and the statistics' birth days
    failures = []
    for what, statement, parameters in queries:
        for kind, plan in (await plans(engine, statement, parameters)).items():
            if FULL_SCAN.search(plan):
                failures.append(f"{what} ({kind} plan):\n{statement}\n{parameters}\n{plan}")
    assert not failures, "\n\n".join(failures)
