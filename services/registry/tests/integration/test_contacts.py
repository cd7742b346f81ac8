"""How to reach a resident and their guardian: kept on the resident, announced as resident.contact_changed."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel import col, select

from linli_shared.auth import Role
from linli_shared.outbox import OutboxMessage

pytestmark = [pytest.mark.integration]

PROBLEM = "application/problem+json"
CONTACT = {
    "phone": "13800138000",
    "guardian_name": "李建华",
    "guardian_relation": "儿子",
    "guardian_phone": "139 1234 5678",
}
NEW_CONTACT = {
    "phone": None,  # the elder gave up her mobile: the whole contact is stated, so this clears it
    "guardian_name": "李丽娟",
    "guardian_relation": "女儿",
    "guardian_phone": "+86-138-0013-8001",
}


async def contact_events(client, resident_id: object) -> list[dict[str, object]]:
    """Payloads of the resident.contact_changed rows in the outbox for this resident, oldest first."""
    async with client.app.state.session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    envelopes = [json.loads(r.envelope) for r in rows if r.subject.endswith(".resident.contact_changed")]
    return [e["payload"] for e in envelopes if e["payload"]["resident_id"] == resident_id]


async def contact_of(client, place, resident_id: object) -> dict[str, object]:
    resident = (
        await client.get(f"/v1/residents/{resident_id}", headers=place.as_(Role.COMMUNITY_WORKER))
    ).json()
    return {field: resident[field] for field in CONTACT}


async def test_registration_announces_the_whole_contact_once(client, place, register) -> None:
    resident = await register(place, full_name="王秀英", gender="female", **CONTACT)

    assert {field: resident[field] for field in CONTACT} == CONTACT
    assert await contact_events(client, resident["id"]) == [
        {
            "resident_id": resident["id"],
            "community": place.community,
            "grid_code": place.grid,
            "full_name": "王秀英",
            **CONTACT,
        }
    ]


async def test_registration_without_a_contact_still_announces_one(client, place, register) -> None:
    resident = await register(place)

    events = await contact_events(client, resident["id"])
    assert len(events) == 1
    assert {field: events[0][field] for field in CONTACT} == dict.fromkeys(CONTACT)


async def test_contact_change_updates_the_resident_and_announces_it_once(client, place, register) -> None:
    resident = await register(place, **CONTACT)

    response = await client.put(
        f"/v1/residents/{resident['id']}/contact", json=NEW_CONTACT, headers=place.as_(Role.COMMUNITY_WORKER)
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "resident_id": resident["id"],
        "full_name": resident["full_name"],
        **NEW_CONTACT,
    }
    assert await contact_of(client, place, resident["id"]) == NEW_CONTACT
    events = await contact_events(client, resident["id"])
    assert len(events) == 2
    assert {field: events[-1][field] for field in CONTACT} == NEW_CONTACT


async def test_fields_left_out_of_a_contact_change_are_cleared(client, place, register) -> None:
    resident = await register(place, **CONTACT)

    response = await client.put(
        f"/v1/residents/{resident['id']}/contact",
        json={"phone": CONTACT["phone"]},
        headers=place.as_(Role.DISTRICT_ADMIN),
    )

    assert response.status_code == 200, response.text
    expected = {**dict.fromkeys(CONTACT), "phone": CONTACT["phone"]}
    assert await contact_of(client, place, resident["id"]) == expected
    assert {field: (await contact_events(client, resident["id"]))[-1][field] for field in CONTACT} == expected


async def test_identical_contact_change_answers_200_and_announces_nothing(client, place, register) -> None:
    resident = await register(place, **CONTACT)

    response = await client.put(
        f"/v1/residents/{resident['id']}/contact",
        json={**CONTACT, "guardian_name": "  李建华 "},  # the same once trimmed, as every body is
        headers=place.as_(Role.GRID_WORKER),
    )

    assert response.status_code == 200, response.text
    assert response.json()["guardian_name"] == CONTACT["guardian_name"]
    assert len(await contact_events(client, resident["id"])) == 1  # the registration's only


@pytest.mark.parametrize("role", [Role.FUND_OFFICER, Role.VOLUNTEER, Role.RESIDENT, Role.AUDITOR])
async def test_roles_that_do_not_keep_the_registry_cannot_change_a_contact(
    client, place, register, role
) -> None:
    resident = await register(place, **CONTACT)

    response = await client.put(
        f"/v1/residents/{resident['id']}/contact", json=NEW_CONTACT, headers=place.as_(role)
    )

    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM
    assert await contact_of(client, place, resident["id"]) == CONTACT
    assert len(await contact_events(client, resident["id"])) == 1


@pytest.mark.parametrize("role", [Role.COMMUNITY_WORKER, Role.GRID_WORKER, Role.DISTRICT_ADMIN])
async def test_contact_of_a_resident_in_another_district_is_not_found(
    client, new_place, register, role
) -> None:
    home, elsewhere = await new_place(), await new_place()
    resident = await register(home, **CONTACT)

    response = await client.put(
        f"/v1/residents/{resident['id']}/contact", json=NEW_CONTACT, headers=elsewhere.as_(role)
    )

    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    assert await contact_of(client, home, resident["id"]) == CONTACT
    assert len(await contact_events(client, resident["id"])) == 1


@pytest.mark.parametrize("role", [Role.COMMUNITY_WORKER, Role.GRID_WORKER])
async def test_worker_of_another_community_of_the_district_gets_not_found(
    client, place, register, make_headers, role
) -> None:
    neighbouring = {"district": place.district, "code": "xilizhuang", "name": "西李庄社区"}
    created = await client.post(
        "/v1/communities", json=neighbouring, headers=make_headers(Role.CITY_ADMIN, None)
    )
    assert created.status_code == 201, created.text
    resident = await register(place, **CONTACT)

    response = await client.put(
        f"/v1/residents/{resident['id']}/contact",
        json=NEW_CONTACT,
        headers=make_headers(role, place.district, "xilizhuang"),
    )

    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    assert await contact_of(client, place, resident["id"]) == CONTACT
    assert len(await contact_events(client, resident["id"])) == 1


async def test_contact_of_an_unknown_resident_is_not_found(client, place) -> None:
    response = await client.put(
        "/v1/residents/no-such-resident/contact", json=NEW_CONTACT, headers=place.as_(Role.COMMUNITY_WORKER)
    )
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    "change",
    [
        {"phone": "call me"},
        {"phone": "12"},
        {"phone": "1" * 31},
        {"guardian_phone": "138-0013-800x"},
        {"guardian_phone": "138--00138000"},
        {"guardian_phone": ""},
        {"guardian_phone": 13800138000},
        {"guardian_name": ""},
        {"guardian_relation": "很远很远的远房亲戚" * 3},
        {"email": "li@example.com"},
    ],
)
async def test_bad_contact_gets_a_4xx_problem_and_changes_nothing(client, place, register, change) -> None:
    resident = await register(place, **CONTACT)

    response = await client.put(
        f"/v1/residents/{resident['id']}/contact",
        json={**NEW_CONTACT, **change},
        headers=place.as_(Role.COMMUNITY_WORKER),
    )

    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == PROBLEM and response.json()["detail"]
    assert await contact_of(client, place, resident["id"]) == CONTACT
    assert len(await contact_events(client, resident["id"])) == 1


@pytest.mark.parametrize("departure", ["death", "move-out"])
async def test_contact_of_a_departed_resident_cannot_change(client, place, register, departure) -> None:
    resident = await register(place, **CONTACT)
    as_worker = place.as_(Role.COMMUNITY_WORKER)
    gone = await client.post(
        f"/v1/residents/{resident['id']}/{departure}",
        json={"on": date.today().isoformat()},
        headers=as_worker,
    )
    assert gone.status_code == 200, gone.text

    response = await client.put(
        f"/v1/residents/{resident['id']}/contact", json=NEW_CONTACT, headers=as_worker
    )

    assert response.status_code == 409 and response.headers["content-type"] == PROBLEM
    assert await contact_of(client, place, resident["id"]) == CONTACT
    assert len(await contact_events(client, resident["id"])) == 1
