"""Disbursements: request, approve (once or twice), reject or pay."""

from __future__ import annotations

from fastapi import APIRouter, Request

from linli_fund.access import list_visible, load_disbursement
from linli_fund.api.disbursements_schemas import DisbursementIn, DisbursementOut, PaymentIn, RejectionIn
from linli_fund.models import Disbursement
from linli_fund.usecases import disbursements
from linli_shared.auth import CallerDep
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["disbursements"])


@router.post("/disbursements", status_code=201, response_model=DisbursementOut)
async def request_disbursement(
    data: DisbursementIn, request: Request, uow: UnitOfWorkDep, caller: CallerDep
) -> object:
    limit = request.app.state.settings.second_approval_above_fen
    disbursement = await disbursements.request_disbursement(uow, caller, data, second_approval_above=limit)
    return disbursement.model_dump()


@router.get("/disbursements", response_model=Page[DisbursementOut])
async def list_disbursements(
    session: SessionDep, caller: CallerDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> object:
    page = await list_visible(session, caller, Disbursement, cursor=cursor, limit=limit)
    return Page(items=[d.model_dump() for d in page.items], next_cursor=page.next_cursor)


@router.get("/disbursements/{disbursement_id}", response_model=DisbursementOut)
async def get_disbursement(disbursement_id: str, session: SessionDep, caller: CallerDep) -> object:
    return (await load_disbursement(session, caller, disbursement_id)).model_dump()


@router.post("/disbursements/{disbursement_id}/approvals", response_model=DisbursementOut)
async def approve_disbursement(disbursement_id: str, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await disbursements.approve_disbursement(uow, caller, disbursement_id)).model_dump()


@router.post("/disbursements/{disbursement_id}/rejection", response_model=DisbursementOut)
async def reject_disbursement(
    disbursement_id: str, data: RejectionIn, uow: UnitOfWorkDep, caller: CallerDep
) -> object:
    return (await disbursements.reject_disbursement(uow, caller, disbursement_id, data)).model_dump()


@router.post("/disbursements/{disbursement_id}/payment", response_model=DisbursementOut)
async def pay_disbursement(
    disbursement_id: str, data: PaymentIn, request: Request, uow: UnitOfWorkDep, caller: CallerDep
) -> object:
    threshold = request.app.state.settings.balance_low_below_fen
    disbursement = await disbursements.pay_disbursement(
        uow, caller, disbursement_id, data, balance_low_below=threshold
    )
    return disbursement.model_dump()
