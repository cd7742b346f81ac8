"""Donations over HTTP, on SQLite and PostgreSQL: receipts, the ledger, idempotency, scope, bad input."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlmodel import col, select

from linli_shared.auth import Role
from linli_shared.outbox import OutboxMessage

pytestmark = [pytest.mark.integration]


async def outbox_events(client, suffix: str) -> list[dict[str, object]]:
    async with client.app.state.session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    return [json.loads(r.envelope) for r in rows if r.subject.endswith(suffix)]


async def fund(client, community) -> dict[str, dict[str, int]]:
    response = await client.get(community.fund_path, headers=community.as_(Role.COMMUNITY_WORKER))
    assert response.status_code == 200, response.text
    body = response.json()
    return {line["fund"]: line for line in body["funds"] + body["assets"]}


async def test_donation_is_receipted_posted_and_announced(client, community, donate) -> None:
    donation = await donate(community, 30_000, restricted_to="education", anonymous=True)

    assert donation["receipt_number"].endswith("-000001") and donation["fund"] == "education"
    balances = await fund(client, community)
    assert balances["education"]["available_fen"] == 30_000 and balances["general"]["balance_fen"] == 0
    assert balances["assets:bank"]["balance_fen"] == 30_000
    trial = (
        await client.get(f"{community.fund_path}/trial-balance", headers=community.as_(Role.AUDITOR))
    ).json()
    assert trial["total_debit"] == trial["total_credit"] == 30_000
    assert trial["funds"]["education"] == 30_000
    [event] = await outbox_events(client, ".fund.donation.received")
    assert event["payload"]["donor_display"] == "匿名" and event["payload"]["amount_fen"] == 30_000


async def test_concurrent_donations_get_gapless_unique_receipt_numbers(client, community, donate) -> None:
    donations = await asyncio.gather(*(donate(community, 100 + i) for i in range(20)))
    sequences = sorted(int(d["receipt_number"].split("-")[1]) for d in donations)
    assert sequences == list(range(1, 21))
    assert (await fund(client, community))["general"]["balance_fen"] == sum(100 + i for i in range(20))


async def test_same_idempotency_key_records_one_donation_and_answers_the_same(client, community) -> None:
    body = {
        "district": community.district,
        "community": community.community,
        "donor_kind": "enterprise",
        "donor_name": "爱心企业",
        "channel": "cash",
        "amount_fen": 50_000,
    }
    headers = {**community.as_(Role.COMMUNITY_WORKER), "Idempotency-Key": "drive-2026q1-7"}

    answers = await asyncio.gather(
        *(client.post("/v1/donations", json=body, headers=headers) for _ in range(5))
    )

    assert {a.status_code for a in answers} == {201}
    assert len({json.dumps(a.json(), sort_keys=True) for a in answers}) == 1
    assert (await fund(client, community))["general"]["balance_fen"] == 50_000
    assert len(await outbox_events(client, ".fund.donation.received")) == 1
    other = await client.post("/v1/donations", json={**body, "amount_fen": 1}, headers=headers)
    assert other.status_code == 409


async def test_campaign_progress_counts_its_donations(client, community, donate) -> None:
    campaign = await client.post(
        "/v1/campaigns",
        json={
            "district": community.district,
            "community": community.community,
            "name": "2026 第一季度爱心捐款",
            "starts_on": "2026-01-01",
            "ends_on": "2026-03-31",
            "target_fen": 3_000_000,
        },
        headers=community.as_(Role.COMMUNITY_WORKER),
    )
    assert campaign.status_code == 201, campaign.text
    campaign_id = campaign.json()["id"]
    await donate(community, 20_000, campaign_id=campaign_id)
    await donate(community, 5_000, campaign_id=campaign_id)
    await donate(community, 7_000)
    progress = (
        await client.get(f"/v1/campaigns/{campaign_id}", headers=community.as_(Role.COMMUNITY_WORKER))
    ).json()
    assert (progress["raised_fen"], progress["donations"]) == (25_000, 2)


async def test_worker_of_another_community_can_neither_see_nor_move_this_fund(
    client, community, donate
) -> None:
    donation = await donate(community, 10_000)
    stranger = type(community)(community.district, f"{community.community}x")  # same district
    headers = stranger.as_(Role.COMMUNITY_WORKER)

    assert (await client.get(community.fund_path, headers=headers)).status_code == 404
    assert (await client.get(f"/v1/donations/{donation['id']}", headers=headers)).status_code == 404
    assert (await client.get("/v1/donations", headers=headers)).json()["items"] == []
    body = {
        "district": community.district,
        "community": community.community,
        "donor_kind": "resident",
        "donor_name": "x",
        "channel": "cash",
        "amount_fen": 1,
    }
    assert (await client.post("/v1/donations", json=body, headers=headers)).status_code == 404
    reversal = await client.post(
        f"/v1/entries/{donation['entry_id']}/reversal",
        json={"reason": "x"},
        headers=stranger.as_(Role.FUND_OFFICER),
    )
    assert reversal.status_code == 404
    assert (await fund(client, community))["general"]["balance_fen"] == 10_000
