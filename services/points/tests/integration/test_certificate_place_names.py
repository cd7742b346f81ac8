"""Points learns districts' and communities' names from the registry's place.named, exactly once
through its inbox, and a certificate says the community by its name (东李庄社区), not its code."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from linli_points.models import KnownPlace
from linli_points.subscribers import REGISTRY, handlers
from linli_shared.auth import Role
from linli_shared.contracts.registry import PlaceNamed
from linli_shared.events import Envelope
from linli_shared.inbox import apply_once

from .test_certificate_pages import issued

pytestmark = [pytest.mark.integration]


def community_named(community, district_name: str, community_name: str) -> Envelope:
    event = PlaceNamed(
        district=community.district,
        district_name=district_name,
        community=community.community,
        community_name=community_name,
    )
    return Envelope.wrap(
        event, district=community.district, community=community.community, occurred_at=datetime.now(UTC)
    )


async def deliver(client, envelope: Envelope) -> bool:
    factory = client.app.state.session_factory
    return await apply_once(factory, REGISTRY.consumer.durable, envelope, handlers)


async def known_places(client, community) -> list[tuple[str, str]]:
    async with client.app.state.session_factory() as session:
        statement = (
            select(KnownPlace)
            .where(KnownPlace.district == community.district)
            .order_by(col(KnownPlace.community))
        )
        return [(place.community, place.name) for place in (await session.exec(statement)).all()]


async def test_the_names_fill_from_the_event_and_a_redelivery_changes_nothing(client, community) -> None:
    envelope = community_named(community, "高桥营街道", "东李庄社区")
    assert await deliver(client, envelope)
    expected = [("", "高桥营街道"), (community.community, "东李庄社区")]
    assert await known_places(client, community) == expected
    assert not await deliver(client, envelope)
    assert await known_places(client, community) == expected


async def test_the_certificate_pages_say_the_community_by_its_name(client, community, enrol) -> None:
    assert await deliver(client, community_named(community, "高桥营街道", "东李庄社区"))
    serial = await issued(client, community, enrol, "王桂兰")

    printed = await client.get(
        f"/v1/certificates/{serial}/print", headers=community.as_(Role.VOLUNTEER, "wang")
    )
    public = await client.get(f"/v1/public/certificates/{serial}")
    check = await client.get(f"/v1/public/certificates/{serial}/verification")
    for page in (printed, public, check):
        assert page.status_code == 200, page.text
        assert "东李庄社区" in page.text
        assert community.community not in page.text
    assert "在东李庄社区累计参加志愿服务" in printed.text


async def test_a_certificate_says_the_code_while_the_name_is_unknown(client, community, enrol) -> None:
    serial = await issued(client, community, enrol, "王桂兰")
    check = await client.get(f"/v1/public/certificates/{serial}/verification")
    assert check.status_code == 200, check.text
    assert community.community in check.text
