"""The fund's own refusals over HTTP: in Chinese by default, in English where Accept-Language
prefers it, and either way nothing is written."""

from __future__ import annotations

from datetime import timedelta

import pytest

from linli_shared.auth import Role
from linli_shared.clock import utc_now

from .test_disbursements import available
from .test_donations import fund, outbox_events

pytestmark = [pytest.mark.integration]

ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


def china_today():
    return (utc_now() + timedelta(hours=8)).date()


async def test_a_gift_dated_tomorrow_is_refused_in_chinese_unless_english_is_asked(client, community) -> None:
    today = china_today()
    body = {
        "district": community.district,
        "community": community.community,
        "donor_kind": "outsider",
        "donor_name": "王建国",
        "channel": "cash",
        "amount_fen": 5_000,
        "received_on": str(today + timedelta(days=1)),
    }
    worker = community.as_(Role.COMMUNITY_WORKER)

    chinese = await client.post("/v1/donations", json=body, headers=worker)
    english = await client.post("/v1/donations", json=body, headers=worker | ENGLISH)

    assert (chinese.status_code, english.status_code) == (422, 422)
    assert chinese.headers["content-type"] == "application/problem+json"
    assert chinese.json()["detail"] == f"收款日期不能晚于今天（{today}，北京时间）"
    assert english.json()["detail"] == f"a gift cannot be received after today ({today}, China time)"
    assert (await fund(client, community))["general"]["balance_fen"] == 0
    assert await outbox_events(client, ".fund.donation.received") == []


async def test_approving_ones_own_request_is_refused_in_the_callers_language(
    client, community, known_resident
) -> None:
    body = {
        "district": community.district,
        "community": community.community,
        "resident_id": await known_resident(community),
        "purpose": "education",
        "amount_fen": 1_000,
        "reason": "school fees, autumn term",
    }
    requested = await client.post(
        "/v1/disbursements", json=body, headers=community.as_(Role.FUND_OFFICER, "officer-a")
    )
    assert requested.status_code == 201, requested.text
    path = f"/v1/disbursements/{requested.json()['id']}"
    own = community.as_(Role.FUND_OFFICER, "officer-a")

    chinese = await client.post(f"{path}/approvals", headers=own)
    english = await client.post(f"{path}/approvals", headers=own | ENGLISH)

    assert (chinese.status_code, english.status_code) == (403, 403)
    assert chinese.json()["detail"] == "申请人不能审批自己的申请"
    assert english.json()["detail"] == "a requester cannot approve their own request"
    after = await client.get(path, headers=community.as_(Role.AUDITOR))
    assert (after.json()["status"], after.json()["first_approved_by"]) == ("requested", None)


async def test_paying_more_than_the_fund_holds_names_the_fund_in_chinese(
    client, community, donate, approved
) -> None:
    await donate(community, 50_000, restricted_to="education")
    await donate(community, 90_000, restricted_to="medical")  # the bank holds enough; the fund does not
    disbursement = await approved(community, 50_001)
    payment = f"/v1/disbursements/{disbursement['id']}/payment"
    officer = community.as_(Role.FUND_OFFICER, "officer-a")

    chinese = await client.post(payment, json={}, headers=officer)
    english = await client.post(payment, json={}, headers=officer | ENGLISH)

    assert (chinese.status_code, english.status_code) == (409, 409)
    assert chinese.json()["detail"] == "助学基金可用余额不足：这笔需要 ¥500.01"
    assert english.json()["detail"] == "not enough available in funds:education: 50001 fen needed"
    assert await available(client, community, "education") == 50_000
    assert await outbox_events(client, ".fund.disbursement.paid") == []


async def test_a_restricted_fund_for_another_purpose_is_refused_with_chinese_names(
    client, community, known_resident
) -> None:
    body = {
        "district": community.district,
        "community": community.community,
        "resident_id": await known_resident(community),
        "purpose": "medical",
        "fund": "education",
        "total_fen": 10_000,
        "until": "2030-08-31",
        "reason": "hospital bills",
    }
    officer = community.as_(Role.FUND_OFFICER, "officer-a")

    chinese = await client.post("/v1/commitments", json=body, headers=officer)
    english = await client.post("/v1/commitments", json=body, headers=officer | ENGLISH)

    assert (chinese.status_code, english.status_code) == (422, 422)
    assert chinese.json()["detail"] == "助学基金不能用于医疗救助"
    assert english.json()["detail"] == "the education fund cannot pay for medical"
    listed = await client.get("/v1/commitments", headers=community.as_(Role.AUDITOR))
    assert listed.status_code == 200 and listed.json()["items"] == []


async def test_a_period_never_published_is_not_found_in_chinese(client, community) -> None:
    path = f"/v1/public/funds/{community.district}/{community.community}/disclosures/1.json"

    chinese = await client.get(path)
    english = await client.get(path, headers=ENGLISH)

    assert (chinese.status_code, english.status_code) == (404, 404)
    assert chinese.json()["detail"] == "这一期还没有公示"
    assert english.json()["detail"] == "no report is published for this period"
