"""The points service's read model of residents, fed by registry events through the inbox."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from linli_points.models import CommunityRules, KnownResident
from linli_points.subscribers import REGISTRY, handlers
from linli_shared.auth import Role
from linli_shared.contracts.registry import ResidentDied, ResidentMovedOut, ResidentTagsChanged, VisitLogged
from linli_shared.events import Envelope
from linli_shared.inbox import apply_once

pytestmark = [pytest.mark.integration]


def wrap(community, event) -> Envelope:  # noqa: ANN001
    return Envelope.wrap(
        event, district=community.district, community=community.community, occurred_at=datetime.now(UTC)
    )


async def apply(client, envelope: Envelope) -> bool:
    return await apply_once(client.app.state.session_factory, REGISTRY.consumer.durable, envelope, handlers)


async def resident(client, resident_id: str) -> KnownResident | None:
    async with client.app.state.session_factory() as session:
        return await session.get(KnownResident, resident_id)


async def test_registry_event_delivered_twice_changes_the_read_model_once(
    client, community, known_resident
) -> None:
    resident_id = await known_resident(community)
    tags = wrap(community, ResidentTagsChanged(resident_id=resident_id, tags=["party_member"]))
    assert await apply(client, tags) is True
    assert (await resident(client, resident_id)).party_member is True

    untag = wrap(community, ResidentTagsChanged(resident_id=resident_id, tags=[]))
    assert await apply(client, untag) is True
    assert await apply(client, tags) is False, "a redelivery of the older event is ignored"
    assert (await resident(client, resident_id)).party_member is False


async def test_moved_out_resident_can_no_longer_enrol(client, community, known_resident, enrol) -> None:
    resident_id = await known_resident(community)
    await apply(client, wrap(community, ResidentMovedOut(resident_id=resident_id, on=date.today())))
    assert (await resident(client, resident_id)).status == "moved_out"
    response = await client.post(
        "/v1/volunteers",
        json={
            "district": community.district,
            "community": community.community,
            "subject": "x",
            "full_name": "王",
            "resident_id": resident_id,
        },
        headers=community.as_(Role.COMMUNITY_WORKER),
    )
    assert response.status_code == 422


async def test_change_before_registration_is_retried_not_lost(client, community) -> None:
    early = wrap(community, ResidentTagsChanged(resident_id="not-yet-registered", tags=[]))
    with pytest.raises(Exception, match="not-yet-registered"):
        await apply(client, early)
    assert await resident(client, "not-yet-registered") is None


async def test_death_closes_the_residents_wishes_and_withdraws_their_offers(
    client, community, known_resident
) -> None:
    resident_id = await known_resident(community)
    worker = community.as_(Role.COMMUNITY_WORKER)
    wish = await client.post(
        "/v1/wishes", json={"resident_id": resident_id, "title": "一台轮椅"}, headers=worker
    )
    offer = await client.post(
        "/v1/help-offers",
        json={
            "district": community.district,
            "community": community.community,
            "resident_id": resident_id,
            "goods": "闲置被褥",
        },
        headers=worker,
    )
    assert wish.status_code == 201 and offer.status_code == 201, (wish.text, offer.text)

    assert await apply(client, wrap(community, ResidentDied(resident_id=resident_id, on=date.today())))

    closed = await client.get(f"/v1/wishes/{wish.json()['id']}", headers=worker)
    withdrawn = await client.get(f"/v1/help-offers/{offer.json()['id']}", headers=worker)
    assert closed.json()["status"] == "closed"
    assert withdrawn.json()["status"] == "withdrawn"
    assert (await resident(client, resident_id)).status == "deceased"


async def test_visit_logged_by_a_volunteer_earns_the_communitys_visit_points(
    client, community, enrol
) -> None:
    volunteer = await enrol(community, subject="neighbour-zhang")
    async with client.app.state.session_factory() as session:
        session.add(
            CommunityRules(district=community.district, community=community.community, visit_points=5)
        )
        await session.commit()
    visit = VisitLogged(
        visit_id="v1",
        resident_id="r1",
        care_group_id=None,
        kind="visit",
        visitor="neighbour-zhang",
        visited_at=datetime.now(UTC),
    )

    assert await apply(client, wrap(community, visit))
    assert await apply(client, wrap(community, visit)) is True, "a second envelope of the same visit…"

    response = await client.get(
        f"/v1/volunteers/{volunteer['id']}", headers=community.as_(Role.COMMUNITY_WORKER)
    )
    assert response.json()["balance"] == 5, "…is credited once: the visit id is the ledger reference"
