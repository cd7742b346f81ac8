from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date, timedelta

import httpx
import pytest
from fastapi import Request

from linli_fund.app import create_app
from linli_fund.settings import FundSettings
from linli_fund.subscribers import REGISTRY, handlers
from linli_shared.auth import Role
from linli_shared.clock import utc_now
from linli_shared.idempotency import IdempotencyDep
from linli_shared.testing.communities import Community as SharedCommunity
from linli_shared.testing.communities import feed_resident
from linli_shared.testing.http import TEST_JWT_SECRET, running_app
from linli_shared.unit_of_work import UnitOfWork, unit_of_work


class Community(SharedCommunity):
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
def writes_later(client: httpx.AsyncClient) -> Callable[[timedelta], AbstractContextManager[None]]:
    """Within it, every write through the API runs `later` than now (its unit of work's clock)."""

    @contextmanager
    def shifted(later: timedelta) -> Iterator[None]:
        async def unit_of_work_later(request: Request, idempotency: IdempotencyDep) -> UnitOfWork:
            factory = request.app.state.session_factory
            return UnitOfWork(factory, idempotency=idempotency, clock=lambda: utc_now() + later)

        overrides = client.app.dependency_overrides  # type: ignore[attr-defined]
        overrides[unit_of_work] = unit_of_work_later
        try:
            yield
        finally:
            overrides.pop(unit_of_work, None)

    return shifted


@pytest.fixture
def community() -> Community:
    return Community.new()


@pytest.fixture
def known_resident(client: httpx.AsyncClient) -> Callable[..., object]:
    """Feed an orphan into the read model through the real inbox path."""

    async def feed(community: Community) -> str:
        factory = client.app.state.session_factory  # type: ignore[attr-defined]
        return await feed_resident(
            factory,
            REGISTRY.consumer.durable,
            handlers,
            community,
            full_name="张小明",
            birth_date=date(2012, 5, 1),
            tags=["orphan"],
        )

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


@pytest.fixture
def a_day_later(writes_later: Callable[[timedelta], AbstractContextManager[None]]) -> object:
    """Publish as if a day later: only periods that have ended can be published (donations stay today)."""

    @contextmanager
    def shifted() -> Iterator[None]:
        with writes_later(timedelta(days=1)):
            yield

    return shifted
