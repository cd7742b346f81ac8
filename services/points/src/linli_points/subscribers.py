"""What the points service does on the registry's events: each contract mapped to its handler.

The residents read model is the shared one (`follow_residents`); what is points' own is what a
resident's leaving means here, and the tags and visits it learns from. The names of districts and
communities (place.named) are the shared read model of places, for the certificates.
"""

from __future__ import annotations

from linli_points.models import KnownPlace, KnownResident
from linli_points.usecases.neighbours import withdraw_postings_of
from linli_points.usecases.visits import credit_visit
from linli_points.usecases.wishes import close_wishes_of
from linli_shared.contracts.registry import ResidentFacts, ResidentTagsChanged, VisitLogged
from linli_shared.events import Envelope
from linli_shared.places import follow_places
from linli_shared.residents import DECEASED, follow_residents, known_resident
from linli_shared.service import Subscription
from linli_shared.subscribers import EventHandlers
from linli_shared.unit_of_work import Work

PARTY_MEMBER = "party_member"

handlers = EventHandlers()


def learn(resident: KnownResident, event: ResidentFacts) -> None:
    """What points keeps from a registration: the name, and whether they are a party member."""
    resident.full_name = event.full_name
    resident.party_member = PARTY_MEMBER in event.tags


async def leave(uow: Work, resident: KnownResident, envelope: Envelope) -> None:
    """The resident is gone: their wishes close and their neighbour-help postings are withdrawn."""
    reason = "the resident died" if resident.status == DECEASED else "the resident moved out"
    await close_wishes_of(uow, resident.resident_id, reason, envelope.occurred_at)
    await withdraw_postings_of(uow, resident.resident_id)


follow_residents(handlers, KnownResident, learn=learn, leave=leave)
follow_places(handlers, KnownPlace)


@handlers.on(ResidentTagsChanged)
async def on_resident_tags_changed(uow: Work, event: ResidentTagsChanged, envelope: Envelope) -> None:
    resident = await known_resident(uow, KnownResident, event.resident_id)
    resident.party_member = PARTY_MEMBER in event.tags
    resident.updated_at = uow.now
    uow.session.add(resident)


@handlers.on(VisitLogged)
async def on_visit_logged(uow: Work, event: VisitLogged, envelope: Envelope) -> None:
    await credit_visit(uow, event, envelope.district, envelope.community)


REGISTRY = Subscription.to(
    "registry",
    service="points",
    apply=handlers,
    description="Keeps residents and places' names from the registry's events, and credits visits.",
)
