"""A commitment with an instalment schedule: every term falls due and is paid through a disbursement."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from linli_fund.subscribers import REGISTRY, handlers
from linli_shared.auth import Role
from linli_shared.clock import utc_now
from linli_shared.contracts.registry import ResidentDied
from linli_shared.events import Envelope
from linli_shared.inbox import apply_once

pytestmark = [pytest.mark.integration]


def china_today() -> date:
    return (utc_now() + timedelta(hours=8)).date()


async def test_instalments_fall_due_are_paid_and_are_cancelled_when_the_beneficiary_dies(
    client, community, donate, known_resident, commit, approved_term
) -> None:
    await donate(community, 300_000, restricted_to="education")
    resident_id = await known_resident(community)
    schedule = {"instalment_fen": 50_000, "first_due_on": str(china_today()), "months_between": 6}
    made = await commit(
        community, resident_id, 200_000, until=str(china_today() + timedelta(days=700)), schedule=schedule
    )
    assert made.status_code == 201, made.text
    commitment = made.json()
    assert (commitment["instalment_fen"], commitment["months_between"]) == (50_000, 6)
    term = await approved_term(community, commitment, commitment["instalment_fen"])
    paid = await client.post(
        f"/v1/disbursements/{term['id']}/payment", json={}, headers=community.as_(Role.FUND_OFFICER)
    )
    assert paid.status_code == 200, paid.text

    path = f"/v1/commitments/{commitment['id']}/schedule"
    body = (await client.get(path, headers=community.as_(Role.AUDITOR))).json()
    assert body["paid_fen"] == 50_000
    assert [i["status"] for i in body["instalments"]] == ["paid", "upcoming", "upcoming", "upcoming"]
    assert body["instalments"][1]["due_on"] > str(china_today())

    death = Envelope.wrap(
        ResidentDied(resident_id=resident_id, on=china_today()),
        district=community.district,
        community=community.community,
        occurred_at=datetime.now(UTC),
    )
    assert await apply_once(client.app.state.session_factory, REGISTRY.consumer.durable, death, handlers)
    after = (await client.get(path, headers=community.as_(Role.AUDITOR))).json()
    assert after["status"] == "suspended"
    assert [i["status"] for i in after["instalments"]] == ["paid", "cancelled", "cancelled", "cancelled"]


async def test_a_schedule_that_does_not_add_up_is_refused(
    client, community, donate, known_resident, commit
) -> None:
    await donate(community, 300_000, restricted_to="education")
    schedule = {"instalment_fen": 50_000, "first_due_on": str(china_today()), "months_between": 6}
    refused = await commit(
        community,
        await known_resident(community),
        150_000,
        until=str(china_today() + timedelta(days=700)),
        schedule=schedule,
    )
    assert refused.status_code == 422 and "与承诺总额 150000 分不符" in refused.json()["detail"]


async def test_a_commitment_without_a_schedule_has_none(client, community, donate, known_resident) -> None:
    await donate(community, 100_000, restricted_to="education")
    made = await client.post(
        "/v1/commitments",
        json={
            "district": community.district,
            "community": community.community,
            "resident_id": await known_resident(community),
            "purpose": "education",
            "total_fen": 10_000,
            "until": "2030-08-31",
            "reason": "one-off",
        },
        headers=community.as_(Role.FUND_OFFICER),
    )
    assert made.status_code == 201 and made.json()["instalment_fen"] is None
    missing = await client.get(
        f"/v1/commitments/{made.json()['id']}/schedule", headers=community.as_(Role.AUDITOR)
    )
    assert missing.status_code == 404
