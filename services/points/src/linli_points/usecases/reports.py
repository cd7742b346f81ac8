"""The points service's section of the monthly report: activities held, hours served, the people
served, and points earned and spent in the month (China time).

- activities held: activities starting in the month;
- hours served: service records of days in the month (confirmed attendance and hours entered late);
- residents served: distinct residents whose wish was fulfilled, or whose neighbour-help request was
  handed over, in the month;
- points: ledger entries written in the month, earned (credits), redeemed and refunded (as positive
  numbers; a refund is a cancelled redemption given back).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points.domain import EntryKind
from linli_points.models import (
    Activity,
    HelpMatch,
    HelpRequest,
    PointsEntry,
    ServiceRecord,
    Volunteer,
    Wish,
)
from linli_shared.auth import Caller
from linli_shared.monthly_report import Month, Place, ReportScope, report_scope

Counts = dict[Place, dict[str, int]]


def _select(*columns: Any) -> Any:
    """A SELECT of these columns (sqlmodel's overloads type only a few, listed one by one)."""
    return select(*columns)


def _keys(model: Any) -> list[Any]:
    return [col(model.district), col(model.community)]


async def monthly_report(
    session: AsyncSession, caller: Caller, month: Month, district: str | None, community: str | None
) -> dict[str, Any]:
    """One entry per community in the caller's scope that the points service knows (or the one named)."""
    scope = report_scope(caller, district, community)
    counts: Counts = defaultdict(dict)
    for model in (Volunteer, Activity, Wish, HelpRequest):
        statement = scope.narrow(select(*_keys(model)).distinct(), model)
        for place in (await session.exec(statement)).all():
            counts[(place[0], place[1])]
    await _activities(session, scope, month, counts)
    await _service(session, scope, month, counts)
    await _served(session, scope, month, counts)
    await _points(session, scope, month, counts)
    communities = []
    for place in scope.places(counts):
        found = counts.get(place, {})
        minutes = found.get("service_minutes", 0)
        communities.append(
            {
                "district": place[0],
                "community": place[1],
                "activities_held": found.get("activities_held", 0),
                "service_minutes": minutes,
                "service_hours": round(minutes / 60, 1),
                "volunteers_serving": found.get("volunteers_serving", 0),
                "wishes_fulfilled": found.get("wishes_fulfilled", 0),
                "help_handed_over": found.get("help_handed_over", 0),
                "residents_served": found.get("residents_served", 0),
                "points_earned": found.get("points_earned", 0),
                "points_redeemed": found.get("points_redeemed", 0),
                "points_refunded": found.get("points_refunded", 0),
            }
        )
    return {"month": month.label, "communities": communities}


async def _activities(session: AsyncSession, scope: ReportScope, month: Month, counts: Counts) -> None:
    statement = _select(*_keys(Activity), func.count()).where(
        col(Activity.starts_at) >= month.start, col(Activity.starts_at) < month.end
    )
    for d, c, n in (await session.exec(scope.narrow(statement, Activity).group_by(*_keys(Activity)))).all():
        counts[(d, c)]["activities_held"] = int(n)


async def _service(session: AsyncSession, scope: ReportScope, month: Month, counts: Counts) -> None:
    statement = _select(
        *_keys(ServiceRecord),
        func.coalesce(func.sum(col(ServiceRecord.minutes)), 0),
        func.count(func.distinct(col(ServiceRecord.volunteer_id))),
    ).where(col(ServiceRecord.served_on) >= month.first_day, col(ServiceRecord.served_on) <= month.last_day)
    statement = scope.narrow(statement, ServiceRecord).group_by(*_keys(ServiceRecord))
    for d, c, minutes, volunteers in (await session.exec(statement)).all():
        counts[(d, c)].update(service_minutes=int(minutes), volunteers_serving=int(volunteers))


async def _served(session: AsyncSession, scope: ReportScope, month: Month, counts: Counts) -> None:
    """Wishes fulfilled and help handed over in the month, and the distinct residents they served."""
    residents: defaultdict[Place, set[str]] = defaultdict(set)
    wishes = select(Wish.district, Wish.community, Wish.resident_id).where(
        col(Wish.fulfilled_at) >= month.start, col(Wish.fulfilled_at) < month.end
    )
    for d, c, resident in (await session.exec(scope.narrow(wishes, Wish))).all():
        counts[(d, c)]["wishes_fulfilled"] = counts[(d, c)].get("wishes_fulfilled", 0) + 1
        residents[(d, c)].add(resident)
    handed = (
        select(HelpMatch.district, HelpMatch.community, HelpRequest.resident_id)
        .join(HelpRequest, col(HelpRequest.id) == col(HelpMatch.request_id))
        .where(col(HelpMatch.handed_over_at) >= month.start, col(HelpMatch.handed_over_at) < month.end)
    )
    for d, c, resident in (await session.exec(scope.narrow(handed, HelpMatch))).all():
        counts[(d, c)]["help_handed_over"] = counts[(d, c)].get("help_handed_over", 0) + 1
        residents[(d, c)].add(resident)
    for place, served in residents.items():
        counts[place]["residents_served"] = len(served)


async def _points(session: AsyncSession, scope: ReportScope, month: Month, counts: Counts) -> None:
    kinds = {
        EntryKind.EARNED.value: "points_earned",
        EntryKind.REDEEMED.value: "points_redeemed",
        EntryKind.REFUNDED.value: "points_refunded",
    }
    keys = [*_keys(PointsEntry), col(PointsEntry.kind)]
    statement = _select(*keys, func.coalesce(func.sum(col(PointsEntry.points)), 0)).where(
        col(PointsEntry.created_at) >= month.start,
        col(PointsEntry.created_at) < month.end,
        col(PointsEntry.kind).in_(kinds),
    )
    for d, c, kind, points in (
        await session.exec(scope.narrow(statement, PointsEntry).group_by(*keys))
    ).all():
        counts[(d, c)][kinds[kind]] = abs(int(points))
