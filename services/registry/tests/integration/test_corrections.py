"""Correcting a resident's record: on the version the worker saw, announced, kept in its history."""

from __future__ import annotations

import asyncio
import json
from datetime import date

import pytest
from sqlmodel import col, select

from linli_registry.usecases.statistics import statistics, statistics_by_scan
from linli_shared.auth import Caller, Role
from linli_shared.outbox import OutboxMessage

from ..conftest import make_id_number

pytestmark = [pytest.mark.integration]

PROBLEM = "application/problem+json"


async def events_about(client, resident_id: object, name: str) -> list[dict[str, object]]:
    async with client.app.state.session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    envelopes = [json.loads(r.envelope) for r in rows if r.subject.endswith(f".{name}")]
    return [e["payload"] for e in envelopes if e["payload"]["resident_id"] == resident_id]


async def add_grid(client, place, code: str) -> None:
    body = {"district": place.district, "community": place.community, "code": code, "name": "二片区"}
    response = await client.post("/v1/grids", json=body, headers=place.as_(Role.CITY_ADMIN))
    assert response.status_code == 201, response.text


async def read(client, place, resident_id: object) -> tuple[dict[str, object], str]:
    response = await client.get(f"/v1/residents/{resident_id}", headers=place.as_(Role.COMMUNITY_WORKER))
    assert response.status_code == 200, response.text
    return response.json(), response.headers["ETag"]


async def correct(client, place, resident_id: object, body: dict[str, object], if_match: str | None = None):
    headers = place.as_(Role.COMMUNITY_WORKER, "worker-wang")
    if if_match is not None:
        headers["If-Match"] = if_match
    return await client.patch(f"/v1/residents/{resident_id}", json=body, headers=headers)


async def test_a_correction_changes_the_named_fields_and_is_announced_and_kept(
    client, place, register
) -> None:
    resident = await register(place, full_name="李国常", phone="13800138000")
    await add_grid(client, place, "zone-2")
    _, tag = await read(client, place, resident["id"])
    assert tag == '"1"'

    response = await correct(
        client,
        place,
        resident["id"],
        {"full_name": "李国昌", "grid_code": "zone-2", "reason": "登记时写错"},
        tag,
    )

    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"2"'
    corrected = response.json()
    assert (corrected["full_name"], corrected["grid_code"], corrected["phone"]) == (
        "李国昌",
        "zone-2",
        "13800138000",
    )
    assert corrected["version"] == 2
    [event] = await events_about(client, resident["id"], "resident.corrected")
    assert (event["full_name"], event["grid_code"], event["version"]) == ("李国昌", "zone-2", 2)
    assert event["changed"] == ["full_name", "grid_code"]
    contacts = await events_about(client, resident["id"], "resident.contact_changed")
    assert [c["full_name"] for c in contacts] == ["李国常", "李国昌"]  # notify learns the new name
    history = await client.get(
        f"/v1/residents/{resident['id']}/history", headers=place.as_(Role.COMMUNITY_WORKER)
    )
    assert history.status_code == 200, history.text
    [change] = history.json()
    assert change["changes"] == {"full_name": ["李国常", "李国昌"], "grid_code": [place.grid, "zone-2"]}
    assert (change["version"], change["kind"], change["reason"], change["changed_by"]) == (
        2,
        "corrected",
        "登记时写错",
        "worker-wang",
    )


async def test_a_correction_on_a_version_someone_moved_on_from_changes_nothing_and_says_what_changed(
    client, place, register
) -> None:
    resident = await register(place, full_name="张桂兰")
    await add_grid(client, place, "zone-2")
    _, seen = await read(client, place, resident["id"])  # both workers open the record
    first = await correct(client, place, resident["id"], {"full_name": "张桂芬"}, seen)
    assert first.status_code == 200, first.text

    second = await correct(client, place, resident["id"], {"grid_code": "zone-2"}, seen)

    assert second.status_code == 409, second.text
    assert second.headers["content-type"] == PROBLEM
    problem = second.json()
    assert "姓名" in problem["detail"] and "第 1 版" in problem["detail"] and "第 2 版" in problem["detail"]
    assert problem["current_version"] == 2
    assert [c["changes"] for c in problem["changes_since"]] == [{"full_name": ["张桂兰", "张桂芬"]}]
    now, tag = await read(client, place, resident["id"])
    assert (now["full_name"], now["grid_code"], tag) == ("张桂芬", place.grid, '"2"')
    assert len(await events_about(client, resident["id"], "resident.corrected")) == 1


async def test_two_corrections_racing_on_one_version_one_wins(client, place, register) -> None:
    resident = await register(place, full_name="赵淑珍")
    _, seen = await read(client, place, resident["id"])

    answers = await asyncio.gather(
        correct(client, place, resident["id"], {"full_name": "赵淑贞"}, seen),
        correct(client, place, resident["id"], {"full_name": "赵树珍"}, seen),
    )

    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    winner = next(a for a in answers if a.status_code == 200).json()["full_name"]
    now, tag = await read(client, place, resident["id"])
    assert (now["full_name"], tag) == (winner, '"2"')
    assert len(await events_about(client, resident["id"], "resident.corrected")) == 1


