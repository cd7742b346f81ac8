"""Reversed after its period closed: that period still says what it said; the next shows the correction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest

from linli_shared.auth import Role
from linli_shared.clock import utc_now

pytestmark = [pytest.mark.integration]


@pytest.fixture
def days_later(writes_later):
    @contextmanager
    def shifted(days: int) -> Iterator[None]:
        with writes_later(timedelta(days=days)):
            yield

    return shifted


def china_today():
    return (utc_now() + timedelta(hours=8)).date()


async def disclosure(client, community, first_day, last_day) -> dict:
    response = await client.get(
        f"{community.fund_path}/disclosure",
        params={"first_day": str(first_day), "last_day": str(last_day)},
        headers=community.as_(Role.AUDITOR),
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_gift_reversed_in_a_later_period_is_a_correction_there_and_the_books_reconcile(
    client, community, donate, approved, days_later
) -> None:
    today = china_today()
    kept = await donate(community, 50_000, donor_name="王建国")
    wrong = await donate(community, 10_000, donor_name="李红")
    disbursement = await approved(community, 20_000, "medical", fund="general")
    officer = community.as_(Role.FUND_OFFICER, "officer-d")
    paid = await client.post(f"/v1/disbursements/{disbursement['id']}/payment", json={}, headers=officer)
    assert paid.status_code == 200, paid.text
    with days_later(2):
        for entry in (wrong["entry_id"], paid.json()["entry_id"]):
            reversal = await client.post(
                f"/v1/entries/{entry}/reversal", json={"reason": "录入错误"}, headers=officer
            )
            assert reversal.status_code == 201, reversal.text

    first = await disclosure(client, community, today, today)
    second = await disclosure(client, community, today + timedelta(days=1), today + timedelta(days=2))

    assert (first["received_fen"], first["paid_fen"]) == (60_000, 20_000)  # as it stood when the day closed
    assert not any(d["reversed"] for d in first["donations"] + first["disbursements"])
    assert first["corrections"] == []
    assert second["donations"] == [] and second["disbursements"] == []
    assert [
        (c["kind"], c["reference"], c["amount_fen"], c["original_on"]) for c in second["corrections"]
    ] == [
        ("donation", wrong["receipt_number"], 10_000, str(today)),
        ("payment", "medical", 20_000, str(today)),
    ]
    assert "张小明" not in str(second) and str(disbursement["resident_id"]) not in str(second)
    corrected_income = sum(c["amount_fen"] for c in second["corrections"] if c["kind"] == "donation")
    corrected_spending = sum(c["amount_fen"] for c in second["corrections"] if c["kind"] == "payment")
    assert second["funds_at_end"]["general"] == (
        first["funds_at_end"]["general"]
        + second["received_fen"]
        - second["paid_fen"]
        - corrected_income
        + corrected_spending
    )
    assert kept["receipt_number"] not in str(second["corrections"])

    with days_later(3):
        for first_day, last_day in ((today, today), (today + timedelta(days=1), today + timedelta(days=2))):
            published = await client.post(
                f"{community.fund_path}/disclosures",
                json={"first_day": str(first_day), "last_day": str(last_day)},
                headers=officer,
            )
            assert published.status_code == 201, published.text
    public = f"/v1/public/funds/{community.district}/{community.community}/disclosures"
    report = (await client.get(f"{public}/2.json")).json()["report"]
    page = (await client.get(f"{public}/2.html")).text
    table = (await client.get(f"{public}/2.csv")).text

    assert [c["kind"] for c in report["corrections"]] == ["donation", "payment"]
    assert "更正往期" in page and wrong["receipt_number"] in page
    assert f"correction_of_donation,{today + timedelta(days=2)},{wrong['receipt_number']}" in table
