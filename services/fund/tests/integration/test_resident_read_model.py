"""The fund's read model of residents, fed by registry events through the shared inbox."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from linli_fund.models import KnownResident
from linli_fund.subscribers import REGISTRY, handlers
from linli_shared.auth import Role
from linli_shared.contracts.registry import ResidentMovedOut
from linli_shared.events import Envelope
from linli_shared.inbox import apply_once

pytestmark = [pytest.mark.integration]


async def apply(client, envelope: Envelope) -> bool:
    return await apply_once(client.app.state.session_factory, REGISTRY.consumer.durable, envelope, handlers)


async def resident(client, resident_id: str) -> KnownResident | None:
    async with client.app.state.session_factory() as session:
        return await session.get(KnownResident, resident_id)


def moved_out(community, resident_id: str) -> Envelope:
    return Envelope.wrap(
        ResidentMovedOut(resident_id=resident_id, on=date.today()),
        district=community.district,
        community=community.community,
        occurred_at=datetime.now(UTC),
    )


async def test_registry_event_delivered_twice_changes_the_read_model_once(
    client, community, known_resident
) -> None:
    resident_id = await known_resident(community)
    event = moved_out(community, resident_id)

    assert await apply(client, event) is True
    first = await resident(client, resident_id)
    assert await apply(client, event) is False, "the redelivery is recognised by its event id"
    second = await resident(client, resident_id)

    assert first is not None and second is not None
    assert (
        (first.status, first.updated_at)
        == (second.status, second.updated_at)
        == ("moved_out", first.updated_at)
    )


async def test_a_moved_out_resident_cannot_be_a_beneficiary(client, community, known_resident) -> None:
    resident_id = await known_resident(community)
    await apply(client, moved_out(community, resident_id))
    response = await client.post(
        "/v1/disbursements",
        json={
            "district": community.district,
            "community": community.community,
            "resident_id": resident_id,
            "purpose": "relief",
            "amount_fen": 1_000,
            "reason": "holiday relief",
        },
        headers=community.as_(Role.FUND_OFFICER),
    )
    assert response.status_code == 422 and response.json()["detail"] == f"居民 {resident_id} 已迁出"


async def test_a_resident_of_another_community_cannot_be_a_beneficiary(
    client, community, known_resident
) -> None:
    elsewhere = type(community)(community.district, f"{community.community}x")
    resident_id = await known_resident(elsewhere)
    response = await client.post(
        "/v1/disbursements",
        json={
            "district": community.district,
            "community": community.community,
            "resident_id": resident_id,
            "purpose": "relief",
            "amount_fen": 1_000,
            "reason": "holiday relief",
        },
        headers=community.as_(Role.FUND_OFFICER),
    )
    assert response.status_code == 422 and "社区还没有居民" in response.json()["detail"]
