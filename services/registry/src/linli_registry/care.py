"""Care groups, visit logs, the overdue-visit check and statistics: use cases, one commit each."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, case, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from linli_registry import domain, schemas
from linli_registry.domain import Status, VisitKind
from linli_registry.models import CareGroup, OverdueAlert, Resident, VisitLog
from linli_registry.usecases import REGISTRY_READERS, REGISTRY_WRITERS, load_resident
from linli_shared.auth import Caller, Role
from linli_shared.contracts.registry import CareGroupFormed, VisitLogged, VisitOverdue
from linli_shared.database import commit_or_conflict
from linli_shared.errors import Conflict, Invalid
from linli_shared.outbox import record_event
from linli_shared.paging import Page, page_of
from linli_shared.scoping import in_scope

CARE_GROUP_FORMERS = (Role.DISTRICT_ADMIN, Role.COMMUNITY_WORKER)


async def form_care_group(
    session: AsyncSession, caller: Caller, data: schemas.CareGroupIn, *, now: datetime
) -> CareGroup:
    """Three people around one elder: a community worker, a grid worker and a neighbour."""
    caller.check_role(*CARE_GROUP_FORMERS)
    resident = await load_resident(session, caller, data.resident_id)
    domain.check_can_change_status(resident.status)
    existing = (await session.exec(select(CareGroup).where(CareGroup.resident_id == resident.id))).first()
    if existing is not None:
        raise Conflict("this resident already has a care group")
    group = CareGroup(
        id=str(uuid.uuid4()),
        district=resident.district,
        community=resident.community,
        formed_at=now,
        **data.model_dump(),
    )
    session.add(group)
    record_event(
        session,
        CareGroupFormed(
            care_group_id=group.id,
            resident_id=resident.id,
            community_worker=group.community_worker,
            grid_worker=group.grid_worker,
            neighbour_name=group.neighbour_name,
            neighbour_phone=group.neighbour_phone,
            visit_every_hours=group.visit_every_hours,
            call_every_days=group.call_every_days,
        ),
        district=group.district,
        community=group.community,
        now=now,
    )
    await commit_or_conflict(session, "this resident already has a care group")
    return group


async def list_care_groups(
    session: AsyncSession, caller: Caller, *, mine: bool, cursor: str | None, limit: int
) -> Page[CareGroup]:
    caller.check_role(*REGISTRY_READERS)
    statement = in_scope(select(CareGroup).where(col(CareGroup.active).is_(True)), CareGroup, caller)
    if mine:
        statement = statement.where(
            (CareGroup.grid_worker == caller.subject) | (CareGroup.community_worker == caller.subject)
        )
    return await page_of(session, statement, col(CareGroup.id), cursor=cursor, limit=limit)


async def log_visit(
    session: AsyncSession, caller: Caller, data: schemas.VisitIn, *, now: datetime
) -> VisitLog:
    """Write down a visit or call (民情日志); it counts for the resident's care group if any."""
    caller.check_role(*REGISTRY_WRITERS)
    resident = await load_resident(session, caller, data.resident_id)
    visited_at = data.visited_at or now
    if visited_at.tzinfo is None:
        raise Invalid("visited_at needs a timezone")
    if visited_at > now + timedelta(minutes=5):
        raise Invalid("visited_at is in the future")
    group = (
        await session.exec(
            select(CareGroup).where(CareGroup.resident_id == resident.id, col(CareGroup.active).is_(True))
        )
    ).first()
    visit = VisitLog(
        id=str(uuid.uuid4()),
        district=resident.district,
        community=resident.community,
        resident_id=resident.id,
        care_group_id=group.id if group else None,
        kind=data.kind.value,
        visitor=caller.subject,
        visited_at=visited_at,
        findings=data.findings,
        follow_up=data.follow_up,
    )
    session.add(visit)
    record_event(
        session,
        VisitLogged(
            visit_id=visit.id,
            resident_id=resident.id,
            care_group_id=visit.care_group_id,
            kind=visit.kind,
            visitor=visit.visitor,
            visited_at=visited_at,
        ),
        district=visit.district,
        community=visit.community,
        now=now,
    )
    await session.commit()
    return visit


async def list_visits(
    session: AsyncSession, caller: Caller, *, resident_id: str | None, cursor: str | None, limit: int
) -> Page[VisitLog]:
    caller.check_role(*REGISTRY_READERS)
    statement = in_scope(select(VisitLog), VisitLog, caller)
    if resident_id:
        statement = statement.where(VisitLog.resident_id == resident_id)
    return await page_of(session, statement, col(VisitLog.id), cursor=cursor, limit=limit)


def period_of(group: CareGroup, kind: VisitKind) -> timedelta:
    if kind is VisitKind.VISIT:
        return timedelta(hours=group.visit_every_hours)
    return timedelta(days=group.call_every_days)


