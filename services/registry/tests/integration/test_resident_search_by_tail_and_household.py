"""A worker finds residents by the last four characters of the ID number and by household (its id or
part of its address), within their own community only; the tail search reads the tail index.

The tail is matched against the masked number the registry keeps, so a search can never reveal
more of an ID number than the masked one already shows."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from linli_registry.app import MIGRATIONS
from linli_registry.usecases.residents import search_residents
from linli_shared.auth import Caller, Role
from linli_shared.database import make_engine, make_session_factory
from linli_shared.migrations import upgrade_to_head

from ..conftest import Place, make_id_number
from .test_query_plans import FULL_SCAN, plans

pytestmark = [pytest.mark.integration]


async def household(client: httpx.AsyncClient, place: Place, address: str) -> str:
    body = {"district": place.district, "community": place.community, "address": address}
    response = await client.post("/v1/households", json=body, headers=place.as_(Role.COMMUNITY_WORKER))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def found(client: httpx.AsyncClient, place: Place, **params: str) -> list[str]:
    response = await client.get("/v1/residents", params=params, headers=place.as_(Role.COMMUNITY_WORKER))
    assert response.status_code == 200, response.text
    return sorted(item["full_name"] for item in response.json()["items"])


async def test_an_id_tail_search_finds_exactly_the_residents_with_that_tail(
    client: httpx.AsyncClient, place: Place, new_place: Any, register: Any
) -> None:
    elsewhere = await new_place()
    numbers = {name: make_id_number(date(1950, 3, 1)) for name in ("李国昌", "王桂兰", "张秀英")}
    for name, number in numbers.items():
        await register(place, full_name=name, id_number=number)
    tail = numbers["王桂兰"][-4:]
    await register(elsewhere, full_name="外社区", id_number=numbers["王桂兰"][:14] + tail)
    assert await found(client, place, id_tail=tail) == ["王桂兰"]
    assert await found(client, place, id_tail=tail.lower()) == ["王桂兰"]
    assert await found(client, elsewhere, id_tail=tail) == ["外社区"]
    assert await found(client, place, id_tail=tail, name="李") == []


async def test_an_id_tail_search_refuses_anything_but_four_id_characters(
    client: httpx.AsyncClient, place: Place
) -> None:
    worker = place.as_(Role.COMMUNITY_WORKER)
    for tail in ("123", "12345", "12a4", "X123", "%%%%", "11010519500301123X"):
        response = await client.get("/v1/residents", params={"id_tail": tail}, headers=worker)
        assert response.status_code == 422, (tail, response.text)


async def test_a_household_search_finds_its_members_by_id_or_address(
    client: httpx.AsyncClient, place: Place, new_place: Any, register: Any
) -> None:
    elsewhere = await new_place()
    east = await household(client, place, "东李庄村3排12号")
    west = await household(client, place, "东李庄村7排2号")
    other = await household(client, elsewhere, "东李庄村3排12号")
    await register(place, full_name="李国昌", household_id=east)
    await register(place, full_name="李秀英", household_id=east)
    await register(place, full_name="王建国", household_id=west)
    await register(place, full_name="无户者")
    await register(elsewhere, full_name="外社区", household_id=other)
    assert await found(client, place, household_id=east) == ["李国昌", "李秀英"]
    assert await found(client, place, household_id=other) == []
    assert await found(client, place, address="3排12") == ["李国昌", "李秀英"]
    assert await found(client, place, address="东李庄村") == ["李国昌", "李秀英", "王建国"]
    assert await found(client, place, address="100%") == []


RESIDENTS = 5000
INSERT = f"""
INSERT INTO household (id, district, community, address, version)
SELECT md5('h' || i), 'd' || i % 10, 'c' || i / 10 % 10, '东李庄村' || i || '号', 1
FROM generate_series(1, {RESIDENTS} / 3 + 1) AS i;
INSERT INTO resident (id, district, community, household_id, full_name, gender, birth_date,
    id_number_hash, id_number_masked, living_alone, lonely, disabled, bedridden, dibao,
    poor_household, orphan, child_in_difficulty, veteran, party_member, status, registered_at, version)
SELECT md5('r' || i), 'd' || i % 10, 'c' || i / 10 % 10, md5('h' || (i / 3 + 1)), '李' || i, 'female',
    DATE '1925-01-01' + (i * 37 % 36500), md5('n' || i), '110105********' || lpad((i % 997)::text, 4, '0'),
    false, false, false, false, false, false, false, false, false, false, 'active', now(), 1
FROM generate_series(1, {RESIDENTS}) AS i
"""
DISTRICT = Caller(subject="district", role=Role.DISTRICT_ADMIN, district="d3")
WORKER = Caller(subject="worker", role=Role.COMMUNITY_WORKER, district="d3", community="c7")


@pytest.fixture
async def engine(pg_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(pg_database_url)
    await upgrade_to_head(engine, MIGRATIONS)
    async with engine.begin() as connection:
        for statement in INSERT.split(";"):
            await connection.execute(text(statement))
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("VACUUM ANALYZE"))
    yield engine
    await engine.dispose()


@pytest.mark.postgres
async def test_tail_and_household_searches_read_their_indexes(engine: AsyncEngine) -> None:
    searches: list[dict[str, str]] = [
        {"id_tail": "0373"},
        {"household_id": "2d1d0bb2e4b3f2b6c3d2c8d8d8d8d8d8"},
        {"address": "东李庄村42号"},
    ]
    sent: list[tuple[str, tuple[Any, ...]]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if re.search(r"\bFROM resident\b", statement):
            sent.append((statement, tuple(parameters or ())))

    event.listen(engine.sync_engine, "before_cursor_execute", keep)
    try:
        async with make_session_factory(engine)() as session:
            for caller in (DISTRICT, WORKER):
                for search in searches:
                    await search_residents(session, caller, id_key=b"k" * 32, **search)  # type: ignore[arg-type]
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", keep)
    assert len(sent) == 2 * len(searches), sent
    tail_plans = 0
    for statement, parameters in sent:
        for kind, plan in (await plans(engine, statement, parameters)).items():
            assert not FULL_SCAN.search(plan), f"{kind} plan:\n{statement}\n{parameters}\n{plan}"
            if "substr" in statement:
                assert "ix_resident_id_tail" in plan, f"{kind} plan:\n{plan}"
                tail_plans += 1
    assert tail_plans == 4


async def test_a_text_search_refuses_control_characters_and_matches_wildcards_literally(
    client: httpx.AsyncClient, place: Place, register: Any
) -> None:
    worker = place.as_(Role.COMMUNITY_WORKER)
    for params in (
        {"address": "\x00"},
        {"address": "a\x1fb"},
        {"household_id": "\x00"},
        {"household_id": "a/b"},
        {"name": "\x00"},
    ):
        response = await client.get("/v1/residents", params=params, headers=worker)
        assert response.status_code == 422, (params, response.text)
    await register(place, full_name="王建国", household_id=await household(client, place, "东街1号"))
    assert await found(client, place, address="%_\\") == []
    assert await found(client, place, address="东街") == ["王建国"]