async def test_a_correction_needs_the_version_it_was_made_on(client, place, register) -> None:
    resident = await register(place)

    missing = await correct(client, place, resident["id"], {"full_name": "李国强"})
    in_body = await correct(client, place, resident["id"], {"full_name": "李国强", "version": 1})
    bad = await correct(client, place, resident["id"], {"full_name": "李国华"}, "latest")

    assert missing.status_code == 428 and "版本" in missing.json()["detail"]
    assert in_body.status_code == 200, in_body.text
    assert bad.status_code == 422 and "If-Match" in bad.json()["detail"]


async def test_an_id_number_correction_moves_the_birth_date_and_refuses_a_duplicate(
    client, place, register
) -> None:
    other = await register(place)
    resident = await register(place, id_number=make_id_number(date(1948, 5, 2)))
    right = make_id_number(date(1949, 5, 2))

    fixed = await correct(client, place, resident["id"], {"id_number": right, "version": 1})
    duplicate = await correct(client, place, resident["id"], {"id_number": other_number(other), "version": 2})

    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["birth_date"] == "1949-05-02"
    assert fixed.json()["id_number_masked"].endswith(right[-4:])
    assert '"id_number"' not in fixed.text and right not in fixed.text
    assert duplicate.status_code == 409, duplicate.text
    now, tag = await read(client, place, resident["id"])
    assert (now["birth_date"], tag) == ("1949-05-02", '"2"')


def other_number(resident: dict[str, object]) -> str:
    return OTHER_NUMBERS[resident["id"]]  # type: ignore[index]


OTHER_NUMBERS: dict[object, str] = {}


@pytest.fixture
def register(register):  # type: ignore[no-untyped-def]
    """Registration that remembers each resident's ID number, to try it again as a duplicate."""

    async def remembering(place, **overrides):  # type: ignore[no-untyped-def]
        number = overrides.pop("id_number", None) or make_id_number()
        resident = await register(place, id_number=number, **overrides)
        OTHER_NUMBERS[resident["id"]] = number
        return resident

    return remembering


async def test_bad_corrections_are_refused_and_change_nothing(client, place, register) -> None:
    resident = await register(place, full_name="孙玉兰")
    cases = [
        ({"full_name": None, "version": 1}, 422),
        ({"full_name": "", "version": 1}, 422),
        ({"gender": "unknown", "version": 1}, 422),
        ({"grid_code": "no-such-grid", "version": 1}, 422),
        ({"household_id": "no-such-household", "version": 1}, 422),
        ({"id_number": "110105194805020001", "version": 1}, 422),  # bad check character
        ({"birth_date": "2999-01-01", "version": 1}, 422),
        ({"district": "elsewhere", "version": 1}, 422),  # not a field a correction changes
    ]
    for body, status in cases:
        response = await correct(client, place, resident["id"], body)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"] == PROBLEM
    now, tag = await read(client, place, resident["id"])
    assert (now["full_name"], tag) == ("孙玉兰", '"1"')


async def test_only_registry_workers_correct_and_read_the_history(client, place, register) -> None:
    resident = await register(place)
    for role in (Role.FUND_OFFICER, Role.VOLUNTEER, Role.RESIDENT):
        headers = place.as_(role)
        patched = await client.patch(
            f"/v1/residents/{resident['id']}", json={"full_name": "李国强", "version": 1}, headers=headers
        )
        history = await client.get(f"/v1/residents/{resident['id']}/history", headers=headers)
        assert (patched.status_code, history.status_code) == (403, 403), role
    elsewhere = place.as_(Role.COMMUNITY_WORKER)
    elsewhere_place = type(place)(place.district, "another-community", place.grid)
    outsider = await client.patch(
        f"/v1/residents/{resident['id']}",
        json={"full_name": "李国强", "version": 1},
        headers=elsewhere_place.as_(Role.COMMUNITY_WORKER),
    )
    assert outsider.status_code == 404
    assert (await read(client, place, resident["id"]))[0]["full_name"] == resident["full_name"]
    assert elsewhere  # the community's own worker is the one who may


async def test_every_change_raises_the_version_and_is_kept(client, place, register) -> None:
    resident = await register(place, tags=["living_alone"])
    worker = place.as_(Role.COMMUNITY_WORKER)
    path = f"/v1/residents/{resident['id']}"

    assert (await client.put(f"{path}/tags", json={"tags": ["dibao"]}, headers=worker)).status_code == 200
    contact = {"phone": "13900139000"}
    assert (await client.put(f"{path}/contact", json=contact, headers=worker)).status_code == 200
    moved = await client.post(f"{path}/move-out", json={"on": date.today().isoformat()}, headers=worker)
    assert moved.status_code == 200

    history = (await client.get(f"{path}/history", headers=worker)).json()
    assert [(c["version"], c["kind"]) for c in history] == [(2, "tags"), (3, "contact"), (4, "moved_out")]
    assert history[0]["changes"] == {"tags": [["living_alone"], ["dibao"]]}
    assert history[1]["changes"] == {"phone": [None, "13900139000"]}
    assert (await read(client, place, resident["id"]))[1] == '"4"'


