"""Donations over HTTP, on SQLite and PostgreSQL: receipts, the ledger, idempotency, scope, bad input."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlmodel import col, select

from linli_shared.auth import Role
from linli_shared.clock import utc_now
from linli_shared.outbox import OutboxMessage

pytestmark = [pytest.mark.integration]


def china_today():
    return (utc_now() + timedelta(hours=8)).date()


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
            "name": "本季度爱心捐款",
            "starts_on": str(china_today() - timedelta(days=30)),
            "ends_on": str(china_today() + timedelta(days=60)),
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


@pytest.mark.parametrize(
    ("starts", "ends"),
    [(-30, -1), (1, 30)],
    ids=["ended-yesterday", "starts-tomorrow"],
)
async def test_a_donation_outside_its_campaigns_dates_is_refused(client, community, starts, ends) -> None:
    campaign = await client.post(
        "/v1/campaigns",
        json={
            "district": community.district,
            "community": community.community,
            "name": "上季度爱心捐款",
            "starts_on": str(china_today() + timedelta(days=starts)),
            "ends_on": str(china_today() + timedelta(days=ends)),
            "target_fen": 100_000,
        },
        headers=community.as_(Role.COMMUNITY_WORKER),
    )
    assert campaign.status_code == 201, campaign.text
    body = {
        "district": community.district,
        "community": community.community,
        "campaign_id": campaign.json()["id"],
        "donor_kind": "resident",
        "donor_name": "王建国",
        "channel": "cash",
        "amount_fen": 5_000,
    }

    late = await client.post("/v1/donations", json=body, headers=community.as_(Role.COMMUNITY_WORKER))

    assert late.status_code == 422, late.text
    assert late.headers["content-type"] == "application/problem+json"
    assert "募捐活动时间为" in late.json()["detail"] and str(china_today()) in late.json()["detail"]
    assert (await fund(client, community))["general"]["balance_fen"] == 0
    assert await outbox_events(client, ".fund.donation.received") == []


async def test_an_outsiders_gift_is_receipted_and_announced(client, community, donate) -> None:
    gift = await donate(
        community, 6_600, donor_kind="outsider", donor_name="路过的好心人", channel="mobile_payment"
    )

    assert (gift["donor_kind"], gift["donor_resident_id"], gift["fund"]) == ("outsider", None, "general")
    assert gift["receipt_number"].endswith("-000001")
    assert (await fund(client, community))["assets:mobile"]["balance_fen"] == 6_600
    [event] = await outbox_events(client, ".fund.donation.received")
    assert (event["payload"]["donor_kind"], event["payload"]["donor_display"]) == ("outsider", "路过的好心人")
    assert event["payload"]["donor_phone"] is None


async def test_money_must_be_a_whole_json_number_of_fen_and_a_phone_only_digits(
    client, community, known_resident
) -> None:
    resident_id = await known_resident(community)
    place = {"district": community.district, "community": community.community}
    donation = {**place, "donor_kind": "outsider", "donor_name": "x", "channel": "cash", "amount_fen": 100}
    campaign = {**place, "name": "x", "starts_on": "2026-01-01", "ends_on": "2026-12-31", "target_fen": 100}
    disbursement = {
        **place,
        "resident_id": resident_id,
        "purpose": "education",
        "amount_fen": 100,
        "reason": "fees",
    }
    commitment = {
        **place,
        "resident_id": resident_id,
        "purpose": "education",
        "total_fen": 100,
        "until": "2030-08-31",
        "reason": "fees",
    }
    refused = [
        ("/v1/donations", {**donation, "amount_fen": "100"}),
        ("/v1/donations", {**donation, "amount_fen": 100.5}),
        ("/v1/donations", {**donation, "amount_fen": 100.0}),
        ("/v1/campaigns", {**campaign, "target_fen": "100"}),
        ("/v1/disbursements", {**disbursement, "amount_fen": "100"}),
        ("/v1/disbursements", {**disbursement, "amount_fen": 100.5}),
        ("/v1/commitments", {**commitment, "total_fen": "100"}),
        (
            "/v1/commitments",
            {
                **commitment,
                "schedule": {"instalment_fen": 100.5, "first_due_on": "2027-01-01", "months_between": 6},
            },
        ),
        *(
            ("/v1/donations", {**donation, "donor_phone": phone})
            for phone in (
                "1234",
                "138 1234 5678",
                "+86-13812345678",
                "1" * 21,
                "++8613812345678",
                "一二三四五",
            )
        ),
    ]
    headers = community.as_(Role.FUND_OFFICER)
    for path, body in refused:
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code == 422, (path, body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    for phone in ("12345", "+8613812345678", "1" * 20):
        accepted = await client.post(
            "/v1/donations", json={**donation, "donor_phone": phone}, headers=headers
        )
        assert accepted.status_code == 201, accepted.text
    assert (await fund(client, community))["general"]["balance_fen"] == 300, "nothing refused was recorded"


async def test_same_idempotency_key_creates_one_campaign_and_answers_the_same(client, community) -> None:
    body = {
        "district": community.district,
        "community": community.community,
        "name": "重阳节敬老募捐",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "target_fen": 1_000_000,
    }
    headers = {**community.as_(Role.COMMUNITY_WORKER), "Idempotency-Key": "campaign-chongyang"}

    answers = [await client.post("/v1/campaigns", json=body, headers=headers) for _ in range(2)]
    racing = await asyncio.gather(
        *(client.post("/v1/campaigns", json=body, headers=headers) for _ in range(3))
    )

    assert {a.status_code for a in answers + racing} == {201}, [a.text for a in answers + racing]
    assert len({json.dumps(a.json(), sort_keys=True) for a in answers + racing}) == 1
    listed = await client.get("/v1/campaigns", headers=community.as_(Role.COMMUNITY_WORKER))
    assert [c["id"] for c in listed.json()["items"]] == [answers[0].json()["id"]]
    other = await client.post("/v1/campaigns", json={**body, "target_fen": 1}, headers=headers)
    assert other.status_code == 409


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
