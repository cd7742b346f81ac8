"""The fund learns districts' and communities' names from the registry's place.named, exactly once
through its inbox, and a period published afterwards is headed with them (高桥营街道 · 东李庄社区)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from linli_fund.models import KnownPlace
from linli_fund.subscribers import REGISTRY, handlers
from linli_shared.contracts.registry import PlaceNamed
from linli_shared.events import Envelope
from linli_shared.inbox import apply_once

from .test_publication import china_today, public, publish

pytestmark = [pytest.mark.integration]


def named(
    community, district_name: str, community_name: str | None = None, *, at: datetime | None = None
) -> Envelope:
    """The registry's place.named of the district, or of its community when one is named."""
    event = PlaceNamed(
        district=community.district,
        district_name=district_name,
        community=community.community if community_name else None,
        community_name=community_name,
    )
    return Envelope.wrap(
        event,
        district=community.district,
        community=community.community if community_name else None,
        occurred_at=at or datetime.now(UTC),
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


async def test_the_names_fill_from_the_registrys_events_once(client, community) -> None:
    district_named = named(community, "高桥营街道")
    assert await deliver(client, district_named)
    assert await known_places(client, community) == [("", "高桥营街道")]

    community_named = named(community, "高桥营街道", "东李庄社区")
    assert await deliver(client, community_named)
    expected = [("", "高桥营街道"), (community.community, "东李庄社区")]
    assert await known_places(client, community) == expected

    assert not await deliver(client, community_named), "a redelivery is applied once"
    assert not await deliver(client, district_named)
    assert await known_places(client, community) == expected


async def test_a_rename_wins_and_an_older_announcement_arriving_late_does_not(client, community) -> None:
    now = datetime.now(UTC)
    assert await deliver(client, named(community, "高桥营街道", "东李庄社区", at=now))
    assert await deliver(
        client, named(community, "高桥营街道", "东李庄新村社区", at=now + timedelta(minutes=1))
    )
    assert await deliver(client, named(community, "旧名街道", "旧名社区", at=now - timedelta(days=1)))
    assert await known_places(client, community) == [
        ("", "高桥营街道"),
        (community.community, "东李庄新村社区"),
    ]


async def test_a_period_published_once_the_names_are_known_is_headed_with_them(
    client, community, donate, writes_later
) -> None:
    assert await deliver(client, named(community, "高桥营街道"))
    assert await deliver(client, named(community, "高桥营街道", "东李庄社区"))
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
    assert await deliver(client, named(community, "高桥营街道", "东李庄社区"))

    page = (await client.get(f"{public(community)}/1.html")).text
    assert f"{community.district} · {community.community}" in page, "a frozen report is never rewritten"
    assert "东李庄社区" not in page
    assert (await client.get(f"{public(community)}/verification")).json()["valid"] is True
