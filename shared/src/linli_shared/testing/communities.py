"""Test helpers every service's tests share: a community of the test's own, and a resident that
the registry announced, fed into a service's read model through its real inbox path."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.auth import Role
from linli_shared.contracts.registry import PlaceNamed, ResidentRegistered
from linli_shared.events import Envelope
from linli_shared.inbox import ApplyEvent, apply_once
from linli_shared.places import KnownPlaceBase
from linli_shared.testing.http import bearer


@dataclass
class Community:
    """A district and community made up for one test, so no test sees another's rows."""

    district: str
    community: str

    @classmethod
    def new(cls) -> Community:
        return cls(f"d{uuid.uuid4().hex[:8]}", f"c{uuid.uuid4().hex[:8]}")

    def as_(self, role: Role, subject: str = "tester") -> dict[str, str]:
        """The Authorization header of a caller with this role in this community."""
        return bearer(role, self.district, self.community, subject)


def registered(
    community: Community,
    resident_id: str,
    *,
    full_name: str = "王秀英",
    birth_date: date = date(1950, 1, 1),
    tags: list[str] | None = None,
) -> Envelope:
    """The registry's announcement of a new resident of `community`."""
    event = ResidentRegistered(
        resident_id=resident_id,
        community=community.community,
        full_name=full_name,
        birth_date=birth_date,
        id_number_masked="110105********002X",
        tags=tags or [],
    )
    return Envelope.wrap(
        event, district=community.district, community=community.community, occurred_at=datetime.now(UTC)
    )


async def feed_resident(
    session_factory: async_sessionmaker[AsyncSession],
    consumer: str,
    apply: ApplyEvent,
    community: Community,
    **details: object,
) -> str:
    """Register a new resident through the consumer's inbox, as the registry's event would; its id."""
    resident_id = str(uuid.uuid4())
    envelope = registered(community, resident_id, **details)  # type: ignore[arg-type]
    assert await apply_once(session_factory, consumer, envelope, apply)
    return resident_id


async def registered_place(registry: httpx.AsyncClient) -> tuple[str, str]:
    """A new district (高桥营街道) and community (东李庄社区) made in the registry by a city admin."""
    district, community = f"d{uuid.uuid4().hex[:8]}", f"c{uuid.uuid4().hex[:8]}"
    admin = bearer(Role.CITY_ADMIN, None)
    for path, body in (
        ("/v1/districts", {"code": district, "name": "高桥营街道"}),
        ("/v1/communities", {"district": district, "code": community, "name": "东李庄社区"}),
    ):
        assert (await registry.post(path, json=body, headers=admin)).status_code == 201
    return district, community


def place_named(
    community: Community, district_name: str, community_name: str | None = None, *, at: datetime | None = None
) -> Envelope:
    """The registry's place.named of the community's district, or of the community when it is named."""
    event = PlaceNamed(
        district=community.district,
        district_name=district_name,
        community=community.community if community_name else None,
        community_name=community_name,
    )
    return Envelope.wrap(
        event,
        district=community.district,
        community=community.community if community_name else None,
        occurred_at=at or datetime.now(UTC),
    )


async def known_places(
    session_factory: async_sessionmaker[AsyncSession], model: type[KnownPlaceBase], district: str
) -> list[tuple[str, str]]:
    """(community, name) of every place a service knows in the district, the district's own row first."""
    async with session_factory() as session:
        statement = select(model).where(col(model.district) == district).order_by(col(model.community))
        return [(place.community, place.name) for place in (await session.exec(statement)).all()]
