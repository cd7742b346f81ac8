"""Teams, volunteers and balance adjustments: each use case opens and commits one transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import partial

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points import schemas
from linli_points.domain import EntryKind
from linli_points.ledger import move_points
from linli_points.models import KnownResident, PointsAccount, PointsEntry, Team, Volunteer
from linli_shared.auth import Caller, Role
from linli_shared.contracts.points import PointsAdjusted, VolunteerEnrolled
from linli_shared.database import flush_or_conflict
from linli_shared.errors import Conflict, Forbidden, Invalid, NotFound
from linli_shared.idempotency import IdempotentRequest, commit_once, previous_result, replay_or_raise
from linli_shared.outbox import record_event
from linli_shared.paging import Page, page_of
from linli_shared.scoping import get_visible, in_scope

ORGANISERS = (Role.DISTRICT_ADMIN, Role.COMMUNITY_WORKER)
READERS = (*ORGANISERS, Role.AUDITOR, Role.GRID_WORKER)


async def create_team(session: AsyncSession, caller: Caller, data: schemas.TeamIn) -> Team:
    caller.check_role(*ORGANISERS)
    caller.check_sees(data.district, data.community, "community")
    team = Team(id=str(uuid.uuid4()), **data.model_dump())
    session.add(team)
    await session.commit()
    return team


async def list_teams(session: AsyncSession, caller: Caller) -> list[Team]:
    statement = in_scope(select(Team), Team, caller).order_by(col(Team.name))
    return list((await session.exec(statement)).all())


async def enrol_volunteer(
    session: AsyncSession, caller: Caller, data: schemas.VolunteerIn, *, now: datetime
) -> tuple[Volunteer, int]:
    """Enrol a volunteer; a resident id must be one the registry announced, in this community."""
    caller.check_role(*ORGANISERS)
    caller.check_sees(data.district, data.community, "community")
    if data.resident_id is not None:
        resident = await session.get(KnownResident, data.resident_id)
        if resident is None or (resident.district, resident.community) != (data.district, data.community):
            raise Invalid(f"resident {data.resident_id} is not known in {data.community}")
        if resident.status != "active":
            raise Invalid(f"resident {data.resident_id} is {resident.status}")
    if data.team_id is not None:
        team = await session.get(Team, data.team_id)
        if team is None or (team.district, team.community) != (data.district, data.community):
            raise Invalid(f"team {data.team_id} does not exist in {data.community}")
    volunteer = Volunteer(id=str(uuid.uuid4()), enrolled_at=now, **data.model_dump())
    session.add(volunteer)
    conflict = f"{data.subject} is already a volunteer in {data.district}"
    await flush_or_conflict(session, conflict)  # the account refers to the volunteer: it goes in first
    session.add(
        PointsAccount(volunteer_id=volunteer.id, district=volunteer.district, community=volunteer.community)
    )
    record_event(
        session,
        VolunteerEnrolled(
            volunteer_id=volunteer.id,
            subject=volunteer.subject,
            resident_id=volunteer.resident_id,
            party_member=volunteer.party_member,
        ),
        district=volunteer.district,
        community=volunteer.community,
        now=now,
    )
    await session.commit()
    return volunteer, 0


async def load_volunteer(session: AsyncSession, caller: Caller, volunteer_id: str) -> Volunteer:
    """The volunteer, if the caller may see them: volunteers see only themselves."""
    volunteer = await get_visible(session, Volunteer, volunteer_id, caller, "volunteer")
    if caller.role is Role.VOLUNTEER and volunteer.subject != caller.subject:
        raise Forbidden("volunteers may see and spend only their own points")
    return volunteer


async def volunteer_of(session: AsyncSession, caller: Caller) -> Volunteer:
    """The caller's own volunteer record."""
    found = (
        await session.exec(
            select(Volunteer).where(
                Volunteer.district == caller.district, Volunteer.subject == caller.subject
            )
        )
    ).first()
    if found is None:
        raise NotFound("you are not enrolled as a volunteer")
    return found


async def balance_of(session: AsyncSession, volunteer_id: str) -> int:
    account = await session.get(PointsAccount, volunteer_id)
    return account.balance if account else 0


async def get_volunteer(session: AsyncSession, caller: Caller, volunteer_id: str) -> tuple[Volunteer, int]:
    volunteer = await load_volunteer(session, caller, volunteer_id)
    return volunteer, await balance_of(session, volunteer.id)


async def list_volunteers(
    session: AsyncSession, caller: Caller, *, cursor: str | None, limit: int
) -> Page[Volunteer]:
    caller.check_role(*READERS)
    return await page_of(
        session, in_scope(select(Volunteer), Volunteer, caller), col(Volunteer.id), cursor=cursor, limit=limit
    )


async def list_entries(
    session: AsyncSession, caller: Caller, volunteer_id: str, *, cursor: str | None, limit: int
) -> Page[PointsEntry]:
    volunteer = await load_volunteer(session, caller, volunteer_id)
    statement = select(PointsEntry).where(PointsEntry.volunteer_id == volunteer.id)
    return await page_of(session, statement, col(PointsEntry.id), cursor=cursor, limit=limit)


async def load_entry(session: AsyncSession, entry_id: str) -> PointsEntry:
    entry = await session.get(PointsEntry, int(entry_id))
    assert entry is not None  # recorded with its idempotency key, in the same transaction
    return entry


async def adjust_points(
    session: AsyncSession,
    caller: Caller,
    data: schemas.AdjustmentIn,
    *,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> PointsEntry:
    """A worker's correction, with a reason; it can never take a balance below zero."""
    caller.check_role(*ORGANISERS)
    if data.points == 0:
        raise Invalid("an adjustment of 0 points changes nothing")
    if idempotency and (previous := await previous_result(session, idempotency)):
        return await load_entry(session, previous)
    volunteer = await load_volunteer(session, caller, data.volunteer_id)
    replay = partial(load_entry, session)
    try:
        entry = await move_points(
            session,
            volunteer,
            data.points,
            kind=EntryKind.ADJUSTED,
            reason=data.reason,
            actor=caller.subject,
            now=now,
        )
    except Conflict as error:  # the points may be gone to a twin (same key): its answer is ours
        return await replay_or_raise(session, idempotency, error, replay)
    record_event(
        session,
        PointsAdjusted(
            volunteer_id=volunteer.id,
            points=data.points,
            balance=entry.balance_after,
            reason=data.reason,
            adjusted_by=caller.subject,
        ),
        district=volunteer.district,
        community=volunteer.community,
        now=now,
    )
    return await commit_once(session, idempotency, str(entry.id), replay, entry)
