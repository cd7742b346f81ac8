"""The read model of residents that points and fund keep from the registry's events, written once.

Each service's table subclasses `KnownResidentBase` (its own table name and the few facts it keeps
beyond these) and `follow_residents` registers the handlers for arrival, moving out and death; the
service says what it learns from a registration and what happens when a resident leaves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from sqlmodel import Field, SQLModel

from linli_shared.clock import UtcDateTime
from linli_shared.contracts.registry import (
    ResidentCorrected,
    ResidentDied,
    ResidentFacts,
    ResidentMovedOut,
    ResidentRegistered,
)
from linli_shared.events import Envelope
from linli_shared.inbox import EventArrivedEarly
from linli_shared.subscribers import EventHandlers
from linli_shared.unit_of_work import Work

ACTIVE, MOVED_OUT, DECEASED = "active", "moved_out", "deceased"


class KnownResidentBase(SQLModel):
    """What every read model of residents keeps: who, where, and whether they are still here."""

    resident_id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    status: str = Field(default=ACTIVE, max_length=20)
    updated_at: datetime = Field(sa_type=UtcDateTime)


Known = TypeVar("Known", bound=KnownResidentBase)


async def known_resident(uow: Work, model: type[Known], resident_id: str) -> Known:
    """The resident as this service knows them; an event about one not yet known arrived early."""
    resident = await uow.session.get(model, resident_id)
    if resident is None:
        raise EventArrivedEarly(resident_id)
    return resident


def follow_residents(
    handlers: EventHandlers,
    model: type[Known],
    *,
    learn: Callable[[Known, ResidentFacts], None],
    leave: Callable[[Work, Known, Envelope], Awaitable[None]],
) -> None:
    """Keep `model` from the registry: `learn` copies what the service keeps from a registration
    (again on a repeated one, and on a correction), `leave` runs once the resident's status says
    moved out or deceased."""

    @handlers.on(ResidentRegistered)
    async def on_resident_registered(uow: Work, event: ResidentRegistered, envelope: Envelope) -> None:
        resident = await uow.session.get(model, event.resident_id) or model(
            resident_id=event.resident_id,
            district=envelope.district,
            community=event.community,
            updated_at=envelope.occurred_at,
        )
        learn(resident, event)
        uow.session.add(resident)

    @handlers.on(ResidentCorrected)
    async def on_resident_corrected(uow: Work, event: ResidentCorrected, envelope: Envelope) -> None:
        resident = await known_resident(uow, model, event.resident_id)
        learn(resident, event)
        resident.updated_at = envelope.occurred_at
        uow.session.add(resident)

    async def gone(uow: Work, resident_id: str, status: str, envelope: Envelope) -> None:
        resident = await known_resident(uow, model, resident_id)
        resident.status = status
        resident.updated_at = envelope.occurred_at
        uow.session.add(resident)
        await uow.session.flush()
        await leave(uow, resident, envelope)

    @handlers.on(ResidentMovedOut)
    async def on_resident_moved_out(uow: Work, event: ResidentMovedOut, envelope: Envelope) -> None:
        await gone(uow, event.resident_id, MOVED_OUT, envelope)

    @handlers.on(ResidentDied)
    async def on_resident_died(uow: Work, event: ResidentDied, envelope: Envelope) -> None:
        await gone(uow, event.resident_id, DECEASED, envelope)
