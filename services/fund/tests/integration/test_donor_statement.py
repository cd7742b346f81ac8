"""A donor's statement: their gifts and, for restricted ones, what each paid for (beneficiaries masked)."""

from __future__ import annotations

import pytest

from linli_shared.auth import Role

pytestmark = [pytest.mark.integration]


async def statement(client, community, donor_name: str):
    return await client.get(
        f"{community.fund_path}/donor-statement",
        params={"donor_name": donor_name},
        headers=community.as_(Role.COMMUNITY_WORKER),
    )


async def test_a_restricted_gift_shows_the_payments_it_paid_for_oldest_money_first(
    client, community, donate, approved
) -> None:
    await donate(community, 30_000, restricted_to="education", donor_name="王建国")
    await donate(community, 50_000, restricted_to="education", donor_name="李红")
    await donate(community, 10_000, donor_name="王建国", anonymous=True)
    officer = community.as_(Role.FUND_OFFICER, "officer-d")
    disbursement = await approved(community, 40_000)
    paid = await client.post(f"/v1/disbursements/{disbursement['id']}/payment", json={}, headers=officer)
    assert paid.status_code == 200, paid.text

    mine = await statement(client, community, "王建国")
    theirs = await statement(client, community, "李红")

    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["total_fen"] == 40_000
    restricted, general = body["gifts"]
    assert (restricted["fund"], restricted["amount_fen"], restricted["unspent_fen"]) == (
        "education",
        30_000,
        0,
    )
    assert [(p["purpose"], p["beneficiary"], p["amount_fen"]) for p in restricted["paid_for"]] == [
        ("education", "张**", 30_000)
    ]
    assert (general["fund"], general["paid_for"], general["unspent_fen"]) == ("general", [], None)
    other = theirs.json()["gifts"][0]
    assert (other["unspent_fen"], [p["amount_fen"] for p in other["paid_for"]]) == (40_000, [10_000])
    assert str(disbursement["resident_id"]) not in mine.text + theirs.text
    assert "张小明" not in mine.text


async def test_a_statement_needs_a_token_and_a_known_donor(client, community, donate) -> None:
    await donate(community, 1_000, donor_name="王建国")
    anonymous = await client.get(f"{community.fund_path}/donor-statement", params={"donor_name": "王建国"})
    assert anonymous.status_code == 401
    assert (await statement(client, community, "没有这个人")).status_code == 404
