"""Commitments: promise money over time, read their schedule, release them early."""

from __future__ import annotations

from fastapi import APIRouter

from linli_fund.access import list_visible, load_commitment
from linli_fund.api.commitments_schemas import CommitmentIn, CommitmentOut, ScheduleOut
from linli_fund.models import Commitment
from linli_fund.usecases import commitments
from linli_shared.auth import CallerDep
from linli_shared.clock import utc_now
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["commitments"])


@router.post("/commitments", status_code=201, response_model=CommitmentOut)
async def make_commitment(data: CommitmentIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await commitments.make_commitment(uow, caller, data)).model_dump()


@router.get("/commitments", response_model=Page[CommitmentOut])
async def list_commitments(
    session: SessionDep, caller: CallerDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> object:
    page = await list_visible(session, caller, Commitment, cursor=cursor, limit=limit)
    return Page(items=[c.model_dump() for c in page.items], next_cursor=page.next_cursor)


@router.get("/commitments/{commitment_id}", response_model=CommitmentOut)
async def get_commitment(commitment_id: str, session: SessionDep, caller: CallerDep) -> object:
    return (await load_commitment(session, caller, commitment_id)).model_dump()


@router.get("/commitments/{commitment_id}/schedule", response_model=ScheduleOut)
async def get_commitment_schedule(commitment_id: str, session: SessionDep, caller: CallerDep) -> object:
    return await commitments.commitment_schedule(session, caller, commitment_id, now=utc_now())


@router.post("/commitments/{commitment_id}/release", response_model=CommitmentOut)
async def release_commitment(commitment_id: str, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await commitments.release_commitment(uow, caller, commitment_id)).model_dump()