async def test_the_statistics_follow_a_corrected_grid_and_birth_date(client, place, register) -> None:
    resident = await register(place, tags=["living_alone"], id_number=make_id_number(date(1950, 1, 1)))
    await add_grid(client, place, "zone-2")

    response = await correct(
        client, place, resident["id"], {"grid_code": "zone-2", "birth_date": "1940-01-01", "version": 1}
    )

    assert response.status_code == 200, response.text
    caller = Caller(
        subject="w", role=Role.COMMUNITY_WORKER, district=place.district, community=place.community
    )
    async with client.app.state.session_factory() as session:
        arguments = {"by_grid": True, "district": None, "today": date.today()}
        rolled = await statistics(session, caller, **arguments)  # type: ignore[arg-type]
        scanned = await statistics_by_scan(session, caller, **arguments)  # type: ignore[arg-type]
    assert rolled == scanned
    assert "zone-2" in json.dumps(rolled, default=str)


async def make_household(client, place) -> dict[str, object]:
    body = {
        "district": place.district,
        "community": place.community,
        "grid_code": place.grid,
        "address": "3号楼2单元",
    }
    response = await client.post("/v1/households", json=body, headers=place.as_(Role.COMMUNITY_WORKER))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_households_head_and_address_are_corrected_on_its_version(client, place, register) -> None:
    household = await make_household(client, place)
    member = await register(place, household_id=household["id"])
    stranger = await register(place)
    worker = place.as_(Role.COMMUNITY_WORKER)
    path = f"/v1/households/{household['id']}"

    not_a_member = await client.patch(
        path, json={"head_resident_id": stranger["id"], "version": 1}, headers=worker
    )
    head = await client.patch(
        path,
        json={"head_resident_id": member["id"], "address": "3号楼2单元101"},
        headers={**worker, "If-Match": '"1"'},
    )
    stale = await client.patch(path, json={"address": "4号楼", "version": 1}, headers=worker)

    assert not_a_member.status_code == 422 and "户主" in not_a_member.json()["detail"]
    assert head.status_code == 200, head.text
    assert (head.json()["head_resident_id"], head.json()["version"], head.headers["ETag"]) == (
        member["id"],
        2,
        '"2"',
    )
    assert stale.status_code == 409 and "住址" in stale.json()["detail"] and "户主" in stale.json()["detail"]
    history = (await client.get(f"{path}/history", headers=worker)).json()
    assert [h["changes"] for h in history] == [
        {"address": ["3号楼2单元", "3号楼2单元101"], "head_resident_id": [None, member["id"]]}
    ]
    read = await client.get(path, headers=worker)
    assert read.status_code == 200 and read.headers["ETag"] == '"2"'
    assert [m["id"] for m in read.json()["members"]] == [member["id"]]
    assert (await client.get(path, headers=place.as_(Role.FUND_OFFICER))).status_code == 403


async def test_a_care_groups_new_neighbour_is_announced_whole(client, place, register) -> None:
    elder = await register(place, full_name="周老太")
    worker = place.as_(Role.COMMUNITY_WORKER)
    formed = await client.post(
        "/v1/care-groups",
        json={
            "resident_id": elder["id"],
            "community_worker": "community-worker-1",
            "grid_worker": "grid-worker-1",
            "neighbour_name": "对门张阿姨",
            "neighbour_phone": "13800000003",
        },
        headers=worker,
    )
    assert formed.status_code == 201, formed.text
    group = formed.json()
    body = {
        "neighbour_name": "楼下王阿姨",
        "neighbour_phone": "13900000004",
        "version": 1,
        "reason": "张阿姨搬走了",
    }

    changed = await client.patch(f"/v1/care-groups/{group['id']}", json=body, headers=worker)
    cleared = await client.patch(
        f"/v1/care-groups/{group['id']}", json={"neighbour_name": None, "version": 2}, headers=worker
    )

    assert changed.status_code == 200, changed.text
    assert (changed.json()["neighbour_name"], changed.json()["version"]) == ("楼下王阿姨", 2)
    assert cleared.status_code == 422 and "neighbour_name" in cleared.json()["detail"]
    assert "不能清空" in cleared.json()["detail"], "the validator's own rule, told in Chinese too"
    async with client.app.state.session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    events = [json.loads(r.envelope)["payload"] for r in rows if r.subject.endswith(".care.group.changed")]
    [event] = [e for e in events if e["care_group_id"] == group["id"]]
    assert (event["neighbour_name"], event["neighbour_phone"], event["grid_worker"], event["version"]) == (
        "楼下王阿姨",
        "13900000004",
        "grid-worker-1",
        2,
    )
    assert event["changed"] == ["neighbour_name", "neighbour_phone"]
    moved = await client.post(
        f"/v1/residents/{elder['id']}/move-out", json={"on": date.today().isoformat()}, headers=worker
    )
    assert moved.status_code == 200
    ended = await client.patch(
        f"/v1/care-groups/{group['id']}", json={"grid_worker": "x", "version": 2}, headers=worker
    )
    assert ended.status_code == 422 and "结束" in ended.json()["detail"]
