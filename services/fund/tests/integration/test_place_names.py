"""The fund learns districts' and communities' names from the registry's place.named, exactly once
through its inbox, and a period published afterwards is headed with them (高桥营街道 · 东李庄社区)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from linli_fund.models import KnownPlace
from linli_fund.subscribers import REGISTRY, handlers
from linli_shared.events import Envelope
from linli_shared.inbox import apply_once
from linli_shared.testing.communities import known_places, place_named

from .test_publication import china_today, public, publish

pytestmark = [pytest.mark.integration]


async def deliver(client, envelope: Envelope) -> bool:
    factory = client.app.state.session_factory
    return await apply_once(factory, REGISTRY.consumer.durable, envelope, handlers)


async def test_the_names_fill_from_the_registrys_events_once(client, community) -> None:
    district_named = place_named(community, "高桥营街道")
    assert await deliver(client, district_named)
    assert await known_places(client.app.state.session_factory, KnownPlace, community.district) == [
        ("", "高桥营街道")
    ]

    community_named = place_named(community, "高桥营街道", "东李庄社区")
    assert await deliver(client, community_named)
    expected = [("", "高桥营街道"), (community.community, "东李庄社区")]
    assert await known_places(client.app.state.session_factory, KnownPlace, community.district) == expected

    assert not await deliver(client, community_named), "a redelivery is applied once"
    assert not await deliver(client, district_named)
    assert await known_places(client.app.state.session_factory, KnownPlace, community.district) == expected


async def test_a_rename_wins_and_an_older_announcement_arriving_late_does_not(client, community) -> None:
    now = datetime.now(UTC)
    assert await deliver(client, place_named(community, "高桥营街道", "东李庄社区", at=now))
    assert await deliver(
        client, place_named(community, "高桥营街道", "东李庄新村社区", at=now + timedelta(minutes=1))
    )
    assert await deliver(client, place_named(community, "旧名街道", "旧名社区", at=now - timedelta(days=1)))
    assert await known_places(client.app.state.session_factory, KnownPlace, community.district) == [
        ("", "高桥营街道"),
        (community.community, "东李庄新村社区"),
    ]


async def test_a_period_published_once_the_names_are_known_is_headed_with_them(
    client, community, donate, writes_later
) -> None:
    assert await deliver(client, place_named(community, "高桥营街道"))
    assert await deliver(client, place_named(community, "高桥营街道", "东李庄社区"))
    await donate(community, 10_000)
    today = china_today()
    published = await publish(
        client, community, today - timedelta(days=3), today, later=lambda: writes_later(timedelta(days=1))
    )
    assert published.status_code == 201, published.text
    report = published.json()["report"]
    assert (report["district_name"], report["community_name"]) == ("高桥营街道", "东李庄社区")

    page = (await client.get(f"{public(community)}/1.html")).text
    assert "高桥营街道 · 东李庄社区" in page
    assert community.community not in page.split("<body>", 1)[1].split("<footer>", 1)[0]

    frozen = await client.get(f"{public(community)}/1.json")
    assert frozen.status_code == 200, frozen.text
    assert json.dumps(frozen.json(), ensure_ascii=False).count("东李庄社区") == 1
    assert (await client.get(f"{public(community)}/verification")).json()["valid"] is True


async def test_a_period_published_before_the_names_came_keeps_its_codes(
    client, community, donate, writes_later
) -> None:
    await donate(community, 10_000)
    today = china_today()
    published = await publish(
        client, community, today - timedelta(days=3), today, later=lambda: writes_later(timedelta(days=1))
    )
    assert published.status_code == 201, published.text
    report = published.json()["report"]
    assert (report["district_name"], report["community_name"]) == (None, None)
    assert await deliver(client, place_named(community, "高桥营街道", "东李庄社区"))

    page = (await client.get(f"{public(community)}/1.html")).text
    assert f"{community.district} · {community.community}" in page, "a frozen report is never rewritten"
    assert "东李庄社区" not in page
    assert (await client.get(f"{public(community)}/verification")).json()["valid"] is True
