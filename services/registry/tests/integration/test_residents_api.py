"""The registry's HTTP API in-process, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from linli_shared.auth import Role
from linli_shared.events import events_of

pytestmark = [pytest.mark.integration]

PROBLEM = "application/problem+json"


async def test_register_resident_keeps_id_number_masked_and_derives_age(client, place, register) -> None:
    id_number = "11010519491231002X"
    resident = await register(place, id_number=id_number, tags=["living_alone", "party_member"])
    assert resident["id_number_masked"] == "110105********002X"
    assert resident["birth_date"] == "1949-12-31"
    assert resident["age_band"] in {"70-79", "80+"}
    assert sorted(resident["tags"]) == ["living_alone", "party_member"]
    assert "id_number" not in resident and "id_number_hash" not in resident


async def test_plain_id_number_is_nowhere_in_the_database(client, place, register) -> None:
    id_number = "11010519491231002X"
    await register(place, id_number=id_number)
    async with client.app.state.engine.connect() as connection:
        for table in ("resident", "outbox_message"):
            rows = (await connection.execute(text(f"SELECT * FROM {table}"))).all()
            assert rows, table
            assert all(id_number not in str(value) for row in rows for value in row), table


async def test_same_id_number_twice_in_a_district_conflicts(client, new_place, register) -> None:
    first, other = await new_place(), await new_place()
    await register(first, id_number="11010519491231002X")
    again = await client.post(
        "/v1/residents",
        json={
            "district": first.district,
            "community": first.community,
            "full_name": "李国昌",
            "gender": "male",
            "id_number": "11010519491231002x",
        },
        headers=first.as_(Role.COMMUNITY_WORKER),
    )
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    await register(other, id_number="11010519491231002X")  # another district keeps its own registry


async def test_worker_of_another_district_cannot_see_a_resident(client, new_place, register) -> None:
    home, elsewhere = await new_place(), await new_place()
    resident = await register(home)
    for role in (Role.COMMUNITY_WORKER, Role.DISTRICT_ADMIN, Role.GRID_WORKER):
        response = await client.get(f"/v1/residents/{resident['id']}", headers=elsewhere.as_(role))
        assert response.status_code == 404, role
        assert response.headers["content-type"] == PROBLEM
        listing = await client.get("/v1/residents", headers=elsewhere.as_(role))
        assert listing.json()["items"] == []
    own = await client.get(f"/v1/residents/{resident['id']}", headers=home.as_(Role.GRID_WORKER))
    assert own.status_code == 200


async def test_worker_cannot_register_into_another_community(client, new_place) -> None:
    home, elsewhere = await new_place(), await new_place()
    response = await client.post(
        "/v1/residents",
        json={
            "district": elsewhere.district,
            "community": elsewhere.community,
            "full_name": "王",
            "gender": "female",
            "id_number": "11010519491231002X",
        },
        headers=home.as_(Role.COMMUNITY_WORKER),
    )
    assert response.status_code == 404


async def test_requests_without_a_valid_token_are_refused(client) -> None:
    assert (await client.get("/v1/residents")).status_code == 401
    bad = await client.get("/v1/residents", headers={"Authorization": "Bearer nonsense"})
    assert bad.status_code == 401 and bad.headers["content-type"] == PROBLEM
    assert (await client.get("/healthz")).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        {"id_number": "110105194912310021"},
        {"id_number": "123"},
        {"gender": "unknown"},
        {"full_name": ""},
        {"phone": "call me"},
        {"phone": "1" * 31},
        {"guardian_phone": "138-0013-800x"},
        {"guardian_relation": "x" * 21},
        {"tags": ["astronaut"]},
        {"birth_date": "2999-01-01"},
        {"birth_date": "not a date"},
        {"grid_code": "no-such-grid"},
        {"household_id": "no-such-household"},
        {"district": "Bad District!"},
        {"unexpected": 1},
    ],
)
async def test_bad_resident_input_gets_a_4xx_problem(client, place, change) -> None:
    body = {
        "district": place.district,
        "community": place.community,
        "full_name": "王秀英",
        "gender": "female",
        "id_number": "11010519491231002X",
        **change,
    }
    response = await client.post("/v1/residents", json=body, headers=place.as_(Role.COMMUNITY_WORKER))
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"]


async def test_malformed_json_and_bad_cursor_get_4xx(client, place) -> None:
    broken = await client.post(
        "/v1/residents",
        content=b"{",
        headers={**place.as_(Role.COMMUNITY_WORKER), "content-type": "application/json"},
    )
    assert broken.status_code == 422 and broken.headers["content-type"] == PROBLEM
    cursor = await client.get("/v1/residents?cursor=%%%", headers=place.as_(Role.COMMUNITY_WORKER))
    assert cursor.status_code == 422


async def test_search_by_name_tag_and_id_number(client, place, register) -> None:
    wang = await register(
        place, full_name="王秀英", gender="female", id_number="11010519491231002X", tags=["dibao"]
    )
    await register(place, full_name="李勇", tags=["veteran"])
    as_worker = place.as_(Role.COMMUNITY_WORKER)

    by_name = (await client.get("/v1/residents", params={"name": "秀英"}, headers=as_worker)).json()
    by_tag = (await client.get("/v1/residents", params={"tag": "dibao"}, headers=as_worker)).json()
    by_id = (
        await client.post(
            "/v1/residents/lookups", json={"id_number": "11010519491231002x"}, headers=as_worker
        )
    ).json()

    assert [r["id"] for r in by_name["items"]] == [wang["id"]]
    assert [r["id"] for r in by_tag["items"]] == [wang["id"]]
    assert [r["id"] for r in by_id["items"]] == [wang["id"]]


async def test_listing_pages_with_a_cursor(client, place, register) -> None:
    ids = {(await register(place))["id"] for _ in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get("/v1/residents", params=params, headers=place.as_(Role.COMMUNITY_WORKER))
        ).json()
        seen += [r["id"] for r in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert sorted(seen) == sorted(ids)


async def test_moved_out_and_deceased_residents_leave_the_counts(client, place, register) -> None:
    staying = await register(place, tags=["living_alone"])
    leaving = await register(place, tags=["living_alone"])
    dying = await register(place)
    as_worker = place.as_(Role.COMMUNITY_WORKER)
    today = date.today().isoformat()
    assert (
        await client.post(f"/v1/residents/{leaving['id']}/move-out", json={"on": today}, headers=as_worker)
    ).json()["status"] == "moved_out"
    assert (
        await client.post(f"/v1/residents/{dying['id']}/death", json={"on": today}, headers=as_worker)
    ).json()["status"] == "deceased"
    again = await client.post(f"/v1/residents/{dying['id']}/move-out", json={"on": today}, headers=as_worker)
    assert again.status_code == 409

    stats = (await client.get("/v1/statistics", params={"by": "grid"}, headers=as_worker)).json()
    assert len(stats) == 1
    assert stats[0]["population"] == 1 and stats[0]["living_alone"] == 1
    active = (await client.get("/v1/residents", headers=as_worker)).json()["items"]
    assert [r["id"] for r in active] == [staying["id"]]


async def test_statistics_count_ages_and_tags_per_grid(client, place, register, id_number) -> None:
    today = date.today()
    for years, tags in (
        (85, ["living_alone", "dibao"]),
        (72, ["veteran"]),
        (61, []),
        (30, []),
        (10, ["orphan"]),
    ):
        birth = date(today.year - years, 1, 1)
        await register(place, id_number=id_number(birth), birth_date=birth.isoformat(), tags=tags)

    rows = (
        await client.get("/v1/statistics", params={"by": "grid"}, headers=place.as_(Role.COMMUNITY_WORKER))
    ).json()

    assert rows == [
        {
            "district": place.district,
            "community": place.community,
            "grid_code": place.grid,
            "population": 5,
            "aged_60_plus": 3,
            "aged_70_plus": 2,
            "aged_80_plus": 1,
            "living_alone": 1,
            "lonely": 0,
            "disabled": 0,
            "bedridden": 0,
            "dibao": 1,
            "poor_household": 0,
            "orphans": 1,
            "children_in_difficulty": 0,
            "veterans": 1,
            "party_members": 0,
        }
    ]


async def test_asyncapi_document_lists_every_registry_event(client) -> None:
    document = (await client.get("/asyncapi.json")).json()
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert "linli.{district}.registry.resident.registered" in addresses
    assert "linli.{district}.registry.care.visit.overdue" in addresses
    assert "linli.{district}.registry.resident.contact_changed" in addresses
    assert "linli.{district}.registry.resident.corrected" in addresses
    assert "linli.{district}.registry.care.group.changed" in addresses
    assert "linli.{district}.registry.household.corrected" in addresses
    assert len(addresses) == len(events_of("registry"))