async def check_overdue_visits(session_factory: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Raise care.visit.overdue for each missed period of each active care group, once.

    A visit counts as a call too (whoever sat with the elder also spoke with them). Each alert
    is a row keyed by (group, kind, due_at), so a second check, or a second replica, finds the
    key taken and raises nothing.
    """
    raised = 0
    async with session_factory() as session:
        groups = (await session.exec(select(CareGroup).where(col(CareGroup.active).is_(True)))).all()
        latest = await latest_contacts(session)
    for group in groups:
        visited = [group.formed_at, *latest.get((group.id, VisitKind.VISIT.value), [])]
        called = [*visited, *latest.get((group.id, VisitKind.CALL.value), [])]
        for kind, contacts in ((VisitKind.VISIT, visited), (VisitKind.CALL, called)):
            due_at = domain.latest_missed_due(max(contacts), period_of(group, kind), now)
            if due_at is not None and await raise_overdue(session_factory, group, kind, due_at, now):
                raised += 1
    return raised


async def latest_contacts(session: AsyncSession) -> dict[tuple[str, str], list[datetime]]:
    """The latest visit and the latest call of every care group."""
    statement = (
        select(VisitLog.care_group_id, VisitLog.kind, func.max(VisitLog.visited_at))
        .where(col(VisitLog.care_group_id).is_not(None))
        .group_by(col(VisitLog.care_group_id), col(VisitLog.kind))
    )
    rows = (await session.exec(statement)).all()
    return {(group_id, kind): [latest] for group_id, kind, latest in rows if group_id and latest}


async def raise_overdue(
    session_factory: async_sessionmaker[AsyncSession],
    group: CareGroup,
    kind: VisitKind,
    due_at: datetime,
    now: datetime,
) -> bool:
    async with session_factory() as session:
        session.add(
            OverdueAlert(
                district=group.district,
                community=group.community,
                care_group_id=group.id,
                kind=kind.value,
                due_at=due_at,
                raised_at=now,
            )
        )
        record_event(
            session,
            VisitOverdue(
                care_group_id=group.id,
                resident_id=group.resident_id,
                kind=kind.value,
                due_at=due_at,
                grid_worker=group.grid_worker,
                community_worker=group.community_worker,
            ),
            district=group.district,
            community=group.community,
            now=now,
        )
        try:
            await session.commit()
        except IntegrityError:
            return False  # raised before for this period
        return True


# --- statistics ------------------------------------------------------------------------------------


def birth_date_at_most(today: date, years: int) -> date:
    """Latest birth date of someone who is `years` old or more on `today`."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


async def statistics(
    session: AsyncSession, caller: Caller, *, by_grid: bool, district: str | None, today: date
) -> list[schemas.StatisticsRow]:
    """Counts of active residents per community (or grid), in the caller's scope."""
    caller.check_role(
        Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.COMMUNITY_WORKER, Role.GRID_WORKER, Role.AUDITOR
    )

    def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    def flag(name: str) -> ColumnElement[int]:
        return count_if(col(getattr(Resident, name)).is_(True))

    def born_by(years: int) -> ColumnElement[int]:
        return count_if(col(Resident.birth_date) <= birth_date_at_most(today, years))

    keys = [col(Resident.district), col(Resident.community)] + ([col(Resident.grid_code)] if by_grid else [])
    columns = [
        func.count().label("population"),
        born_by(60).label("aged_60_plus"),
        born_by(70).label("aged_70_plus"),
        born_by(80).label("aged_80_plus"),
        *(flag(name).label(label) for name, label in STAT_FLAGS),
    ]
    # select(*args) resolves to sqlmodel's one-entity overload; these are several columns, rows are tuples
    statement = cast(Select[*tuple[Any, ...]], select(*keys, *columns))
    statement = statement.where(Resident.status == Status.ACTIVE.value)
    statement = in_scope(statement, Resident, caller).group_by(*keys).order_by(*keys)
    if district:
        statement = statement.where(Resident.district == district)
    rows = (await session.exec(statement)).all()
    names = ["district", "community"] + (["grid_code"] if by_grid else [])
    names += ["population", "aged_60_plus", "aged_70_plus", "aged_80_plus"] + [
        label for _, label in STAT_FLAGS
    ]
    return [schemas.StatisticsRow(**dict(zip(names, row, strict=True))) for row in rows]


STAT_FLAGS = [
    ("living_alone", "living_alone"),
    ("lonely", "lonely"),
    ("disabled", "disabled"),
    ("bedridden", "bedridden"),
    ("dibao", "dibao"),
    ("poor_household", "poor_household"),
    ("orphan", "orphans"),
    ("child_in_difficulty", "children_in_difficulty"),
    ("veteran", "veterans"),
    ("party_member", "party_members"),
]
