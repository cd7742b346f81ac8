"""The points service's own refusals over HTTP: in Chinese by default, in English where
Accept-Language prefers it, and either way nothing is written."""

from __future__ import annotations

import pytest

from linli_shared.auth import Role

from .test_supermarket import balance, stock

pytestmark = [pytest.mark.integration]

ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


async def test_an_unknown_resident_is_refused_in_chinese_unless_english_is_asked(client, community) -> None:
    body = {
        "district": community.district,
        "community": community.community,
        "subject": "wang",
        "full_name": "王秀英",
        "resident_id": "no-such-resident",
    }
    worker = community.as_(Role.COMMUNITY_WORKER)

    chinese = await client.post("/v1/volunteers", json=body, headers=worker)
    english = await client.post("/v1/volunteers", json=body, headers=worker | ENGLISH)

    assert (chinese.status_code, english.status_code) == (422, 422)
    assert chinese.headers["content-type"] == "application/problem+json"
    assert chinese.json()["detail"] == f"{community.community}社区查不到居民 no-such-resident"
    assert english.json()["detail"] == f"resident no-such-resident is not known in {community.community}"
    listed = await client.get("/v1/volunteers", headers=worker)
    assert listed.status_code == 200 and listed.json()["items"] == []


async def test_spending_more_points_than_one_has_is_refused_in_the_callers_language(
    client, community, enrol, credit, stocked_item
) -> None:
    volunteer = await enrol(community, subject="wang")
    await credit(community, volunteer["id"], 20)
    item = await stocked_item(community, price=30, stock=5)
    as_wang = community.as_(Role.VOLUNTEER, "wang")

    chinese = await client.post("/v1/redemptions", json={"item_id": item["id"]}, headers=as_wang)
    english = await client.post("/v1/redemptions", json={"item_id": item["id"]}, headers=as_wang | ENGLISH)

    assert (chinese.status_code, english.status_code) == (409, 409)
    assert chinese.json()["detail"] == "积分不足：需要 30 积分"
    assert english.json()["detail"] == "not enough points: 30 needed"
    assert await balance(client, community, volunteer["id"]) == 20
    assert await stock(client, community, item["id"]) == 5


async def test_a_volunteer_looking_at_anothers_points_is_told_why_in_chinese(
    client, community, enrol
) -> None:
    await enrol(community, subject="wang")
    li = await enrol(community, subject="li")
    as_wang = community.as_(Role.VOLUNTEER, "wang")

    chinese = await client.get(f"/v1/volunteers/{li['id']}", headers=as_wang)
    english = await client.get(f"/v1/volunteers/{li['id']}", headers=as_wang | {"Accept-Language": "en"})
    chinese_first = await client.get(
        f"/v1/volunteers/{li['id']}", headers=as_wang | {"Accept-Language": "zh-CN, en;q=0.8"}
    )

    assert [r.status_code for r in (chinese, english, chinese_first)] == [403, 403, 403]
    assert chinese.json()["detail"] == chinese_first.json()["detail"] == "志愿者只能查看和使用自己的积分"
    assert english.json()["detail"] == "volunteers may see and spend only their own points"


async def test_an_adjustment_of_nothing_is_refused_in_chinese_and_credits_nothing(
    client, community, enrol
) -> None:
    volunteer = await enrol(community)
    body = {"volunteer_id": volunteer["id"], "points": 0, "reason": "试一下"}
    worker = community.as_(Role.COMMUNITY_WORKER)

    chinese = await client.post("/v1/points/adjustments", json=body, headers=worker)
    english = await client.post("/v1/points/adjustments", json=body, headers=worker | ENGLISH)

    assert (chinese.status_code, english.status_code) == (422, 422)
    assert chinese.json()["detail"] == "调整的积分不能为 0"
    assert english.json()["detail"] == "an adjustment of 0 points changes nothing"
    assert await balance(client, community, volunteer["id"]) == 0


async def test_a_withdrawn_offer_names_its_state_in_chinese(client, community, known_resident) -> None:
    body = {
        "district": community.district,
        "community": community.community,
        "resident_id": await known_resident(community),
        "goods": "轮椅一辆",
    }
    worker = community.as_(Role.GRID_WORKER)
    offer = await client.post("/v1/help-offers", json=body, headers=worker)
    assert offer.status_code == 201, offer.text
    path = f"/v1/help-offers/{offer.json()['id']}/withdrawal"
    assert (await client.post(path, headers=worker)).status_code == 200

    chinese = await client.post(path, headers=worker)
    english = await client.post(path, headers=worker | ENGLISH)

    assert (chinese.status_code, english.status_code) == (409, 409)
    assert chinese.json()["detail"] == "这条帮扶供给当前为「已撤回」，不能再撤回"
    assert english.json()["detail"] == "this offer is already withdrawn"
