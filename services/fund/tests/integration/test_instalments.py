"""Scheduled instalments fall due: each is requested once, then approved and paid like any other."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from linli_fund.usecases.instalments import request_due_instalments
from linli_shared.auth import Role

from .test_donations import outbox_events

pytestmark = [pytest.mark.integration]

TERM_FEN = 10_000
SCHEDULE_BODY = {"first_due_on": "2026-09-01", "months_between": 6, "instalment_fen": TERM_FEN}
TERMS = 8  # 2026-09-01, 2027-03-01, … 2030-03-01, until 2030-08-31


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T04:00:00").replace(tzinfo=UTC)  # noon in China


@pytest.fixture
def scheduled(client, community, donate, known_resident):
    async def make() -> dict[str, object]:
        await donate(community, TERMS * TERM_FEN, restricted_to="education")
        orphan = await known_resident(community)
        response = await client.post(
            "/v1/commitments",
            json={
                "district": community.district,
                "community": community.community,
                "resident_id": orphan,
                "purpose": "education",
                "total_fen": TERMS * TERM_FEN,
                "until": "2030-08-31",
                "reason": "school fees every term until 18",
                "schedule": SCHEDULE_BODY,
            },
            headers=community.as_(Role.FUND_OFFICER, "officer-a"),
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    return make


async def run_job(client, day: str) -> int:
    factory = client.app.state.session_factory
    return await request_due_instalments(factory, second_approval_above=200_000, now=at(day))


async def requests_of(client, community) -> list[dict[str, object]]:
    listed = await client.get("/v1/disbursements", headers=community.as_(Role.FUND_OFFICER))
    assert listed.status_code == 200, listed.text
    return sorted(listed.json()["items"], key=lambda d: d["instalment_number"] or 0)


async def test_each_instalment_is_requested_once_when_it_falls_due(client, community, scheduled) -> None:
    commitment = await scheduled()

    assert await run_job(client, "2026-08-31") == 0
    assert await run_job(client, "2027-03-01") == 2
    assert await run_job(client, "2027-03-02") == 0
    twins = await asyncio.gather(run_job(client, "2027-09-01"), run_job(client, "2027-09-01"))

    assert sorted(twins) == [0, 1]
    requests = await requests_of(client, community)
    assert [(d["instalment_number"], d["amount_fen"], d["status"]) for d in requests] == [
        (1, TERM_FEN, "requested"),
        (2, TERM_FEN, "requested"),
        (3, TERM_FEN, "requested"),
    ]
    assert {d["commitment_id"] for d in requests} == {commitment["id"]}
    assert {d["requested_by"] for d in requests} == {"officer-a"}, "in the name of the commitment's maker"
    due = await outbox_events(client, ".fund.commitment.instalment_due")
    assert [(e["payload"]["instalment_number"], e["payload"]["due_on"]) for e in due] == [
        (1, "2026-09-01"),
        (2, "2027-03-01"),
        (3, "2027-09-01"),
    ]
    assert len(await outbox_events(client, ".fund.disbursement.requested")) == 3


async def test_a_requested_instalment_is_approved_and_paid_out_of_the_commitment(
    client, community, scheduled
) -> None:
    commitment = await scheduled()
    await run_job(client, "2026-09-01")
    [request] = await requests_of(client, community)
    officer = community.as_(Role.FUND_OFFICER, "officer-b")

    approved = await client.post(f"/v1/disbursements/{request['id']}/approvals", headers=officer)
    paid = await client.post(f"/v1/disbursements/{request['id']}/payment", json={}, headers=officer)

    assert approved.status_code == 200 and paid.status_code == 200, paid.text
    schedule = (await client.get(f"/v1/commitments/{commitment['id']}/schedule", headers=officer)).json()
    assert schedule["paid_fen"] == TERM_FEN and schedule["instalments"][0]["status"] == "paid"
    fund = (await client.get(community.fund_path, headers=officer)).json()
    education = next(line for line in fund["funds"] if line["fund"] == "education")
    assert education["reserved_fen"] == (TERMS - 1) * TERM_FEN and education["available_fen"] == 0


async def test_the_maker_of_a_commitment_cannot_approve_its_scheduled_instalments(
    client, community, scheduled
) -> None:
    await scheduled()  # made by officer-a
    await run_job(client, "2026-09-01")
    [request] = await requests_of(client, community)
    path = f"/v1/disbursements/{request['id']}"

    own = await client.post(f"{path}/approvals", headers=community.as_(Role.FUND_OFFICER, "officer-a"))
    unapproved = await client.post(
        f"{path}/payment", json={}, headers=community.as_(Role.FUND_OFFICER, "officer-a")
    )

    assert own.status_code == 403 and own.json()["detail"] == "申请人不能审批自己的申请"
    assert unapproved.status_code == 409
    other = await client.post(f"{path}/approvals", headers=community.as_(Role.FUND_OFFICER, "officer-b"))
    assert other.status_code == 200 and other.json()["status"] == "approved", other.text


async def test_a_term_paid_by_hand_is_not_asked_for_again(client, community, scheduled) -> None:
    commitment = await scheduled()
    by_hand = await client.post(
        "/v1/disbursements",
        json={
            "district": community.district,
            "community": community.community,
            "resident_id": commitment["resident_id"],
            "purpose": "education",
            "amount_fen": TERM_FEN,
            "reason": "first term, asked for at the school gate",
            "commitment_id": commitment["id"],
        },
        headers=community.as_(Role.FUND_OFFICER, "officer-a"),
    )
    assert by_hand.status_code == 201, by_hand.text

    assert await run_job(client, "2027-03-01") == 1
    assert [d["instalment_number"] for d in await requests_of(client, community)] == [None, 2]


async def test_a_released_commitment_asks_for_nothing_more(client, community, scheduled) -> None:
    commitment = await scheduled()
    released = await client.post(
        f"/v1/commitments/{commitment['id']}/release", headers=community.as_(Role.FUND_OFFICER, "officer-b")
    )
    assert released.status_code == 200, released.text

    assert await run_job(client, "2028-01-01") == 0
    assert await requests_of(client, community) == []
