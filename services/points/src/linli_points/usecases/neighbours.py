"""Neighbour help (邻里互助): residents offer goods, households ask, a worker matches and hands over."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points.access import (
    MATCHERS,
    READERS,
    RECORDERS,
    Posting,
    active_resident,
    kind_of,
    load_match,
    load_offer,
    load_posting,
    load_request,
)
from linli_points.domain.help import OfferStatus, RequestStatus
from linli_points.models import HelpMatch, HelpOffer, HelpRequest
from linli_points.words import POSTING_NAMES, status_zh
from linli_shared.auth import Caller
from linli_shared.contracts.points import HelpHandedOver, HelpMatched
from linli_shared.database import flush_or_conflict
from linli_shared.errors import Conflict, Invalid, NotFound
from linli_shared.paging import Page, page_of
from linli_shared.scoping import in_scope
from linli_shared.unit_of_work import Made, Work, write

if TYPE_CHECKING:
    from linli_points.api.neighbours import HandOverIn, HelpMatchIn, HelpOfferIn, HelpPostingIn, HelpRequestIn


async def post_help(uow: Work, caller: Caller, model: type[Posting], data: HelpPostingIn) -> Made[Posting]:
    """Record an offer or a request, open, for an active resident of the caller's community."""
    caller.check_role(*RECORDERS)
    caller.check_sees(data.district, data.community, "community")
    await active_resident(uow.session, data.resident_id, data.district, data.community)
    posting = model(id=str(uuid.uuid4()), posted_at=uow.now, status="open", **data.model_dump())
    uow.session.add(posting)
    return Made(posting.id, posting)


@write(replay=load_offer)
async def offer_help(uow: Work, caller: Caller, data: HelpOfferIn) -> Made[HelpOffer]:
    return await post_help(uow, caller, HelpOffer, data)


@write(replay=load_request)
async def ask_for_help(uow: Work, caller: Caller, data: HelpRequestIn) -> Made[HelpRequest]:
    return await post_help(uow, caller, HelpRequest, data)


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


async def withdraw_posting(uow: Work, caller: Caller, model: type[Posting], posting_id: str) -> Made[Posting]:
    """Close an open offer or request; one already matched can no longer be withdrawn."""
    caller.check_role(*RECORDERS)
    posting = await load_posting(uow.session, caller, model, posting_id)
    moved = await move_posting(uow.session, model, posting.id, from_status="open", to="withdrawn")
    await uow.session.refresh(posting)
    if not moved:
        raise Conflict(
            f"this {kind_of(model)} is already {posting.status}",
            zh=f"这条{POSTING_NAMES[kind_of(model)]}当前为「{status_zh(posting.status)}」，不能再撤回",
        )
    return Made(posting.id, posting)


@write(replay=load_offer)
async def withdraw_offer(uow: Work, caller: Caller, offer_id: str) -> Made[HelpOffer]:
    return await withdraw_posting(uow, caller, HelpOffer, offer_id)


@write(replay=load_request)
async def withdraw_request(uow: Work, caller: Caller, request_id: str) -> Made[HelpRequest]:
    return await withdraw_posting(uow, caller, HelpRequest, request_id)


async def withdraw_postings_of(uow: Work, resident_id: str) -> int:
    """A resident who died or moved out neither offers nor asks any more; does not commit."""
    withdrawn = 0
    for model in (HelpOffer, HelpRequest):
        result = await uow.session.exec(
            update(model)
            .where(col(model.resident_id) == resident_id, col(model.status) == "open")
            .values(status="withdrawn")
            .execution_options(synchronize_session=False)
        )
        withdrawn += int(result.rowcount)
    return withdrawn


@write(replay=load_match)
async def match_help(uow: Work, caller: Caller, data: HelpMatchIn) -> Made[HelpMatch]:
    """Match one open offer to one open request of the same community, each at most once, ever."""
    caller.check_role(*MATCHERS)
    session = uow.session
    offer = await load_offer(session, caller, data.offer_id)
    request = await load_request(session, caller, data.request_id)
    if (offer.district, offer.community) != (request.district, request.community):
        raise NotFound("request not found", zh="没有找到这条帮扶需求")
    if offer.resident_id == request.resident_id:
        raise Invalid(
            "a resident cannot be matched with their own offer",
            zh="同一位居民的帮扶供给和帮扶需求不能互相对接",
        )
    # Offers are always taken before requests, so two racing matches can never wait on each other.
    if not await move_posting(session, HelpOffer, offer.id, from_status="open", to="matched"):
        await session.refresh(offer)
        raise Conflict(
            f"this offer is {offer.status}, not open",
            zh=f"这条帮扶供给当前为「{status_zh(offer.status)}」，不能再对接",
        )
    if not await move_posting(session, HelpRequest, request.id, from_status="open", to="matched"):
        await session.refresh(request)
        raise Conflict(
            f"this request is {request.status}, not open",
            zh=f"这条帮扶需求当前为「{status_zh(request.status)}」，不能再对接",
        )
    match = HelpMatch(
        id=str(uuid.uuid4()),
        district=offer.district,
        community=offer.community,
        offer_id=offer.id,
        request_id=request.id,
        matched_by=caller.subject,
        matched_at=uow.now,
    )
    session.add(match)
    uow.record(
        HelpMatched(match_id=match.id, offer_id=offer.id, request_id=request.id, goods=offer.goods),
        district=match.district,
        community=match.community,
    )
    await flush_or_conflict(
        session, "this offer or request is already matched", zh="这条帮扶供给或帮扶需求已经对接过了"
    )
    return Made(match.id, match)


async def list_matches(
    session: AsyncSession, caller: Caller, *, handed_over: bool | None, cursor: str | None, limit: int
) -> Page[HelpMatch]:
    caller.check_role(*READERS)
    statement = in_scope(select(HelpMatch), HelpMatch, caller)
    if handed_over is not None:
        handed = col(HelpMatch.handed_over_at)
        statement = statement.where(handed.is_not(None) if handed_over else handed.is_(None))
    return await page_of(session, statement, col(HelpMatch.id), cursor=cursor, limit=limit)


@write(replay=load_match)
async def hand_over(uow: Work, caller: Caller, match_id: str, data: HandOverIn) -> Made[HelpMatch]:
    """Record the hand-over once: the offer is handed over and the request fulfilled, together."""
    caller.check_role(*RECORDERS)
    session = uow.session
    match = await load_match(session, caller, match_id)
    recorded = await session.exec(
        update(HelpMatch)
        .where(col(HelpMatch.id) == match.id, col(HelpMatch.handed_over_at).is_(None))
        .values(handed_over_at=uow.now, hand_over_note=data.note)
        .execution_options(synchronize_session=False)
    )
    if not recorded.rowcount:
        raise Conflict("this hand-over is already recorded", zh="这次交接已经登记过了")
    offer_moved = await move_posting(
        session, HelpOffer, match.offer_id, from_status="matched", to=OfferStatus.HANDED_OVER.value
    )
    request_moved = await move_posting(
        session, HelpRequest, match.request_id, from_status="matched", to=RequestStatus.FULFILLED.value
    )
    if not (offer_moved and request_moved):
        raise Conflict(
            "the offer or request of this match is no longer matched",
            zh="这次对接的帮扶供给或帮扶需求已不在对接中，不能登记交接",
        )
    uow.record(HelpHandedOver(match_id=match.id), district=match.district, community=match.community)
    await session.refresh(match)
    return Made(match.id, match)
