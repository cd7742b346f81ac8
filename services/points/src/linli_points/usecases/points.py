"""A volunteer's points: the ledger they can read and the corrections a worker makes to it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points.access import ORGANISERS, load_entry, load_volunteer
from linli_points.domain import EntryKind
from linli_points.ledger import PostedEntry, adjust_alone, adjust_holders_points
from linli_points.models import PointsEntry
from linli_shared.auth import Caller
from linli_shared.contracts.points import PointsAdjusted
from linli_shared.errors import Invalid
from linli_shared.paging import Page, page_of
from linli_shared.unit_of_work import Made, Replay, Work, write

if TYPE_CHECKING:
    from linli_points.api.volunteers import AdjustmentIn

REPLAY_ENTRY: Replay[PointsEntry | PostedEntry] = load_entry  # a repeat answers with the stored entry


async def list_entries(
    session: AsyncSession, caller: Caller, volunteer_id: str, *, cursor: str | None, limit: int
) -> Page[PointsEntry]:
    volunteer = await load_volunteer(session, caller, volunteer_id)
    statement = select(PointsEntry).where(PointsEntry.volunteer_id == volunteer.id)
    return await page_of(session, statement, col(PointsEntry.id), cursor=cursor, limit=limit)


@write(replay=REPLAY_ENTRY)
async def adjust_points(uow: Work, caller: Caller, data: AdjustmentIn) -> Made[PointsEntry | PostedEntry]:
    """A worker's correction, with a reason; it can never take a balance below zero."""
    caller.check_role(*ORGANISERS)
    if data.points == 0:
        raise Invalid("an adjustment of 0 points changes nothing", zh="调整的积分不能为 0")
    if alone := await adjust_alone(uow, caller, data.volunteer_id, data.points, reason=data.reason):
        return Made(str(alone.id), alone)
    volunteer, entry = await adjust_holders_points(  # a twin (same key) may have taken the points:
        uow.session,  # @write replays its answer
        caller,
        data.volunteer_id,
        data.points,
        kind=EntryKind.ADJUSTED,
        reason=data.reason,
        actor=caller.subject,
        now=uow.now,
    )
    uow.record(
        PointsAdjusted(
            volunteer_id=volunteer.id,
            points=data.points,
            balance=entry.balance_after,
            reason=data.reason,
            adjusted_by=caller.subject,
        ),
        district=volunteer.district,
        community=volunteer.community,
    )
    return Made(str(entry.id), entry)
