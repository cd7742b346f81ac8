"""The ladder: an unacknowledged missed-visit alert climbs neighbour → grid worker → community worker,
one rung per waiting time, each rung once, and stops at the first acknowledgement."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from linli_shared.auth import Role
from linli_shared.contracts.registry import UrgentFindingReported

pytestmark = [pytest.mark.integration]

NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
NEIGHBOUR_PHONE = "13800000001"


async def alert_with_a_neighbour(
    notify, receiver, *, phone: str | None = NEIGHBOUR_PHONE, gateway: bool = True
) -> str:
    """A care group whose neighbour has `phone`, in a community with an SMS gateway; then its alert."""
    if gateway:
        notify.use_sms_gateway(receiver.sms_url)
    await notify.feed(notify.wrap(notify.registered("r-1", "王秀英")), NOON)
    await notify.feed(notify.wrap(notify.care_group("r-1", neighbour_phone=phone)), NOON)
    source = notify.wrap(notify.overdue("r-1", grid_worker="grid-li", community_worker="cw-zhang"))
    assert await notify.feed(source, NOON)
    return source.event_id


async def escalate_twice_at_once(notify, now: datetime) -> int:
    return sum(await asyncio.gather(notify.escalate(now), notify.escalate(now)))


async def test_unacknowledged_alert_climbs_every_rung_once_within_the_set_times(notify, receiver) -> None:
    event_id = await alert_with_a_neighbour(notify, receiver)
    wait = timedelta(seconds=notify.settings.escalate_after_seconds)
    (first,) = await notify.notifications(source_event_id=event_id)
    assert (first.recipient, first.rung, first.urgency) == ("neighbour:cg-1", "neighbour", "urgent")

    assert await notify.dispatch(NOON) == 1, "the neighbour's SMS: no login, so no in-app delivery"
    (text,) = receiver.texts()
    assert text["phone"] == NEIGHBOUR_PHONE and "紧急" in str(text["title"])
    assert "/v1/acknowledgements/" in str(text["message"]), "no login: the link acknowledges"

    assert await notify.escalate(NOON + wait - timedelta(seconds=1)) == 0
    assert await escalate_twice_at_once(notify, NOON + wait) == 1
    assert await notify.escalate(NOON + 2 * wait - timedelta(seconds=1)) == 0, "rung 2 waits its own time"
    assert await escalate_twice_at_once(notify, NOON + 2 * wait) == 1
    assert await escalate_twice_at_once(notify, NOON + 10 * wait) == 0, "the top rung has nowhere to go"

    climb = await notify.notifications(source_event_id=event_id)
    assert [(n.recipient, n.rung) for n in climb] == [
        ("neighbour:cg-1", "neighbour"),
        ("grid-li", "grid_worker"),
        ("cw-zhang", "community_worker"),
    ]
    assert [n.escalation_of for n in climb] == [None, climb[0].id, climb[1].id]
    assert [n.created_at for n in climb] == [NOON, NOON + wait, NOON + 2 * wait]
    assert "张大妈 未在规定时间内确认" in climb[1].body and "grid-li 未在规定时间内确认" in climb[2].body
    escalated = await notify.outbox_events("notify.notification.escalated")
    assert [(e["payload"]["rung"], e["payload"]["to_recipient"]) for e in escalated] == [
        ("grid_worker", "grid-li"),
        ("community_worker", "cw-zhang"),
    ]


async def test_acknowledgement_on_the_second_rung_stops_the_climb(
    notify, receiver, client, community
) -> None:
    event_id = await alert_with_a_neighbour(notify, receiver)
    wait = timedelta(seconds=notify.settings.escalate_after_seconds)
    assert await notify.escalate(NOON + wait) == 1
    (grid,) = await notify.notifications(source_event_id=event_id, recipient="grid-li")
    headers = community.as_(Role.GRID_WORKER, "grid-li")
    response = await client.post(f"/v1/notifications/{grid.id}/acknowledgement", headers=headers)
    assert response.status_code == 200, response.text

    assert await notify.escalate(NOON + 5 * wait) == 0
    assert [n.recipient for n in await notify.notifications(source_event_id=event_id)] == [
        "neighbour:cg-1",
        "grid-li",
    ]


async def test_the_neighbour_acknowledging_late_by_link_still_stops_the_climb(
    notify, receiver, client
) -> None:
    event_id = await alert_with_a_neighbour(notify, receiver)
    wait = timedelta(seconds=notify.settings.escalate_after_seconds)
    await notify.dispatch(NOON)
    link = next(line for line in str(receiver.texts()[0]["message"]).splitlines() if "/v1/ack" in line)
    assert await notify.escalate(NOON + wait) == 1, "the neighbour did not answer in time"

    answered = await client.post(f"/v1/acknowledgements/{link.rsplit('/', 1)[-1]}")
    assert answered.status_code == 200, answered.text
    assert await notify.escalate(NOON + 5 * wait) == 0, "any acknowledgement of the alert stops it"
    assert len(await notify.notifications(source_event_id=event_id)) == 2


@pytest.mark.parametrize("phone, gateway", [(None, True), (NEIGHBOUR_PHONE, False)])
async def test_a_neighbour_who_cannot_be_texted_is_skipped_at_once(notify, receiver, phone, gateway) -> None:
    event_id = await alert_with_a_neighbour(notify, receiver, phone=phone, gateway=gateway)
    (first,) = await notify.notifications(source_event_id=event_id)
    assert (first.recipient, first.rung, first.created_at) == ("grid-li", "grid_worker", NOON)
    wait = timedelta(seconds=notify.settings.escalate_after_seconds)
    assert await notify.escalate(NOON + wait) == 1
    assert [n.recipient for n in await notify.notifications(source_event_id=event_id)] == [
        "grid-li",
        "cw-zhang",
    ]


async def test_a_community_ladder_without_the_neighbour_starts_with_the_grid_worker(notify, receiver) -> None:
    notify.settings.escalation_ladders = {notify.community.community: ["grid_worker", "community_worker"]}
    event_id = await alert_with_a_neighbour(notify, receiver)
    (first,) = await notify.notifications(source_event_id=event_id)
    assert (first.recipient, first.rung) == ("grid-li", "grid_worker")


def urgent_finding(
    notify, *, grid_worker: str | None = "grid-li", community_worker: str | None = "cw-zhang"
) -> UrgentFindingReported:
    return UrgentFindingReported(
        care_group_id="cg-1",
        resident_id="r-1",
        visit_id="v-1",
        visitor="grid-li",
        findings="老人摔倒，腿肿了",
        grid_worker=grid_worker,
        community_worker=community_worker,
        district=notify.community.district,
        community=notify.community.community,
    )


async def test_an_urgent_finding_reaches_both_workers_at_once_and_one_acknowledgement_ends_it(
    notify, client, community
) -> None:
    await notify.feed(notify.wrap(notify.registered("r-1", "王秀英")), NOON)
    source = notify.wrap(urgent_finding(notify))
    assert await notify.feed(source, NOON)
    assert not await notify.feed(source, NOON), "the same event applied once"

    alerts = await notify.notifications(source_event_id=source.event_id)
    assert [(n.recipient, n.rung, n.urgency) for n in alerts] == [
        ("grid-li", "grid_worker", "urgent"),
        ("cw-zhang", "community_worker", "urgent"),
    ]
    assert all("【紧急】王秀英需要尽快跟进" in n.title for n in alerts)
    assert all("网格员在探访王秀英" in n.body and "老人摔倒，腿肿了" in n.body for n in alerts)
    assert await notify.dispatch(NOON) >= 2
    inbox = await notify.deliveries(channel="inbox", status="sent")
    assert sorted(d.recipient for d in inbox if d.source_event_id == source.event_id) == [
        "cw-zhang",
        "grid-li",
    ]

    headers = community.as_(Role.COMMUNITY_WORKER, "cw-zhang")
    acknowledged = await client.post(f"/v1/notifications/{alerts[1].id}/acknowledgement", headers=headers)
    assert acknowledged.status_code == 200, acknowledged.text
    wait = timedelta(seconds=notify.settings.escalate_after_seconds)
    assert await notify.escalate(NOON + 5 * wait) == 0, "acknowledged on the ladder: nothing climbs"


async def test_an_urgent_finding_without_a_care_group_goes_to_the_community_workers_desk(notify) -> None:
    source = notify.wrap(urgent_finding(notify, grid_worker=None, community_worker=None))
    assert await notify.feed(source, NOON)
    (alert,) = await notify.notifications(source_event_id=source.event_id)
    assert (alert.recipient, alert.rung) == (
        f"role:{notify.community.community}:community_worker",
        "community_worker",
    )


async def test_every_recipient_reads_the_alerts_ladder_and_sees_who_acknowledged(
    notify, client, community
) -> None:
    source = notify.wrap(urgent_finding(notify))
    assert await notify.feed(source, NOON)
    grid, worker = await notify.notifications(source_event_id=source.event_id)
    cw = community.as_(Role.COMMUNITY_WORKER, "cw-zhang")
    assert (
        await client.post(f"/v1/notifications/{worker.id}/acknowledgement", headers=cw)
    ).status_code == 200

    ladder = await client.get(
        f"/v1/notifications/{grid.id}/ladder", headers=community.as_(Role.GRID_WORKER, "grid-li")
    )
    assert ladder.status_code == 200, ladder.text
    rungs = ladder.json()
    assert [(r["rung"], r["recipient_name"], r["named"], r["you"]) for r in rungs] == [
        ("grid_worker", "grid_worker", False, True),
        ("community_worker", "community_worker", False, False),
    ]
    assert rungs[0]["acknowledged_at"] is None
    assert (rungs[1]["acknowledged_by"], rungs[1]["acknowledged_by_you"]) == ("community_worker", False)
    assert rungs[1]["acknowledged_at"] is not None and "cw-zhang" not in ladder.text, "no account ids"

    by_the_other_copy = await client.get(f"/v1/notifications/{grid.id}/ladder", headers=cw)
    assert by_the_other_copy.status_code == 200, "any recipient of the alert reads it, by any copy"
    assert [r["acknowledged_by_you"] for r in by_the_other_copy.json()] == [False, True]
    for stranger in (
        community.as_(Role.GRID_WORKER, "grid-wang"),
        community.as_(Role.AUDITOR, "auditor-1"),
    ):
        refused = await client.get(f"/v1/notifications/{grid.id}/ladder", headers=stranger)
        assert refused.status_code == 404, refused.text


async def test_the_ladder_names_the_neighbour_and_what_climbed(notify, receiver, client, community) -> None:
    event_id = await alert_with_a_neighbour(notify, receiver)
    assert await notify.escalate(NOON + timedelta(seconds=notify.settings.escalate_after_seconds)) == 1
    neighbour, grid = await notify.notifications(source_event_id=event_id)
    rungs = (
        await client.get(
            f"/v1/notifications/{grid.id}/ladder", headers=community.as_(Role.GRID_WORKER, "grid-li")
        )
    ).json()
    assert [(r["rung"], r["recipient_name"], r["named"]) for r in rungs] == [
        ("neighbour", "张大妈", True),
        ("grid_worker", "grid_worker", False),
    ]
    assert rungs[0]["escalated_at"] is not None and rungs[1]["escalated_at"] is None
