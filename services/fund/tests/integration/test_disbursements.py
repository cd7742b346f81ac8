"""Disbursements and reversals over HTTP, on SQLite and PostgreSQL: approvals, races, idempotency."""

from __future__ import annotations

import asyncio
import json

import pytest

from linli_shared.auth import Role

from .test_donations import outbox_events

pytestmark = [pytest.mark.integration]


async def available(client, community, name: str) -> int:
    response = await client.get(community.fund_path, headers=community.as_(Role.AUDITOR))
    body = response.json()
    return next(line["available_fen"] for line in body["funds"] + body["assets"] if line["fund"] == name)


async def trial_balance(client, community) -> dict[str, object]:
    response = await client.get(f"{community.fund_path}/trial-balance", headers=community.as_(Role.AUDITOR))
    assert response.status_code == 200, response.text
    return dict(response.json())


def check_anonymous(event: dict[str, object], disbursement: dict[str, object]) -> None:
    """An event says nothing of who receives the money: neither their id nor their name."""
    text = json.dumps(event, ensure_ascii=False)
    assert str(disbursement["resident_id"]) not in text
    assert "resident_id" not in text and "张" not in text  # the fixture's beneficiary is 张小明


def pay(client, community, disbursement_id: str, subject: str = "officer-d", **headers: str):
    return client.post(
        f"/v1/disbursements/{disbursement_id}/payment",
        json={},
        headers={**community.as_(Role.FUND_OFFICER, subject), **headers},
    )


async def test_payment_posts_the_entry_and_reduces_the_fund(client, community, donate, approved) -> None:
    await donate(community, 100_000, restricted_to="education")
    disbursement = await approved(community, 60_000)

    paid = await pay(client, community, disbursement["id"])

    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid" and paid.json()["entry_id"] is not None
    assert await available(client, community, "education") == 40_000
    trial = await trial_balance(client, community)
    assert trial["total_debit"] == trial["total_credit"]
    assert trial["funds"]["education"] == 40_000
    [approval] = await outbox_events(client, ".fund.disbursement.approved")
    assert approval["payload"] == {
        "disbursement_id": disbursement["id"],
        "approvals": 1,
        "approvals_needed": 1,
        "approved_by": "officer-b",
    }
    [payment] = await outbox_events(client, ".fund.disbursement.paid")
    assert payment["payload"] == {
        "disbursement_id": disbursement["id"],
        "purpose": "education",
        "fund": "education",
        "amount_fen": 60_000,
        "entry_id": paid.json()["entry_id"],
    }
    for event in (approval, payment):
        check_anonymous(event, disbursement)


async def test_requester_cannot_approve_their_own_request(client, community, known_resident) -> None:
    resident_id = await known_resident(community)
    requested = await client.post(
        "/v1/disbursements",
        json={
            "district": community.district,
            "community": community.community,
            "resident_id": resident_id,
            "purpose": "medical",
            "amount_fen": 10_000,
            "reason": "second-round reimbursement",
        },
        headers=community.as_(Role.FUND_OFFICER, "officer-a"),
    )
    assert requested.status_code == 201, requested.text
    path = f"/v1/disbursements/{requested.json()['id']}/approvals"

    own = await client.post(path, headers=community.as_(Role.FUND_OFFICER, "officer-a"))

    assert own.status_code == 403 and own.json()["detail"] == "申请人不能审批自己的申请"
    again = await client.get(
        f"/v1/disbursements/{requested.json()['id']}", headers=community.as_(Role.FUND_OFFICER)
    )
    assert again.json()["status"] == "requested" and again.json()["first_approved_by"] is None


async def test_above_the_limit_two_distinct_approvals_are_needed(client, community, known_resident) -> None:
    resident_id = await known_resident(community)
    requested = await client.post(
        "/v1/disbursements",
        json={
            "district": community.district,
            "community": community.community,
            "resident_id": resident_id,
            "purpose": "relief",
            "fund": "general",
            "amount_fen": 200_001,
            "reason": "holiday relief: rice, flour, oil",
        },
        headers=community.as_(Role.FUND_OFFICER, "officer-a"),
    )
    assert requested.json()["approvals_needed"] == 2
    path = f"/v1/disbursements/{requested.json()['id']}/approvals"
    first = await client.post(path, headers=community.as_(Role.FUND_OFFICER, "officer-b"))
    assert first.json()["status"] == "requested"
    same_again = await client.post(path, headers=community.as_(Role.FUND_OFFICER, "officer-b"))
    assert same_again.status_code == 403
    early = await pay(client, community, requested.json()["id"])
    assert early.status_code == 409
    second = await client.post(path, headers=community.as_(Role.FUND_OFFICER, "officer-c"))
    assert second.json()["status"] == "approved"
    assert (second.json()["first_approved_by"], second.json()["second_approved_by"]) == (
        "officer-b",
        "officer-c",
    )
    approvals = await outbox_events(client, ".fund.disbursement.approved")
    assert [(e["payload"]["approvals"], e["payload"]["approved_by"]) for e in approvals] == [
        (1, "officer-b"),
        (2, "officer-c"),
    ], "one event per approval given; refused approvals announce nothing"
    assert {e["payload"]["approvals_needed"] for e in approvals} == {2}
    for event in approvals:
        check_anonymous(event, requested.json())


