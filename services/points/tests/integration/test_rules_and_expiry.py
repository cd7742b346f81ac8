"""A community's rules, and points that expire oldest-first by its limit, once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from linli_points.usecases import expiry
from linli_shared.auth import Role
from linli_shared.clock import utc_now

pytestmark = [pytest.mark.integration]


def rules_path(community) -> str:  # noqa: ANN001
    return f"/v1/communities/{community.district}/{community.community}/rules"


async def balance(client, community, volunteer_id: str) -> int:
    response = await client.get(
        f"/v1/volunteers/{volunteer_id}", headers=community.as_(Role.COMMUNITY_WORKER)
    )
    return int(response.json()["balance"])


async def test_rules_default_until_a_worker_sets_them(client, community) -> None:
    worker = community.as_(Role.COMMUNITY_WORKER)
    assert (await client.get(rules_path(community), headers=worker)).json()["wish_claim_days"] == 14
    body = {"wish_claim_days": 7, "visit_points": 2, "points_expire_after_days": 365}
    assert (await client.put(rules_path(community), json=body, headers=worker)).status_code == 200
    stored = (await client.get(rules_path(community), headers=worker)).json()
    assert {key: stored[key] for key in body} == body
    volunteer = await client.put(rules_path(community), json=body, headers=community.as_(Role.VOLUNTEER, "v"))
    assert volunteer.status_code == 403
    too_short = await client.put(rules_path(community), json={"points_expire_after_days": 1}, headers=worker)
    assert too_short.status_code == 422


async def test_points_older_than_the_limit_expire_oldest_first_and_only_once(
    client, community, enrol, credit, stocked_item
) -> None:
    worker = community.as_(Role.COMMUNITY_WORKER)
    await client.put(rules_path(community), json={"points_expire_after_days": 365}, headers=worker)
    volunteer = await enrol(community, subject="wang")
    await credit(community, volunteer["id"], 100)  # earned now
    item = await stocked_item(community, price=30, stock=5)
    spent = await client.post(
        "/v1/redemptions", json={"item_id": item["id"]}, headers=community.as_(Role.VOLUNTEER, "wang")
    )
    assert spent.status_code == 201
    factory = client.app.state.session_factory

    assert await expiry.expire_points(factory, utc_now()) == 0, "nothing is a year old yet"
    a_year_on = utc_now() + timedelta(days=366)
    assert await expiry.expire_points(factory, a_year_on) == 70, "the 30 spent came from the oldest points"
    assert await expiry.expire_points(factory, a_year_on) == 0, "a second run finds nothing left"
    assert await balance(client, community, volunteer["id"]) == 0

    ledger = (await client.get(f"/v1/volunteers/{volunteer['id']}/ledger", headers=worker)).json()["items"]
    assert [(e["kind"], e["points"]) for e in ledger][-1] == ("expired", -70)


async def test_points_never_expire_without_a_limit(client, community, enrol, credit) -> None:
    volunteer = await enrol(community)
    await credit(community, volunteer["id"], 40)
    assert await expiry.expire_points(client.app.state.session_factory, utc_now() + timedelta(days=3650)) == 0
    assert await balance(client, community, volunteer["id"]) == 40
