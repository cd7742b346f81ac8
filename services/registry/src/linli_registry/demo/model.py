"""The demo community as plain values: what `demo_community` makes and the loader sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from linli_registry.domain import Tag, VisitKind


@dataclass(frozen=True)
class DemoGrid:
    code: str
    name: str
    grid_worker: str


@dataclass(frozen=True)
class DemoHousehold:
    key: int
    grid_code: str
    address: str


@dataclass(frozen=True)
class DemoHealth:
    address: str
    children_phones: tuple[str, ...]
    past_illnesses: str
    regular_medicines: str
    notes: str


@dataclass(frozen=True)
class DemoPerson:
    key: int
    household_key: int
    grid_code: str
    full_name: str
    gender: str
    birth_date: date
    id_number: str
    phone: str | None
    tags: frozenset[Tag]
    health: DemoHealth | None
    guardian_name: str | None = None
    guardian_relation: str | None = None
    guardian_phone: str | None = None


@dataclass(frozen=True)
class DemoMoment:
    """Some days back, at a local (China time) hour of the day."""

    days_ago: int
    hour: int
    minute: int


@dataclass(frozen=True)
class DemoVisit:
    """A visit or call some days before the group's formation, at a local (China time) hour of the day."""

    days_ago: int
    hour: int
    minute: int
    kind: VisitKind
    findings: str
    follow_up: str


@dataclass(frozen=True)
class DemoCareGroup:
    person_key: int
    grid_worker: str
    neighbour_name: str
    neighbour_phone: str | None
    visits: tuple[DemoVisit, ...]
    formed: DemoMoment | None = None
    """When the group was formed if before the load (the showcase's overdue group); None: at the load."""


@dataclass(frozen=True)
class DemoCommunity:
    grids: tuple[DemoGrid, ...]
    households: tuple[DemoHousehold, ...]
    people: tuple[DemoPerson, ...]
    care_groups: tuple[DemoCareGroup, ...]
