"""Points learns districts' and communities' names from the registry's place.named, exactly once
through its inbox, and a certificate says the community by its name (东李庄社区), not its code."""

from __future__ import annotations

import pytest

from linli_points.models import KnownPlace
from linli_points.subscribers import REGISTRY, handlers
from linli_shared.auth import Role
from linli_shared.events import Envelope
from linli_shared.inbox import apply_once
from linli_shared.testing.communities import known_places, place_named

from .test_certificate_pages import issued

pytestmark = [pytest.mark.integration]


async def deliver(client, envelope: Envelope) -> bool:
    factory = client.app.state.session_factory
    return await apply_once(factory, REGISTRY.consumer.durable, envelope, handlers)


async def test_the_names_fill_from_the_event_and_a_redelivery_changes_nothing(client, community) -> None:
    envelope = place_named(community, "高桥营街道", "东李庄社区")
    assert await deliver(client, envelope)
    expected = [("", "高桥营街道"), (community.community, "东李庄社区")]
    assert await known_places(client.app.state.session_factory, KnownPlace, community.district) == expected
    assert not await deliver(client, envelope)
    assert await known_places(client.app.state.session_factory, KnownPlace, community.district) == expected


async def test_the_certificate_pages_say_the_community_by_its_name(client, community, enrol) -> None:
    assert await deliver(client, place_named(community, "高桥营街道", "东李庄社区"))
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
