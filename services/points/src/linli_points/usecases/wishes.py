"""The wish wall (微心愿): residents order, the branch dispatches, party members take the order."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points.access import (
    CONFIRMERS,
    POSTERS,
    READERS,
    REVIEWERS,
    active_resident,
    check_serving,
    load_wish,
    rules_of,
    volunteer_of,
)
from linli_points.domain import wishes as wish_rules
from linli_points.domain.wishes import WishStatus, WrongWishState
from linli_points.ledger import earn_points
from linli_points.models import Volunteer, Wish
from linli_points.words import status_zh
from linli_shared.auth import Caller, Role
from linli_shared.contracts.points import (
    WishClaimed,
    WishClosed,
    WishConfirmed,
    WishFulfilled,
    WishPosted,
    WishReviewed,
)
from linli_shared.errors import Forbidden
from linli_shared.paging import Page, page_of
from linli_shared.scoping import in_scope
from linli_shared.unit_of_work import Made, Work, write

if TYPE_CHECKING:
    from linli_points.api.wishes import FulfilmentIn, ReviewIn, WishIn


@write(replay=load_wish)
async def post_wish(uow: Work, caller: Caller, data: WishIn) -> Made[Wish]:
    """A worker posts a wish for an active resident of their own community, a resident for
    themselves only; either way it waits for review."""
    caller.check_role(*POSTERS)
    if caller.role is Role.RESIDENT and data.resident_id != caller.subject:
        raise Forbidden("residents may post wishes only for themselves", zh="居民只能为自己登记心愿")
    resident = await active_resident(uow.session, data.resident_id, caller.district, caller.community)
    wish = Wish(
        id=str(uuid.uuid4()),
        district=resident.district,
        community=resident.community,
        resident_id=resident.resident_id,
        title=data.title,
        description=data.description,
        points_award=data.points_award,
        status=WishStatus.PENDING.value,
        posted_by=caller.subject,
        posted_at=uow.now,
        updated_at=uow.now,
    )
    uow.session.add(wish)
    uow.record(
        WishPosted(wish_id=wish.id, resident_id=wish.resident_id, title=wish.title),
        district=wish.district,
        community=wish.community,
    )
    return Made(wish.id, wish)


async def list_wishes(
    session: AsyncSession,
    caller: Caller,
    *,
    status: WishStatus | None,
    resident_id: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Wish]:
    statement = in_scope(select(Wish), Wish, caller)
    if caller.role is Role.RESIDENT:  # their own wishes, whatever their state
        if resident_id not in (None, caller.subject):
            raise Forbidden("residents may list only their own wishes", zh="居民只能查看自己的心愿")
        statement = statement.where(col(Wish.resident_id) == caller.subject)
    elif caller.role is Role.VOLUNTEER:
        volunteer = await volunteer_of(session, caller)
        on_the_wall = [s.value for s in wish_rules.ON_THE_WALL]
        statement = statement.where(
            or_(col(Wish.status).in_(on_the_wall), col(Wish.claimant_id) == volunteer.id)
        )
    else:
        caller.check_role(*READERS)
    if status is not None:
        statement = statement.where(col(Wish.status) == status.value)
    if resident_id is not None:
        statement = statement.where(col(Wish.resident_id) == resident_id)
    return await page_of(session, statement, col(Wish.id), cursor=cursor, limit=limit)


async def move_wish(
    uow: Work, wish: Wish, to: WishStatus, *conditions: ColumnElement[bool], **values: Any
) -> Wish:
    """Move the wish on from the status it was read in, once: of two racing requests one gets a 409.

    A conditional UPDATE … WHERE status = <as read>, so a check made before either wrote cannot
    let both through; `conditions` narrow it further (the claimant, a deadline).
    """
    current = wish_rules.check_move(wish.status, to)
    result = await uow.session.exec(
        update(Wish)
        .where(col(Wish.id) == wish.id, col(Wish.status) == current.value, *conditions)
        .values(status=to.value, updated_at=uow.now, **values)
    )
    await uow.session.refresh(wish)
    if not result.rowcount:
        raise WrongWishState(
            f"this wish changed meanwhile: it is now {wish.status}",
            zh=f"这个心愿刚被别人处理过，现在是「{status_zh(wish.status)}」，请刷新后再看",
        )
    return wish


@write(replay=load_wish)
async def review_wish(uow: Work, caller: Caller, wish_id: str, data: ReviewIn) -> Made[Wish]:
    """The branch puts a pending wish on the wall, or rejects it with a reason."""
    caller.check_role(*REVIEWERS)
    wish = await load_wish(uow.session, caller, wish_id)
    to = wish_rules.review_outcome(data.approve, data.note)
    await move_wish(uow, wish, to, reviewed_by=caller.subject, review_note=data.note)
    uow.record(
        WishReviewed(wish_id=wish.id, resident_id=wish.resident_id, approved=data.approve, note=data.note),
        district=wish.district,
        community=wish.community,
    )
    return Made(wish.id, wish)


@write(replay=load_wish)
async def claim_wish(uow: Work, caller: Caller, wish_id: str) -> Made[Wish]:
    """A volunteer takes an open wish; however many race for it, exactly one becomes its claimant."""
    caller.check_role(Role.VOLUNTEER)
    volunteer = await volunteer_of(uow.session, caller)
    check_serving(volunteer)
    wish = await load_wish(uow.session, caller, wish_id, volunteer)
    wish_rules.check_move(wish.status, WishStatus.CLAIMED)
    wish_rules.check_not_own_wish(volunteer.resident_id, wish.resident_id)
    rules = await rules_of(uow.session, wish.district, wish.community)
    expires_at = wish_rules.claim_deadline(uow.now, rules.wish_claim_days)
    await move_wish(
        uow,
        wish,
        WishStatus.CLAIMED,
        claimant_id=volunteer.id,
        claimed_at=uow.now,
        claim_expires_at=expires_at,
    )
    uow.record(
        WishClaimed(
            wish_id=wish.id,
            resident_id=wish.resident_id,
            volunteer_id=volunteer.id,
            claim_expires_at=expires_at,
        ),
        district=wish.district,
        community=wish.community,
    )
    return Made(wish.id, wish)


@write(replay=load_wish)
async def fulfil_wish(uow: Work, caller: Caller, wish_id: str, data: FulfilmentIn) -> Made[Wish]:
    """Only the claimant reports a wish fulfilled, and only while the claim is still theirs."""
    caller.check_role(Role.VOLUNTEER)
    volunteer = await volunteer_of(uow.session, caller)
    wish = await load_wish(uow.session, caller, wish_id, volunteer)
    wish_rules.check_move(wish.status, WishStatus.FULFILLED)
    wish_rules.check_claimant(wish.claimant_id, volunteer.id)
    wish_rules.check_claim_current(wish.claim_expires_at, uow.now)
    await move_wish(
        uow,
        wish,
        WishStatus.FULFILLED,
        col(Wish.claimant_id) == volunteer.id,
        col(Wish.claim_expires_at) > uow.now,
        fulfilled_at=uow.now,
        fulfilment_note=data.note,
    )
    uow.record(
        WishFulfilled(
            wish_id=wish.id, resident_id=wish.resident_id, volunteer_id=volunteer.id, note=data.note
        ),
        district=wish.district,
        community=wish.community,
    )
    return Made(wish.id, wish)


@write(replay=load_wish)
async def confirm_wish(uow: Work, caller: Caller, wish_id: str) -> Made[Wish]:
    """A worker or the resident confirms the fulfilment; the claimant earns the points, exactly once.

    A twin request (same key) may have confirmed it while we waited: @write then gives its answer."""
    caller.check_role(*CONFIRMERS, Role.RESIDENT)
    wish = await load_wish(uow.session, caller, wish_id)
    await move_wish(uow, wish, WishStatus.CONFIRMED, confirmed_by=caller.subject)
    volunteer = await uow.session.get(Volunteer, wish.claimant_id) if wish.claimant_id else None
    if volunteer is None:
        raise WrongWishState(
            "this wish has no claimant to award", zh="这个心愿没有认领的志愿者，无法发放积分"
        )
    if wish.points_award > 0:
        reason = f"wish fulfilled: {wish.title}"
        await earn_points(
            uow, volunteer, wish.points_award, reason=reason, actor=caller.subject, reference=wish.id
        )
    uow.record(
        WishConfirmed(wish_id=wish.id, volunteer_id=volunteer.id, points_awarded=wish.points_award),
        district=wish.district,
        community=wish.community,
    )
    return Made(wish.id, wish)


async def close_wishes_of(uow: Work, resident_id: str, reason: str, at: datetime) -> int:
    """Close every wish of a resident not yet confirmed (or already ended); return how many.

    Runs inside the caller's unit of work (the inbox's) and does not commit. The update re-checks
    the status, so a confirmation that wins the race keeps its wish, and one that loses finds it closed.
    """
    closable = [s.value for s in wish_rules.CLOSABLE]
    reason = reason[:200]
    wishes = (
        await uow.session.exec(
            select(Wish).where(col(Wish.resident_id) == resident_id, col(Wish.status).in_(closable))
        )
    ).all()
    closed = 0
    for wish in wishes:
        result = await uow.session.exec(
            update(Wish)
            .where(col(Wish.id) == wish.id, col(Wish.status).in_(closable))
            .values(status=WishStatus.CLOSED.value, closed_reason=reason, updated_at=at)
        )
        if not result.rowcount:
            continue
        uow.record(
            WishClosed(wish_id=wish.id, reason=reason),
            district=wish.district,
            community=wish.community,
            occurred_at=at,  # when the resident left, as the registry said, not when we heard
        )
        closed += 1
    return closed
