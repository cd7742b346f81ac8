"""A beneficiary's death or move-out, as the registry announces it, suspends their commitments once."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import col, select

from linli_fund.subscribers import REGISTRY, handlers
from linli_shared.auth import Role
from linli_shared.contracts.registry import ResidentDied, ResidentMovedOut
from linli_shared.events import Envelope
from linli_shared.inbox import apply_once
from linli_shared.outbox import OutboxMessage

pytestmark = [pytest.mark.integration]


async def apply(client, envelope: Envelope) -> bool:
    return await apply_once(client.app.state.session_factory, REGISTRY.consumer.durable, envelope, handlers)


def announced(community, event) -> Envelope:
    return Envelope.wrap(
        event, district=community.district, community=community.community, occurred_at=datetime.now(UTC)
    )


async def education(client, community) -> dict[str, int]:
    body = (await client.get(community.fund_path, headers=community.as_(Role.AUDITOR))).json()
    return next(line for line in body["funds"] if line["fund"] == "education")


async def suspensions(client, commitment_id: str) -> list[str]:
    async with client.app.state.session_factory() as session:
        rows = (
            await session.exec(
                select(OutboxMessage).where(col(OutboxMessage.subject).endswith("commitment.suspended"))
            )
        ).all()
    return [row.envelope for row in rows if commitment_id in row.envelope]


async def test_a_death_delivered_twice_suspends_the_commitment_and_frees_its_reserve_once(
    client, community, donate, known_resident, commit
) -> None:
    await donate(community, 100_000, restricted_to="education")
    resident_id = await known_resident(community)
    commitment = (await commit(community, resident_id, 60_000)).json()
    assert (await education(client, community))["reserved_fen"] == 60_000
    death = announced(community, ResidentDied(resident_id=resident_id, on=date.today()))

    assert await apply(client, death) is True
    assert await apply(client, death) is False, "the redelivery is recognised by its event id"

    answer = await client.get(f"/v1/commitments/{commitment['id']}", headers=community.as_(Role.FUND_OFFICER))
    assert answer.json()["status"] == "suspended"
    assert answer.json()["remaining_fen"] == 0
    assert await education(client, community) == {
        "fund": "education",
        "balance_fen": 100_000,
        "reserved_fen": 0,
        "available_fen": 100_000,
    }
    events = await suspensions(client, str(commitment["id"]))
    assert len(events) == 1
    assert resident_id not in events[0], "events never identify the beneficiary"
    assert '"released_fen":60000' in events[0].replace(" ", "")


async def test_a_move_out_suspends_only_active_commitments_and_releases_what_is_left(
    client, community, donate, known_resident, commit
) -> None:
    await donate(community, 100_000, restricted_to="education")
    resident_id = await known_resident(community)
    other_id = await known_resident(community)
    first = (await commit(community, resident_id, 30_000)).json()
    released = (await commit(community, resident_id, 20_000)).json()
    others = (await commit(community, other_id, 10_000)).json()
    answer = await client.post(
        f"/v1/commitments/{released['id']}/release", headers=community.as_(Role.FUND_OFFICER)
    )
    assert answer.status_code == 200, answer.text

    assert await apply(
        client, announced(community, ResidentMovedOut(resident_id=resident_id, on=date.today()))
    )

    headers = community.as_(Role.FUND_OFFICER)
    states = {
        key: (await client.get(f"/v1/commitments/{c['id']}", headers=headers)).json()["status"]
        for key, c in (("first", first), ("released", released), ("others", others))
    }
    assert states == {"first": "suspended", "released": "released", "others": "active"}
    assert (await education(client, community))["reserved_fen"] == 10_000
    assert len(await suspensions(client, str(released["id"]))) == 0


async def test_a_suspended_commitment_pays_no_more_instalments(
    client, community, donate, known_resident, commit
) -> None:
    await donate(community, 100_000, restricted_to="education")
    resident_id = await known_resident(community)
    commitment = (await commit(community, resident_id, 60_000)).json()
    await apply(client, announced(community, ResidentDied(resident_id=resident_id, on=date.today())))
    response = await client.post(
        "/v1/disbursements",
        json={
            "district": community.district,
            "community": community.community,
            "resident_id": resident_id,
            "purpose": "education",
            "amount_fen": 10_000,
            "reason": "spring term",
            "commitment_id": commitment["id"],
        },
        headers=community.as_(Role.FUND_OFFICER, "officer-a"),
    )
    assert response.status_code in (409, 422), response.text
