"""A gift takes the day it came in (cash counted yesterday is booked then); closed periods stay closed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from linli_shared.auth import Role
from linli_shared.clock import utc_now

pytestmark = [pytest.mark.integration]


def china_today():
    return (utc_now() + timedelta(hours=8)).date()


def gift(community, **extra: object) -> dict[str, object]:
    return {
        "district": community.district,
        "community": community.community,
        "donor_kind": "outsider",
        "donor_name": "王建国",
        "channel": "cash",
        "amount_fen": 5_000,
        **extra,
    }


async def trial_funds(client, community, as_of) -> dict[str, int]:
    response = await client.get(
        f"{community.fund_path}/trial-balance",
        params={"as_of": str(as_of)},
        headers=community.as_(Role.AUDITOR),
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["funds"])


async def test_a_gift_received_yesterday_is_booked_yesterday(client, community, donate) -> None:
    yesterday = china_today() - timedelta(days=1)
    donation = await donate(community, 5_000, received_on=str(yesterday))

    assert donation["received_at"] < utc_now().isoformat()
    assert (await trial_funds(client, community, yesterday))["general"] == 5_000
    assert (await trial_funds(client, community, yesterday - timedelta(days=1)))["general"] == 0
    disclosed = await client.get(
        f"{community.fund_path}/disclosure",
        params={"first_day": str(yesterday), "last_day": str(yesterday)},
        headers=community.as_(Role.AUDITOR),
    )
    assert [d["received_on"] for d in disclosed.json()["donations"]] == [str(yesterday)]
    assert disclosed.json()["received_fen"] == 5_000


async def test_a_gift_received_today_needs_no_day(client, community, donate) -> None:
    donation = await donate(community, 5_000, received_on=str(china_today()))
    assert (await trial_funds(client, community, china_today()))["general"] == 5_000
    assert donation["receipt_number"].endswith("-000001")


async def test_a_gift_cannot_be_received_after_today(client, community) -> None:
    tomorrow = china_today() + timedelta(days=1)
    response = await client.post(
        "/v1/donations",
        json=gift(community, received_on=str(tomorrow)),
        headers=community.as_(Role.COMMUNITY_WORKER),
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == f"收款日期不能晚于今天（{china_today()}，北京时间）"


async def test_a_gift_cannot_be_booked_further_back_than_the_setting_allows(client, community) -> None:
    limit = client.app.state.settings.donation_backdate_days
    worker = community.as_(Role.COMMUNITY_WORKER)
    oldest = china_today() - timedelta(days=limit)
    too_old = await client.post(
        "/v1/donations", json=gift(community, received_on=str(oldest - timedelta(days=1))), headers=worker
    )
    assert too_old.status_code == 422, too_old.text
    assert f"最多只能补记 {limit} 天内" in too_old.json()["detail"]
    assert (
        await client.post("/v1/donations", json=gift(community, received_on=str(oldest)), headers=worker)
    ).status_code == 201


async def test_a_gift_cannot_enter_a_published_period(client, community, donate) -> None:
    today = china_today()
    yesterday, before = today - timedelta(days=1), today - timedelta(days=2)
    await donate(community, 5_000, received_on=str(before))
    published = await client.post(
        f"{community.fund_path}/disclosures",
        json={"first_day": str(before), "last_day": str(yesterday)},
        headers=community.as_(Role.FUND_OFFICER, "officer-p"),
    )
    assert published.status_code == 201, published.text
    worker = community.as_(Role.COMMUNITY_WORKER)

    for day in (yesterday, before, before - timedelta(days=1)):
        refused = await client.post(
            "/v1/donations", json=gift(community, received_on=str(day)), headers=worker
        )
        assert refused.status_code == 409, refused.text
        assert f"{yesterday} 及以前的账目已公示" in refused.json()["detail"]
    assert (
        await client.post("/v1/donations", json=gift(community, received_on=str(today)), headers=worker)
    ).status_code == 201
    report = await client.get(
        f"/v1/public/funds/{community.district}/{community.community}/disclosures/1.json"
    )
    assert report.json()["report"]["income"]["total_fen"] == 5_000, "the frozen period says what it said"


async def test_a_gift_counts_toward_the_drive_that_ran_on_the_day_it_came_in(client, community) -> None:
    today = china_today()
    yesterday = today - timedelta(days=1)
    worker = community.as_(Role.COMMUNITY_WORKER)
    drive = await client.post(
        "/v1/campaigns",
        json={
            "district": community.district,
            "community": community.community,
            "name": "上周募捐",
            "starts_on": str(yesterday - timedelta(days=6)),
            "ends_on": str(yesterday),
            "target_fen": 100_000,
        },
        headers=worker,
    )
    assert drive.status_code == 201, drive.text
    late = await client.post(
        "/v1/donations", json=gift(community, campaign_id=drive.json()["id"]), headers=worker
    )
    assert late.status_code == 422, late.text
    counted = await client.post(
        "/v1/donations",
        json=gift(community, campaign_id=drive.json()["id"], received_on=str(yesterday)),
        headers=worker,
    )
    assert counted.status_code == 201, counted.text
