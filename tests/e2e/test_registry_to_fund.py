"""Registry → fund, both as real processes: a beneficiary's death suspends their commitment exactly once."""

from __future__ import annotations

import uuid
from datetime import date

import httpx
import pytest
from sqlmodel import col, select

from linli_registry.domain import id_check_char
from linli_shared.auth import Role, issue_token
from linli_shared.database import make_engine, make_session_factory
from linli_shared.jetstream import stream_name
from linli_shared.outbox import OutboxMessage
from linli_shared.testing.waiting import eventually

from .conftest import JWT_SECRET

pytestmark = [pytest.mark.e2e, pytest.mark.nats]

COMMUNITY = "donglizhuang"
ID_NUMBER_BODY = "11010520120501002"
ID_NUMBER = ID_NUMBER_BODY + id_check_char(ID_NUMBER_BODY)


def bearer(role: Role, district: str | None = None, subject: str = "tester") -> dict[str, str]:
    community = COMMUNITY if district else None
    token = issue_token(JWT_SECRET, role=role, district=district, community=community, subject=subject)
    return {"Authorization": f"Bearer {token}"}


async def suspended_events(database_url: str, commitment_id: str) -> int:
    """How many commitment.suspended events the fund's outbox holds for this commitment."""
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as session:
            statement = select(OutboxMessage).where(
                col(OutboxMessage.subject).endswith(".commitment.suspended")
            )
            messages = (await session.exec(statement)).all()
    finally:
        await engine.dispose()
    return sum(1 for message in messages if commitment_id in str(message.envelope))


async def test_a_death_delivered_twice_suspends_the_commitment_once(
    start_service, nats_url, database_url
) -> None:
    import nats

    registry = start_service("registry", nats_url)
    fund = start_service("fund", nats_url, database_url=database_url)
    district = f"d{uuid.uuid4().hex[:8]}"
    admin = bearer(Role.CITY_ADMIN)
    worker = bearer(Role.COMMUNITY_WORKER, district)
    officer = bearer(Role.FUND_OFFICER, district, "officer-a")
    for path, body in (
        ("/v1/districts", {"code": district, "name": "高桥营街道"}),
        ("/v1/communities", {"district": district, "code": COMMUNITY, "name": "东李庄社区"}),
    ):
        assert httpx.post(registry.url + path, json=body, headers=admin).status_code == 201
    resident = httpx.post(
        registry.url + "/v1/residents",
        json={
            "district": district,
            "community": COMMUNITY,
            "full_name": "张小明",
            "gender": "male",
            "id_number": ID_NUMBER,
            "tags": ["orphan"],
        },
        headers=worker,
    )
    assert resident.status_code == 201, resident.text
    resident_id = resident.json()["id"]
    donation = httpx.post(
        fund.url + "/v1/donations",
        json={
            "district": district,
            "community": COMMUNITY,
            "donor_kind": "enterprise",
            "donor_name": "爱心企业",
            "channel": "bank_transfer",
            "amount_fen": 500_000,
            "restricted_to": "education",
        },
        headers=worker,
    )
    assert donation.status_code == 201, donation.text
    promise = {
        "district": district,
        "community": COMMUNITY,
        "resident_id": resident_id,
        "purpose": "education",
        "total_fen": 300_000,
        "until": "2030-04-30",
        "reason": "school fees every term until 18",
    }

    async def committed() -> httpx.Response | None:
        response = httpx.post(fund.url + "/v1/commitments", json=promise, headers=officer)
        assert response.status_code in (201, 422), response.text
        return response if response.status_code == 201 else None

    commitment = (await eventually(committed, timeout=30, every=0.2)).json()
    fund_path = f"{fund.url}/v1/funds/{district}/{COMMUNITY}"

    def education() -> dict[str, int]:
        funds = httpx.get(fund_path, headers=officer).json()["funds"]
        return next(line for line in funds if line["fund"] == "education")

    assert education()["reserved_fen"] == 300_000

    died = httpx.post(
        registry.url + f"/v1/residents/{resident_id}/death",
        json={"on": date.today().isoformat()},
        headers=worker,
    )
    assert died.status_code == 200, died.text

    async def suspended() -> dict[str, object] | None:
        answer = httpx.get(f"{fund.url}/v1/commitments/{commitment['id']}", headers=officer).json()
        return answer if answer["status"] == "suspended" else None

    after = await eventually(suspended, timeout=30, every=0.2)
    assert after["remaining_fen"] == 0
    assert education() == {
        "fund": "education",
        "balance_fen": 500_000,
        "reserved_fen": 0,
        "available_fen": 500_000,
    }
    assert await suspended_events(database_url, commitment["id"]) == 1

    # The broker delivers the same death again (a new message id slips past JetStream's dedup window).
    subject = f"linli.{district}.registry.resident.died"
    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        last = await js.get_last_msg(stream_name("registry"), subject)
        ack = await js.publish(subject, last.data, headers={"Nats-Msg-Id": str(uuid.uuid4())})
        assert not ack.duplicate

        async def redelivered() -> bool:
            state = await js.consumer_info(stream_name("registry"), "fund-registry")
            return state.ack_floor.stream_seq >= ack.seq and state.num_pending == 0

        assert await eventually(redelivered, timeout=30, every=0.2)
    finally:
        await client.drain()

    assert await suspended_events(database_url, commitment["id"]) == 1
    assert education()["reserved_fen"] == 0
    final = httpx.get(f"{fund.url}/v1/commitments/{commitment['id']}", headers=officer).json()
    assert (final["status"], final["released_at"]) == ("suspended", after["released_at"])


async def test_the_fund_demo_loads_against_the_registry_demo(start_service, nats_url) -> None:
    from linli_fund.demo import COMMUNITY, DISTRICT
    from linli_fund.demo import load_demo as load_fund_demo
    from linli_registry.demo import load_demo as load_registry_demo

    registry = start_service("registry", nats_url)
    fund = start_service("fund", nats_url)
    urls = {"registry": registry.url, "fund": fund.url}
    assert load_registry_demo(urls, JWT_SECRET, progress=lambda _: None)
    lines: list[str] = []
    assert load_fund_demo(urls, JWT_SECRET, progress=lines.append, timeout=60)
    assert not load_fund_demo(urls, JWT_SECRET, progress=lines.append)

    auditor = {"Authorization": f"Bearer {issue_token(JWT_SECRET, role=Role.AUDITOR, district=DISTRICT)}"}
    summary = httpx.get(f"{fund.url}/v1/funds/{DISTRICT}/{COMMUNITY}", headers=auditor).json()
    funds = {line["fund"]: line for line in summary["funds"]}
    assert funds["general"]["reserved_fen"] > 0, "the orphan's school fees are reserved"
    assert funds["medical"]["balance_fen"] == 800_000 - 300_000
    [commitment] = httpx.get(f"{fund.url}/v1/commitments", headers=auditor).json()["items"]
    assert (
        commitment["status"] == "active" and commitment["remaining_fen"] == commitment["total_fen"] - 50_000
    )
    assert "nothing loaded" in lines[-1]
