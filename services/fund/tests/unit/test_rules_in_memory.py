"""The rules of writes that only add and get rows, on the in-memory unit of work (no database)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from linli_fund.api.disbursements_schemas import DisbursementIn
from linli_fund.api.donations_schemas import CampaignIn
from linli_fund.models import Campaign, Commitment, Disbursement, KnownResident
from linli_fund.usecases.disbursements import request_disbursement
from linli_fund.usecases.donations import create_campaign
from linli_shared.auth import Caller, Role
from linli_shared.errors import Conflict, Forbidden, Invalid
from linli_shared.idempotency import IdempotentRequest
from linli_shared.testing.fakes import FakeUnitOfWork

DISTRICT, COMMUNITY = "d1", "c1"
NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
WORKER = Caller(subject="worker", role=Role.COMMUNITY_WORKER, district=DISTRICT, community=COMMUNITY)
OFFICER = Caller(subject="officer-a", role=Role.FUND_OFFICER, district=DISTRICT, community=COMMUNITY)


def drive(name: str = "秋季爱心募捐") -> CampaignIn:
    return CampaignIn(
        district=DISTRICT,
        community=COMMUNITY,
        name=name,
        starts_on=date(2026, 10, 1),
        ends_on=date(2026, 12, 31),
        target_fen=3_000_000,
    )


def keyed(body: str = "a") -> IdempotentRequest:
    return IdempotentRequest(key="k1", scope="worker:POST:/v1/campaigns", request_hash=body)


def with_resident(uow: FakeUnitOfWork, status: str = "active") -> str:
    resident_id = str(uuid.uuid4())
    uow.rows[(KnownResident, (resident_id,))] = KnownResident(
        resident_id=resident_id, district=DISTRICT, community=COMMUNITY, status=status, updated_at=NOW
    )
    return resident_id


def payment(resident_id: str, amount_fen: int = 10_000, **extra: object) -> DisbursementIn:
    return DisbursementIn.model_validate(
        {
            "district": DISTRICT,
            "community": COMMUNITY,
            "resident_id": resident_id,
            "purpose": "medical",
            "amount_fen": amount_fen,
            "reason": "hospital bill",
            **extra,
        }
    )


async def test_a_drive_opened_twice_with_one_key_is_opened_once_and_answers_the_same() -> None:
    uow = FakeUnitOfWork(idempotency=keyed(), clock=lambda: NOW)
    first = await create_campaign(uow, WORKER, drive())
    again = await create_campaign(uow, WORKER, drive())

    assert again.id == first.id and again.name == first.name
    assert uow.commits == 1
    assert [row for (model, _), row in uow.rows.items() if model is Campaign] == [first]


async def test_the_same_key_with_another_body_is_a_conflict() -> None:
    uow = FakeUnitOfWork(idempotency=keyed("a"), clock=lambda: NOW)
    await create_campaign(uow, WORKER, drive())
    uow.idempotency = keyed("b")
    with pytest.raises(Conflict):
        await create_campaign(uow, WORKER, drive("另一个名字"))
    assert uow.commits == 1


async def test_a_grid_worker_opens_no_drive_and_nothing_is_kept() -> None:
    uow = FakeUnitOfWork(clock=lambda: NOW)
    grid_worker = WORKER.model_copy(update={"role": Role.GRID_WORKER})
    with pytest.raises(Forbidden):
        await create_campaign(uow, grid_worker, drive())
    assert uow.rows == {} and uow.commits == 0


async def test_a_request_records_disbursement_requested_and_needs_two_approvals_above_the_limit() -> None:
    uow = FakeUnitOfWork(clock=lambda: NOW)
    resident = with_resident(uow)
    requested = await request_disbursement(
        uow, OFFICER, payment(resident, 300_000), second_approval_above=200_000
    )

    assert (requested.status, requested.approvals_needed, requested.fund) == ("requested", 2, "medical")
    assert requested.requested_at == NOW and requested.requested_by == "officer-a"
    [event] = uow.published
    assert event.event_type == "fund.disbursement.requested" and event.payload["approvals_needed"] == 2


@pytest.mark.parametrize(
    ("status", "extra", "detail"),
    [
        ("moved_out", {}, "is moved_out"),
        ("active", {"fund": "education"}, "cannot pay for medical"),
        ("active", {"commitment_id": "no-such-commitment"}, "does not exist"),
    ],
)
async def test_a_refused_request_records_no_event(status: str, extra: dict[str, object], detail: str) -> None:
    uow = FakeUnitOfWork(clock=lambda: NOW)
    resident = with_resident(uow, status)
    with pytest.raises(Invalid, match=detail):
        await request_disbursement(uow, OFFICER, payment(resident, **extra), second_approval_above=200_000)
    assert uow.published == [] and uow.commits == 0
    assert not any(model is Disbursement for model, _ in uow.rows)


async def test_a_payment_out_of_a_commitment_is_only_for_its_own_beneficiary() -> None:
    uow = FakeUnitOfWork(clock=lambda: NOW)
    beneficiary, other = with_resident(uow), with_resident(uow)
    commitment = Commitment(
        id="c-1",
        district=DISTRICT,
        community=COMMUNITY,
        resident_id=beneficiary,
        purpose="medical",
        fund="medical",
        total_fen=50_000,
        remaining_fen=50_000,
        until=date(2030, 1, 1),
        reason="treatment",
        made_by="officer-b",
        made_at=NOW,
    )
    uow.rows[(Commitment, ("c-1",))] = commitment
    with pytest.raises(Invalid, match="its resident, purpose and fund"):
        await request_disbursement(
            uow, OFFICER, payment(other, commitment_id="c-1"), second_approval_above=200_000
        )
    with pytest.raises(Invalid, match="only 50000 fen left"):
        await request_disbursement(
            uow, OFFICER, payment(beneficiary, 60_000, commitment_id="c-1"), second_approval_above=200_000
        )
    made = await request_disbursement(
        uow, OFFICER, payment(beneficiary, 20_000, commitment_id="c-1"), second_approval_above=200_000
    )
    assert made.commitment_id == "c-1" and uow.commits == 1
