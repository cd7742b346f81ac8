"""Notify's section of the monthly report: the urgent alerts of each month and how fast they were
acknowledged, equal to the notifications themselves, in two communities and two months."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from statistics import median

import pytest
from sqlmodel import select

from linli_notify.models import Notification
from linli_notify.usecases import inbox
from linli_shared.auth import Caller, Role
from linli_shared.clock import CHINA_TIME, china_day, utc_now
from linli_shared.monthly_report import Month
from linli_shared.testing.communities import Community
from linli_shared.testing.http import bearer
from linli_shared.unit_of_work import UnitOfWork

from ..conftest import Harness

pytestmark = [pytest.mark.integration]

THIS = Month.parse(f"{china_day(utc_now()):%Y-%m}")
LAST = Month.parse(f"{THIS.first_day - timedelta(days=1):%Y-%m}")


def on(month: Month, day: int, hour: int = 10) -> datetime:
    return datetime.combine(month.first_day + timedelta(days=day - 1), time(hour), CHINA_TIME)


async def raise_alert(harness: Harness, at: datetime) -> Notification:
    """A missed-visit alert of the harness's community at `at`: its first notification."""
    envelope = harness.wrap(harness.overdue("r-1"))
    assert await harness.feed(envelope, at)
    (first,) = await harness.notifications(source_event_id=envelope.event_id)
    return first


async def acknowledge(harness: Harness, notification: Notification, at: datetime) -> None:
    place = harness.community
    caller = Caller(
        subject=notification.recipient,
        role=Role.GRID_WORKER,
        district=place.district,
        community=place.community,
    )
    assert notification.id is not None
    await inbox.acknowledge(UnitOfWork(harness.session_factory, clock=lambda: at), caller, notification.id)


@pytest.fixture
async def two(client, community) -> tuple[Harness, Harness]:
    one = Harness(client, community)
    other = Harness(client, Community(community.district, community.community + "b"))
    for harness in (one, other):
        assert await harness.feed(harness.wrap(harness.registered("r-1")), on(LAST, 1))
        assert await harness.feed(harness.wrap(harness.care_group("r-1")), on(LAST, 1))
    return one, other


async def build_alerts(two: tuple[Harness, Harness]) -> float:
    """Three alerts last month in the first community (two acknowledged, two escalated), one this month
    in the second; the waiting time of a rung."""
    one, other = two
    wait = timedelta(seconds=one.settings.escalate_after_seconds)
    first = await raise_alert(one, on(LAST, 5))
    assert await one.escalate(on(LAST, 5) + wait) == 1
    await acknowledge(one, first, on(LAST, 5) + wait + timedelta(minutes=10))
    second = await raise_alert(one, on(LAST, 20))
    await acknowledge(one, second, on(LAST, 20) + timedelta(minutes=5))
    await raise_alert(one, LAST.end - timedelta(minutes=10))  # climbs in this month: still last month's
    assert await one.escalate(LAST.end - timedelta(minutes=10) + wait) == 1
    await raise_alert(other, THIS.start + (utc_now() - THIS.start) / 2)
    return wait.total_seconds()


async def counted_from_rows(harness: Harness, month: Month) -> dict[tuple[str, str], dict[str, object]]:
    """The alerts of the month grouped from the notifications themselves."""
    by_event: defaultdict[str, list[Notification]] = defaultdict(list)
    async with harness.session_factory() as session:
        for n in (await session.exec(select(Notification))).all():
            if n.rung is not None:
                by_event[n.source_event_id].append(n)
    found: dict[tuple[str, str], dict[str, object]] = {}
    waits: defaultdict[tuple[str, str], list[float]] = defaultdict(list)
    for notifications in by_event.values():
        start = min(n.created_at for n in notifications)
        if not month.holds(start):
            continue
        place = (notifications[0].district, notifications[0].community or "")
        row = found.setdefault(place, {"alerts": 0, "alerts_escalated": 0})
        row["alerts"] += 1  # type: ignore[operator]
        row["alerts_escalated"] += int(len(notifications) > 1)  # type: ignore[operator]
        acknowledged = [n.acknowledged_at for n in notifications if n.acknowledged_at is not None]
        if acknowledged:
            waits[place].append((min(acknowledged) - start).total_seconds())
    for place, row in found.items():
        row["alerts_acknowledged"] = len(waits[place])
        row["median_seconds_to_acknowledge"] = round(median(waits[place]), 1) if waits[place] else None
    return found


@pytest.mark.parametrize("which", ["this", "last"])
async def test_every_figure_equals_the_notifications(client, two, which) -> None:
    month = THIS if which == "this" else LAST
    wait = await build_alerts(two)
    one, other = (h.community for h in two)
    response = await client.get(
        f"/v1/reports/monthly?month={month.label}", headers=bearer(Role.DISTRICT_ADMIN, one.district)
    )
    assert response.status_code == 200, response.text
    got = {(e["district"], e["community"]): e for e in response.json()["communities"]}
    assert sorted(got) == sorted([(one.district, one.community), (other.district, other.community)])
    expected = await counted_from_rows(two[0], month)
    empty = {
        "alerts": 0,
        "alerts_escalated": 0,
        "alerts_acknowledged": 0,
        "median_seconds_to_acknowledge": None,
    }
    for place, entry in got.items():
        assert {k: entry[k] for k in empty} == expected.get(place, empty), place
    first, second = got[(one.district, one.community)], got[(other.district, other.community)]
    if which == "last":
        waits = [wait + 600, 300.0]
        assert (first["alerts"], first["alerts_acknowledged"], first["alerts_escalated"]) == (3, 2, 2)
        assert first["acknowledgement_rate"] == round(2 / 3, 4)
        assert (
            first["median_seconds_to_acknowledge"] == first["mean_seconds_to_acknowledge"] == sum(waits) / 2
        )
        assert second["alerts"] == 0 and second["acknowledgement_rate"] is None
    else:
        assert (first["alerts"], second["alerts"], second["alerts_acknowledged"]) == (0, 1, 0)
        assert second["acknowledgement_rate"] == 0.0 and second["median_seconds_to_acknowledge"] is None


async def test_each_role_sees_its_scope(client, two) -> None:
    await build_alerts(two)
    one, other = (h.community for h in two)
    path = f"/v1/reports/monthly?month={LAST.label}"
    own = (await client.get(path, headers=one.as_(Role.COMMUNITY_WORKER))).json()["communities"]
    assert [(e["community"], e["alerts"]) for e in own] == [(one.community, 3)]
    refused = await client.get(f"{path}&community={other.community}", headers=one.as_(Role.COMMUNITY_WORKER))
    assert refused.status_code == 404
    assert refused.headers["content-type"] == "application/problem+json"
    city = await client.get(f"{path}&district={one.district}", headers=bearer(Role.CITY_ADMIN, None))
    assert [e["alerts"] for e in city.json()["communities"]] == [3, 0]
    for role in (Role.GRID_WORKER, Role.VOLUNTEER, Role.FUND_OFFICER, Role.RESIDENT):
        forbidden = await client.get(path, headers=one.as_(role))
        assert forbidden.status_code == 403, role
        assert forbidden.headers["content-type"] == "application/problem+json"
