"""Neighbour help (邻里互助): residents offer goods, households ask, a worker matches and hands over."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points.models import HelpMatch, HelpOffer, HelpRequest, KnownResident
from linli_points.schemas import Code, Strict
from linli_points.usecases import READERS
from linli_shared.auth import Caller, Role
from linli_shared.contracts.points import HelpHandedOver, HelpMatched
from linli_shared.database import commit_or_conflict
from linli_shared.errors import Conflict, Invalid, NotFound
from linli_shared.outbox import record_event
from linli_shared.paging import Page, page_of
from linli_shared.scoping import get_visible, in_scope

RECORDERS = (Role.COMMUNITY_WORKER, Role.GRID_WORKER)
MATCHERS = (Role.COMMUNITY_WORKER,)

Posting = TypeVar("Posting", HelpOffer, HelpRequest)


class OfferStatus(enum.StrEnum):
    OPEN = "open"
    MATCHED = "matched"
    HANDED_OVER = "handed_over"
    WITHDRAWN = "withdrawn"


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    MATCHED = "matched"
    FULFILLED = "fulfilled"
    WITHDRAWN = "withdrawn"


# --- what the API accepts and returns ---------------------------------------------------------


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


# --- offers and requests ----------------------------------------------------------------------


async def check_active_resident(
    session: AsyncSession, resident_id: str, district: str, community: str
) -> None:
    """The resident must be one the registry announced, in this community, and still living there."""
    resident = await session.get(KnownResident, resident_id)
    if resident is None or (resident.district, resident.community) != (district, community):
        raise Invalid(f"resident {resident_id} is not known in {community}")
    if resident.status != "active":
        raise Invalid(f"resident {resident_id} is {resident.status}")


async def post_help(
    session: AsyncSession, caller: Caller, model: type[Posting], data: HelpPostingIn, *, now: datetime
) -> Posting:
    """Record an offer or a request, open, for an active resident of the caller's community."""
    caller.check_role(*RECORDERS)
    caller.check_sees(data.district, data.community, "community")
    await check_active_resident(session, data.resident_id, data.district, data.community)
    posting = model(id=str(uuid.uuid4()), posted_at=now, status="open", **data.model_dump())
    session.add(posting)
    await session.commit()
    return posting


async def offer_help(session: AsyncSession, caller: Caller, data: HelpOfferIn, *, now: datetime) -> HelpOffer:
    return await post_help(session, caller, HelpOffer, data, now=now)


async def ask_for_help(
    session: AsyncSession, caller: Caller, data: HelpRequestIn, *, now: datetime
) -> HelpRequest:
    return await post_help(session, caller, HelpRequest, data, now=now)


def kind_of(model: type[HelpOffer] | type[HelpRequest]) -> str:
    return "offer" if model is HelpOffer else "request"


async def load_posting(
    session: AsyncSession, caller: Caller, model: type[Posting], posting_id: str
) -> Posting:
    """The offer or request, if the caller may see it; out of scope reads as missing."""
    caller.check_role(*READERS)
    return await get_visible(session, model, posting_id, caller, kind_of(model))


async def list_postings(
    session: AsyncSession,
    caller: Caller,
    model: type[Posting],
    *,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Posting]:
    caller.check_role(*READERS)
    statement = in_scope(select(model), model, caller)
    if status is not None:
        statement = statement.where(col(model.status) == status)
    return await page_of(session, statement, col(model.id), cursor=cursor, limit=limit)


async def move_posting(
    session: AsyncSession, model: type[Posting], posting_id: str, *, from_status: str, to: str
) -> bool:
    """Change a status only if it is still `from_status`: one statement, so two racers can't both."""
    result = await session.exec(
        update(model)
        .where(col(model.id) == posting_id, col(model.status) == from_status)
        .values(status=to)
        .execution_options(synchronize_session=False)  # loaded rows are refreshed, never guessed
    )
    return bool(result.rowcount)


async def withdraw_posting(
    session: AsyncSession, caller: Caller, model: type[Posting], posting_id: str
) -> Posting:
    """Close an open offer or request; one already matched can no longer be withdrawn."""
    caller.check_role(*RECORDERS)
    posting = await load_posting(session, caller, model, posting_id)
    if not await move_posting(session, model, posting.id, from_status="open", to="withdrawn"):
        await session.refresh(posting)
        raise Conflict(f"this {kind_of(model)} is already {posting.status}")
    await session.commit()
    await session.refresh(posting)
    return posting


