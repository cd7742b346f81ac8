"""Health records (who may read them, every read recorded), care groups, visits, overdue alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from linli_registry.models import CareGroup
from linli_registry.usecases import care
from linli_shared.auth import Role
from linli_shared.outbox import OutboxMessage

pytestmark = [pytest.mark.integration]

HEALTH = {
    "address": "2号楼3单元101",
    "children_phones": ["13800000000"],
    "past_illnesses": "高血压, 2019年脑梗",
    "regular_medicines": "氨氯地平 每日一次",
    "notes": "独居, 每日上门",
}


@pytest.fixture
async def elder(client, place, register) -> dict[str, object]:
    resident = await register(place, tags=["living_alone"])
    response = await client.put(
        f"/v1/residents/{resident['id']}/health-record", json=HEALTH, headers=place.as_(Role.COMMUNITY_WORKER)
    )
    assert response.status_code == 200, response.text
    return resident


async def form_group(
    client, place, resident_id: str, grid_worker: str = "grid-worker-1", formed_at: datetime | None = None
) -> dict[str, object]:
    group = {
        "resident_id": resident_id,
        "community_worker": "community-worker-1",
        "grid_worker": grid_worker,
        "neighbour_name": "对门张阿姨",
    }
    if formed_at is not None:
        group["formed_at"] = formed_at.isoformat()
    response = await client.post("/v1/care-groups", json=group, headers=place.as_(Role.COMMUNITY_WORKER))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_community_worker_reads_health_record_and_the_read_is_recorded(client, place, elder) -> None:
    response = await client.get(
        f"/v1/residents/{elder['id']}/health-record", headers=place.as_(Role.COMMUNITY_WORKER, "li-hongliang")
    )
    assert response.status_code == 200
    assert response.json()["regular_medicines"] == HEALTH["regular_medicines"]

    reads = (await client.get("/v1/health-record-reads", headers=place.as_(Role.AUDITOR))).json()["items"]
    assert [(r["resident_id"], r["reader"], r["reader_role"]) for r in reads] == [
        (elder["id"], "li-hongliang", "community_worker")
    ]


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.FUND_OFFICER, Role.AUDITOR, Role.CITY_ADMIN])
async def test_roles_without_need_cannot_read_health_records(client, place, elder, role) -> None:
    response = await client.get(f"/v1/residents/{elder['id']}/health-record", headers=place.as_(role))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


async def test_grid_worker_reads_only_the_elders_of_their_care_groups(client, place, elder) -> None:
    path = f"/v1/residents/{elder['id']}/health-record"
    assert (await client.get(path, headers=place.as_(Role.GRID_WORKER, "grid-worker-1"))).status_code == 403
    await form_group(client, place, str(elder["id"]), grid_worker="grid-worker-1")
    assert (await client.get(path, headers=place.as_(Role.GRID_WORKER, "grid-worker-1"))).status_code == 200
    assert (await client.get(path, headers=place.as_(Role.GRID_WORKER, "grid-worker-2"))).status_code == 403


async def test_refused_read_is_not_recorded_as_a_read(client, place, elder) -> None:
    await client.get(f"/v1/residents/{elder['id']}/health-record", headers=place.as_(Role.VOLUNTEER))
    reads = (await client.get("/v1/health-record-reads", headers=place.as_(Role.AUDITOR))).json()["items"]
    assert reads == []


async def test_health_record_of_another_district_is_not_found(client, new_place, elder, place) -> None:
    other = await new_place()
    response = await client.get(
        f"/v1/residents/{elder['id']}/health-record", headers=other.as_(Role.COMMUNITY_WORKER)
    )
    assert response.status_code == 404


async def test_care_group_formed_event_carries_the_neighbours_phone(client, place, elder) -> None:
    response = await client.post(
        "/v1/care-groups",
        json={
            "resident_id": elder["id"],
            "community_worker": "community-worker-1",
            "grid_worker": "grid-worker-1",
            "neighbour_name": "对门张阿姨",
            "neighbour_phone": "13800138000",
        },
        headers=place.as_(Role.COMMUNITY_WORKER),
    )
    assert response.status_code == 201, response.text

    async with client.app.state.session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    formed = [json.loads(r.envelope)["payload"] for r in rows if r.subject.endswith(".care.group.formed")]
    assert [(e["care_group_id"], e["neighbour_name"], e["neighbour_phone"]) for e in formed] == [
        (response.json()["id"], "对门张阿姨", "13800138000")
    ]


async def test_second_care_group_for_one_elder_conflicts(client, place, elder) -> None:
    await form_group(client, place, str(elder["id"]))
    again = await client.post(
        "/v1/care-groups",
        json={"resident_id": elder["id"], "community_worker": "a", "grid_worker": "b", "neighbour_name": "c"},
        headers=place.as_(Role.COMMUNITY_WORKER),
    )
    assert again.status_code == 409


async def test_visit_is_logged_against_the_care_group(client, place, elder) -> None:
    group = await form_group(client, place, str(elder["id"]))
    response = await client.post(
        "/v1/visits",
        json={"resident_id": elder["id"], "kind": "visit", "findings": "血压正常", "follow_up": "周五送药"},
        headers=place.as_(Role.GRID_WORKER, "grid-worker-1"),
    )
    assert response.status_code == 201, response.text
    visit = response.json()
    assert visit["care_group_id"] == group["id"] and visit["visitor"] == "grid-worker-1"
    listed = (
        await client.get(
            "/v1/visits", params={"resident_id": elder["id"]}, headers=place.as_(Role.COMMUNITY_WORKER)
        )
    ).json()["items"]
    assert [v["id"] for v in listed] == [visit["id"]]


async def overdue_events(client) -> list[dict[str, object]]:
    async with client.app.state.session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    return [json.loads(r.envelope) for r in rows if r.subject.endswith("care.visit.overdue")]


async def test_missed_visit_raises_one_alert_per_missed_period(client, place, elder) -> None:
    group = await form_group(client, place, str(elder["id"]))
    factory = client.app.state.session_factory
    async with factory() as session:
        formed_at = (await session.get(CareGroup, group["id"])).formed_at

    assert await care.check_overdue_visits(factory, formed_at + timedelta(hours=23)) == 0
    assert await care.check_overdue_visits(factory, formed_at + timedelta(hours=25)) == 1
    assert await care.check_overdue_visits(factory, formed_at + timedelta(hours=26)) == 0, "same period"
    assert await care.check_overdue_visits(factory, formed_at + timedelta(hours=49)) == 1, "next period"

    events = await overdue_events(client)
    assert [(e["payload"]["kind"], e["payload"]["due_at"]) for e in events] == [
        ("visit", (formed_at + timedelta(hours=24)).isoformat().replace("+00:00", "Z")),
        ("visit", (formed_at + timedelta(hours=48)).isoformat().replace("+00:00", "Z")),
    ]
    assert events[0]["payload"]["grid_worker"] == "grid-worker-1"


async def test_visit_in_time_prevents_the_alert(client, place, elder) -> None:
    await form_group(client, place, str(elder["id"]))
    response = await client.post(
        "/v1/visits", json={"resident_id": elder["id"]}, headers=place.as_(Role.GRID_WORKER, "grid-worker-1")
    )
    visited_at = datetime.fromisoformat(response.json()["visited_at"])
    factory = client.app.state.session_factory
    assert await care.check_overdue_visits(factory, visited_at + timedelta(hours=23)) == 0
    assert await care.check_overdue_visits(factory, visited_at + timedelta(hours=25)) == 1


async def test_weekly_call_is_overdue_after_seven_days_without_contact(client, place, elder) -> None:
    group = await form_group(client, place, str(elder["id"]))
    factory = client.app.state.session_factory
    async with factory() as session:
        formed_at = (await session.get(CareGroup, group["id"])).formed_at
    # nobody came or called for a week: the visit and the call are each overdue, once
    assert await care.check_overdue_visits(factory, formed_at + timedelta(days=7, minutes=1)) == 2
    kinds = sorted(e["payload"]["kind"] for e in await overdue_events(client))
    assert kinds == ["call", "visit"]


async def test_future_visit_time_is_refused(client, place, elder) -> None:
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    response = await client.post(
        "/v1/visits",
        json={"resident_id": elder["id"], "visited_at": future},
        headers=place.as_(Role.GRID_WORKER, "grid-worker-1"),
    )
    assert response.status_code == 422


async def test_a_group_entered_late_keeps_the_day_it_was_formed_and_is_overdue_from_then(
    client, place, elder
) -> None:
    formed_at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    group = await form_group(client, place, elder["id"], formed_at=formed_at)
    assert datetime.fromisoformat(str(group["formed_at"])) == formed_at
    factory = client.app.state.session_factory
    assert await care.check_overdue_visits(factory, datetime.now(UTC)) == 1
    [event] = await overdue_events(client)
    assert event["payload"]["kind"] == "visit"
    assert event["payload"]["due_at"] == (formed_at + timedelta(hours=48)).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("formed", "problem"),
    [(timedelta(days=32), "成立时间最早只能补记到31天前"), (-timedelta(hours=1), "成立时间不能晚于现在")],
)
async def test_a_group_formed_long_ago_or_in_the_future_is_refused(
    client, place, elder, formed, problem
) -> None:
    response = await client.post(
        "/v1/care-groups",
        json={
            "resident_id": elder["id"],
            "community_worker": "community-worker-1",
            "grid_worker": "grid-worker-1",
            "neighbour_name": "对门张阿姨",
            "formed_at": (datetime.now(UTC) - formed).isoformat(),
        },
        headers=place.as_(Role.COMMUNITY_WORKER),
    )
    assert response.status_code == 422 and problem in response.text


async def outbox_payloads(client, name: str) -> list[dict[str, object]]:
    async with client.app.state.session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    return [json.loads(r.envelope)["payload"] for r in rows if r.subject.endswith(f".{name}")]


async def test_an_urgent_finding_is_announced_once_to_the_care_groups_workers(client, place, elder) -> None:
    group = await form_group(client, place, str(elder["id"]))
    headers = {**place.as_(Role.GRID_WORKER, "grid-worker-1"), "Idempotency-Key": "urgent-visit-1"}
    body = {"resident_id": elder["id"], "findings": "老人摔倒，腿肿了", "urgent": True}
    first = await client.post("/v1/visits", json=body, headers=headers)
    again = await client.post("/v1/visits", json=body, headers=headers)
    assert first.status_code == 201 and again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]

    reported = await outbox_payloads(client, "care.visit.urgent_finding")
    assert reported == [
        {
            "care_group_id": group["id"],
            "resident_id": elder["id"],
            "visit_id": first.json()["id"],
            "visitor": "grid-worker-1",
            "findings": "老人摔倒，腿肿了",
            "grid_worker": "grid-worker-1",
            "community_worker": "community-worker-1",
            "district": place.district,
            "community": place.community,
        }
    ]
    assert len(await outbox_payloads(client, "care.visit.logged")) == 1


async def test_an_ordinary_visit_raises_no_urgent_finding(client, place, elder) -> None:
    await form_group(client, place, str(elder["id"]))
    response = await client.post(
        "/v1/visits",
        json={"resident_id": elder["id"], "findings": "一切正常"},
        headers=place.as_(Role.GRID_WORKER, "grid-worker-1"),
    )
    assert response.status_code == 201, response.text
    assert await outbox_payloads(client, "care.visit.urgent_finding") == []


def stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_the_care_groups_list_carries_the_dues_as_the_overdue_check_counts_them(
    client, place, elder
) -> None:
    formed = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    group = await form_group(client, place, elder["id"], formed_at=formed)
    factory = client.app.state.session_factory
    async with factory() as session:
        formed_at = (await session.get(CareGroup, group["id"])).formed_at
    assert formed_at == formed
    mine = place.as_(Role.GRID_WORKER, "grid-worker-1")

    async def listed() -> dict[str, object]:
        response = await client.get("/v1/care-groups", params={"mine": "true"}, headers=mine)
        assert response.status_code == 200, response.text
        (item,) = response.json()["items"]
        return dict(item)

    fresh = await listed()
    by_elder = await client.get("/v1/care-groups", params={"resident_id": elder["id"]}, headers=mine)
    assert [g["id"] for g in by_elder.json()["items"]] == [fresh["id"]]
    other = await client.get("/v1/care-groups", params={"resident_id": "nobody"}, headers=mine)
    assert other.json()["items"] == []
    assert (fresh["resident_name"], fresh["resident_tags"]) == (elder["full_name"], ["living_alone"])
    assert fresh["resident_age"] == elder["age"]
    assert (fresh["last_visit_at"], fresh["last_call_at"]) == (None, None)
    assert stamp(str(fresh["next_visit_due_at"])) == formed_at + timedelta(hours=24)
    assert stamp(str(fresh["next_call_due_at"])) == formed_at + timedelta(days=7)

    visited_at = formed_at + timedelta(hours=2)
    called_at = formed_at + timedelta(hours=3)
    for kind, at in (("visit", visited_at), ("call", called_at)):
        response = await client.post(
            "/v1/visits",
            json={"resident_id": elder["id"], "kind": kind, "visited_at": at.isoformat()},
            headers=mine,
        )
        assert response.status_code == 201, response.text
    after = await listed()
    assert stamp(str(after["last_visit_at"])) == visited_at
    assert stamp(str(after["last_call_at"])) == called_at
    assert stamp(str(after["next_visit_due_at"])) == visited_at + timedelta(hours=24)
    assert stamp(str(after["next_call_due_at"])) == called_at + timedelta(days=7)
    # the check agrees: nothing is overdue just before the visit falls due, the visit just after
    assert (
        await care.check_overdue_visits(factory, visited_at + timedelta(hours=24) - timedelta(seconds=1)) == 0
    )
    assert await care.check_overdue_visits(factory, visited_at + timedelta(hours=24)) == 1
