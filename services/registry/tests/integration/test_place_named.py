"""Naming a district or a community announces it (place.named, in the same transaction), once:
a repeated request with its Idempotency-Key, or a code already taken, announces nothing more."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlmodel import col, select

from linli_shared.auth import Role
from linli_shared.outbox import OutboxMessage

pytestmark = [pytest.mark.integration]


async def announced(client, district: str) -> list[dict[str, object]]:
    """The place.named envelopes of this district in the outbox, oldest first."""
    async with client.app.state.session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    envelopes = [json.loads(row.envelope) for row in rows if row.subject.endswith(".registry.place.named")]
    return [envelope for envelope in envelopes if envelope["district"] == district]


async def test_a_district_and_a_community_are_each_announced_once_with_their_names(
    client, make_headers
) -> None:
    district, community = f"d{uuid.uuid4().hex[:8]}", f"c{uuid.uuid4().hex[:8]}"
    admin = make_headers(Role.CITY_ADMIN, None)
    for path, body, key in (
        ("/v1/districts", {"code": district, "name": "高桥营街道"}, f"district-{district}"),
        (
            "/v1/communities",
            {"district": district, "code": community, "name": "东李庄社区"},
            f"community-{community}",
        ),
    ):
        for _ in range(2):  # a double tap: the same key makes one place and one announcement
            response = await client.post(path, json=body, headers={**admin, "Idempotency-Key": key})
            assert response.status_code == 201, response.text
        taken = await client.post(path, json=body, headers=admin)  # without the key: refused
        assert taken.status_code == 409, taken.text

    envelopes = await announced(client, district)
    assert [envelope["payload"] for envelope in envelopes] == [
        {"district": district, "district_name": "高桥营街道", "community": None, "community_name": None},
        {
            "district": district,
            "district_name": "高桥营街道",
            "community": community,
            "community_name": "东李庄社区",
        },
    ]
    assert [envelope["community"] for envelope in envelopes] == [None, community]
    assert {envelope["event_type"] for envelope in envelopes} == {"registry.place.named"}


async def test_a_community_of_an_unknown_district_announces_nothing(client, make_headers) -> None:
    district = f"d{uuid.uuid4().hex[:8]}"
    response = await client.post(
        "/v1/communities",
        json={"district": district, "code": "c1", "name": "东李庄社区"},
        headers=make_headers(Role.CITY_ADMIN, None),
    )
    assert response.status_code == 404, response.text
    assert await announced(client, district) == []