async def test_nothing_is_paid_beyond_what_the_fund_holds(client, community, donate, approved) -> None:
    await donate(community, 50_000, restricted_to="education")
    await donate(community, 90_000, restricted_to="medical")
    disbursement = await approved(community, 50_001)

    refused = await pay(client, community, disbursement["id"])

    assert refused.status_code == 409 and refused.json()["detail"] == "助学基金可用余额不足：这笔需要 ¥500.01"
    assert await available(client, community, "education") == 50_000
    status = await client.get(f"/v1/disbursements/{disbursement['id']}", headers=community.as_(Role.AUDITOR))
    assert status.json()["status"] == "approved", "a refused payment leaves the disbursement as it was"


async def test_concurrent_payments_of_one_disbursement_pay_once(client, community, donate, approved) -> None:
    await donate(community, 100_000, restricted_to="education")
    disbursement = await approved(community, 30_000)

    answers = await asyncio.gather(*(pay(client, community, disbursement["id"]) for _ in range(10)))

    assert sorted(a.status_code for a in answers) == [200] + [409] * 9
    assert await available(client, community, "education") == 70_000
    entries = (
        await client.get(f"{community.fund_path}/entries", headers=community.as_(Role.AUDITOR))
    ).json()["items"]
    assert [e["kind"] for e in entries].count("disbursement") == 1
    assert len(await outbox_events(client, ".fund.disbursement.paid")) == 1, "paid once, announced once"


async def test_concurrent_payments_from_one_fund_never_overdraw_it(
    client, community, donate, approved
) -> None:
    await donate(community, 100_000, restricted_to="medical")
    disbursements = [await approved(community, 30_000, purpose="medical") for _ in range(8)]

    answers = await asyncio.gather(*(pay(client, community, d["id"]) for d in disbursements))

    assert sorted(a.status_code for a in answers) == [200] * 3 + [409] * 5
    assert await available(client, community, "medical") == 10_000
    trial = await trial_balance(client, community)
    assert trial["total_debit"] == trial["total_credit"] and trial["funds"]["medical"] == 10_000


async def test_same_idempotency_key_pays_once_and_answers_the_same(
    client, community, donate, approved
) -> None:
    await donate(community, 100_000, restricted_to="education")
    disbursement = await approved(community, 10_000)

    answers = await asyncio.gather(
        *(pay(client, community, disbursement["id"], **{"Idempotency-Key": "pay-1"}) for _ in range(5))
    )

    assert {a.status_code for a in answers} == {200}
    assert all(a.json() == answers[0].json() for a in answers)
    assert await available(client, community, "education") == 90_000


async def test_reversing_twice_is_refused_and_the_books_stay_balanced(
    client, community, donate, approved
) -> None:
    await donate(community, 100_000, restricted_to="education")
    paid = (await pay(client, community, (await approved(community, 40_000))["id"])).json()
    path = f"/v1/entries/{paid['entry_id']}/reversal"
    officer = community.as_(Role.FUND_OFFICER)

    answers = await asyncio.gather(
        *(client.post(path, json={"reason": "paid twice by hand"}, headers=officer) for _ in range(4))
    )

    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    reversal = next(a.json() for a in answers if a.status_code == 201)
    assert reversal["reverses_entry_id"] == paid["entry_id"]
    assert sorted(p["amount"] for p in reversal["postings"]) == [-40_000, 40_000]
    assert await available(client, community, "education") == 100_000
    of_reversal = await client.post(
        f"/v1/entries/{reversal['id']}/reversal", json={"reason": "undo"}, headers=officer
    )
    assert of_reversal.status_code == 409
    trial = await trial_balance(client, community)
    assert trial["total_debit"] == trial["total_credit"] and trial["funds"]["education"] == 100_000


async def test_a_donation_already_spent_cannot_be_reversed(client, community, donate, approved) -> None:
    donation = await donate(community, 50_000, restricted_to="education")
    assert (await pay(client, community, (await approved(community, 50_000))["id"])).status_code == 200
    refused = await client.post(
        f"/v1/entries/{donation['entry_id']}/reversal",
        json={"reason": "wrong amount"},
        headers=community.as_(Role.FUND_OFFICER),
    )
    assert refused.status_code == 409
    assert await available(client, community, "education") == 0


