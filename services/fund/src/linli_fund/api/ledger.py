"""The books of a community fund: entries and their reversal, balances, the trial balance, disclosure."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund.api.ledger_schemas import (
    DisclosureOut,
    EntryOut,
    FundOut,
    PostingOut,
    ReversalIn,
    TrialBalanceOut,
)
from linli_fund.models import JournalEntry
from linli_fund.usecases import disclosure, ledger
from linli_shared.auth import CallerDep
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.schema_types import RowIdPath
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["ledger"])
AsOfQuery = Annotated[date | None, Query(description="Balances at the end of this day (China time).")]


async def entries_out(session: AsyncSession, entries: list[JournalEntry]) -> list[EntryOut]:
    postings = await ledger.postings_of(session, [e.id for e in entries if e.id is not None])
    return [
        EntryOut(
            **entry.model_dump(),
            postings=[PostingOut(account=p.account, amount=p.amount) for p in postings[entry.id or 0]],
        )
        for entry in entries
    ]


@router.post("/entries/{entry_id}/reversal", status_code=201, response_model=EntryOut)
async def reverse_entry(
    entry_id: RowIdPath, data: ReversalIn, uow: UnitOfWorkDep, session: SessionDep, caller: CallerDep
) -> object:
    reversal = await ledger.reverse_entry(uow, caller, entry_id, data)
    return (await entries_out(session, [reversal]))[0]


@router.get("/funds/{district}/{community}", response_model=FundOut)
async def get_fund(district: str, community: str, session: SessionDep, caller: CallerDep) -> object:
    return await ledger.fund_summary(session, caller, district, community)


@router.get("/funds/{district}/{community}/trial-balance", response_model=TrialBalanceOut)
async def get_trial_balance(
    district: str, community: str, session: SessionDep, caller: CallerDep, as_of: AsOfQuery = None
) -> object:
    return await ledger.get_trial_balance(session, caller, district, community, as_of)


@router.get("/funds/{district}/{community}/entries", response_model=Page[EntryOut])
async def list_entries(
    district: str,
    community: str,
    session: SessionDep,
    caller: CallerDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    page = await ledger.list_entries(session, caller, district, community, cursor=cursor, limit=limit)
    return Page(items=await entries_out(session, page.items), next_cursor=page.next_cursor)


@router.get("/funds/{district}/{community}/disclosure", response_model=DisclosureOut)
async def get_disclosure(
    district: str,
    community: str,
    first_day: Annotated[date, Query(description="First day of the period (China time).")],
    last_day: Annotated[date, Query(description="Last day of the period, included.")],
    session: SessionDep,
    caller: CallerDep,
) -> object:
    return await disclosure.disclose(session, caller, district, community, first_day, last_day)


@router.get(
    "/funds/{district}/{community}/ledger.beancount",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "The journal in Beancount syntax."}},
)
async def export_beancount(district: str, community: str, session: SessionDep, caller: CallerDep) -> object:
    return PlainTextResponse(await ledger.export_beancount(session, caller, district, community))
