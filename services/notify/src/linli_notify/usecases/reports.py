"""Notify's section of the monthly report: the urgent alerts of the month (missed visits, on the
escalation ladder) and how fast they were acknowledged.

An alert is one source event on the ladder: every notification of it (the first rung and each rung
it climbed) has a rung and that event's id. It belongs to the month its first notification was made
in; it is acknowledged when any notification of it is (by now), and the time to acknowledge runs
from its first notification to the first acknowledgement. It escalated when it climbed a rung.
The registry keeps the alerts raised; their acknowledgements are only here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify.models import CareGroup, Notification
from linli_shared.auth import Caller
from linli_shared.monthly_report import Month, Place, ReportScope, rate, report_scope, seconds_summary


@dataclass
class Alert:
    place: Place
    first: datetime
    acknowledged: datetime | None = None
    notifications: int = 0


@dataclass
class Tally:
    alerts: int = 0
    escalated: int = 0
    waits: list[float] = field(default_factory=list)


async def monthly_report(
    session: AsyncSession, caller: Caller, month: Month, district: str | None, community: str | None
) -> dict[str, Any]:
    """One entry per community in the caller's scope that notify knows (or the one named)."""
    scope = report_scope(caller, district, community)
    seen: list[Place] = []
    for model in (Notification, CareGroup):
        statement = scope.narrow(select(col(model.district), col(model.community)).distinct(), model)
        seen.extend((d, c) for d, c in (await session.exec(statement)).all() if c is not None)
    tallies: defaultdict[Place, Tally] = defaultdict(Tally)
    for alert in await alerts_of(session, scope, month):
        if not alert.place[1]:  # an alert names its community; one without has no row to go in
            continue
        tally = tallies[alert.place]
        tally.alerts += 1
        tally.escalated += int(alert.notifications > 1)
        if alert.acknowledged is not None:
            tally.waits.append((alert.acknowledged - alert.first).total_seconds())
    communities = []
    for place in scope.places([*seen, *tallies]):
        tally = tallies.get(place, Tally())
        median, mean = seconds_summary(tally.waits)
        communities.append(
            {
                "district": place[0],
                "community": place[1],
                "alerts": tally.alerts,
                "alerts_acknowledged": len(tally.waits),
                "acknowledgement_rate": rate(len(tally.waits), tally.alerts),
                "median_seconds_to_acknowledge": median,
                "mean_seconds_to_acknowledge": mean,
                "alerts_escalated": tally.escalated,
            }
        )
    return {"month": month.label, "communities": communities}


async def alerts_of(session: AsyncSession, scope: ReportScope, month: Month) -> list[Alert]:
    """The alerts whose first notification was made in the month, with every notification of each."""
    on_ladder = col(Notification.rung).is_not(None)
    first = func.min(col(Notification.created_at))
    firsts = (
        scope.narrow(select(col(Notification.source_event_id), first.label("first")), Notification)
        .where(on_ladder)
        .group_by(col(Notification.source_event_id))
        .having(first >= month.start, first < month.end)
        .subquery("firsts")
    )
    statement = (
        select(Notification)
        .join(firsts, firsts.c.source_event_id == col(Notification.source_event_id))
        .where(on_ladder)
        .order_by(col(Notification.id))
    )
    alerts: dict[str, Alert] = {}
    for n in (await session.exec(statement)).all():
        alert = alerts.setdefault(n.source_event_id, Alert((n.district, n.community or ""), n.created_at))
        alert.first = min(alert.first, n.created_at)
        alert.notifications += 1
        if n.acknowledged_at is not None:
            alert.acknowledged = min(alert.acknowledged or n.acknowledged_at, n.acknowledged_at)
    return list(alerts.values())
