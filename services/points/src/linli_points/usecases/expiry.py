"""What lapses with time, run periodically: points older than a community's limit, unfulfilled claims.

Each job is safe to run again and on several replicas at once: every change is a conditional
update or a debit under the account's row lock, so a second run finds nothing left to do.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points.domain import EntryKind, expirable_points
from linli_points.domain.wishes import WishStatus
from linli_points.ledger import move_points
from linli_points.models import CommunityRules, PointsAccount, PointsEntry, Volunteer, Wish
from linli_shared.contracts.points import PointsExpired, WishClaimExpired
from linli_shared.unit_of_work import UnitOfWork, Work


async def expire_points(session_factory: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Take away points older than each community's limit; return how many points expired.

    Each volunteer is worked out in their own unit of work, under their account's row lock."""
    async with session_factory() as session:
        limits = (
            await session.exec(
                select(CommunityRules).where(col(CommunityRules.points_expire_after_days).is_not(None))
            )
        ).all()
        targets = [
            (rules, volunteer_id)
            for rules in limits
            for volunteer_id in (
                await session.exec(
                    select(Volunteer.id).where(
                        Volunteer.district == rules.district, Volunteer.community == rules.community
                    )
                )
            ).all()
        ]
    expired = 0
    for rules, volunteer_id in targets:
        async with UnitOfWork(session_factory, clock=lambda: now) as uow:
            points = await expire_for(uow, volunteer_id, rules)
            await uow.commit()
        expired += points
    return expired


async def expire_for(uow: Work, volunteer_id: str, rules: CommunityRules) -> int:
    cutoff = uow.now - timedelta(days=rules.points_expire_after_days or 0)
    session = uow.session
    locked = select(PointsAccount).where(PointsAccount.volunteer_id == volunteer_id).with_for_update()
    if (await session.exec(locked)).first() is None:
        return 0
    old_credits = func.sum(
        case(
            (
                col(PointsEntry.points) > 0,
                case((col(PointsEntry.created_at) <= cutoff, col(PointsEntry.points)), else_=0),
            ),
            else_=0,
        )
    )
    debits = func.sum(case((col(PointsEntry.points) < 0, -col(PointsEntry.points)), else_=0))
    credited, debited = (
        await session.exec(select(old_credits, debits).where(PointsEntry.volunteer_id == volunteer_id))
    ).one()
    points = expirable_points(int(credited or 0), int(debited or 0))
    volunteer = await session.get(Volunteer, volunteer_id)
    if not points or volunteer is None:
        return 0
    reason = f"points older than {rules.points_expire_after_days} days expire"
    entry = await move_points(
        session, volunteer, -points, kind=EntryKind.EXPIRED, reason=reason, actor="points-expiry", now=uow.now
    )
    uow.record(
        PointsExpired(volunteer_id=volunteer.id, points=points, balance=entry.balance_after),
        district=volunteer.district,
        community=volunteer.community,
    )
    return points


async def expire_claims(session_factory: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Put back to open every claim not fulfilled by its deadline; return how many.

    Each wish moves by a conditional update that re-checks the deadline, so two replicas running
    this at once expire a claim once, and a fresh claim made meanwhile is left alone.
    """
    async with UnitOfWork(session_factory, clock=lambda: now) as uow:
        due = (
            await uow.session.exec(
                select(Wish)
                .where(col(Wish.status) == WishStatus.CLAIMED.value, col(Wish.claim_expires_at) <= now)
                .order_by(col(Wish.claim_expires_at))
            )
        ).all()
        expired = 0
        for wish in due:
            expired += await reopen_lapsed_claim(uow, wish)
        await uow.commit()
    return expired


async def reopen_lapsed_claim(uow: Work, wish: Wish) -> int:
    """Reopen the wish if its claim is still the one that lapsed; 1 if it did, 0 if not."""
    claimant_id = wish.claimant_id  # read first: the update below synchronises the loaded row
    if claimant_id is None:
        return 0
    result = await uow.session.exec(
        update(Wish)
        .where(
            col(Wish.id) == wish.id,
            col(Wish.status) == WishStatus.CLAIMED.value,
            col(Wish.claimant_id) == claimant_id,
            col(Wish.claim_expires_at) <= uow.now,
        )
        .values(
            status=WishStatus.OPEN.value,
            claimant_id=None,
            claimed_at=None,
            claim_expires_at=None,
            updated_at=uow.now,
        )
    )
    if not result.rowcount:
        return 0
    uow.record(
        WishClaimExpired(wish_id=wish.id, volunteer_id=claimant_id),
        district=wish.district,
        community=wish.community,
    )
    return 1
