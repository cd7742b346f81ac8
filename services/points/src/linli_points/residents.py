"""The read model of residents, kept from the registry's events through the inbox."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points import activities, neighbours, wishes
from linli_points.models import KnownResident
from linli_shared.clock import utc_now
from linli_shared.contracts.registry import (
    ResidentDied,
    ResidentMovedOut,
    ResidentRegistered,
    ResidentTagsChanged,
)
from linli_shared.events import Envelope
from linli_shared.inbox import EventArrivedEarly
from linli_shared.jetstream import DurableConsumer, stream_name

REGISTRY_CONSUMER = DurableConsumer(
    stream=stream_name("registry"), durable="points-registry", filter_subject="linli.*.registry.>"
)


async def on_registry_event(session: AsyncSession, envelope: Envelope) -> None:
    """Apply one registry event to the read model (inside the inbox's transaction)."""
    if envelope.event_type == "registry.resident.registered":
        registered = envelope.open(ResidentRegistered)
        resident = await session.get(KnownResident, registered.resident_id) or KnownResident(
            resident_id=registered.resident_id,
            district=envelope.district,
            community=registered.community,
            full_name=registered.full_name,
            updated_at=envelope.occurred_at,
        )
        resident.full_name = registered.full_name
        resident.party_member = "party_member" in registered.tags
        session.add(resident)
        return
    if envelope.event_type == "registry.resident.tags_changed":
        changed = envelope.open(ResidentTagsChanged)
        resident = await known(session, changed.resident_id)
        resident.party_member = "party_member" in changed.tags
    elif envelope.event_type == "registry.resident.moved_out":
        resident = await known(session, envelope.open(ResidentMovedOut).resident_id)
        await leave(session, resident, "moved_out", "the resident moved out", envelope)
    elif envelope.event_type == "registry.resident.died":
        resident = await known(session, envelope.open(ResidentDied).resident_id)
        await leave(session, resident, "deceased", "the resident died", envelope)
    elif envelope.event_type == "registry.care.visit.logged":
        await activities.on_visit_logged(session, envelope)
        return
    else:
        return  # other registry events are not this service's business
    resident.updated_at = utc_now()
    session.add(resident)


async def leave(
    session: AsyncSession, resident: KnownResident, status: str, reason: str, envelope: Envelope
) -> None:
    """The resident is gone: their wishes close and their neighbour-help postings are withdrawn."""
    resident.status = status
    await wishes.close_wishes_of(session, resident.resident_id, reason, envelope.occurred_at)
    await neighbours.withdraw_postings_of(session, resident.resident_id)


async def known(session: AsyncSession, resident_id: str) -> KnownResident:
    resident = await session.get(KnownResident, resident_id)
    if resident is None:
        raise EventArrivedEarly(resident_id)
    return resident
