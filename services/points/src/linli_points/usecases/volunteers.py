"""Teams and volunteers: who serves, in which team, with an account for their points."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points.access import (
    ORGANISERS,
    WORKERS,
    active_resident,
    load_team,
    load_volunteer_with_balance,
)
from linli_points.models import PointsAccount, Team, Volunteer
from linli_shared.auth import Caller, Role
from linli_shared.contracts.points import VolunteerEnrolled
from linli_shared.database import flush_or_conflict
from linli_shared.errors import Invalid
from linli_shared.paging import Page, page_of
from linli_shared.scoping import in_scope
from linli_shared.unit_of_work import Made, Work, write

if TYPE_CHECKING:
    from linli_points.api.volunteers import TeamIn, VolunteerIn


@write(replay=load_team)
async def create_team(uow: Work, caller: Caller, data: TeamIn) -> Made[Team]:
    caller.check_role(*ORGANISERS)
    caller.check_sees(data.district, data.community, "community")
    team = Team(id=str(uuid.uuid4()), **data.model_dump())
    uow.session.add(team)
    return Made(team.id, team)


async def list_teams(session: AsyncSession, caller: Caller) -> list[Team]:
    listed = select(Team).where(col(Team.active).is_(True))  # a dissolved team stays on record, unlisted
    statement = in_scope(listed, Team, caller).order_by(col(Team.name))
    return list((await session.exec(statement)).all())


@write(replay=load_volunteer_with_balance)
async def enrol_volunteer(uow: Work, caller: Caller, data: VolunteerIn) -> Made[tuple[Volunteer, int]]:
    """Enrol a volunteer; a resident id must be one the registry announced, in this community."""
    caller.check_role(*ORGANISERS)
    caller.check_sees(data.district, data.community, "community")
    session = uow.session
    if data.resident_id is not None:
        await active_resident(session, data.resident_id, data.district, data.community)
    if data.team_id is not None:
        team = await session.get(Team, data.team_id)
        place = (data.district, data.community)
        if team is None or not team.active or (team.district, team.community) != place:
            raise Invalid(
                f"team {data.team_id} does not exist in {data.community}",
                zh=f"{data.community}社区没有这支志愿队伍（{data.team_id}）",
            )
    volunteer = Volunteer(id=str(uuid.uuid4()), enrolled_at=uow.now, **data.model_dump())
    session.add(volunteer)
    conflict = f"{data.subject} is already a volunteer in {data.district}"
    conflict_zh = f"账号 {data.subject} 已经是 {data.district} 的志愿者"
    await flush_or_conflict(
        session, conflict, zh=conflict_zh
    )  # the account refers to the volunteer: it goes in first
    session.add(
        PointsAccount(volunteer_id=volunteer.id, district=volunteer.district, community=volunteer.community)
    )
    uow.record(
        VolunteerEnrolled(
            volunteer_id=volunteer.id,
            subject=volunteer.subject,
            resident_id=volunteer.resident_id,
            party_member=volunteer.party_member,
        ),
        district=volunteer.district,
        community=volunteer.community,
    )
    return Made(volunteer.id, (volunteer, 0))


async def list_volunteers(
    session: AsyncSession, caller: Caller, *, cursor: str | None, limit: int
) -> Page[Volunteer]:
    """The community's volunteers, for its workers; a volunteer's list holds only themselves."""
    statement = in_scope(select(Volunteer), Volunteer, caller)
    if caller.role is Role.VOLUNTEER:
        statement = statement.where(col(Volunteer.subject) == caller.subject)
    else:
        caller.check_role(*WORKERS)
    return await page_of(session, statement, col(Volunteer.id), cursor=cursor, limit=limit)
