"""Care groups (三人关爱小组), visit logs (民情日志) and the check that raises missed visits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_registry import domain
from linli_registry.access import (
    CARE_GROUP_FORMERS,
    REGISTRY_READERS,
    REGISTRY_WRITERS,
    load_care_group,
    load_resident,
    load_visit,
)
from linli_registry.domain import VisitKind
from linli_registry.models import CareGroup, OverdueAlert, Resident, VisitLog
from linli_shared.auth import Caller
from linli_shared.contracts.registry import (
    CareGroupChanged,
    CareGroupFormed,
    UrgentFindingReported,
    VisitLogged,
    VisitOverdue,
)
from linli_shared.database import flush_or_conflict
from linli_shared.errors import Conflict
from linli_shared.paging import Page, page_of
from linli_shared.scoping import in_scope
from linli_shared.unit_of_work import Made, UnitOfWork, Work, write

if TYPE_CHECKING:
    from linli_registry.api.care import CareGroupIn, VisitIn

ALREADY_IN_A_GROUP = "this resident already has a care group"
ALREADY_IN_A_GROUP_ZH = "这位老人已有关爱小组"


@write(replay=load_care_group)
async def form_care_group(uow: Work, caller: Caller, data: CareGroupIn) -> Made[CareGroup]:
    """Three people around one elder: a community worker, a grid worker and a neighbour."""
    caller.check_role(*CARE_GROUP_FORMERS)
    resident = await load_resident(uow.session, caller, data.resident_id)
    domain.check_can_change_status(resident.status)
    formed_at = domain.check_formed_at(data.formed_at, uow.now) if data.formed_at else uow.now
    existing = (await uow.session.exec(select(CareGroup).where(CareGroup.resident_id == resident.id))).first()
    if existing is not None:
        raise Conflict(ALREADY_IN_A_GROUP, zh=ALREADY_IN_A_GROUP_ZH)
    group = CareGroup(
        id=str(uuid.uuid4()),
        district=resident.district,
        community=resident.community,
        formed_at=formed_at,
        **data.model_dump(exclude={"formed_at"}),
    )
    uow.session.add(group)
    uow.record(formed(group), district=group.district, community=group.community)
    await flush_or_conflict(uow.session, ALREADY_IN_A_GROUP, zh=ALREADY_IN_A_GROUP_ZH)
    return Made(group.id, group)


def formed(group: CareGroup) -> CareGroupFormed:
    return CareGroupFormed(**group_facts(group))


def changed_group(group: CareGroup, changed: list[str], *, version: int) -> CareGroupChanged:
    return CareGroupChanged(**group_facts(group), version=version, changed=changed)


def group_facts(group: CareGroup) -> dict[str, Any]:
    facts = group.model_dump(include=GROUP_FACTS)
    facts["care_group_id"] = group.id
    return facts


GROUP_FACTS = {
    "resident_id",
    "community_worker",
    "grid_worker",
    "neighbour_name",
    "neighbour_phone",
    "visit_every_hours",
    "call_every_days",
}


async def list_care_groups(
    session: AsyncSession,
    caller: Caller,
    *,
    mine: bool,
    cursor: str | None,
    limit: int,
    resident_id: str | None = None,
) -> Page[CareGroup]:
    caller.check_role(*REGISTRY_READERS)
    statement = in_scope(select(CareGroup).where(col(CareGroup.active).is_(True)), CareGroup, caller)
    if resident_id:
        statement = statement.where(CareGroup.resident_id == resident_id)
    if mine:
        statement = statement.where(
            (CareGroup.grid_worker == caller.subject) | (CareGroup.community_worker == caller.subject)
        )
    return await page_of(session, statement, col(CareGroup.id), cursor=cursor, limit=limit)


@dataclass(frozen=True)
class Dues:
    """A care group's last contacts and when the next are due, as the overdue check counts them: a
    visit counts as a call too, and without a contact since, the period runs from the forming."""

    last_visit_at: datetime | None
    last_call_at: datetime | None
    next_visit_due_at: datetime
    next_call_due_at: datetime


def dues_of(group: CareGroup, latest: dict[tuple[str, str], list[datetime]]) -> Dues:
    visits = latest.get((group.id, VisitKind.VISIT.value), [])
    calls = latest.get((group.id, VisitKind.CALL.value), [])
    visited = [group.formed_at, *visits]
    called = [*visited, *calls]
    return Dues(
        last_visit_at=max(visits, default=None),
        last_call_at=max(calls, default=None),
        next_visit_due_at=max(visited) + period_of(group, VisitKind.VISIT),
        next_call_due_at=max(called) + period_of(group, VisitKind.CALL),
    )


async def dues_of_groups(session: AsyncSession, groups: list[CareGroup]) -> dict[str, Dues]:
    """Dues of each of these groups, from one query."""
    latest = await latest_contacts(session, [group.id for group in groups])
    return {group.id: dues_of(group, latest) for group in groups}


async def elders_of_groups(session: AsyncSession, groups: list[CareGroup]) -> dict[str, Resident]:
    """The elder of each of these groups (resident id → resident), from one query; the list is read
    by the same roles as the residents, in the same scope."""
    ids = [group.resident_id for group in groups]
    found = (await session.exec(select(Resident).where(col(Resident.id).in_(ids)))).all()
    return {resident.id: resident for resident in found}


@write(replay=load_visit)
async def log_visit(uow: Work, caller: Caller, data: VisitIn) -> Made[VisitLog]:
    """Write down a visit or call (民情日志); it counts for the resident's care group if any."""
    caller.check_role(*REGISTRY_WRITERS)
    resident = await load_resident(uow.session, caller, data.resident_id)
    visited_at = domain.check_visited_at(data.visited_at or uow.now, uow.now)
    group = (
        await uow.session.exec(
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
    uow.session.add(visit)
    logged = VisitLogged(
        visit_id=visit.id,
        resident_id=resident.id,
        care_group_id=visit.care_group_id,
        kind=visit.kind,
        visitor=visit.visitor,
        visited_at=visited_at,
    )
    uow.record(logged, district=visit.district, community=visit.community)
    if data.urgent:
        uow.record(urgent_finding(visit, group), district=visit.district, community=visit.community)
    return Made(visit.id, visit)


def urgent_finding(visit: VisitLog, group: CareGroup | None) -> UrgentFindingReported:
    """What the visitor found that cannot wait, addressed to the elder's care group workers."""
    return UrgentFindingReported(
        care_group_id=visit.care_group_id,
        resident_id=visit.resident_id,
        visit_id=visit.id,
        visitor=visit.visitor,
        findings=visit.findings,
        grid_worker=group.grid_worker if group else None,
        community_worker=group.community_worker if group else None,
        district=visit.district,
        community=visit.community,
    )


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


async def latest_contacts(
    session: AsyncSession, group_ids: list[str] | None = None
) -> dict[tuple[str, str], list[datetime]]:
    """The latest visit and the latest call of every care group (or of these)."""
    statement = (
        select(VisitLog.care_group_id, VisitLog.kind, func.max(VisitLog.visited_at))
        .where(col(VisitLog.care_group_id).is_not(None))
        .group_by(col(VisitLog.care_group_id), col(VisitLog.kind))
    )
    if group_ids is not None:
        statement = statement.where(col(VisitLog.care_group_id).in_(group_ids))
    rows = (await session.exec(statement)).all()
    return {(group_id, kind): [latest] for group_id, kind, latest in rows if group_id and latest}


async def raise_overdue(
    session_factory: async_sessionmaker[AsyncSession],
    group: CareGroup,
    kind: VisitKind,
    due_at: datetime,
    now: datetime,
) -> bool:
    """One alert in its own unit of work; False if this period's alert was raised before."""
    async with UnitOfWork(session_factory, clock=lambda: now) as uow:
        uow.session.add(
            OverdueAlert(
                district=group.district,
                community=group.community,
                care_group_id=group.id,
                kind=kind.value,
                due_at=due_at,
                raised_at=now,
            )
        )
        overdue = VisitOverdue(
            care_group_id=group.id,
            resident_id=group.resident_id,
            kind=kind.value,
            due_at=due_at,
            grid_worker=group.grid_worker,
            community_worker=group.community_worker,
        )
        uow.record(overdue, district=group.district, community=group.community)
        try:
            await uow.commit()
        except IntegrityError:
            return False  # raised before for this period
        return True
