"""A care group member's day, worked out from the registry's care groups and visit logs: which elder
is overdue, who is due today, who can wait. Pure: no HTTP, the clock comes in as an argument."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from linli_console.words import TAG_NAMES, local_day, parse_moment


class Urgency(enum.IntEnum):
    OVERDUE = 0
    TODAY = 1
    LATER = 2


@dataclass(frozen=True)
class Due:
    kind: str  # visit or call
    at: datetime
    urgency: Urgency


@dataclass(frozen=True)
class Elder:
    """One elder of the person's care groups, as the day's page shows them."""

    resident_id: str
    name: str
    age: int | None
    tags: list[str]
    neighbour_name: str
    last_visit: datetime | None
    last_call: datetime | None
    visit: Due
    call: Due

    @property
    def first(self) -> Due:
        """The most pressing of the two: the one due sooner."""
        return min(self.visit, self.call, key=lambda due: (due.urgency, due.at))

    @property
    def urgency(self) -> Urgency:
        return self.first.urgency


def urgency_of(due_at: datetime, now: datetime) -> Urgency:
    if due_at <= now:
        return Urgency.OVERDUE
    if local_day(due_at) == local_day(now):
        return Urgency.TODAY
    return Urgency.LATER


def latest(visits: Iterable[Mapping[str, Any]], kinds: set[str]) -> datetime | None:
    moments = [parse_moment(v["visited_at"]) for v in visits if v.get("kind") in kinds]
    return max(moments, default=None)


def elder_of(
    group: Mapping[str, Any],
    resident: Mapping[str, Any] | None,
    visits: list[Mapping[str, Any]],
    now: datetime,
) -> Elder:
    """As the registry's check counts (a visit counts as a call too): the next visit is due
    `visit_every_hours` after the last visit, or after the group was formed if none since."""
    formed = parse_moment(group["formed_at"])
    counted = [v for v in visits if parse_moment(v["visited_at"]) >= formed]
    last_visit = latest(counted, {"visit"})
    last_contact = latest(counted, {"visit", "call"})
    visit_due = (last_visit or formed) + timedelta(hours=int(group["visit_every_hours"]))
    call_due = (last_contact or formed) + timedelta(days=int(group["call_every_days"]))
    return Elder(
        resident_id=str(group["resident_id"]),
        name=str(resident["full_name"]) if resident else "（无权查看的居民）",
        age=int(resident["age"]) if resident and resident.get("age") is not None else None,
        tags=[TAG_NAMES.get(t, t) for t in (resident or {}).get("tags", [])],
        neighbour_name=str(group.get("neighbour_name") or ""),
        last_visit=last_visit,
        last_call=latest(counted, {"call"}),
        visit=Due("visit", visit_due, urgency_of(visit_due, now)),
        call=Due("call", call_due, urgency_of(call_due, now)),
    )


def plan_day(elders: Iterable[Elder]) -> list[Elder]:
    """Overdue first (longest overdue on top), then due today, then the rest by when they fall due."""
    return sorted(elders, key=lambda e: (e.urgency, e.first.at, e.name))
