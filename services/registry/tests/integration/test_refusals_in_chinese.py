"""The registry's own refusals reach a person in Chinese, and in English when Accept-Language
prefers it; either way nothing changes. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from linli_shared.auth import Role

pytestmark = [pytest.mark.integration]

PROBLEM = "application/problem+json"
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


async def both_languages(send) -> tuple[dict[str, object], dict[str, object]]:
    """The same refused request twice: as sent (Chinese by default), and asking for English."""
    chinese, english = await send({}), await send(ENGLISH)
    assert chinese.status_code == english.status_code, (chinese.text, english.text)
    assert chinese.headers["content-type"] == english.headers["content-type"] == PROBLEM
    return chinese.json(), english.json()


async def test_wrong_id_check_character_is_refused_in_chinese(client, place) -> None:
    body = {
        "district": place.district,
        "community": place.community,
        "full_name": "王秀英",
        "gender": "female",
        "id_number": "110105194912310021",  # the check character of 11010519491231002 is X
    }

    async def send(extra: dict[str, str]):
        headers = {**place.as_(Role.COMMUNITY_WORKER), **extra}
        return await client.post("/v1/residents", json=body, headers=headers)

    chinese, english = await both_languages(send)
    assert chinese["status"] == 422
    assert chinese["detail"] == "身份证号校验位不对，请核对号码"
    assert english["detail"] == "id_number check character does not match"
    listing = await client.get("/v1/residents", headers=place.as_(Role.COMMUNITY_WORKER))
    assert listing.json()["items"] == []


async def test_unknown_grid_is_named_with_its_code(client, place, id_number) -> None:
    async def send(extra: dict[str, str]):
        body = {
            "district": place.district,
            "community": place.community,
            "grid_code": "zone-9",
            "full_name": "李国昌",
            "gender": "male",
            "id_number": id_number(),
        }
        return await client.post(
            "/v1/residents", json=body, headers={**place.as_(Role.COMMUNITY_WORKER), **extra}
        )

    chinese, english = await both_languages(send)
    assert chinese["status"] == 422
    assert chinese["detail"] == f"社区 {place.community} 没有网格 zone-9"
    assert english["detail"] == f"grid zone-9 does not exist in {place.community}"


async def test_departed_resident_cannot_move_out_again(client, place, register) -> None:
    resident = await register(place)
    worker = place.as_(Role.COMMUNITY_WORKER)
    moved = await client.post(
        f"/v1/residents/{resident['id']}/move-out", json={"on": "2024-05-01"}, headers=worker
    )
    assert moved.status_code == 200, moved.text

    async def send(extra: dict[str, str]):
        path = f"/v1/residents/{resident['id']}/death"
        return await client.post(path, json={"on": "2024-06-01"}, headers={**worker, **extra})

    chinese, english = await both_languages(send)
    assert chinese["status"] == 409
    assert chinese["detail"] == "这位居民已迁出，不能再做这项操作"
    assert english["detail"] == "resident is already moved_out"
    after = await client.get(f"/v1/residents/{resident['id']}", headers=worker)
    assert after.json()["status"] == "moved_out"


async def test_second_care_group_for_one_elder_is_refused(client, place, register) -> None:
    elder = await register(place, tags=["living_alone"])
    worker = place.as_(Role.COMMUNITY_WORKER)
    group = {
        "resident_id": elder["id"],
        "community_worker": "community-worker-1",
        "grid_worker": "grid-worker-1",
        "neighbour_name": "对门张阿姨",
    }
    first = await client.post("/v1/care-groups", json=group, headers=worker)
    assert first.status_code == 201, first.text

    async def send(extra: dict[str, str]):
        return await client.post("/v1/care-groups", json=group, headers={**worker, **extra})

    chinese, english = await both_languages(send)
    assert chinese["status"] == 409
    assert chinese["detail"] == "这位老人已有关爱小组"
    assert english["detail"] == "this resident already has a care group"
    groups = await client.get("/v1/care-groups", headers=worker)
    assert [g["id"] for g in groups.json()["items"]] == [first.json()["id"]]


async def test_missing_and_out_of_scope_residents_are_refused_alike(client, new_place, register) -> None:
    home, elsewhere = await new_place(), await new_place()
    theirs = await register(elsewhere)
    worker = home.as_(Role.COMMUNITY_WORKER)
    answers = {}
    for resident_id in (str(uuid.uuid4()), theirs["id"]):  # the locked load, then the scope check

        async def send(extra: dict[str, str], resident_id: str = resident_id):
            path = f"/v1/residents/{resident_id}/tags"
            return await client.put(path, json={"tags": ["lonely"]}, headers={**worker, **extra})

        answers[resident_id] = await both_languages(send)
    missing, out_of_scope = answers.values()
    assert missing == out_of_scope
    chinese, english = missing
    assert chinese["status"] == 404
    assert chinese["detail"] == "没有找到这个居民"
    assert english["detail"] == "resident not found"
    theirs_now = await client.get(
        f"/v1/residents/{theirs['id']}", headers=elsewhere.as_(Role.COMMUNITY_WORKER)
    )
    assert theirs_now.json()["tags"] == []