async def test_rejected_disbursement_can_never_be_paid(client, community, donate, approved) -> None:
    await donate(community, 50_000, restricted_to="education")
    disbursement = await approved(community, 10_000)
    rejected = await client.post(
        f"/v1/disbursements/{disbursement['id']}/rejection",
        json={"reason": "fees already covered"},
        headers=community.as_(Role.FUND_OFFICER, "officer-c"),
    )
    assert rejected.json()["status"] == "rejected"
    assert (await pay(client, community, disbursement["id"])).status_code == 409
    assert await available(client, community, "education") == 50_000


async def test_worker_of_another_community_cannot_see_or_move_a_disbursement(
    client, community, donate, approved
) -> None:
    await donate(community, 50_000, restricted_to="education")
    disbursement = await approved(community, 10_000)
    stranger = type(community)(community.district, f"{community.community}x")
    path = f"/v1/disbursements/{disbursement['id']}"
    assert (await client.get(path, headers=stranger.as_(Role.FUND_OFFICER))).status_code == 404
    moved = await client.post(f"{path}/payment", json={}, headers=stranger.as_(Role.FUND_OFFICER))
    assert moved.status_code == 404
    worker = await client.post(f"{path}/payment", json={}, headers=community.as_(Role.COMMUNITY_WORKER))
    assert worker.status_code == 403
    assert await available(client, community, "education") == 50_000


async def test_officer_of_another_community_can_neither_request_approve_reject_nor_pay(
    client, community, donate, known_resident
) -> None:
    await donate(community, 50_000, restricted_to="education")
    resident_id = await known_resident(community)
    body = {
        "district": community.district,
        "community": community.community,
        "resident_id": resident_id,
        "purpose": "education",
        "amount_fen": 10_000,
        "reason": "school fees",
    }
    other = type(community)(community.district, f"{community.community}x")
    stranger = other.as_(Role.FUND_OFFICER, "officer-x")
    assert (await client.post("/v1/disbursements", json=body, headers=stranger)).status_code == 404
    requested = await client.post(
        "/v1/disbursements", json=body, headers=community.as_(Role.FUND_OFFICER, "officer-a")
    )
    path = f"/v1/disbursements/{requested.json()['id']}"
    assert (await client.post(f"{path}/approvals", headers=stranger)).status_code == 404
    assert (await client.post(f"{path}/rejection", json={"reason": "x"}, headers=stranger)).status_code == 404
    assert (await client.get("/v1/disbursements", headers=stranger)).json()["items"] == []
    assert (await client.get(path, headers=community.as_(Role.AUDITOR))).json()["status"] == "requested"
    approved = await client.post(f"{path}/approvals", headers=community.as_(Role.FUND_OFFICER, "officer-b"))
    assert approved.json()["status"] == "approved"
    assert (await client.post(f"{path}/payment", json={}, headers=stranger)).status_code == 404
    assert (await client.get(path, headers=community.as_(Role.AUDITOR))).json()["status"] == "approved"
    assert await available(client, community, "education") == 50_000


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"amount_fen": 0}, 422),
        ({"amount_fen": -5}, 422),
        ({"amount_fen": 1.5}, 422),
        ({"amount_fen": "lots"}, 422),
        ({"purpose": "holiday"}, 422),
        ({"purpose": "medical", "fund": "education"}, 422),
        ({"resident_id": "no-such-resident"}, 422),
        ({"surprise": True}, 422),
        ({"district": "Not A Code"}, 422),
    ],
)
async def test_bad_disbursement_request_gets_a_4xx_problem(
    client, community, known_resident, change, status
) -> None:
    resident_id = await known_resident(community)
    body = {
        "district": community.district,
        "community": community.community,
        "resident_id": resident_id,
        "purpose": "education",
        "amount_fen": 100,
        "reason": "fees",
        **change,
    }
    response = await client.post("/v1/disbursements", json=body, headers=community.as_(Role.FUND_OFFICER))
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/v1/entries/not-a-number/reversal", {"reason": "x"}),
        ("post", "/v1/entries/999999/reversal", {"reason": "x"}),
        ("post", "/v1/disbursements/nope/approvals", None),
        ("post", "/v1/disbursements/nope/payment", {"channel": "gold"}),
        ("get", "/v1/donations?cursor=%%%", None),
        ("get", "{fund}/trial-balance?as_of=yesterday", None),
        ("post", "/v1/donations", {"amount_fen": 10}),
        ("post", "/v1/campaigns", {"name": "x", "starts_on": "2026-03-01", "ends_on": "2026-01-01"}),
    ],
)
async def test_bad_input_is_a_4xx_problem_never_a_500(client, community, method, path, body) -> None:
    headers = community.as_(Role.FUND_OFFICER)
    response = await client.request(method, path.format(fund=community.fund_path), json=body, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
