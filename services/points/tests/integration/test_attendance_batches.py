"""An activity's attendance confirmed for every attendee in one request, on SQLite and PostgreSQL:
all credited once by the single attendance's rules, or none; the same key confirming once."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from linli_points.models import PointsAccount, PointsEntry, ServiceRecord
from linli_points.usecases import attendance_batches
from linli_shared.auth import Role
from linli_shared.outbox import OutboxMessage

pytestmark = [pytest.mark.integration]


async def publish(client, community, **overrides: object) -> dict[str, object]:
    """An activity under way now (started a minute ago), so it takes sign-ups and hours alike."""
    now = datetime.now(UTC)
    body = {
        "district": community.district,
        "community": community.community,
        "title": "义诊 free clinic",
        "kind": "clinic",
        "place": "活动室 community room",
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(hours=3)).isoformat(),
        "capacity": 50,
        "points_per_hour": 10,
        **overrides,
    }
    response = await client.post("/v1/activities", json=body, headers=community.as_(Role.COMMUNITY_WORKER))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def attendees(client, community, enrol, activity, count: int) -> list[dict[str, object]]:
    """`count` volunteers, each signed up for the activity."""
    volunteers = [await enrol(community) for _ in range(count)]
    for volunteer in volunteers:
        response = await client.post(
            f"/v1/activities/{activity['id']}/sign-ups",
            json={"volunteer_id": volunteer["id"]},
            headers=community.as_(Role.COMMUNITY_WORKER),
        )
        assert response.status_code == 201, response.text
    return volunteers


def lines(volunteers, minutes: list[int]) -> dict[str, object]:
    return {
        "attendees": [
            {"volunteer_id": v["id"], "minutes": m} for v, m in zip(volunteers, minutes, strict=True)
        ]
    }


async def confirm(client, community, activity, body, **headers: str):
    return await client.post(
        f"/v1/activities/{activity['id']}/attendance-batches",
        json=body,
        headers={**community.as_(Role.COMMUNITY_WORKER), **headers},
    )


async def outbox_events(client, suffix: str, community) -> list[dict[str, object]]:
    async with client.app.state.session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    events = [json.loads(r.envelope) for r in rows if r.subject.endswith(suffix)]
    return [e for e in events if e["community"] == community.community]


async def announced(client, community) -> list[dict[str, object]]:
    """The attendees the batches' events announce, in event order."""
    events = await outbox_events(client, ".points.service.attendance_confirmed", community)
    return [attendee for event in events for attendee in event["payload"]["attendees"]]


async def credits(client, volunteers) -> dict[str, list[int]]:
    """Each volunteer's earned entries and service records' points, by volunteer id."""
    ids = [str(v["id"]) for v in volunteers]
    async with client.app.state.session_factory() as session:
        entries = (
            await session.exec(
                select(PointsEntry.volunteer_id, PointsEntry.points).where(
                    col(PointsEntry.volunteer_id).in_(ids)
                )
            )
        ).all()
        records = (
            await session.exec(
                select(ServiceRecord.volunteer_id).where(col(ServiceRecord.volunteer_id).in_(ids))
            )
        ).all()
    found: dict[str, list[int]] = {volunteer_id: [] for volunteer_id in ids}
    for volunteer_id, points in entries:
        found[volunteer_id].append(points)
    for volunteer_id in records:
        found[volunteer_id].append(0)  # a 0 marks each service record
    return found


async def test_a_batch_credits_every_attendee_once_by_the_activitys_rule(client, community, enrol) -> None:
    activity = await publish(client, community, points_per_hour=10, rounding="nearest")
    volunteers = await attendees(client, community, enrol, activity, 6)
    minutes = [30, 60, 90, 120, 150, 180]

    answer = await confirm(client, community, activity, lines(volunteers, minutes))

    assert answer.status_code == 201, answer.text
    batch = answer.json()
    expected = {str(v["id"]): 10 * round(m / 60 + 1e-9) for v, m in zip(volunteers, minutes, strict=True)}
    assert {r["volunteer_id"]: r["points_awarded"] for r in batch["records"]} == expected
    assert batch["count"] == 6 and batch["points_awarded"] == sum(expected.values())
    assert [r["volunteer_id"] for r in batch["records"]] == sorted(expected)
    found = await credits(client, volunteers)
    assert found == {vid: sorted([points, 0], reverse=True) for vid, points in expected.items()}
    [event] = await outbox_events(client, ".points.service.attendance_confirmed", community)
    assert event["payload"]["batch_id"] == batch["id"] and event["payload"]["activity_id"] == activity["id"]
    told = {
        a["volunteer_id"]: (a["minutes"], a["points_awarded"], a["balance"])
        for a in await announced(client, community)
    }
    minutes_of = {str(v["id"]): m for v, m in zip(volunteers, minutes, strict=True)}
    assert told == {vid: (minutes_of[vid], points, points) for vid, points in expected.items()}
    sign_ups = await client.get(
        f"/v1/activities/{activity['id']}/sign-ups", headers=community.as_(Role.COMMUNITY_WORKER)
    )
    assert {s["status"] for s in sign_ups.json()["items"]} == {"attended"}


