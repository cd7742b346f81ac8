"""Event envelope, subject naming and the registry's event contracts."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from linli_shared.ids import new_id

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
        # built, not validated: every field is made here, from an event already validated
        return cls.model_construct(
            event_id=event_id or new_id(),
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


def events_of(service: str) -> list[type[Event]]:
    """Every concrete event contract a service publishes (its contracts module must be imported)."""
    found: list[type[Event]] = []
    pending = list(Event.__subclasses__())
    while pending:
        candidate = pending.pop()
        pending.extend(candidate.__subclasses__())
        if getattr(candidate, "service", None) == service and "name" in candidate.__dict__:
            found.append(candidate)
    return sorted(found, key=lambda event: event.name)
