"""The read model of places' names that fund and points keep from the registry's `place.named`.

Only the registry knows that district `gaoqiaoying` is 高桥营街道; a service that heads a page with
a place keeps the names it was told, one row a district (community '') and one a community. Each
service's table subclasses `KnownPlaceBase` (its own table name) and `follow_places` registers the
handler; `place_names` reads them back, None for a name not yet heard, so a page falls back to
the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.clock import UtcDateTime
from linli_shared.contracts.registry import PlaceNamed
from linli_shared.events import Envelope
from linli_shared.subscribers import EventHandlers
from linli_shared.unit_of_work import Work

DISTRICT_ROW = ""
"""The community of a district's own row."""


class KnownPlaceBase(SQLModel):
    """A district's or a community's name, as the registry last announced it."""

    district: str = Field(primary_key=True, max_length=40)
    community: str = Field(default=DISTRICT_ROW, primary_key=True, max_length=40)
    name: str = Field(max_length=100)
    updated_at: datetime = Field(sa_type=UtcDateTime)


Known = TypeVar("Known", bound=KnownPlaceBase)


@dataclass(frozen=True)
class PlaceNames:
    """The names of a district and a community, None where this service has not heard them."""

    district_name: str | None
    community_name: str | None


async def learn_name(
    uow: Work, model: type[Known], district: str, community: str, name: str, when: datetime
) -> None:
    """Keep the name, unless a later announcement of the same place came first."""
    place = await uow.session.get(model, (district, community))
    if place is None:
        place = model(district=district, community=community, name=name, updated_at=when)
    elif place.updated_at > when:
        return  # an older announcement, delivered late
    else:
        place.name, place.updated_at = name, when
    uow.session.add(place)


def follow_places(handlers: EventHandlers, model: type[Known]) -> None:
    """Keep `model` from the registry's `place.named`: a community's event names its district too."""

    @handlers.on(PlaceNamed)
    async def on_place_named(uow: Work, event: PlaceNamed, envelope: Envelope) -> None:
        when = envelope.occurred_at
        await learn_name(uow, model, event.district, DISTRICT_ROW, event.district_name, when)
        if event.community is not None and event.community_name is not None:
            await learn_name(uow, model, event.district, event.community, event.community_name, when)


async def place_names(session: AsyncSession, model: type[Known], district: str, community: str) -> PlaceNames:
    """The names of a district and one of its communities, as far as this service knows them."""
    statement = select(model).where(
        model.district == district, col(model.community).in_([DISTRICT_ROW, community])
    )
    names = {place.community: place.name for place in (await session.exec(statement)).all()}
    return PlaceNames(district_name=names.get(DISTRICT_ROW), community_name=names.get(community))