async def test_a_batch_keeps_the_daily_cap_of_the_single_attendance(client, community, enrol) -> None:
    morning = await publish(client, community, points_per_hour=10, daily_points_cap=30)
    afternoon = await publish(client, community, points_per_hour=10, daily_points_cap=30)
    [volunteer] = await attendees(client, community, enrol, morning, 1)
    signed = await client.post(
        f"/v1/activities/{afternoon['id']}/sign-ups",
        json={"volunteer_id": volunteer["id"]},
        headers=community.as_(Role.COMMUNITY_WORKER),
    )
    assert signed.status_code == 201, signed.text

    first = await confirm(client, community, morning, lines([volunteer], [120]))
    second = await confirm(client, community, afternoon, lines([volunteer], [120]))

    assert [first.json()["points_awarded"], second.json()["points_awarded"]] == [20, 10]


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("not-signed-up", "没有报名这项活动"),
        ("too-long", "超过了活动时长"),
        ("unknown", "没有找到这位志愿者"),
    ],
)
async def test_a_bad_attendee_refuses_the_whole_batch_and_is_named(
    client, community, enrol, bad, says
) -> None:
    activity = await publish(client, community)
    volunteers = await attendees(client, community, enrol, activity, 3)
    body = lines(volunteers, [60, 60, 60])
    line = body["attendees"][1]  # type: ignore[index]
    if bad == "not-signed-up":
        line["volunteer_id"] = (await enrol(community))["id"]
    elif bad == "too-long":
        line["minutes"] = 600
    else:
        line["volunteer_id"] = "no-such-volunteer"

    answer = await confirm(client, community, activity, body)

    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    detail = answer.json()["detail"]
    assert detail.startswith(f"第 2 位参加人员（志愿者 {line['volunteer_id']}）：") and says in detail
    assert all(points == [] for points in (await credits(client, volunteers)).values())
    assert await announced(client, community) == []
    again = await confirm(client, community, activity, lines(volunteers, [60, 60, 60]))
    assert again.status_code == 201, "nothing of the refused batch was kept"


async def test_a_batch_failing_after_its_credits_are_written_keeps_nothing(
    client, community, enrol, monkeypatch
) -> None:
    """All or none in the database itself: sign-ups moved, service records written and balances
    credited are all undone when the batch's last statement fails; the batch can then go through."""
    activity = await publish(client, community)
    volunteers = await attendees(client, community, enrol, activity, 3)
    real_insert = attendance_batches.insert_rows

    async def insert_failing_for_entries(session, model, rows, **options):
        if model is PointsEntry:  # the last insert, after sign-ups, records and balances
            raise RuntimeError("the disk is full")
        return await real_insert(session, model, rows, **options)

    monkeypatch.setattr(attendance_batches, "insert_rows", insert_failing_for_entries)
    with pytest.raises(RuntimeError, match="the disk is full"):
        await confirm(client, community, activity, lines(volunteers, [60, 60, 60]))
    monkeypatch.undo()

    assert all(points == [] for points in (await credits(client, volunteers)).values())
    assert await announced(client, community) == []
    async with client.app.state.session_factory() as session:
        ids = [str(v["id"]) for v in volunteers]
        balances = (
            await session.exec(select(PointsAccount.balance).where(col(PointsAccount.volunteer_id).in_(ids)))
        ).all()
    assert list(balances) == [0, 0, 0]
    again = await confirm(client, community, activity, lines(volunteers, [60, 60, 60]))
    assert again.status_code == 201, again.text
    assert all(points == [10, 0] for points in (await credits(client, volunteers)).values())


