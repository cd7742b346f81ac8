"""Event envelope, subject naming and the registry's event contracts."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from typing import ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field

SUBJECT_ROOT = "linli"
SUBJECT_TOKEN = re.compile(r"^[a-z0-9_-]+$")


def subject_for(district: str, service: str, event_name: str) -> str:
    """Build `linli.<district>.<service>.<event>`; every part must be a safe subject token."""
    for token in (district, service, *event_name.split(".")):
        if not SUBJECT_TOKEN.match(token):
            raise ValueError(f"{token!r} cannot be part of a NATS subject")
    return f"{SUBJECT_ROOT}.{district}.{service}.{event_name}"


def service_subjects(service: str) -> str:
    """The wildcard that covers every event one service publishes, in every district."""
    return f"{SUBJECT_ROOT}.*.{service}.>"


class Event(BaseModel):
    """A fact that happened, in the past tense; subclasses name their subject and version."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    service: ClassVar[str]
    name: ClassVar[str]
    schema_version: ClassVar[int] = 1


EventT = TypeVar("EventT", bound=Event)


class Envelope(BaseModel):
    """What travels on the bus: one event with the facts every consumer needs to route and dedupe it."""

    model_config = ConfigDict(frozen=True)

    event_id: str = Field(description="Unique id; also the JetStream Nats-Msg-Id.")
    event_type: str = Field(description="`<service>.<event name>`, e.g. registry.resident.registered.")
    schema_version: int = Field(ge=1)
    occurred_at: datetime = Field(description="When it happened, UTC.")
    district: str
    community: str | None = None
    producer: str = Field(description="The service that produced it.")
    correlation_id: str | None = None
    payload: dict[str, object]

    @property
    def subject(self) -> str:
        service, _, name = self.event_type.partition(".")
        return subject_for(self.district, service, name)

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        district: str,
        community: str | None,
        occurred_at: datetime,
        correlation_id: str | None = None,
        event_id: str | None = None,
    ) -> Envelope:
        """Put an event in an envelope; `occurred_at` must be timezone-aware."""
        if occurred_at.tzinfo is None:
            raise ValueError("occurred_at must be timezone-aware")
        return cls(
            event_id=event_id or str(uuid.uuid4()),
            event_type=f"{event.service}.{event.name}",
            schema_version=event.schema_version,
            occurred_at=occurred_at.astimezone(UTC),
            district=district,
            community=community,
            producer=event.service,
            correlation_id=correlation_id,
            payload=event.model_dump(mode="json"),
        )

    def open(self, event_class: type[EventT]) -> EventT:
        """Read the payload as the given contract, refusing a mismatched type or version."""
        expected = f"{event_class.service}.{event_class.name}"
        if self.event_type != expected:
            raise ValueError(f"expected {expected}, got {self.event_type}")
        if self.schema_version != event_class.schema_version:
            raise ValueError(f"unsupported schema_version {self.schema_version} for {expected}")
        return event_class.model_validate(self.payload)


# --- registry contracts -------------------------------------------------------------------------


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


class CareGroupFormed(RegistryEvent):
    """A three-person care group was formed around an elder."""

    name: ClassVar[str] = "care.group.formed"
    care_group_id: str
    resident_id: str
    community_worker: str
    grid_worker: str
    neighbour_name: str
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
