from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx
import pytest

from linli_fund.app import create_app
from linli_fund.residents import REGISTRY_CONSUMER, on_registry_event
from linli_fund.settings import FundSettings
from linli_shared.auth import Role
from linli_shared.contracts.registry import ResidentRegistered
from linli_shared.events import Envelope
from linli_shared.inbox import apply_once
from linli_shared.testing.http import TEST_JWT_SECRET, bearer, running_app


@dataclass
class Community:
    district: str
    community: str

    def as_(self, role: Role, subject: str = "tester") -> dict[str, str]:
        return bearer(role, self.district, self.community, subject)

    @property
    def fund_path(self) -> str:
        return f"/v1/funds/{self.district}/{self.community}"


@pytest.fixture
def fund_settings(database_url: str, nats_url: str) -> FundSettings:
    return FundSettings(
        database_url=database_url, nats_url=nats_url, jwt_secret=TEST_JWT_SECRET, request_instalments=False
    )


@pytest.fixture
async def client(fund_settings: FundSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_app(fund_settings)) as http:
        yield http


@pytest.fixture
def community() -> Community:
    return Community(f"d{uuid.uuid4().hex[:8]}", f"c{uuid.uuid4().hex[:8]}")


def registered(community: Community, resident_id: str) -> Envelope:
    event = ResidentRegistered(
        resident_id=resident_id,
        community=community.community,
        full_name="张小明",
        birth_date=date(2012, 5, 1),
        id_number_masked="110105********0011",
        tags=["orphan"],
    )
    return Envelope.wrap(
        event, district=community.district, community=community.community, occurred_at=datetime.now(UTC)
    )


@pytest.fixture
def known_resident(client: httpx.AsyncClient) -> Callable[..., object]:
    """Feed a resident into the read model through the real inbox path."""

    async def feed(community: Community) -> str:
        resident_id = str(uuid.uuid4())
        factory = client.app.state.session_factory  # type: ignore[attr-defined]
        assert await apply_once(
            factory, REGISTRY_CONSUMER.durable, registered(community, resident_id), on_registry_event
        )
        return resident_id

    return feed


@pytest.fixture
def donate(client: httpx.AsyncClient) -> Callable[..., object]:
    async def record(community: Community, amount_fen: int, **extra: object) -> dict[str, object]:
        body = {
            "district": community.district,
            "community": community.community,
            "donor_kind": "party_member",
            "donor_name": "李红",
            "channel": "bank_transfer",
            "amount_fen": amount_fen,
            **extra,
        }
        response = await client.post("/v1/donations", json=body, headers=community.as_(Role.COMMUNITY_WORKER))
        assert response.status_code == 201, response.text
        return dict(response.json())

    return record


@pytest.fixture
def commit(client: httpx.AsyncClient) -> Callable[..., object]:
    """officer-a promises total_fen of the education fund to a resident ("school fees until 18")."""

    async def post(community: Community, resident_id: str, total_fen: int, **extra: object) -> httpx.Response:
        body = {
            "district": community.district,
            "community": community.community,
            "resident_id": resident_id,
            "purpose": "education",
            "total_fen": total_fen,
            "until": "2030-08-31",
            "reason": "school fees until 18",
            **extra,
        }
        return await client.post(
            "/v1/commitments", json=body, headers=community.as_(Role.FUND_OFFICER, "officer-a")
        )

    return post


@pytest.fixture
def approved_term(client: httpx.AsyncClient) -> Callable[..., object]:
    """A payment out of a commitment, requested by officer-a and approved by officer-b, not yet paid."""

    async def request_and_approve(
        community: Community, commitment: dict[str, object], amount_fen: int
    ) -> dict[str, object]:
        body = {
            "district": community.district,
            "community": community.community,
            "resident_id": commitment["resident_id"],
            "purpose": "education",
            "amount_fen": amount_fen,
            "reason": "a term's fees",
            "commitment_id": commitment["id"],
        }
        requested = await client.post(
            "/v1/disbursements", json=body, headers=community.as_(Role.FUND_OFFICER, "officer-a")
        )
        assert requested.status_code == 201, requested.text
        approval = await client.post(
            f"/v1/disbursements/{requested.json()['id']}/approvals",
            headers=community.as_(Role.FUND_OFFICER, "officer-b"),
        )
        assert approval.status_code == 200 and approval.json()["status"] == "approved", approval.text
        return dict(approval.json())

    return request_and_approve


@pytest.fixture
def approved(client: httpx.AsyncClient, known_resident: Callable[..., object]) -> Callable[..., object]:
    """A disbursement requested by officer-a and approved by officer-b (and officer-c if it needs two)."""

    async def request_and_approve(
        community: Community, amount_fen: int, purpose: str = "education", **extra: object
    ) -> dict[str, object]:
        resident_id = await known_resident(community)  # type: ignore[operator]
        body = {
            "district": community.district,
            "community": community.community,
            "resident_id": resident_id,
            "purpose": purpose,
            "amount_fen": amount_fen,
            "reason": "school fees, autumn term",
            **extra,
        }
        requested = await client.post(
            "/v1/disbursements", json=body, headers=community.as_(Role.FUND_OFFICER, "officer-a")
        )
        assert requested.status_code == 201, requested.text
        disbursement = dict(requested.json())
        for approver in ("officer-b", "officer-c")[: int(disbursement["approvals_needed"])]:  # type: ignore[call-overload]
            answer = await client.post(
                f"/v1/disbursements/{disbursement['id']}/approvals",
                headers=community.as_(Role.FUND_OFFICER, approver),
            )
            assert answer.status_code == 200, answer.text
            disbursement = dict(answer.json())
        assert disbursement["status"] == "approved"
        return disbursement

    return request_and_approve
