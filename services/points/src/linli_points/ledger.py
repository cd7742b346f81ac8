"""The points ledger: balances move only by conditional updates, and every move is an entry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points.domain import EntryKind, NotEnoughPoints
from linli_points.models import PointsAccount, PointsEntry, Volunteer
from linli_shared.contracts.points import PointsEarned
from linli_shared.unit_of_work import Work


async def move_points(
    session: AsyncSession,
    volunteer: Volunteer,
    points: int,
    *,
    kind: EntryKind,
    reason: str,
    actor: str,
    now: datetime,
    reference: str | None = None,
) -> PointsEntry:
    """Add (or with a negative number, take) points and append the ledger entry, which it returns.

    The balance changes in one UPDATE … WHERE balance >= taken, so two racing debits cannot both
    pass a check made before either wrote: the second finds the row changed and fails. It also
    takes the account's row lock, which serialises whatever else the transaction checks for
    this volunteer (a monthly limit, say) until it commits.
    """
    statement = (
        update(PointsAccount)
        .where(col(PointsAccount.volunteer_id) == volunteer.id)
        .values(balance=PointsAccount.balance + points)
        .returning(col(PointsAccount.balance))
    )
    if points < 0:
        statement = statement.where(col(PointsAccount.balance) >= -points)
    balance = (await session.exec(statement)).scalar_one_or_none()
    if balance is None:
        raise NotEnoughPoints(f"not enough points: {-points} needed")
    entry = PointsEntry(
        district=volunteer.district,
        community=volunteer.community,
        volunteer_id=volunteer.id,
        kind=kind.value,
        points=points,
        balance_after=balance,
        reason=reason,
        actor=actor,
        reference=reference,
        created_at=now,
    )
    session.add(entry)
    await session.flush()  # gives the entry its id
    return entry


async def earn_points(
    uow: Work, volunteer: Volunteer, points: int, *, reason: str, actor: str, reference: str
) -> PointsEntry:
    """Credit points earned (service, a wish, a visit) and announce them; the unit of work commits."""
    entry = await move_points(
        uow.session,
        volunteer,
        points,
        kind=EntryKind.EARNED,
        reason=reason,
        actor=actor,
        now=uow.now,
        reference=reference,
    )
    uow.record(
        PointsEarned(volunteer_id=volunteer.id, points=points, balance=entry.balance_after, reason=reason),
        district=volunteer.district,
        community=volunteer.community,
    )
    return entry
