"""Activities, service hours, points from hours, the service record and certificates, on SQLite and
PostgreSQL: races included."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from linli_points.models import CommunityRules, PointsEntry, SignUp
from linli_points.subscribers import on_visit_logged
from linli_shared.auth import Role
from linli_shared.contracts.registry import VisitLogged
from linli_shared.errors import PROBLEM_JSON
from linli_shared.events import Envelope
from linli_shared.outbox import OutboxMessage
from linli_shared.unit_of_work import UnitOfWork

pytestmark = [pytest.mark.integration]


def iso(moment: datetime) -> str:
    return moment.isoformat()


async def publish(client, community, **overrides: object) -> dict[str, object]:
    """An activity under way now (started a minute ago), so it takes sign-ups and hours alike."""
    now = datetime.now(UTC)
    body = {
        "district": community.district,
        "community": community.community,
        "title": "理发 haircuts for elders",
        "kind": "haircut",
        "place": "活动室 community room",
        "starts_at": iso(now - timedelta(minutes=1)),
        "ends_at": iso(now + timedelta(hours=3)),
        "capacity": 10,
        "points_per_hour": 10,
        **overrides,
    }
    response = await client.post("/v1/activities", json=body, headers=community.as_(Role.COMMUNITY_WORKER))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def signed_up(client, community, activity: dict[str, object], volunteer: dict[str, object]) -> None:
    response = await client.post(
        f"/v1/activities/{activity['id']}/sign-ups",
        json={"volunteer_id": volunteer["id"]},
        headers=community.as_(Role.COMMUNITY_WORKER),
    )
    assert response.status_code == 201, response.text


async def attend(client, community, activity, volunteer, minutes: int, **headers: str):
    return await client.post(
        f"/v1/activities/{activity['id']}/attendance",
        json={"volunteer_id": volunteer["id"], "minutes": minutes},
        headers={**community.as_(Role.COMMUNITY_WORKER), **headers},
    )


async def balance(client, community, volunteer_id: str) -> int:
    response = await client.get(
        f"/v1/volunteers/{volunteer_id}", headers=community.as_(Role.COMMUNITY_WORKER)
    )
    return int(response.json()["balance"])


async def places_taken(client, community, activity_id: str) -> int:
    response = await client.get(f"/v1/activities/{activity_id}", headers=community.as_(Role.COMMUNITY_WORKER))
    return int(response.json()["signed_up"])


async def outbox_events(client, suffix: str) -> list[dict[str, object]]:
    async with client.app.state.session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    return [json.loads(r.envelope) for r in rows if r.subject.endswith(suffix)]


async def earned_entries(client, volunteer_id: str) -> list[PointsEntry]:
    async with client.app.state.session_factory() as session:
        statement = select(PointsEntry).where(
            PointsEntry.volunteer_id == volunteer_id, PointsEntry.kind == "earned"
        )
        return list((await session.exec(statement)).all())


# --- publishing -----------------------------------------------------------------------------------


async def test_publish_activity_announces_it_and_shows_it_only_in_scope(client, community) -> None:
    activity = await publish(client, community, capacity=3, rounding="nearest", daily_points_cap=40)

    assert (activity["signed_up"], activity["places_left"], activity["rounding"]) == (0, 3, "nearest")
    published = await outbox_events(client, ".points.activity.published")
    assert [e["payload"]["activity_id"] for e in published] == [activity["id"]]
    listed = await client.get("/v1/activities", headers=community.as_(Role.VOLUNTEER, "anyone"))
    assert [a["id"] for a in listed.json()["items"]] == [activity["id"]]
    other = type(community)(community.district, "elsewhere")
    hidden = await client.get(f"/v1/activities/{activity['id']}", headers=other.as_(Role.COMMUNITY_WORKER))
    assert hidden.status_code == 404
    assert (await client.get("/v1/activities", headers=other.as_(Role.COMMUNITY_WORKER))).json()[
        "items"
    ] == []


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"ends_at": "2026-03-01T08:00:00+00:00", "starts_at": "2026-03-01T09:00:00+00:00"}, 422),
        ({"starts_at": "2026-03-01T08:00:00+00:00", "ends_at": "2026-03-02T09:00:00+00:00"}, 422),
        ({"starts_at": "2026-03-01T08:00:00", "ends_at": "2026-03-01T10:00:00"}, 422),
        ({"capacity": 0}, 422),
        ({"points_per_hour": -5}, 422),
        ({"rounding": "sideways"}, 422),
        ({"daily_points_cap": -1}, 422),
        ({"kind": "Not A Code!"}, 422),
    ],
)
async def test_publish_activity_rejects_bad_input(client, community, change, status) -> None:
    now = datetime.now(UTC)
    body = {
        "district": community.district,
        "community": community.community,
        "title": "t",
        "kind": "haircut",
        "place": "p",
        "starts_at": iso(now),
        "ends_at": iso(now + timedelta(hours=1)),
        "capacity": 1,
        **change,
    }
    response = await client.post("/v1/activities", json=body, headers=community.as_(Role.COMMUNITY_WORKER))
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_volunteers_may_not_publish_activities(client, community) -> None:
    now = datetime.now(UTC)
    body = {
        "district": community.district,
        "community": community.community,
        "title": "t",
        "kind": "haircut",
        "place": "p",
        "starts_at": iso(now),
        "ends_at": iso(now + timedelta(hours=1)),
        "capacity": 1,
    }
    response = await client.post("/v1/activities", json=body, headers=community.as_(Role.VOLUNTEER, "v"))
    assert response.status_code == 403


# --- sign-ups -------------------------------------------------------------------------------------


async def test_twenty_racing_sign_ups_for_five_places_give_exactly_five(client, community, enrol) -> None:
    activity = await publish(client, community, capacity=5)
    for i in range(20):
        await enrol(community, subject=f"v{i}")

    answers = await asyncio.gather(
        *(
            client.post(
                f"/v1/activities/{activity['id']}/sign-ups", headers=community.as_(Role.VOLUNTEER, f"v{i}")
            )
            for i in range(20)
        )
    )

    assert sorted(a.status_code for a in answers) == [201] * 5 + [409] * 15
    assert all("已满员" in a.json()["detail"] for a in answers if a.status_code == 409)
    assert await places_taken(client, community, str(activity["id"])) == 5
    async with client.app.state.session_factory() as session:
        rows = (await session.exec(select(SignUp).where(SignUp.activity_id == activity["id"]))).all()
    assert len(rows) == 5 and {r.status for r in rows} == {"signed_up"}


async def test_signing_up_twice_conflicts_and_racing_twins_take_one_place(client, community, enrol) -> None:
    await enrol(community, subject="wang")
    first = await publish(client, community)
    path = f"/v1/activities/{first['id']}/sign-ups"
    assert (await client.post(path, headers=community.as_(Role.VOLUNTEER, "wang"))).status_code == 201
    again = await client.post(path, headers=community.as_(Role.VOLUNTEER, "wang"))
    assert again.status_code == 409 and "已经报名" in again.json()["detail"]

    second = await publish(client, community)
    answers = await asyncio.gather(
        *(
            client.post(
                f"/v1/activities/{second['id']}/sign-ups", headers=community.as_(Role.VOLUNTEER, "wang")
            )
            for _ in range(5)
        )
    )

    assert sorted(a.status_code for a in answers) == [201] + [409] * 4
    assert await places_taken(client, community, str(second["id"])) == 1


async def test_cancellation_frees_the_place_exactly_once(client, community, enrol) -> None:
    wang = await enrol(community, subject="wang")
    await enrol(community, subject="li")
    activity = await publish(client, community, capacity=1)
    path = f"/v1/activities/{activity['id']}/sign-ups"
    assert (await client.post(path, headers=community.as_(Role.VOLUNTEER, "wang"))).status_code == 201
    full = await client.post(path, headers=community.as_(Role.VOLUNTEER, "li"))
    assert full.status_code == 409 and "已满员" in full.json()["detail"]

    cancel = f"{path}/{wang['id']}/cancellation"
    answers = await asyncio.gather(
        *(client.post(cancel, headers=community.as_(Role.VOLUNTEER, "wang")) for _ in range(5))
    )

    assert sorted(a.status_code for a in answers) == [200] + [409] * 4
    assert await places_taken(client, community, str(activity["id"])) == 0
    assert (await client.post(path, headers=community.as_(Role.VOLUNTEER, "li"))).status_code == 201
    back = await client.post(path, headers=community.as_(Role.VOLUNTEER, "wang"))
    assert back.status_code == 409 and "已满员" in back.json()["detail"]
    assert await places_taken(client, community, str(activity["id"])) == 1


async def test_a_cancelled_volunteer_can_sign_up_again(client, community, enrol) -> None:
    wang = await enrol(community, subject="wang")
    activity = await publish(client, community, capacity=2)
    path = f"/v1/activities/{activity['id']}/sign-ups"
    headers = community.as_(Role.VOLUNTEER, "wang")
    assert (await client.post(path, headers=headers)).status_code == 201
    assert (await client.post(f"{path}/{wang['id']}/cancellation", headers=headers)).status_code == 200

    again = await client.post(path, headers=headers)

    assert again.status_code == 201 and again.json()["status"] == "signed_up"
    assert await places_taken(client, community, str(activity["id"])) == 1


async def test_sign_up_rejects_bad_requests(client, community, enrol) -> None:
    wang = await enrol(community, subject="wang")
    await enrol(community, subject="li")
    activity = await publish(client, community)
    path = f"/v1/activities/{activity['id']}/sign-ups"
    worker = community.as_(Role.COMMUNITY_WORKER)

    assert (await client.post("/v1/activities/nope/sign-ups", headers=worker)).status_code == 404
    assert (await client.post(path, headers=worker)).status_code == 422  # a worker must name the volunteer
    unknown = await client.post(path, json={"volunteer_id": "nope"}, headers=worker)
    assert unknown.status_code == 404
    someone_else = await client.post(
        path, json={"volunteer_id": wang["id"]}, headers=community.as_(Role.VOLUNTEER, "li")
    )
    assert someone_else.status_code == 403
    not_enrolled = await client.post(path, headers=community.as_(Role.VOLUNTEER, "stranger"))
    assert not_enrolled.status_code == 404
    now = datetime.now(UTC)
    ended = await publish(
        client, community, starts_at=iso(now - timedelta(hours=3)), ends_at=iso(now - timedelta(hours=1))
    )
    late = await client.post(
        f"/v1/activities/{ended['id']}/sign-ups", headers=community.as_(Role.VOLUNTEER, "li")
    )
    assert late.status_code == 409 and "已经结束" in late.json()["detail"]
    assert all(r.headers["content-type"] == PROBLEM_JSON for r in (unknown, someone_else, not_enrolled, late))


# --- hours and points -----------------------------------------------------------------------------


async def test_attendance_records_hours_and_credits_points_by_the_rule(client, community, enrol) -> None:
    volunteer = await enrol(community, subject="wang")
    activity = await publish(client, community, points_per_hour=10, rounding="nearest")
    await signed_up(client, community, activity, volunteer)

    response = await attend(client, community, activity, volunteer, 90)

    assert response.status_code == 201, response.text
    record = response.json()
    assert (record["minutes"], record["hours"], record["points_awarded"]) == (90, 1.5, 20)
    assert record["activity_id"] == activity["id"] and record["earns_points"] is True
    assert await balance(client, community, str(volunteer["id"])) == 20
    [entry] = await earned_entries(client, str(volunteer["id"]))
    assert (entry.points, entry.reference) == (20, record["id"])
    [confirmed] = await outbox_events(client, ".points.service.hours_confirmed")
    assert confirmed["payload"] | {} == {
        "record_id": record["id"],
        "volunteer_id": volunteer["id"],
        "activity_id": activity["id"],
        "minutes": 90,
        "points_awarded": 20,
    }
    [earned] = await outbox_events(client, ".points.points.earned")
    assert (earned["payload"]["points"], earned["payload"]["balance"]) == (20, 20)
    sign_ups = await client.get(
        f"/v1/activities/{activity['id']}/sign-ups", headers=community.as_(Role.COMMUNITY_WORKER)
    )
    assert [s["status"] for s in sign_ups.json()["items"]] == ["attended"]


@pytest.mark.parametrize(("rounding", "points"), [("down", 10), ("nearest", 20), ("up", 20)])
async def test_attendance_rounds_started_hours_as_the_activity_says(
    client, community, enrol, rounding, points
) -> None:
    volunteer = await enrol(community)
    activity = await publish(client, community, points_per_hour=10, rounding=rounding)
    await signed_up(client, community, activity, volunteer)

    response = await attend(client, community, activity, volunteer, 89 if rounding != "nearest" else 90)

    assert response.json()["points_awarded"] == points


async def test_daily_cap_holds_across_two_activities_on_one_day(client, community, enrol) -> None:
    volunteer = await enrol(community)
    morning = await publish(client, community, points_per_hour=10, daily_points_cap=30)
    afternoon = await publish(client, community, points_per_hour=10, daily_points_cap=30)
    for activity in (morning, afternoon):
        await signed_up(client, community, activity, volunteer)

    first = await attend(client, community, morning, volunteer, 120)
    second = await attend(client, community, afternoon, volunteer, 120)

    assert (first.json()["points_awarded"], second.json()["points_awarded"]) == (20, 10)
    assert second.json()["minutes"] == 120, "the hours are recorded in full, only the points are capped"
    assert await balance(client, community, str(volunteer["id"])) == 30
    third = await publish(client, community, points_per_hour=10, daily_points_cap=30)
    await signed_up(client, community, third, volunteer)
    capped_out = await attend(client, community, third, volunteer, 60)
    assert capped_out.status_code == 201 and capped_out.json()["points_awarded"] == 0
    assert len(await outbox_events(client, ".points.points.earned")) == 2, "no event for zero points"


async def test_racing_confirmations_on_one_day_never_pass_the_cap(client, community, enrol) -> None:
    volunteer = await enrol(community)
    activities = [await publish(client, community, points_per_hour=10, daily_points_cap=30) for _ in range(4)]
    for activity in activities:
        await signed_up(client, community, activity, volunteer)

    answers = await asyncio.gather(*(attend(client, community, a, volunteer, 120) for a in activities))

    assert {a.status_code for a in answers} == {201}
    assert sorted(a.json()["points_awarded"] for a in answers) == [0, 0, 10, 20]
    assert await balance(client, community, str(volunteer["id"])) == 30


async def test_confirming_twice_does_not_double(client, community, enrol) -> None:
    volunteer = await enrol(community)
    activity = await publish(client, community, points_per_hour=10)
    await signed_up(client, community, activity, volunteer)

    first = await attend(client, community, activity, volunteer, 60)
    again = await attend(client, community, activity, volunteer, 60)

    assert first.status_code == 201 and again.status_code == 409
    assert "已经确认过了" in again.json()["detail"]
    assert await balance(client, community, str(volunteer["id"])) == 10


async def test_same_idempotency_key_confirms_once_and_answers_the_same(client, community, enrol) -> None:
    volunteer = await enrol(community)
    activity = await publish(client, community, points_per_hour=10)
    await signed_up(client, community, activity, volunteer)

    answers = await asyncio.gather(
        *(
            attend(client, community, activity, volunteer, 60, **{"Idempotency-Key": "att-1"})
            for _ in range(5)
        )
    )

    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert await balance(client, community, str(volunteer["id"])) == 10
    assert len(await earned_entries(client, str(volunteer["id"]))) == 1
    other_body = await attend(client, community, activity, volunteer, 30, **{"Idempotency-Key": "att-1"})
    assert other_body.status_code == 409


async def test_attendance_rejects_bad_input(client, community, enrol) -> None:
    volunteer = await enrol(community, subject="wang")
    stranger = await enrol(community)
    activity = await publish(client, community)  # a window of 181 minutes
    await signed_up(client, community, activity, volunteer)
    worker = community.as_(Role.COMMUNITY_WORKER)
    path = f"/v1/activities/{activity['id']}/attendance"

    for minutes in (-30, 0, 182, 100_000):
        bad = await client.post(
            path, json={"volunteer_id": volunteer["id"], "minutes": minutes}, headers=worker
        )
        assert bad.status_code == 422, (minutes, bad.text)
    unknown = await client.post(path, json={"volunteer_id": "nope", "minutes": 60}, headers=worker)
    assert unknown.status_code == 404
    not_signed_up = await attend(client, community, activity, stranger, 60)
    assert not_signed_up.status_code == 409 and "没有报名" in not_signed_up.json()["detail"]
    no_activity = await client.post(
        "/v1/activities/nope/attendance",
        json={"volunteer_id": volunteer["id"], "minutes": 60},
        headers=worker,
    )
    assert no_activity.status_code == 404
    by_volunteer = await client.post(
        path,
        json={"volunteer_id": volunteer["id"], "minutes": 60},
        headers=community.as_(Role.VOLUNTEER, "wang"),
    )
    assert by_volunteer.status_code == 403
    now = datetime.now(UTC)
    tomorrow = await publish(
        client,
        community,
        starts_at=iso(now + timedelta(days=1)),
        ends_at=iso(now + timedelta(days=1, hours=2)),
    )
    await signed_up(client, community, tomorrow, volunteer)
    early = await attend(client, community, tomorrow, volunteer, 60)
    assert early.status_code == 409 and "活动开始后" in early.json()["detail"]
    assert await balance(client, community, str(volunteer["id"])) == 0


async def test_confirmed_hours_cannot_be_cancelled(client, community, enrol) -> None:
    volunteer = await enrol(community, subject="wang")
    activity = await publish(client, community)
    await signed_up(client, community, activity, volunteer)
    await attend(client, community, activity, volunteer, 60)

    cancel = await client.post(
        f"/v1/activities/{activity['id']}/sign-ups/{volunteer['id']}/cancellation",
        headers=community.as_(Role.VOLUNTEER, "wang"),
    )

    assert cancel.status_code == 409
    assert await places_taken(client, community, str(activity["id"])) == 1


# --- late entries ---------------------------------------------------------------------------------


async def test_late_entry_without_points_keeps_the_hours_and_earns_nothing(client, community, enrol) -> None:
    volunteer = await enrol(community)
    response = await client.post(
        "/v1/service-records",
        json={
            "volunteer_id": volunteer["id"],
            "served_on": "2025-12-24",
            "minutes": 150,
            "earns_points": False,
            "note": "paper sign-in sheet from the winter clothes drive",
        },
        headers=community.as_(Role.DISTRICT_ADMIN),
    )

    assert response.status_code == 201, response.text
    record = response.json()
    assert (record["minutes"], record["points_awarded"], record["earns_points"]) == (150, 0, False)
    assert record["activity_id"] is None
    assert await balance(client, community, str(volunteer["id"])) == 0
    [confirmed] = await outbox_events(client, ".points.service.hours_confirmed")
    assert confirmed["payload"]["points_awarded"] == 0
    assert await outbox_events(client, ".points.points.earned") == []
    summary = await client.get(
        f"/v1/volunteers/{volunteer['id']}/service-record", headers=community.as_(Role.COMMUNITY_WORKER)
    )
    assert (summary.json()["total_minutes"], summary.json()["points_from_service"]) == (150, 0)


async def test_late_entry_that_earns_points_follows_its_rule(client, community, enrol) -> None:
    volunteer = await enrol(community)
    headers = {**community.as_(Role.COMMUNITY_WORKER), "Idempotency-Key": "late-1"}
    body = {"volunteer_id": volunteer["id"], "served_on": "2025-12-24", "minutes": 150, "points_per_hour": 8}

    first = await client.post("/v1/service-records", json=body, headers=headers)
    replay = await client.post("/v1/service-records", json=body, headers=headers)

    assert first.status_code == replay.status_code == 201
    assert first.json()["id"] == replay.json()["id"] and first.json()["points_awarded"] == 16
    assert await balance(client, community, str(volunteer["id"])) == 16


async def test_late_entry_rejects_bad_input(client, community, enrol) -> None:
    volunteer = await enrol(community, subject="wang")
    worker = community.as_(Role.COMMUNITY_WORKER)
    good = {"volunteer_id": volunteer["id"], "served_on": "2025-12-24", "minutes": 60}
    future = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()

    for change in ({"minutes": -1}, {"minutes": 0}, {"served_on": future}, {"served_on": "not a day"}):
        bad = await client.post("/v1/service-records", json=good | change, headers=worker)
        assert bad.status_code == 422, (change, bad.text)
    unknown = await client.post("/v1/service-records", json=good | {"volunteer_id": "nope"}, headers=worker)
    assert unknown.status_code == 404
    own = await client.post("/v1/service-records", json=good, headers=community.as_(Role.VOLUNTEER, "wang"))
    assert own.status_code == 403, "volunteers cannot enter their own hours"


# --- the service record ---------------------------------------------------------------------------


async def test_service_record_totals_and_csv_rows(client, community, enrol) -> None:
    volunteer = await enrol(community, subject="wang", full_name="李红亮")
    await enrol(community, subject="li")
    activity = await publish(client, community, title="=磨刀 knife sharpening", points_per_hour=10)
    await signed_up(client, community, activity, volunteer)
    attended = (await attend(client, community, activity, volunteer, 90)).json()
    late = (
        await client.post(
            "/v1/service-records",
            json={
                "volunteer_id": volunteer["id"],
                "served_on": "2025-12-24",
                "minutes": 45,
                "earns_points": False,
            },
            headers=community.as_(Role.COMMUNITY_WORKER),
        )
    ).json()
    path = f"/v1/volunteers/{volunteer['id']}/service-record"

    summary = (await client.get(path, headers=community.as_(Role.VOLUNTEER, "wang"))).json()
    exported = await client.get(f"{path}?format=csv", headers=community.as_(Role.COMMUNITY_WORKER))

    assert (summary["total_minutes"], summary["total_hours"], summary["points_from_service"]) == (
        135,
        2.25,
        10,
    )
    assert summary["activity_count"] == 1 and summary["full_name"] == "李红亮"
    assert [r["record_id"] for r in summary["records"]] == [late["id"], attended["id"]], "oldest first"
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[0] == [
        "volunteer",
        "served_on",
        "activity",
        "kind",
        "minutes",
        "hours",
        "earns_points",
        "points_awarded",
        "record_id",
    ]
    assert rows[1:] == [
        ["李红亮", "2025-12-24", "(entered late)", "", "45", "0.75", "no", "0", late["id"]],
        [
            "李红亮",
            attended["served_on"],
            "'=磨刀 knife sharpening",
            "haircut",
            "90",
            "1.50",
            "yes",
            "10",
            attended["id"],
        ],
    ]
    not_theirs = await client.get(path, headers=community.as_(Role.VOLUNTEER, "li"))
    assert not_theirs.status_code == 403
    assert (
        await client.get("/v1/volunteers/nope/service-record", headers=community.as_(Role.COMMUNITY_WORKER))
    ).status_code == 404
    bad_format = await client.get(f"{path}?format=xlsx", headers=community.as_(Role.COMMUNITY_WORKER))
    assert bad_format.status_code == 422


# --- certificates ---------------------------------------------------------------------------------


async def test_certificate_is_verifiable_by_anyone_without_a_token(client, community, enrol) -> None:
    volunteer = await enrol(community, subject="wang", full_name="李<b>红亮</b>")
    await client.post(
        "/v1/service-records",
        json={"volunteer_id": volunteer["id"], "served_on": "2025-12-24", "minutes": 600},
        headers=community.as_(Role.COMMUNITY_WORKER),
    )

    issued = await client.post(
        f"/v1/volunteers/{volunteer['id']}/certificates", headers=community.as_(Role.VOLUNTEER, "wang")
    )

    assert issued.status_code == 201, issued.text
    certificate = issued.json()
    serial = certificate["serial"]
    assert serial.startswith(f"LL-{community.community.upper()}-") and certificate["total_hours"] == 10
    checked = await client.get(f"/v1/certificates/{serial}")  # no Authorization header at all
    assert checked.status_code == 200
    assert checked.json() == {
        "serial": serial,
        "volunteer_name": "李" + "*" * 9,
        "community": community.community,
        "total_hours": 10.0,
        "issued_at": certificate["issued_at"],
    }
    assert (await client.get(f"/v1/certificates/{serial.lower()}")).status_code == 200
    for wrong in (serial[:-1] + ("A" if serial[-1] != "A" else "B"), "nonsense"):
        missing = await client.get(f"/v1/certificates/{wrong}")
        assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM_JSON
    page = await client.get(f"/v1/certificates/{serial}/print", headers=community.as_(Role.VOLUNTEER, "wang"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "李&lt;b&gt;红亮&lt;/b&gt;" in page.text and "<b>红亮" not in page.text and serial in page.text
    assert (await client.get(f"/v1/certificates/{serial}/print")).status_code == 401


async def test_certificates_get_distinct_serials_and_need_hours(client, community, enrol) -> None:
    volunteer = await enrol(community, subject="wang")
    worker = community.as_(Role.COMMUNITY_WORKER)
    path = f"/v1/volunteers/{volunteer['id']}/certificates"
    none_yet = await client.post(path, headers=worker)
    assert none_yet.status_code == 409 and "还没有服务时长" in none_yet.json()["detail"]
    await client.post(
        "/v1/service-records",
        json={"volunteer_id": volunteer["id"], "served_on": "2025-12-24", "minutes": 60},
        headers=worker,
    )

    serials = {(await client.post(path, headers=worker)).json()["serial"] for _ in range(3)}
    keyed = [
        (await client.post(path, headers={**worker, "Idempotency-Key": "cert-1"})).json() for _ in range(2)
    ]

    assert len(serials) == 3
    assert keyed[0]["serial"] == keyed[1]["serial"] and keyed[0]["serial"] not in serials
    await enrol(community, subject="li")
    assert (await client.post(path, headers=community.as_(Role.VOLUNTEER, "li"))).status_code == 403


# --- points for visits ----------------------------------------------------------------------------


def visit(community, visitor: str, visit_id: str | None = None) -> Envelope:
    return Envelope.wrap(
        VisitLogged(
            visit_id=visit_id or str(uuid.uuid4()),
            resident_id=str(uuid.uuid4()),
            care_group_id=None,
            kind="visit",
            visitor=visitor,
            visited_at=datetime.now(UTC),
        ),
        district=community.district,
        community=community.community,
        occurred_at=datetime.now(UTC),
    )


async def apply_visit(client, envelope: Envelope) -> None:
    async with UnitOfWork(client.app.state.session_factory) as uow:
        await on_visit_logged(uow, envelope.open(VisitLogged), envelope)
        await uow.commit()


async def test_a_logged_visit_earns_the_community_visit_points_once(client, community, enrol) -> None:
    volunteer = await enrol(community, subject="grid-li")
    async with client.app.state.session_factory() as session:
        session.add(
            CommunityRules(district=community.district, community=community.community, visit_points=5)
        )
        await session.commit()
    logged = visit(community, "grid-li")

    await apply_visit(client, logged)
    await apply_visit(client, visit(community, "grid-li", visit_id=logged.open(VisitLogged).visit_id))

    assert await balance(client, community, str(volunteer["id"])) == 5, "one visit earns once"
    [entry] = await earned_entries(client, str(volunteer["id"]))
    assert entry.reference == logged.open(VisitLogged).visit_id
    [earned] = await outbox_events(client, ".points.points.earned")
    assert earned["payload"]["points"] == 5
    await apply_visit(client, visit(community, "grid-li"))
    assert await balance(client, community, str(volunteer["id"])) == 10
    await apply_visit(client, visit(community, "not-a-volunteer"))
    assert len(await outbox_events(client, ".points.points.earned")) == 2


async def test_visits_earn_nothing_where_the_community_set_no_visit_points(client, community, enrol) -> None:
    volunteer = await enrol(community, subject="grid-li")

    await apply_visit(client, visit(community, "grid-li"))
    async with client.app.state.session_factory() as session:
        session.add(
            CommunityRules(district=community.district, community=community.community, visit_points=0)
        )
        await session.commit()
    await apply_visit(client, visit(community, "grid-li"))

    assert await balance(client, community, str(volunteer["id"])) == 0
    assert await outbox_events(client, ".points.points.earned") == []
