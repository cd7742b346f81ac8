"""What the registry publishes: residents and their care."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from pydantic import Field

from linli_shared.events import Event


class RegistryEvent(Event):
    service: ClassVar[str] = "registry"


class ResidentRegistered(RegistryEvent):
    """A resident was entered in the registry. The national ID appears only masked."""

    name: ClassVar[str] = "resident.registered"
    resident_id: str
    community: str
    grid_code: str | None = None
    full_name: str
    birth_date: date
    id_number_masked: str = Field(description="e.g. 110105********123X; never the full number.")
    tags: list[str] = Field(description="Care attributes such as living_alone, dibao, orphan.")


class ResidentTagsChanged(RegistryEvent):
    """The care attributes of a resident changed."""

    name: ClassVar[str] = "resident.tags_changed"
    resident_id: str
    tags: list[str]


class ResidentMovedOut(RegistryEvent):
    """A resident moved out of the community."""

    name: ClassVar[str] = "resident.moved_out"
    resident_id: str
    on: date


class ResidentDied(RegistryEvent):
    """A resident died."""

    name: ClassVar[str] = "resident.died"
    resident_id: str
    on: date


class ResidentContactChanged(RegistryEvent):
    """How to reach a resident and their guardian: sent on registration and whenever it changes.

    Carries phone numbers, so only services that must reach people (notify) should consume it.
    A field that is None means "none on record", not "unchanged": the event states the whole contact.
    """

    name: ClassVar[str] = "resident.contact_changed"
    resident_id: str
    community: str
    grid_code: str | None = None
    full_name: str
    phone: str | None = None
    guardian_name: str | None = Field(default=None, description="Who answers for the resident, if anyone.")
    guardian_relation: str | None = Field(default=None, description="e.g. 儿子, 女儿, 监护人.")
    guardian_phone: str | None = None


class CareGroupFormed(RegistryEvent):
    """A three-person care group was formed around an elder."""

    name: ClassVar[str] = "care.group.formed"
    care_group_id: str
    resident_id: str
    community_worker: str
    grid_worker: str
    neighbour_name: str
    neighbour_phone: str | None = Field(
        default=None, description="The neighbour's phone, so an urgent alert can reach them (first rung)."
    )
    visit_every_hours: int
    call_every_days: int


class VisitLogged(RegistryEvent):
    """Someone visited or phoned a resident and wrote down what they found."""

    name: ClassVar[str] = "care.visit.logged"
    visit_id: str
    resident_id: str
    care_group_id: str | None
    kind: str
    visitor: str
    visited_at: datetime


class VisitOverdue(RegistryEvent):
    """A care group missed a visit or call period; raised once per missed period."""

    name: ClassVar[str] = "care.visit.overdue"
    care_group_id: str
    resident_id: str
    kind: str = Field(description="visit or call")
    due_at: datetime = Field(description="End of the missed period.")
    grid_worker: str
    community_worker: str
