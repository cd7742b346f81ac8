"""fund.balance_low: announced once when a payment takes a fund's available money below the threshold."""

from __future__ import annotations

import json

import pytest
from sqlmodel import col, select

from linli_shared.auth import Role
from linli_shared.outbox import OutboxMessage

pytestmark = [pytest.mark.integration]

THRESHOLD = 100_000  # the default LINLI_FUND_BALANCE_LOW_BELOW_FEN: 1,000 yuan


async def balance_low_events(client, community) -> list[dict[str, object]]:
    async with client.app.state.session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    envelopes = [json.loads(r.envelope) for r in rows if r.subject.endswith(".fund.balance_low")]
    return [e for e in envelopes if e["community"] == community.community]


async def pay(client, community, approved, amount_fen: int) -> dict[str, object]:
    disbursement = await approved(community, amount_fen)
    paid = await client.post(
        f"/v1/disbursements/{disbursement['id']}/payment", json={}, headers=community.as_(Role.FUND_OFFICER)
    )
    assert paid.status_code == 200, paid.text
    return dict(paid.json())


async def test_the_default_threshold_is_a_thousand_yuan(fund_settings) -> None:
    assert fund_settings.balance_low_below_fen == THRESHOLD


async def test_a_fund_falling_below_the_threshold_is_announced_once_per_crossing(
    client, community, donate, approved
) -> None:
    await donate(community, 150_000, restricted_to="education")
    await donate(community, 500_000)  # the general fund stays well above: it is never announced

    await pay(client, community, approved, 30_000)  # 150,000 → 120,000: still above
    await pay(client, community, approved, 20_000)  # → 100,000: at the threshold, not below it
    assert await balance_low_events(client, community) == []

    crossing = await pay(client, community, approved, 10_000)  # → 90,000: below
    await pay(client, community, approved, 10_000)  # → 80,000: still low, not announced again
    [event] = await balance_low_events(client, community)
    assert event["payload"]["fund"] == "education"
    assert (event["payload"]["available_fen"], event["payload"]["threshold_fen"]) == (90_000, THRESHOLD)
    assert event["payload"]["disbursement_id"] == crossing["id"]
    assert str(crossing["resident_id"]) not in json.dumps(event), "it never identifies the beneficiary"

    await donate(community, 50_000, restricted_to="education")  # → 130,000: above again
    second = await pay(client, community, approved, 40_000)  # → 90,000: a new crossing
    events = await balance_low_events(client, community)
    assert [e["payload"]["disbursement_id"] for e in events] == [crossing["id"], second["id"]]


async def test_a_payment_out_of_a_commitment_spends_reserved_money_and_is_never_announced(
    client, community, donate, known_resident
) -> None:
    await donate(community, 240_000, restricted_to="education")
    officer_a, officer_b = (
        community.as_(Role.FUND_OFFICER, "officer-a"),
        community.as_(Role.FUND_OFFICER, "officer-b"),
    )
    where = {"district": community.district, "community": community.community, "purpose": "education"}
    resident_id = await known_resident(community)
    made = await client.post(
        "/v1/commitments",
        json={
            **where,
            "resident_id": resident_id,
            "total_fen": 150_000,
            "until": "2030-08-31",
            "reason": "fees",
        },
        headers=officer_a,
    )
    assert made.status_code == 201, made.text  # available: 240,000 − 150,000 = 90,000, but not by a payment
    requested = await client.post(
        "/v1/disbursements",
        json={**where, "resident_id": resident_id, "amount_fen": 30_000, "reason": "autumn term"}
        | {"commitment_id": made.json()["id"]},
        headers=officer_a,
    )
    path = f"/v1/disbursements/{requested.json()['id']}"
    assert (await client.post(f"{path}/approvals", headers=officer_b)).status_code == 200
    assert (await client.post(f"{path}/payment", json={}, headers=officer_b)).status_code == 200

    fund = (await client.get(community.fund_path, headers=community.as_(Role.AUDITOR))).json()
    assert next(f for f in fund["funds"] if f["fund"] == "education")["available_fen"] == 90_000
    assert await balance_low_events(client, community) == []
