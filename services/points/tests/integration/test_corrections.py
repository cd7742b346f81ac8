"""Correcting volunteers, teams, activities and items on the version the worker saw, and ending them
(a volunteer leaves, a team dissolves, an activity is called off, an item delisted): announced,
kept in each record's history, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from linli_shared.auth import Role
from linli_shared.errors import PROBLEM_JSON
from linli_shared.outbox import OutboxMessage

pytestmark = [pytest.mark.integration]


async def events(client: Any, name: str) -> list[dict[str, Any]]:
    async with client.app.state.session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    return [json.loads(r.envelope)["payload"] for r in rows if r.subject.endswith(f".{name}")]


def worker(community: Any, subject: str = "worker-wang") -> dict[str, str]:
    return community.as_(Role.COMMUNITY_WORKER, subject)


async def make_team(client: Any, community: Any, name: str = "红色先锋队") -> dict[str, Any]:
    body = {"district": community.district, "community": community.community, "name": name}
    response = await client.post(
        "/v1/teams", json={**body, "kind": "party_building"}, headers=worker(community)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def make_activity(client: Any, community: Any, **overrides: object) -> dict[str, Any]:
    now = datetime.now(UTC)
    body = {
        "district": community.district,
        "community": community.community,
        "title": "理发",
        "kind": "haircut",
        "place": "活动室",
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(hours=3)).isoformat(),
        "capacity": 10,
        **overrides,
    }
    response = await client.post("/v1/activities", json=body, headers=worker(community))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def sign_up(client: Any, community: Any, activity: dict[str, Any], volunteer: dict[str, Any]) -> Any:
    return await client.post(
        f"/v1/activities/{activity['id']}/sign-ups",
        json={"volunteer_id": volunteer["id"]},
        headers=worker(community),
    )


async def read(client: Any, community: Any, path: str) -> dict[str, Any]:
    response = await client.get(path, headers=worker(community))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def history(client: Any, community: Any, path: str) -> list[dict[str, Any]]:
    response = await client.get(f"{path}/history", headers=worker(community))
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_a_volunteer_correction_changes_the_named_fields_and_is_announced_and_kept(
    client, community, enrol
) -> None:
    team = await make_team(client, community)
    volunteer = await enrol(community, full_name="李红良", skills=["理发"])
    path = f"/v1/volunteers/{volunteer['id']}"
    assert volunteer["version"] == 1

    response = await client.patch(
        path,
        json={"full_name": "李红亮", "team_id": team["id"], "reason": "登记时写错"},
        headers={**worker(community), "If-Match": '"1"'},
    )

    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"2"'
    body = response.json()
    assert (body["full_name"], body["team_id"], body["skills"], body["version"]) == (
        "李红亮",
        team["id"],
        ["理发"],
        2,
    )
    [event] = [e for e in await events(client, "volunteer.changed") if e["volunteer_id"] == volunteer["id"]]
    assert (event["full_name"], event["team_id"], event["version"], event["active"]) == (
        "李红亮",
        team["id"],
        2,
        True,
    )
    assert event["changed"] == ["full_name", "team_id"]
    [change] = await history(client, community, path)
    assert change["changes"] == {"full_name": ["李红良", "李红亮"], "team_id": [None, team["id"]]}
    assert (change["version"], change["kind"], change["reason"], change["changed_by"]) == (
        2,
        "corrected",
        "登记时写错",
        "worker-wang",
    )


async def test_a_correction_on_a_version_someone_moved_on_from_changes_nothing_and_says_what_changed(
    client, community, enrol
) -> None:
    volunteer = await enrol(community, full_name="张桂兰")
    path = f"/v1/volunteers/{volunteer['id']}"
    first = await client.patch(path, json={"full_name": "张桂芬", "version": 1}, headers=worker(community))
    assert first.status_code == 200, first.text

    second = await client.patch(path, json={"skills": ["量血压"], "version": 1}, headers=worker(community))

    assert second.status_code == 409, second.text
    assert second.headers["content-type"] == PROBLEM_JSON
    problem = second.json()
    assert "姓名" in problem["detail"] and "第 1 版" in problem["detail"] and "第 2 版" in problem["detail"]
    assert problem["current_version"] == 2
    assert [c["changes"] for c in problem["changes_since"]] == [{"full_name": ["张桂兰", "张桂芬"]}]
    now = await read(client, community, path)
    assert (now["full_name"], now["skills"], now["version"]) == ("张桂芬", [], 2)


async def test_two_activity_corrections_racing_on_one_version_one_wins(client, community) -> None:
    activity = await make_activity(client, community)
    path = f"/v1/activities/{activity['id']}"

    answers = await asyncio.gather(
        client.patch(path, json={"place": "二楼活动室", "version": 1}, headers=worker(community)),
        client.patch(path, json={"place": "三楼会议室", "version": 1}, headers=worker(community)),
    )

    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    winner = next(a for a in answers if a.status_code == 200).json()["place"]
    now = await read(client, community, path)
    assert (now["place"], now["version"]) == (winner, 2)
    assert (
        len([e for e in await events(client, "activity.changed") if e["activity_id"] == activity["id"]]) == 1
    )
    assert [h["version"] for h in await history(client, community, path)] == [2]


async def test_a_correction_needs_the_version_it_was_made_on(client, community, stocked_item) -> None:
    item = await stocked_item(community, price=10, stock=5)
    path = f"/v1/items/{item['id']}"

    missing = await client.patch(path, json={"points_price": 12}, headers=worker(community))
    bad = await client.patch(path, json={"points_price": 12}, headers={**worker(community), "If-Match": "x"})
    in_body = await client.patch(path, json={"points_price": 12, "version": 1}, headers=worker(community))

    assert missing.status_code == 428 and "版本" in missing.json()["detail"]
    assert bad.status_code == 422 and "If-Match" in bad.json()["detail"]
    assert in_body.status_code == 200, in_body.text
    assert (in_body.json()["points_price"], in_body.json()["stock"], in_body.json()["version"]) == (12, 5, 2)
    [event] = [e for e in await events(client, "item.changed") if e["item_id"] == item["id"]]
    assert (event["points_price"], event["changed"], event["active"]) == (12, ["points_price"], True)


async def test_bad_corrections_are_refused_and_change_nothing(client, community, enrol) -> None:
    activity = await make_activity(client, community, capacity=2)
    volunteer, other = await enrol(community), await enrol(community)
    for signing in (volunteer, other):
        assert (await sign_up(client, community, activity, signing)).status_code == 201
    elsewhere = type(community).new()
    foreign_team = await make_team(client, elsewhere)
    starts = datetime.fromisoformat(activity["starts_at"])
    cases: list[tuple[str, dict[str, object], int]] = [
        ("activities", {"title": None, "version": 1}, 422),
        ("activities", {"title": "", "version": 1}, 422),
        ("activities", {"ends_at": (starts - timedelta(hours=1)).isoformat(), "version": 1}, 422),
        ("activities", {"ends_at": (starts + timedelta(hours=25)).isoformat(), "version": 1}, 422),
        ("activities", {"capacity": 0, "version": 1}, 422),
        ("activities", {"rounding": "sideways", "version": 1}, 422),
        ("activities", {"organiser": "someone", "version": 1}, 422),  # not a field a correction changes
        ("volunteers", {"team_id": foreign_team["id"], "version": 1}, 422),
        ("volunteers", {"full_name": None, "version": 1}, 422),
        ("volunteers", {"subject": "someone-else", "version": 1}, 422),
    ]
    for kind, body, status in cases:
        record = activity if kind == "activities" else volunteer
        response = await client.patch(f"/v1/{kind}/{record['id']}", json=body, headers=worker(community))
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"] == PROBLEM_JSON
    below = await client.patch(
        f"/v1/activities/{activity['id']}", json={"capacity": 1, "version": 1}, headers=worker(community)
    )
    assert below.status_code == 409 and "已有 2 人报名" in below.json()["detail"]
    assert (await read(client, community, f"/v1/activities/{activity['id']}"))["version"] == 1
    assert (await read(client, community, f"/v1/volunteers/{volunteer['id']}"))["version"] == 1
    assert await history(client, community, f"/v1/activities/{activity['id']}") == []


async def test_only_organisers_correct_and_only_workers_read_the_history(client, community, enrol) -> None:
    volunteer = await enrol(community, subject="vol-self")
    path = f"/v1/volunteers/{volunteer['id']}"
    for role in (Role.GRID_WORKER, Role.VOLUNTEER, Role.RESIDENT, Role.AUDITOR, Role.FUND_OFFICER):
        headers = community.as_(role, "vol-self")
        patched = await client.patch(path, json={"full_name": "李国强", "version": 1}, headers=headers)
        left = await client.post(f"{path}/cancel", json={}, headers=headers)
        assert (patched.status_code, left.status_code) == (403, 403), role
    for role, status in ((Role.GRID_WORKER, 200), (Role.VOLUNTEER, 403), (Role.AUDITOR, 403)):
        response = await client.get(f"{path}/history", headers=community.as_(role, "vol-self"))
        assert response.status_code == status, (role, response.text)
    outsider = await client.patch(
        path, json={"full_name": "李国强", "version": 1}, headers=worker(type(community).new())
    )
    assert outsider.status_code == 404
    assert (await read(client, community, path))["full_name"] == volunteer["full_name"]


async def test_a_volunteer_who_left_signs_up_redeems_and_earns_nothing_and_keeps_the_balance(
    client, community, enrol, credit, stocked_item
) -> None:
    volunteer = await enrol(community, subject="vol-leaving")
    await credit(community, volunteer["id"], 50)
    activity = await make_activity(client, community)
    assert (await sign_up(client, community, activity, volunteer)).status_code == 201
    item = await stocked_item(community, price=10, stock=5)
    path = f"/v1/volunteers/{volunteer['id']}"
    headers = {**worker(community), "Idempotency-Key": "leave-once"}

    left = await client.post(f"{path}/cancel", json={"reason": "搬去外地"}, headers=headers)
    again = await client.post(f"{path}/cancel", json={"reason": "搬去外地"}, headers=headers)
    without_key = await client.post(f"{path}/cancel", json={}, headers=worker(community))

    assert left.status_code == 200, left.text
    assert (left.json()["active"], left.json()["balance"], left.json()["version"]) == (False, 50, 2)
    assert left.json()["left_at"] is not None
    assert again.status_code == 200 and again.json() == left.json()
    assert without_key.status_code == 409 and "已经离开" in without_key.json()["detail"]
    own = community.as_(Role.VOLUNTEER, "vol-leaving")
    refused = [
        await client.post(f"/v1/activities/{activity['id']}/sign-ups", json={}, headers=own),
        await client.post("/v1/redemptions", json={"item_id": item["id"]}, headers=own),
        await client.post(
            f"/v1/activities/{activity['id']}/attendance",
            json={"volunteer_id": volunteer["id"], "minutes": 60},
            headers=worker(community),
        ),
        await client.post(
            "/v1/points/adjustments",
            json={"volunteer_id": volunteer["id"], "points": 5, "reason": "补记"},
            headers=worker(community),
        ),
    ]
    assert [r.status_code for r in refused] == [409, 409, 409, 409], [r.text for r in refused]
    assert all("已离开" in r.json()["detail"] for r in refused)
    assert (await read(client, community, path))["balance"] == 50
    changed = [e for e in await events(client, "volunteer.changed") if e["volunteer_id"] == volunteer["id"]]
    assert [(e["active"], e["changed"]) for e in changed] == [(False, ["active", "left_at"])]
    [change] = await history(client, community, path)
    assert (change["kind"], change["reason"], change["changes"]["active"]) == (
        "left",
        "搬去外地",
        [True, False],
    )


async def test_a_dissolved_team_frees_its_members_and_is_no_longer_listed(client, community, enrol) -> None:
    team = await make_team(client, community, "便民服务队")
    members = [await enrol(community, team_id=team["id"]) for _ in range(2)]
    path = f"/v1/teams/{team['id']}"
    renamed = await client.patch(
        path, json={"name": "便民志愿服务队"}, headers={**worker(community), "If-Match": '"1"'}
    )
    assert renamed.status_code == 200 and renamed.json()["version"] == 2, renamed.text

    dissolved = await client.post(
        path + "/cancel", json={"reason": "并入其他队伍"}, headers=worker(community)
    )
    again = await client.post(path + "/cancel", json={}, headers=worker(community))
    joining = await enrol_in(client, community, team["id"])

    assert dissolved.status_code == 200, dissolved.text
    assert (dissolved.json()["active"], dissolved.json()["version"]) == (False, 3)
    assert again.status_code == 409
    assert joining.status_code == 422
    for member in members:
        now = await read(client, community, f"/v1/volunteers/{member['id']}")
        assert (now["team_id"], now["version"]) == (None, 2)
        [change] = await history(client, community, f"/v1/volunteers/{member['id']}")
        assert (change["kind"], change["changes"]) == ("team_dissolved", {"team_id": [team["id"], None]})
    listed = await client.get("/v1/teams", headers=worker(community))
    assert team["id"] not in [t["id"] for t in listed.json()]
    freed = [e for e in await events(client, "volunteer.changed") if e["team_id"] is None]
    assert sorted(e["volunteer_id"] for e in freed) == sorted(m["id"] for m in members)
    assert [e["changed"] for e in await events(client, "team.changed") if e["team_id"] == team["id"]] == [
        ["name"],
        ["active"],
    ]
    assert [h["kind"] for h in await history(client, community, path)] == ["corrected", "dissolved"]


async def enrol_in(client: Any, community: Any, team_id: str) -> Any:
    body = {
        "district": community.district,
        "community": community.community,
        "subject": "late-joiner",
        "full_name": "赵六",
        "team_id": team_id,
    }
    return await client.post("/v1/volunteers", json=body, headers=worker(community))


async def test_a_cancelled_activity_frees_its_sign_ups_and_takes_no_hours(client, community, enrol) -> None:
    activity = await make_activity(client, community)
    volunteer = await enrol(community)
    assert (await sign_up(client, community, activity, volunteer)).status_code == 201
    path = f"/v1/activities/{activity['id']}"

    cancelled = await client.post(
        f"{path}/cancel", json={"reason": "下雨"}, headers={**worker(community), "Idempotency-Key": "rain"}
    )
    attendance = await client.post(
        f"{path}/attendance", json={"volunteer_id": volunteer["id"], "minutes": 60}, headers=worker(community)
    )
    corrected = await client.patch(path, json={"title": "改期理发", "version": 2}, headers=worker(community))

    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["signed_up"], cancelled.json()["version"]) == (
        "cancelled",
        0,
        2,
    )
    assert attendance.status_code == 409 and "已取消" in attendance.json()["detail"]
    assert corrected.status_code == 409
    sign_ups = await client.get(f"{path}/sign-ups", headers=worker(community))
    assert [s["status"] for s in sign_ups.json()["items"]] == ["cancelled"]
    [event] = [e for e in await events(client, "activity.cancelled") if e["activity_id"] == activity["id"]]
    assert (event["reason"], event["volunteer_ids"], event["version"]) == ("下雨", [volunteer["id"]], 2)


async def test_an_activity_with_credited_hours_is_not_cancelled_nor_its_rule_changed(
    client, community, enrol
) -> None:
    activity = await make_activity(client, community)
    volunteer = await enrol(community)
    assert (await sign_up(client, community, activity, volunteer)).status_code == 201
    path = f"/v1/activities/{activity['id']}"
    attended = await client.post(
        f"{path}/attendance", json={"volunteer_id": volunteer["id"], "minutes": 60}, headers=worker(community)
    )
    assert attended.status_code == 201, attended.text

    cancelled = await client.post(f"{path}/cancel", json={}, headers=worker(community))
    rule = await client.patch(path, json={"points_per_hour": 20, "version": 1}, headers=worker(community))
    title = await client.patch(path, json={"title": "为老人理发", "version": 1}, headers=worker(community))

    assert cancelled.status_code == 409 and "不能取消" in cancelled.json()["detail"]
    assert rule.status_code == 409 and "积分规则" in rule.json()["detail"]
    assert title.status_code == 200, title.text
    now = await read(client, community, path)
    assert (now["status"], now["points_per_hour"], now["title"], now["signed_up"]) == (
        "published",
        10,
        "为老人理发",
        1,
    )


async def test_a_delisted_item_is_neither_listed_nor_redeemed(
    client, community, enrol, credit, stocked_item
) -> None:
    item = await stocked_item(community, price=10, stock=5)
    volunteer = await enrol(community, subject="vol-shopper")
    await credit(community, volunteer["id"], 50)
    path = f"/v1/items/{item['id']}"

    delisted = await client.post(
        f"{path}/cancel", json={"reason": "过期", "version": 1}, headers=worker(community)
    )
    stale = await client.post(f"{path}/cancel", json={"version": 1}, headers=worker(community))
    redeemed = await client.post(
        "/v1/redemptions", json={"item_id": item["id"]}, headers=community.as_(Role.VOLUNTEER, "vol-shopper")
    )

    assert delisted.status_code == 200, delisted.text
    assert (delisted.json()["active"], delisted.json()["version"]) == (False, 2)
    assert stale.status_code == 409
    assert redeemed.status_code == 409
    listed = await client.get("/v1/items", headers=worker(community))
    assert item["id"] not in [i["id"] for i in listed.json()["items"]]
    [event] = [e for e in await events(client, "item.changed") if e["item_id"] == item["id"]]
    assert (event["active"], event["changed"], event["version"]) == (False, ["active"], 2)
    assert [(h["kind"], h["reason"]) for h in await history(client, community, path)] == [
        ("delisted", "过期")
    ]
