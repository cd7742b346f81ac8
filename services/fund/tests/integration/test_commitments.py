"""Commitments over HTTP, on SQLite and PostgreSQL: reserved money is spent only by its promise."""

from __future__ import annotations

import asyncio

import pytest

from linli_shared.auth import Role

pytestmark = [pytest.mark.integration]


async def education(client, community) -> dict[str, int]:
    body = (await client.get(community.fund_path, headers=community.as_(Role.AUDITOR))).json()
    return next(line for line in body["funds"] if line["fund"] == "education")


async def test_a_commitment_reserves_money_that_only_it_can_spend(
    client, community, donate, known_resident, approved, commit, approved_term
) -> None:
    await donate(community, 100_000, restricted_to="education")
    made = await commit(community, await known_resident(community), 80_000)
    assert made.status_code == 201, made.text
    assert await education(client, community) == {
        "fund": "education",
        "balance_fen": 100_000,
        "reserved_fen": 80_000,
        "available_fen": 20_000,
    }
    other = await approved(community, 30_000)
    refused = await client.post(
        f"/v1/disbursements/{other['id']}/payment", json={}, headers=community.as_(Role.FUND_OFFICER)
    )
    assert refused.status_code == 409

    term = await approved_term(community, made.json(), 30_000)
    paid = await client.post(
        f"/v1/disbursements/{term['id']}/payment", json={}, headers=community.as_(Role.FUND_OFFICER)
    )

    assert paid.status_code == 200, paid.text
    assert await education(client, community) == {
        "fund": "education",
        "balance_fen": 70_000,
        "reserved_fen": 50_000,
        "available_fen": 20_000,
    }
    commitment = (
        await client.get(f"/v1/commitments/{made.json()['id']}", headers=community.as_(Role.AUDITOR))
    ).json()
    assert commitment["remaining_fen"] == 50_000


async def test_concurrent_commitments_never_reserve_more_than_is_available(
    client, community, donate, known_resident, commit
) -> None:
    await donate(community, 100_000, restricted_to="education")
    residents = [await known_resident(community) for _ in range(6)]

    answers = await asyncio.gather(*(commit(community, r, 30_000) for r in residents))

    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 3
    assert (await education(client, community))["available_fen"] == 10_000


async def test_racing_payments_never_draw_a_commitment_below_zero(
    client, community, donate, known_resident, commit, approved_term
) -> None:
    await donate(community, 100_000, restricted_to="education")
    commitment = (await commit(community, await known_resident(community), 50_000)).json()
    terms = [await approved_term(community, commitment, 20_000) for _ in range(4)]

    answers = await asyncio.gather(
        *(
            client.post(
                f"/v1/disbursements/{t['id']}/payment", json={}, headers=community.as_(Role.FUND_OFFICER)
            )
            for t in terms
        )
    )

    assert sorted(a.status_code for a in answers) == [200, 200, 409, 409]
    assert await education(client, community) == {
        "fund": "education",
        "balance_fen": 60_000,
        "reserved_fen": 10_000,
        "available_fen": 50_000,
    }


async def test_reversing_a_payment_gives_it_back_to_its_commitment(
    client, community, donate, known_resident, commit, approved_term
) -> None:
    await donate(community, 100_000, restricted_to="education")
    commitment = (await commit(community, await known_resident(community), 40_000)).json()
    term = await approved_term(community, commitment, 40_000)
    paid = (
        await client.post(
            f"/v1/disbursements/{term['id']}/payment", json={}, headers=community.as_(Role.FUND_OFFICER)
        )
    ).json()
    fulfilled = await client.get(f"/v1/commitments/{commitment['id']}", headers=community.as_(Role.AUDITOR))
    assert fulfilled.json()["status"] == "fulfilled"

    reversal = await client.post(
        f"/v1/entries/{paid['entry_id']}/reversal",
        json={"reason": "bank returned it"},
        headers=community.as_(Role.FUND_OFFICER),
    )

    assert reversal.status_code == 201, reversal.text
    again = (
        await client.get(f"/v1/commitments/{commitment['id']}", headers=community.as_(Role.AUDITOR))
    ).json()
    assert (again["status"], again["remaining_fen"]) == ("active", 40_000)
    assert await education(client, community) == {
        "fund": "education",
        "balance_fen": 100_000,
        "reserved_fen": 40_000,
        "available_fen": 60_000,
    }


async def test_releasing_a_commitment_frees_what_is_left_once(
    client, community, donate, known_resident, commit
) -> None:
    await donate(community, 100_000, restricted_to="education")
    commitment = (await commit(community, await known_resident(community), 60_000)).json()
    path = f"/v1/commitments/{commitment['id']}/release"

    answers = await asyncio.gather(
        *(client.post(path, headers=community.as_(Role.FUND_OFFICER)) for _ in range(3))
    )

    assert sorted(a.status_code for a in answers) == [200, 409, 409]
    assert await education(client, community) == {
        "fund": "education",
        "balance_fen": 100_000,
        "reserved_fen": 0,
        "available_fen": 100_000,
    }
    late = await client.post(
        "/v1/disbursements",
        json={
            "district": community.district,
            "community": community.community,
            "resident_id": commitment["resident_id"],
            "purpose": "education",
            "amount_fen": 1_000,
            "reason": "spring term",
            "commitment_id": commitment["id"],
        },
        headers=community.as_(Role.FUND_OFFICER, "officer-a"),
    )
    assert late.status_code == 422 and "已解除" in late.json()["detail"]


async def test_a_commitment_beyond_what_is_available_is_refused(
    client, community, donate, known_resident, commit
) -> None:
    await donate(community, 10_000, restricted_to="education")
    refused = await commit(community, await known_resident(community), 10_001)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await education(client, community))["reserved_fen"] == 0


async def test_payments_out_of_a_commitment_racing_donations_all_complete(
    client, community, donate, known_resident, commit, approved_term
) -> None:
    """Lock order: a payment holding the fund's row must not wait on a donation holding the bank's."""
    await donate(community, 200_000, restricted_to="education")
    commitment = (await commit(community, await known_resident(community), 100_000)).json()
    terms = [await approved_term(community, commitment, 10_000) for _ in range(6)]
    officer = community.as_(Role.FUND_OFFICER)

    answers = await asyncio.gather(
        *(client.post(f"/v1/disbursements/{t['id']}/payment", json={}, headers=officer) for t in terms),
        *(donate(community, 1_000, restricted_to="education") for _ in range(6)),
    )

    assert [a.status_code for a in answers[:6]] == [200] * 6
    assert await education(client, community) == {
        "fund": "education",
        "balance_fen": 200_000 - 60_000 + 6_000,
        "reserved_fen": 40_000,
        "available_fen": 200_000 - 100_000 + 6_000,
    }


async def test_twins_of_a_commitment_the_fund_affords_once_all_answer_with_it(
    client, community, donate, known_resident
) -> None:
    await donate(community, 50_000, restricted_to="education")
    body = {
        "district": community.district,
        "community": community.community,
        "resident_id": await known_resident(community),
        "purpose": "education",
        "total_fen": 50_000,
        "until": "2030-08-31",
        "reason": "school fees until 18",
    }
    headers = {**community.as_(Role.FUND_OFFICER, "officer-a"), "Idempotency-Key": "fees-once"}

    answers = await asyncio.gather(
        *(client.post("/v1/commitments", json=body, headers=headers) for _ in range(8))
    )

    assert [a.status_code for a in answers] == [201] * 8, [a.text for a in answers if a.status_code != 201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert (await education(client, community))["reserved_fen"] == 50_000
