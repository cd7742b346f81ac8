"""A donor who is a registered resident: linked by registry id, thanked by it, reading their own statement."""

from __future__ import annotations

import pytest

from linli_shared.auth import Role

from .test_donations import outbox_events

pytestmark = [pytest.mark.integration]


def gift(community, **extra: object) -> dict[str, object]:
    return {
        "district": community.district,
        "community": community.community,
        "donor_kind": "resident",
        "donor_name": "王建国",
        "channel": "cash",
        "amount_fen": 5_000,
        **extra,
    }


async def test_a_resident_donor_is_linked_and_the_event_names_them_for_thanks(
    client, community, known_resident
) -> None:
    donor = await known_resident(community)
    response = await client.post(
        "/v1/donations",
        json=gift(community, donor_resident_id=donor, anonymous=True),
        headers=community.as_(Role.COMMUNITY_WORKER),
    )

    assert response.status_code == 201, response.text
    assert response.json()["donor_resident_id"] == donor
    [event] = await outbox_events(client, ".fund.donation.received")
    assert event["payload"]["donor_resident_id"] == donor
    assert event["payload"]["donor_display"] == "匿名"


@pytest.mark.parametrize(
    ("donor_kind", "known"),
    [("resident", False), ("enterprise", True), ("outsider", True)],
    ids=["unknown-resident", "enterprise-with-resident-id", "outsider-with-resident-id"],
)
async def test_a_resident_id_must_be_a_known_resident_and_only_for_residents_or_party_members(
    client, community, known_resident, donor_kind: str, known: bool
) -> None:
    donor = await known_resident(community) if known else "no-such-resident"
    response = await client.post(
        "/v1/donations",
        json=gift(community, donor_kind=donor_kind, donor_resident_id=donor),
        headers=community.as_(Role.COMMUNITY_WORKER),
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await outbox_events(client, ".fund.donation.received") == []


async def test_a_resident_reads_their_own_statement_by_id_and_nobody_elses(
    client, community, known_resident, donate
) -> None:
    donor, neighbour = await known_resident(community), await known_resident(community)
    await donate(community, 3_000, donor_kind="resident", donor_name="王建国", donor_resident_id=donor)
    await donate(community, 2_000, donor_kind="resident", donor_name="王建国", donor_resident_id=donor)
    await donate(community, 9_000, donor_kind="resident", donor_name="王建国")  # a namesake, not linked
    path = f"{community.fund_path}/donor-statement"

    own = await client.get(path, params={"resident_id": donor}, headers=community.as_(Role.RESIDENT, donor))
    worker = await client.get(path, params={"resident_id": donor}, headers=community.as_(Role.FUND_OFFICER))
    other = await client.get(
        path, params={"resident_id": donor}, headers=community.as_(Role.RESIDENT, neighbour)
    )
    by_name = await client.get(
        path, params={"donor_name": "王建国"}, headers=community.as_(Role.RESIDENT, donor)
    )
    both = await client.get(
        path, params={"donor_name": "王建国", "resident_id": donor}, headers=community.as_(Role.FUND_OFFICER)
    )

    assert own.status_code == 200, own.text
    assert own.json()["total_fen"] == 5_000 and own.json()["donor_resident_id"] == donor
    assert worker.json() == own.json()
    assert other.status_code == 403 and by_name.status_code == 403
    assert both.status_code == 422