async def withdraw_postings_of(session: AsyncSession, resident_id: str) -> int:
    """A resident who died or moved out neither offers nor asks any more; does not commit."""
    withdrawn = 0
    for model in (HelpOffer, HelpRequest):
        result = await session.exec(
            update(model)
            .where(col(model.resident_id) == resident_id, col(model.status) == "open")
            .values(status="withdrawn")
            .execution_options(synchronize_session=False)
        )
        withdrawn += int(result.rowcount)
    return withdrawn


# --- matches and hand-over --------------------------------------------------------------------


async def match_help(session: AsyncSession, caller: Caller, data: HelpMatchIn, *, now: datetime) -> HelpMatch:
    """Match one open offer to one open request of the same community, each at most once, ever."""
    caller.check_role(*MATCHERS)
    offer = await load_posting(session, caller, HelpOffer, data.offer_id)
    request = await load_posting(session, caller, HelpRequest, data.request_id)
    if (offer.district, offer.community) != (request.district, request.community):
        raise NotFound("request not found")
    if offer.resident_id == request.resident_id:
        raise Invalid("a resident cannot be matched with their own offer")
    # Offers are always taken before requests, so two racing matches can never wait on each other.
    if not await move_posting(session, HelpOffer, offer.id, from_status="open", to="matched"):
        await session.refresh(offer)
        raise Conflict(f"this offer is {offer.status}, not open")
    if not await move_posting(session, HelpRequest, request.id, from_status="open", to="matched"):
        await session.refresh(request)
        raise Conflict(f"this request is {request.status}, not open")
    match = HelpMatch(
        id=str(uuid.uuid4()),
        district=offer.district,
        community=offer.community,
        offer_id=offer.id,
        request_id=request.id,
        matched_by=caller.subject,
        matched_at=now,
    )
    session.add(match)
    record_event(
        session,
        HelpMatched(match_id=match.id, offer_id=offer.id, request_id=request.id, goods=offer.goods),
        district=match.district,
        community=match.community,
        now=now,
    )
    await commit_or_conflict(session, "this offer or request is already matched")
    return match


async def load_match(session: AsyncSession, caller: Caller, match_id: str) -> HelpMatch:
    caller.check_role(*READERS)
    return await get_visible(session, HelpMatch, match_id, caller, "match")


async def list_matches(
    session: AsyncSession, caller: Caller, *, handed_over: bool | None, cursor: str | None, limit: int
) -> Page[HelpMatch]:
    caller.check_role(*READERS)
    statement = in_scope(select(HelpMatch), HelpMatch, caller)
    if handed_over is not None:
        handed = col(HelpMatch.handed_over_at)
        statement = statement.where(handed.is_not(None) if handed_over else handed.is_(None))
    return await page_of(session, statement, col(HelpMatch.id), cursor=cursor, limit=limit)


async def hand_over(
    session: AsyncSession, caller: Caller, match_id: str, data: HandOverIn, *, now: datetime
) -> HelpMatch:
    """Record the hand-over once: the offer is handed over and the request fulfilled, together."""
    caller.check_role(*RECORDERS)
    match = await load_match(session, caller, match_id)
    recorded = await session.exec(
        update(HelpMatch)
        .where(col(HelpMatch.id) == match.id, col(HelpMatch.handed_over_at).is_(None))
        .values(handed_over_at=now, hand_over_note=data.note)
        .execution_options(synchronize_session=False)
    )
    if not recorded.rowcount:
        raise Conflict("this hand-over is already recorded")
    offer_moved = await move_posting(
        session, HelpOffer, match.offer_id, from_status="matched", to=OfferStatus.HANDED_OVER.value
    )
    request_moved = await move_posting(
        session, HelpRequest, match.request_id, from_status="matched", to=RequestStatus.FULFILLED.value
    )
    if not (offer_moved and request_moved):
        raise Conflict("the offer or request of this match is no longer matched")
    record_event(
        session,
        HelpHandedOver(match_id=match.id),
        district=match.district,
        community=match.community,
        now=now,
    )
    await session.commit()
    await session.refresh(match)
    return match
