"""HTTP routes of neighbours: translate requests to use cases and results to responses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from linli_points import neighbours
from linli_points.models import HelpOffer, HelpRequest
from linli_points.neighbours import (
    HandOverIn,
    HelpMatchIn,
    HelpMatchOut,
    HelpOfferIn,
    HelpOfferOut,
    HelpRequestIn,
    HelpRequestOut,
    OfferStatus,
    RequestStatus,
)
from linli_shared.auth import CallerDep
from linli_shared.clock import utc_now
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.service import SessionDep

router = APIRouter(prefix="/v1")


@router.post("/help-offers", status_code=201, response_model=HelpOfferOut, tags=["neighbour help"])
async def offer_help(data: HelpOfferIn, session: SessionDep, caller: CallerDep) -> object:
    return (await neighbours.offer_help(session, caller, data, now=utc_now())).model_dump()


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
    return (await neighbours.load_posting(session, caller, HelpOffer, offer_id)).model_dump()


@router.post("/help-offers/{offer_id}/withdrawal", response_model=HelpOfferOut, tags=["neighbour help"])
async def withdraw_offer(offer_id: str, session: SessionDep, caller: CallerDep) -> object:
    return (await neighbours.withdraw_posting(session, caller, HelpOffer, offer_id)).model_dump()


@router.post("/help-requests", status_code=201, response_model=HelpRequestOut, tags=["neighbour help"])
async def ask_for_help(data: HelpRequestIn, session: SessionDep, caller: CallerDep) -> object:
    return (await neighbours.ask_for_help(session, caller, data, now=utc_now())).model_dump()


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
    return (await neighbours.load_posting(session, caller, HelpRequest, request_id)).model_dump()


@router.post("/help-requests/{request_id}/withdrawal", response_model=HelpRequestOut, tags=["neighbour help"])
async def withdraw_request(request_id: str, session: SessionDep, caller: CallerDep) -> object:
    return (await neighbours.withdraw_posting(session, caller, HelpRequest, request_id)).model_dump()


@router.post("/help-matches", status_code=201, response_model=HelpMatchOut, tags=["neighbour help"])
async def match_help(data: HelpMatchIn, session: SessionDep, caller: CallerDep) -> object:
    return (await neighbours.match_help(session, caller, data, now=utc_now())).model_dump()


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
    return (await neighbours.load_match(session, caller, match_id)).model_dump()


@router.post("/help-matches/{match_id}/hand-over", response_model=HelpMatchOut, tags=["neighbour help"])
async def hand_over(match_id: str, data: HandOverIn, session: SessionDep, caller: CallerDep) -> object:
    return (await neighbours.hand_over(session, caller, match_id, data, now=utc_now())).model_dump()
