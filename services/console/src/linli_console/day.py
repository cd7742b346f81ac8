"""A care group member's day, from the registry's care groups and the dues it counts: which elder is
overdue, who is due today, who can wait. Pure: no HTTP, the clock comes in as an argument."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
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


def elder_of(group: Mapping[str, Any], now: datetime) -> Elder:
    """One elder of the registry's care-groups list, which carries the elder's name and the group's
    dues as the registry's overdue check counts them (a visit counts as a call too)."""
    last_visit, last_call = group.get("last_visit_at"), group.get("last_call_at")
    visit_due = parse_moment(group["next_visit_due_at"])
    call_due = parse_moment(group["next_call_due_at"])
    return Elder(
        resident_id=str(group["resident_id"]),
        name=str(group.get("resident_name") or "（无权查看的居民）"),
        age=int(group["resident_age"]) if group.get("resident_age") is not None else None,
        tags=[TAG_NAMES.get(t, t) for t in group.get("resident_tags") or []],
        neighbour_name=str(group.get("neighbour_name") or ""),
        last_visit=parse_moment(last_visit) if last_visit else None,
        last_call=parse_moment(last_call) if last_call else None,
        visit=Due("visit", visit_due, urgency_of(visit_due, now)),
        call=Due("call", call_due, urgency_of(call_due, now)),
    )


def plan_day(elders: Iterable[Elder]) -> list[Elder]:
    """Overdue first (longest overdue on top), then due today, then the rest by when they fall due."""
    return sorted(elders, key=lambda e: (e.urgency, e.first.at, e.name))