async def test_racing_batches_of_two_activities_credit_shared_volunteers_once_each(
    client, community, enrol
) -> None:
    """Their accounts are locked in one order by both batches: no deadlock, no lost credit."""
    morning, afternoon = await publish(client, community), await publish(client, community)
    volunteers = await attendees(client, community, enrol, morning, 6)
    for volunteer in volunteers:
        signed = await client.post(
            f"/v1/activities/{afternoon['id']}/sign-ups",
            json={"volunteer_id": volunteer["id"]},
            headers=community.as_(Role.COMMUNITY_WORKER),
        )
        assert signed.status_code == 201, signed.text
    body = lines(volunteers, [60] * 6)

    answers = await asyncio.gather(*(confirm(client, community, a, body) for a in (morning, afternoon)))

    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    assert all(sorted(points) == [0, 0, 10, 10] for points in (await credits(client, volunteers)).values())
    assert sorted(a["balance"] for a in await announced(client, community)) == [10] * 6 + [20] * 6


async def test_an_attendee_listed_twice_is_refused(client, community, enrol) -> None:
    activity = await publish(client, community)
    [volunteer] = await attendees(client, community, enrol, activity, 1)

    answer = await confirm(client, community, activity, lines([volunteer, volunteer], [60, 30]))

    assert answer.status_code == 422 and "重复列出" in answer.text and volunteer["id"] in answer.text


async def test_the_same_key_confirms_once_and_racing_twins_answer_alike(client, community, enrol) -> None:
    activity = await publish(client, community)
    volunteers = await attendees(client, community, enrol, activity, 5)
    body = lines(volunteers, [60] * 5)
    key = {"Idempotency-Key": "clinic-2026-12-01"}

    racing = await asyncio.gather(*(confirm(client, community, activity, body, **key) for _ in range(4)))
    again = await confirm(client, community, activity, body, **key)

    answers = [*racing, again]
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({json.dumps(a.json(), sort_keys=True) for a in answers}) == 1
    assert all(points == [10, 0] for points in (await credits(client, volunteers)).values())
    assert len(await announced(client, community)) == 5
    unkeyed = await confirm(client, community, activity, body)
    assert unkeyed.status_code == 422 and "已经确认过了" in unkeyed.json()["detail"]
    other = await confirm(client, community, activity, lines(volunteers[:1], [30]), **key)
    assert other.status_code == 409


async def test_only_organisers_in_scope_confirm_a_batch(client, community, enrol) -> None:
    activity = await publish(client, community)
    volunteers = await attendees(client, community, enrol, activity, 1)
    body = lines(volunteers, [60])

    as_volunteer = await client.post(
        f"/v1/activities/{activity['id']}/attendance-batches",
        json=body,
        headers=community.as_(Role.VOLUNTEER, "someone"),
    )
    elsewhere = type(community)(community.district, "elsewhere")
    from_elsewhere = await confirm(client, elsewhere, activity, body)

    assert (as_volunteer.status_code, from_elsewhere.status_code) == (403, 404)
    assert (await confirm(client, community, activity, {"attendees": []})).status_code == 422


async def test_a_batch_announces_its_attendees_a_chunk_to_an_event(
    client, community, enrol, monkeypatch
) -> None:
    """One event a chunk of attendees (ATTENDEES_PER_EVENT, here 2), in volunteer-id order, each
    attendee once: not two events an attendee."""
    monkeypatch.setattr(attendance_batches, "ATTENDEES_PER_EVENT", 2)
    activity = await publish(client, community)
    volunteers = await attendees(client, community, enrol, activity, 5)

    answer = await confirm(client, community, activity, lines(volunteers, [60] * 5))

    assert answer.status_code == 201, answer.text
    events = await outbox_events(client, ".points.service.attendance_confirmed", community)
    assert [len(e["payload"]["attendees"]) for e in events] == [2, 2, 1]
    assert [a["volunteer_id"] for a in await announced(client, community)] == sorted(
        str(v["id"]) for v in volunteers
    )
    assert await outbox_events(client, ".points.points.earned", community) == []
    assert await outbox_events(client, ".points.service.hours_confirmed", community) == []
