"""The registry's section of the monthly report: residents at the month's end by tag and age band,
households, and the care of elders in the month (visits, calls, overdue alerts).

Residents are counted as they stood at the end of the month: registered by then and not moved out
or died on or before its last day; their age on that day. Tags are as they are now (the registry
keeps no history of tags). Households are every household on record. Acknowledgements of the
overdue alerts live in notify, which reports them in its own section.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_registry.domain import Status, VisitKind, birth_date_at_most
from linli_registry.models import Community, Household, OverdueAlert, Resident, VisitLog
from linli_shared.auth import Caller
from linli_shared.monthly_report import AGE_BANDS, TAGS, Month, Place, ReportScope, rate, report_scope

AGE_LIMITS = [(band, low) for band, low in zip(AGE_BANDS, (0, 18, 60, 70, 80), strict=True)]


def _select(*columns: Any) -> Any:
    """A SELECT of these columns (sqlmodel's overloads type only a few, listed one by one)."""
    return select(*columns)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def monthly_report(
    session: AsyncSession, caller: Caller, month: Month, district: str | None, community: str | None
) -> dict[str, Any]:
    """One entry per community in the caller's scope, with the registry's figures of the month."""
    scope = report_scope(caller, district, community)
    names = await _community_names(session, scope)
    residents = await _residents(session, scope, month)
    households = await _counts(session, Household, scope)
    visits = await _visits(session, scope, month)
    alerts = await _alerts(session, scope, month)
    communities = []
    for place in scope.places([*names, *residents]):
        counts = residents.get(place, [0] * (1 + len(TAGS) + len(AGE_LIMITS)))
        done, calls = visits.get(place, (0, 0))
        raised, raised_for_visits = alerts.get(place, (0, 0))
        communities.append(
            {
                "district": place[0],
                "community": place[1],
                "community_name": names.get(place, ""),
                "residents": counts[0],
                "residents_by_tag": {tag: n for (tag, _), n in zip(TAGS, counts[1:], strict=False)},
                "residents_by_age_band": {
                    band: n for (band, _), n in zip(AGE_LIMITS, counts[1 + len(TAGS) :], strict=True)
                },
                "households": households.get(place, 0),
                "visits": done,
                "calls": calls,
                "overdue_alerts": raised,
                "overdue_visit_alerts": raised_for_visits,
                "visit_completion_rate": rate(done, done + raised_for_visits),
            }
        )
    return {"month": month.label, "communities": communities}


async def _community_names(session: AsyncSession, scope: ReportScope) -> dict[Place, str]:
    statement = select(Community.district, Community.code, Community.name)
    if scope.district is not None:
        statement = statement.where(Community.district == scope.district)
    if scope.community is not None:
        statement = statement.where(Community.code == scope.community)
    return {(d, c): name for d, c, name in (await session.exec(statement)).all()}


async def _residents(session: AsyncSession, scope: ReportScope, month: Month) -> dict[Place, list[int]]:
    """Per community: residents at the month's end, then per tag, then per age band on its last day."""
    birth = col(Resident.birth_date)
    bands = []
    for index, (_, low) in enumerate(AGE_LIMITS):
        older = birth <= birth_date_at_most(month.last_day, low)
        if index + 1 < len(AGE_LIMITS):
            older = and_(older, birth > birth_date_at_most(month.last_day, AGE_LIMITS[index + 1][1]))
        bands.append(_count_if(older))
    keys = [col(Resident.district), col(Resident.community)]
    columns = [
        func.count(),
        *(_count_if(col(getattr(Resident, tag)).is_(True)) for tag, _ in TAGS),
        *bands,
    ]
    statement = _select(*keys, *columns).where(
        col(Resident.registered_at) < month.end,
        or_(col(Resident.status) == Status.ACTIVE.value, col(Resident.status_on) > month.last_day),
    )
    statement = scope.narrow(statement, Resident).group_by(*keys)
    rows = (await session.exec(statement)).all()
    return {(row[0], row[1]): [int(n) for n in row[2:]] for row in rows}


async def _counts(session: AsyncSession, model: Any, scope: ReportScope) -> dict[Place, int]:
    keys = [col(model.district), col(model.community)]
    statement = scope.narrow(_select(*keys, func.count()), model).group_by(*keys)
    return {(d, c): int(n) for d, c, n in (await session.exec(statement)).all()}


async def _visits(session: AsyncSession, scope: ReportScope, month: Month) -> dict[Place, tuple[int, int]]:
    """Per community: visits and calls logged as made in the month."""
    keys = [col(VisitLog.district), col(VisitLog.community)]
    statement = _select(
        *keys,
        _count_if(col(VisitLog.kind) == VisitKind.VISIT.value),
        _count_if(col(VisitLog.kind) == VisitKind.CALL.value),
    ).where(col(VisitLog.visited_at) >= month.start, col(VisitLog.visited_at) < month.end)
    statement = scope.narrow(statement, VisitLog).group_by(*keys)
    return {(d, c): (int(v), int(k)) for d, c, v, k in (await session.exec(statement)).all()}


async def _alerts(session: AsyncSession, scope: ReportScope, month: Month) -> dict[Place, tuple[int, int]]:
    """Per community: overdue alerts raised in the month, and those of them for a missed visit."""
    keys = [col(OverdueAlert.district), col(OverdueAlert.community)]
    for_visits = _count_if(col(OverdueAlert.kind) == VisitKind.VISIT.value)
    raised = col(OverdueAlert.raised_at)
    statement = _select(*keys, func.count(), for_visits).where(raised >= month.start, raised < month.end)
    statement = scope.narrow(statement, OverdueAlert).group_by(*keys)
    counts: defaultdict[Place, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for d, c, all_kinds, missed_visits in (await session.exec(statement)).all():
        counts[(d, c)] = (int(all_kinds), int(missed_visits))
    return counts
