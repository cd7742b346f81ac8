"""The public disclosure report: every yuan in and out, donors as they agreed, beneficiaries never."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from linli_shared.auth import Role
from linli_shared.clock import utc_now

pytestmark = [pytest.mark.integration]


async def test_disclosure_shows_every_yuan_in_and_out_but_never_the_beneficiary(
    client, community, donate, approved
) -> None:
    await donate(community, 30_000, restricted_to="education", donor_name="王建国")
    await donate(community, 20_000, anonymous=True, donor_name="李秘密")
    wrong = await donate(community, 999, donor_name="录错")
    officer = community.as_(Role.FUND_OFFICER, "officer-d")
    reversal = await client.post(
        f"/v1/entries/{wrong['entry_id']}/reversal", json={"reason": "typed twice"}, headers=officer
    )
    assert reversal.status_code == 201, reversal.text
    disbursement = await approved(community, 12_000)
    paid = await client.post(f"/v1/disbursements/{disbursement['id']}/payment", json={}, headers=officer)
    assert paid.status_code == 200, paid.text
    today = (utc_now() + timedelta(hours=8)).date()

    response = await client.get(
        f"{community.fund_path}/disclosure",
        params={"first_day": str(today), "last_day": str(today)},
        headers=community.as_(Role.COMMUNITY_WORKER),
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert [d["donor"] for d in report["donations"]] == ["王建国", "匿名", "录错"]
    assert [d["reversed"] for d in report["donations"]] == [False, False, True]
    assert "李秘密" not in response.text and disbursement["resident_id"] not in response.text
    assert [(d["purpose"], d["amount_fen"]) for d in report["disbursements"]] == [("education", 12_000)]
    assert (report["received_fen"], report["paid_fen"]) == (50_000, 12_000)
    assert report["funds_at_end"] == {"general": 20_000, "education": 18_000, "medical": 0, "relief": 0}
    assert json.dumps(report).count("resident") == 0


@pytest.mark.parametrize(
    "params",
    [
        {"first_day": "2026-02-01", "last_day": "2026-01-01"},
        {"first_day": "2020-01-01", "last_day": "2026-01-01"},
    ],
)
async def test_disclosure_of_a_backwards_or_overlong_period_is_refused(client, community, params) -> None:
    response = await client.get(
        f"{community.fund_path}/disclosure", params=params, headers=community.as_(Role.AUDITOR)
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
