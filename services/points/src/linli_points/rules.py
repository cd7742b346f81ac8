"""A community's own rules (claim deadline, visit points, points expiry) and the expiry of points."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points import schemas
from linli_points.domain import EntryKind
from linli_points.ledger import move_points
from linli_points.models import CommunityRules, PointsAccount, PointsEntry, Volunteer
from linli_points.usecases import ORGANISERS
from linli_shared.auth import Caller
from linli_shared.contracts.points import PointsExpired
from linli_shared.outbox import record_event


async def rules_of(session: AsyncSession, district: str, community: str) -> CommunityRules:
    """The community's rules, or the defaults where it has set none."""
    return await session.get(CommunityRules, (district, community)) or CommunityRules(
        district=district, community=community
    )


async def get_rules(session: AsyncSession, caller: Caller, district: str, community: str) -> CommunityRules:
    caller.check_sees(district, community, "community")
    return await rules_of(session, district, community)


async def set_rules(
    session: AsyncSession, caller: Caller, district: str, community: str, data: schemas.RulesIn
) -> CommunityRules:
    caller.check_role(*ORGANISERS)
    caller.check_sees(district, community, "community")
    rules = await rules_of(session, district, community)
    for key, value in data.model_dump().items():
        setattr(rules, key, value)
    session.add(rules)
    await session.commit()
    return rules


def expirable_points(credited_before_cutoff: int, debited_ever: int) -> int:
    """Spending uses the oldest points first, so what was earned before the cutoff and not yet
    spent (or expired) is what expires now."""
    return max(0, credited_before_cutoff - debited_ever)


async def expire_points(session_factory: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Take away points older than each community's limit; return how many points expired.

    Safe to run again and on several replicas: an expiry is itself a debit, so a second run
    finds nothing left to expire; each volunteer is worked out under their account's row lock.
    """
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
        expired += await expire_for(session_factory, volunteer_id, rules, now)
    return expired


async def expire_for(
    session_factory: async_sessionmaker[AsyncSession], volunteer_id: str, rules: CommunityRules, now: datetime
) -> int:
    cutoff = now - timedelta(days=rules.points_expire_after_days or 0)
    async with session_factory() as session:
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
            session, volunteer, -points, kind=EntryKind.EXPIRED, reason=reason, actor="points-expiry", now=now
        )
        record_event(
            session,
            PointsExpired(volunteer_id=volunteer.id, points=points, balance=entry.balance_after),
            district=volunteer.district,
            community=volunteer.community,
            now=now,
        )
        await session.commit()
        return points
