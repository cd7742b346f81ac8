"""The read model of residents (who may receive help), kept from the registry's events through the inbox.

Only the id, the community, whether the resident is still there and their masked initials
(张**, for the public report) are kept: the fund needs to know a beneficiary exists and is
active, nothing more; the name itself is never stored here. A death or a move-out also suspends the
beneficiary's active commitments and frees their reserves (commitments.suspend_commitments_of).
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund.commitments import suspend_commitments_of
from linli_fund.domain import mask_name
from linli_fund.models import KnownResident
from linli_shared.clock import utc_now
from linli_shared.contracts.registry import ResidentDied, ResidentMovedOut, ResidentRegistered
from linli_shared.events import Envelope
from linli_shared.inbox import EventArrivedEarly
from linli_shared.jetstream import DurableConsumer, stream_name

REGISTRY_CONSUMER = DurableConsumer(
    stream=stream_name("registry"), durable="fund-registry", filter_subject="linli.*.registry.>"
)


async def on_registry_event(session: AsyncSession, envelope: Envelope) -> None:
    """Apply one registry event to the read model (inside the inbox's transaction)."""
    if envelope.event_type == "registry.resident.registered":
        registered = envelope.open(ResidentRegistered)
        resident = await session.get(KnownResident, registered.resident_id) or KnownResident(
            resident_id=registered.resident_id,
            district=envelope.district,
            community=registered.community,
            updated_at=envelope.occurred_at,
        )
        resident.masked_name = mask_name(registered.full_name)
        session.add(resident)
        return
    if envelope.event_type == "registry.resident.moved_out":
        resident_id, status = envelope.open(ResidentMovedOut).resident_id, "moved_out"
    elif envelope.event_type == "registry.resident.died":
        resident_id, status = envelope.open(ResidentDied).resident_id, "deceased"
    else:
        return  # other registry events are not this service's business
    known = await session.get(KnownResident, resident_id)
    if known is None:
        raise EventArrivedEarly(resident_id)
    known.status = status
    known.updated_at = envelope.occurred_at
    session.add(known)
    await session.flush()
    await suspend_commitments_of(session, resident_id, status, now=utc_now())
