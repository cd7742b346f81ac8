"""The journal exported to Beancount: Beancount itself must find the books whole and equal to ours."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from beancount import loader
from beancount.core.data import Transaction

from linli_fund.beancount_export import account_name
from linli_shared.auth import Role

pytestmark = [pytest.mark.integration]


async def test_beancount_reads_the_exported_journal_without_error_and_agrees(
    client, community, donate, approved, known_resident
) -> None:
    await donate(community, 123_456, restricted_to="education", donor_name='引号"测试')
    wrong = await donate(community, 789, channel="cash")
    officer = community.as_(Role.FUND_OFFICER, "officer-d")
    await client.post(f"/v1/entries/{wrong['entry_id']}/reversal", json={"reason": "typo"}, headers=officer)
    disbursement = await approved(community, 23_401)
    await client.post(f"/v1/disbursements/{disbursement['id']}/payment", json={}, headers=officer)
    orphan = await known_resident(community)
    promise = await client.post(
        "/v1/commitments",
        json={
            "district": community.district,
            "community": community.community,
            "resident_id": orphan,
            "purpose": "education",
            "total_fen": 60_000,
            "until": "2030-08-31",
            "reason": "school fees until 18",
        },
        headers=community.as_(Role.FUND_OFFICER, "officer-a"),
    )
    assert promise.status_code == 201, promise.text
    instalment = await approved(community, 20_000, resident_id=orphan, commitment_id=promise.json()["id"])
    paid = await client.post(f"/v1/disbursements/{instalment['id']}/payment", json={}, headers=officer)
    assert paid.status_code == 200, paid.text

    exported = await client.get(
        f"{community.fund_path}/ledger.beancount", headers=community.as_(Role.AUDITOR)
    )

    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/plain")
    entries, errors, _ = loader.load_string(exported.text)
    assert errors == []
    sums: Counter[str] = Counter()
    for entry in entries:
        if isinstance(entry, Transaction):
            for posting in entry.postings:
                sums[posting.account] += posting.units.number
    trial = (
        await client.get(f"{community.fund_path}/trial-balance", headers=community.as_(Role.AUDITOR))
    ).json()
    ours = {
        account_name(line["account"]): Decimal(line["debit"] - line["credit"]) / 100
        for line in trial["lines"]
    }
    assert {a: n for a, n in sums.items() if n} == {a: n for a, n in ours.items() if n}
    assert ours["Equity:Reserved:Education"] == Decimal("-400.00")  # 600 promised, 200 paid out of it
    kinds = Counter(entry.meta["kind"] for entry in entries if isinstance(entry, Transaction))
    assert kinds == {"donation": 2, "reversal": 1, "disbursement": 2, "reservation": 2}


async def test_another_community_cannot_export_this_journal(client, community, donate) -> None:
    await donate(community, 100)
    stranger = type(community)(community.district, f"{community.community}x")
    response = await client.get(
        f"{community.fund_path}/ledger.beancount", headers=stranger.as_(Role.COMMUNITY_WORKER)
    )
    assert response.status_code == 404
