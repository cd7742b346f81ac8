"""What the fund does on other services' events: it keeps the residents who may receive help.

The read model (`beneficiary`) keeps only the id, the community, whether the resident is still
there and their masked initials (张**, for the public report): the fund needs to know a
beneficiary exists and is active, nothing more; the name itself is never stored here. A death or
a move-out also suspends the beneficiary's active commitments and frees their reserves.

The fund also keeps the names of districts and communities (`fund_known_place`, from place.named),
which a period's public report carries once it is published.
"""

from __future__ import annotations

from linli_fund.domain import mask_name
from linli_fund.models import KnownPlace, KnownResident
from linli_fund.usecases.commitments import suspend_commitments_of
from linli_shared.contracts.registry import ResidentFacts
from linli_shared.events import Envelope
from linli_shared.places import follow_places
from linli_shared.residents import follow_residents
from linli_shared.service import Subscription
from linli_shared.subscribers import EventHandlers
from linli_shared.unit_of_work import Work

handlers = EventHandlers()


def learn(resident: KnownResident, event: ResidentFacts) -> None:
    resident.masked_name = mask_name(event.full_name)


async def leave(uow: Work, resident: KnownResident, envelope: Envelope) -> None:
    """The beneficiary moved out or died: their commitments stop and free what they still reserve."""
    await suspend_commitments_of(uow, resident.resident_id, resident.status)


follow_residents(handlers, KnownResident, learn=learn, leave=leave)
follow_places(handlers, KnownPlace)

REGISTRY = Subscription.to(
    "registry",
    service="fund",
    apply=handlers,
    description="Keeps the residents who may receive help, and places' names, from the registry.",
)
