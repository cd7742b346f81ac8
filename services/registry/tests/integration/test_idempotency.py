"""An Idempotency-Key on a registry write: one effect and the same answer, however often it is sent."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlmodel import select

from linli_registry.models import Resident
from linli_shared.auth import Role
from linli_shared.outbox import OutboxMessage

pytestmark = [pytest.mark.integration]


def resident_body(place, id_number: str, **overrides: object) -> dict[str, object]:
    return {
        "district": place.district,
        "community": place.community,
        "grid_code": place.grid,
        "full_name": "王桂兰",
        "gender": "female",
        "id_number": id_number,
        "tags": ["living_alone"],
        **overrides,
    }


async def residents_and_announcements(client, place) -> tuple[list[str], int]:
    async with client.app.state.session_factory() as session:
        residents = (await session.exec(select(Resident).where(Resident.district == place.district))).all()
        messages = (await session.exec(select(OutboxMessage))).all()
    ids = [r.id for r in residents]
    registered = [
        m
        for m in messages
        if m.subject.endswith(".resident.registered")
        and json.loads(m.envelope)["payload"]["resident_id"] in ids
    ]
    return ids, len(registered)


async def test_same_key_registers_one_resident_and_answers_alike(client, place, id_number) -> None:
    headers = {**place.as_(Role.COMMUNITY_WORKER), "Idempotency-Key": "register-wang-guilan"}
    body = resident_body(place, id_number())
    first = await client.post("/v1/residents", json=body, headers=headers)
    again = await client.post("/v1/residents", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    ids, announced = await residents_and_announcements(client, place)
    assert ids == [first.json()["id"]] and announced == 1


async def test_twins_racing_with_one_key_make_one_resident(client, place, id_number) -> None:
    headers = {**place.as_(Role.COMMUNITY_WORKER), "Idempotency-Key": "register-twins"}
    body = resident_body(place, id_number())
    answers = await asyncio.gather(
        *(client.post("/v1/residents", json=body, headers=headers) for _ in range(3))
    )
    assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    ids, announced = await residents_and_announcements(client, place)
    assert len(ids) == 1 and announced == 1


async def test_same_key_with_another_body_conflicts_and_registers_nothing_more(
    client, place, id_number
) -> None:
    headers = {**place.as_(Role.COMMUNITY_WORKER), "Idempotency-Key": "register-once"}
    assert (
        await client.post("/v1/residents", json=resident_body(place, id_number()), headers=headers)
    ).status_code == 201
    other = await client.post(
        "/v1/residents", json=resident_body(place, id_number(), full_name="李秀英"), headers=headers
    )
    assert other.status_code == 409 and other.headers["content-type"] == "application/problem+json"
    ids, _ = await residents_and_announcements(client, place)
    assert len(ids) == 1


async def test_the_same_key_from_another_caller_is_another_request(client, place, id_number) -> None:
    body = resident_body(place, id_number())
    mine = {**place.as_(Role.COMMUNITY_WORKER, "worker-a"), "Idempotency-Key": "k"}
    theirs = {**place.as_(Role.COMMUNITY_WORKER, "worker-b"), "Idempotency-Key": "k"}
    assert (await client.post("/v1/residents", json=body, headers=mine)).status_code == 201
    # another caller's key is theirs alone: their request runs, and finds the ID number taken
    assert (await client.post("/v1/residents", json=body, headers=theirs)).status_code == 409
