"""The wish wall (微心愿): residents order, the branch dispatches, party members take the order."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points import wish_rules
from linli_points.ledger import earn_points
from linli_points.models import CommunityRules, KnownResident, Volunteer, Wish
from linli_points.usecases import READERS, volunteer_of
from linli_points.wish_rules import WishStatus, WrongWishState
from linli_shared.auth import Caller, Role
from linli_shared.contracts.points import (
    WishClaimed,
    WishClaimExpired,
    WishClosed,
    WishConfirmed,
    WishFulfilled,
    WishPosted,
    WishReviewed,
)
from linli_shared.errors import Invalid, NotFound
from linli_shared.idempotency import IdempotentRequest, commit_once, previous_result
from linli_shared.outbox import record_event
from linli_shared.paging import Page, page_of
from linli_shared.scoping import get_visible, in_scope

POSTERS = (Role.COMMUNITY_WORKER, Role.GRID_WORKER)
REVIEWERS = (Role.COMMUNITY_WORKER, Role.DISTRICT_ADMIN)  # "the branch"
CONFIRMERS = (Role.COMMUNITY_WORKER, Role.GRID_WORKER)


async def post_wish(
    session: AsyncSession,
    caller: Caller,
    *,
    resident_id: str,
    title: str,
    description: str,
    points_award: int,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> Wish:
    """A worker posts a wish for an active resident of their own community; it waits for review."""
    caller.check_role(*POSTERS)
    if idempotency and (previous := await previous_result(session, idempotency)):
        return await load_wish(session, caller, previous)
    resident = await session.get(KnownResident, resident_id)
    if resident is None or (resident.district, resident.community) != (caller.district, caller.community):
        raise Invalid(f"resident {resident_id} is not known in {caller.community}")
    if resident.status != "active":
        raise Invalid(f"resident {resident_id} is {resident.status}")
    wish = Wish(
        id=str(uuid.uuid4()),
        district=resident.district,
        community=resident.community,
        resident_id=resident.resident_id,
        title=title,
        description=description,
        points_award=points_award,
        status=WishStatus.PENDING.value,
        posted_by=caller.subject,
        posted_at=now,
        updated_at=now,
    )
    session.add(wish)
    record_event(
        session,
        WishPosted(wish_id=wish.id, resident_id=wish.resident_id, title=wish.title),
        district=wish.district,
        community=wish.community,
        now=now,
    )
    return await commit_once(
        session, idempotency, wish.id, lambda found: load_wish(session, caller, found), wish
    )


async def load_wish(
    session: AsyncSession, caller: Caller, wish_id: str, volunteer: Volunteer | None = None
) -> Wish:
    """The wish, if the caller may see it: volunteers see the wall and their own claims only."""
    wish = await get_visible(session, Wish, wish_id, caller, "wish")
    if caller.role is Role.RESIDENT:
        if wish.resident_id != caller.subject:
            raise NotFound("wish not found")
    elif caller.role is Role.VOLUNTEER:
        volunteer = volunteer or await volunteer_of(session, caller)
        if (volunteer.district, volunteer.community) != (wish.district, wish.community):
            raise NotFound("wish not found")
        if not wish_rules.visible_to_volunteer(wish.status, wish.claimant_id, volunteer.id):
            raise NotFound("wish not found")
    else:
        caller.check_role(*READERS)
    return wish


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
    if caller.role is Role.VOLUNTEER:
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
    session: AsyncSession,
    wish: Wish,
    to: WishStatus,
    now: datetime,
    *conditions: ColumnElement[bool],
    **values: Any,
) -> Wish:
    """Move the wish on from the status it was read in, once: of two racing requests one gets a 409.

    A conditional UPDATE … WHERE status = <as read>, so a check made before either wrote cannot
    let both through; `conditions` narrow it further (the claimant, a deadline).
    """
    current = wish_rules.check_move(wish.status, to)
    result = await session.exec(
        update(Wish)
        .where(col(Wish.id) == wish.id, col(Wish.status) == current.value, *conditions)
        .values(status=to.value, updated_at=now, **values)
    )
    await session.refresh(wish)
    if not result.rowcount:
        raise WrongWishState(f"this wish changed meanwhile: it is now {wish.status}")
    return wish


async def review_wish(
    session: AsyncSession, caller: Caller, wish_id: str, *, approve: bool, note: str, now: datetime
) -> Wish:
    """The branch puts a pending wish on the wall, or rejects it with a reason."""
    caller.check_role(*REVIEWERS)
    wish = await load_wish(session, caller, wish_id)
    to = wish_rules.review_outcome(approve, note)
    await move_wish(session, wish, to, now, reviewed_by=caller.subject, review_note=note)
    record_event(
        session,
        WishReviewed(wish_id=wish.id, resident_id=wish.resident_id, approved=approve, note=note),
        district=wish.district,
        community=wish.community,
        now=now,
    )
    await session.commit()
    return wish


async def claim_wish(session: AsyncSession, caller: Caller, wish_id: str, *, now: datetime) -> Wish:
    """A volunteer takes an open wish; however many race for it, exactly one becomes its claimant."""
    caller.check_role(Role.VOLUNTEER)
    volunteer = await volunteer_of(session, caller)
    wish = await load_wish(session, caller, wish_id, volunteer)
    wish_rules.check_move(wish.status, WishStatus.CLAIMED)
    wish_rules.check_not_own_wish(volunteer.resident_id, wish.resident_id)
    rules = await session.get(CommunityRules, (wish.district, wish.community)) or CommunityRules(
        district=wish.district, community=wish.community
    )
    expires_at = wish_rules.claim_deadline(now, rules.wish_claim_days)
    await move_wish(
        session,
        wish,
        WishStatus.CLAIMED,
        now,
        claimant_id=volunteer.id,
        claimed_at=now,
        claim_expires_at=expires_at,
    )
    record_event(
        session,
        WishClaimed(
            wish_id=wish.id,
            resident_id=wish.resident_id,
            volunteer_id=volunteer.id,
            claim_expires_at=expires_at,
        ),
        district=wish.district,
        community=wish.community,
        now=now,
    )
    await session.commit()
    return wish


async def fulfil_wish(
    session: AsyncSession, caller: Caller, wish_id: str, *, note: str, now: datetime
) -> Wish:
    """Only the claimant reports a wish fulfilled, and only while the claim is still theirs."""
    caller.check_role(Role.VOLUNTEER)
    volunteer = await volunteer_of(session, caller)
    wish = await load_wish(session, caller, wish_id, volunteer)
    wish_rules.check_move(wish.status, WishStatus.FULFILLED)
    wish_rules.check_claimant(wish.claimant_id, volunteer.id)
    wish_rules.check_claim_current(wish.claim_expires_at, now)
    await move_wish(
        session,
        wish,
        WishStatus.FULFILLED,
        now,
        col(Wish.claimant_id) == volunteer.id,
        col(Wish.claim_expires_at) > now,
        fulfilled_at=now,
        fulfilment_note=note,
    )
    record_event(
        session,
        WishFulfilled(wish_id=wish.id, resident_id=wish.resident_id, volunteer_id=volunteer.id, note=note),
        district=wish.district,
        community=wish.community,
        now=now,
    )
    await session.commit()
    return wish


async def confirm_wish(
    session: AsyncSession,
    caller: Caller,
    wish_id: str,
    *,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> Wish:
    """A worker or the resident confirms the fulfilment; the claimant earns the points, exactly once."""
    caller.check_role(*CONFIRMERS, Role.RESIDENT)
    wish = await load_wish(session, caller, wish_id)
    if idempotency and (previous := await previous_result(session, idempotency)):
        return await load_wish(session, caller, previous)
    try:
        await move_wish(session, wish, WishStatus.CONFIRMED, now, confirmed_by=caller.subject)
    except WrongWishState:
        if idempotency:  # a twin request with this key may have confirmed it while we waited
            await session.rollback()
            if previous := await previous_result(session, idempotency):
                return await load_wish(session, caller, previous)
        raise
    volunteer = await session.get(Volunteer, wish.claimant_id) if wish.claimant_id else None
    if volunteer is None:
        raise WrongWishState("this wish has no claimant to award")
    if wish.points_award > 0:
        reason = f"wish fulfilled: {wish.title}"
        await earn_points(
            session,
            volunteer,
            wish.points_award,
            reason=reason,
            actor=caller.subject,
            now=now,
            reference=wish.id,
        )
    record_event(
        session,
        WishConfirmed(wish_id=wish.id, volunteer_id=volunteer.id, points_awarded=wish.points_award),
        district=wish.district,
        community=wish.community,
        now=now,
    )
    return await commit_once(
        session, idempotency, wish.id, lambda found: load_wish(session, caller, found), wish
    )


async def expire_claims(session_factory: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Put back to open every claim not fulfilled by its deadline; return how many.

    Each wish moves by a conditional update that re-checks the deadline, so two replicas running
    this at once expire a claim once, and a fresh claim made meanwhile is left alone.
    """
    async with session_factory() as session:
        due = (
            await session.exec(
                select(Wish)
                .where(col(Wish.status) == WishStatus.CLAIMED.value, col(Wish.claim_expires_at) <= now)
                .order_by(col(Wish.claim_expires_at))
            )
        ).all()
        expired = 0
        for wish in due:
            claimant_id = wish.claimant_id  # read first: the update below synchronises the loaded row
            if claimant_id is None:
                continue
            result = await session.exec(
                update(Wish)
                .where(
                    col(Wish.id) == wish.id,
                    col(Wish.status) == WishStatus.CLAIMED.value,
                    col(Wish.claimant_id) == claimant_id,
                    col(Wish.claim_expires_at) <= now,
                )
                .values(
                    status=WishStatus.OPEN.value,
                    claimant_id=None,
                    claimed_at=None,
                    claim_expires_at=None,
                    updated_at=now,
                )
            )
            if not result.rowcount:
                continue
            record_event(
                session,
                WishClaimExpired(wish_id=wish.id, volunteer_id=claimant_id),
                district=wish.district,
                community=wish.community,
                now=now,
            )
            expired += 1
        await session.commit()
    return expired


async def close_wishes_of(session: AsyncSession, resident_id: str, reason: str, now: datetime) -> int:
    """Close every wish of a resident not yet confirmed (or already ended); return how many.

    Runs inside the caller's transaction (the inbox's) and does not commit. The update re-checks
    the status, so a confirmation that wins the race keeps its wish, and one that loses finds it closed.
    """
    closable = [s.value for s in wish_rules.CLOSABLE]
    reason = reason[:200]
    wishes = (
        await session.exec(
            select(Wish).where(col(Wish.resident_id) == resident_id, col(Wish.status).in_(closable))
        )
    ).all()
    closed = 0
    for wish in wishes:
        result = await session.exec(
            update(Wish)
            .where(col(Wish.id) == wish.id, col(Wish.status).in_(closable))
            .values(status=WishStatus.CLOSED.value, closed_reason=reason, updated_at=now)
        )
        if not result.rowcount:
            continue
        record_event(
            session,
            WishClosed(wish_id=wish.id, reason=reason),
            district=wish.district,
            community=wish.community,
            now=now,
        )
        closed += 1
    return closed
