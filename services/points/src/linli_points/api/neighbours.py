"""HTTP routes of neighbour help, with what they accept and return."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from linli_points.access import load_match, load_offer, load_request
from linli_points.domain.help import OfferStatus, RequestStatus
from linli_points.models import HelpOffer, HelpRequest
from linli_points.usecases import neighbours
from linli_shared.auth import CallerDep
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.schema_types import Code, Strict
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep


class HelpPostingIn(Strict):
    district: str = Code
    community: str = Code
    resident_id: str = Field(min_length=1, max_length=36, description="A resident the registry announced.")
    goods: str = Field(min_length=1, max_length=200, description="What is offered or asked for.")
    description: str = Field(default="", max_length=1000)


class HelpOfferIn(HelpPostingIn):
    """A resident offers goods; a worker records it on their behalf."""


class HelpRequestIn(HelpPostingIn):
    """A household asks for goods; a worker records it on their behalf."""


class HelpOfferOut(BaseModel):
    id: str
    district: str
    community: str
    resident_id: str
    goods: str
    description: str
    status: OfferStatus
    posted_at: datetime


class HelpRequestOut(BaseModel):
    id: str
    district: str
    community: str
    resident_id: str
    goods: str
    description: str
    status: RequestStatus
    posted_at: datetime


class HelpMatchIn(Strict):
    offer_id: str = Field(min_length=1, max_length=36)
    request_id: str = Field(min_length=1, max_length=36)


class HandOverIn(Strict):
    note: str = Field(default="", max_length=1000, description="What was handed over, to whom, how.")


class HelpMatchOut(BaseModel):
    id: str
    district: str
    community: str
    offer_id: str
    request_id: str
    matched_by: str
    matched_at: datetime
    handed_over_at: datetime | None
    hand_over_note: str


router = APIRouter(prefix="/v1")


@router.post("/help-offers", status_code=201, response_model=HelpOfferOut, tags=["neighbour help"])
async def offer_help(data: HelpOfferIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await neighbours.offer_help(uow, caller, data)).model_dump()


@router.get("/help-offers", response_model=Page[HelpOfferOut], tags=["neighbour help"])
async def list_offers(
    session: SessionDep,
    caller: CallerDep,
    status: Annotated[OfferStatus | None, Query()] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    page = await neighbours.list_postings(
        session, caller, HelpOffer, status=status, cursor=cursor, limit=limit
    )
    return Page(items=[o.model_dump() for o in page.items], next_cursor=page.next_cursor)


@router.get("/help-offers/{offer_id}", response_model=HelpOfferOut, tags=["neighbour help"])
async def get_offer(offer_id: str, session: SessionDep, caller: CallerDep) -> object:
    return (await load_offer(session, caller, offer_id)).model_dump()


@router.post("/help-offers/{offer_id}/withdrawal", response_model=HelpOfferOut, tags=["neighbour help"])
async def withdraw_offer(offer_id: str, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await neighbours.withdraw_offer(uow, caller, offer_id)).model_dump()


@router.post("/help-requests", status_code=201, response_model=HelpRequestOut, tags=["neighbour help"])
async def ask_for_help(data: HelpRequestIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await neighbours.ask_for_help(uow, caller, data)).model_dump()


@router.get("/help-requests", response_model=Page[HelpRequestOut], tags=["neighbour help"])
async def list_requests(
    session: SessionDep,
    caller: CallerDep,
    status: Annotated[RequestStatus | None, Query()] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    page = await neighbours.list_postings(
        session, caller, HelpRequest, status=status, cursor=cursor, limit=limit
    )
    return Page(items=[r.model_dump() for r in page.items], next_cursor=page.next_cursor)


@router.get("/help-requests/{request_id}", response_model=HelpRequestOut, tags=["neighbour help"])
async def get_request(request_id: str, session: SessionDep, caller: CallerDep) -> object:
    return (await load_request(session, caller, request_id)).model_dump()


@router.post("/help-requests/{request_id}/withdrawal", response_model=HelpRequestOut, tags=["neighbour help"])
async def withdraw_request(request_id: str, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await neighbours.withdraw_request(uow, caller, request_id)).model_dump()


@router.post("/help-matches", status_code=201, response_model=HelpMatchOut, tags=["neighbour help"])
async def match_help(data: HelpMatchIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await neighbours.match_help(uow, caller, data)).model_dump()


@router.get("/help-matches", response_model=Page[HelpMatchOut], tags=["neighbour help"])
async def list_matches(
    session: SessionDep,
    caller: CallerDep,
    handed_over: Annotated[bool | None, Query(description="Only matches handed over, or not yet.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    page = await neighbours.list_matches(session, caller, handed_over=handed_over, cursor=cursor, limit=limit)
    return Page(items=[m.model_dump() for m in page.items], next_cursor=page.next_cursor)


@router.get("/help-matches/{match_id}", response_model=HelpMatchOut, tags=["neighbour help"])
async def get_match(match_id: str, session: SessionDep, caller: CallerDep) -> object:
    return (await load_match(session, caller, match_id)).model_dump()


@router.post("/help-matches/{match_id}/hand-over", response_model=HelpMatchOut, tags=["neighbour help"])
async def hand_over(match_id: str, data: HandOverIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await neighbours.hand_over(uow, caller, match_id, data)).model_dump()
