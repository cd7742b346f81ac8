"""Who may do what in the registry, and loaders that find a row only where the caller may see it."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_registry.models import CareGroup, Community, Grid, Resident, VisitLog
from linli_shared.auth import Caller, Role
from linli_shared.errors import Invalid, NotFound, not_found
from linli_shared.reference import KnownToExist
from linli_shared.scoping import get_visible

REGISTRY_WRITERS = (Role.DISTRICT_ADMIN, Role.COMMUNITY_WORKER, Role.GRID_WORKER)
REGISTRY_READERS = (*REGISTRY_WRITERS, Role.FUND_OFFICER)
HEALTH_RECORD_WRITERS = (Role.DISTRICT_ADMIN, Role.COMMUNITY_WORKER)
HEALTH_RECORD_READERS = (Role.DISTRICT_ADMIN, Role.COMMUNITY_WORKER, Role.GRID_WORKER)
HEALTH_READ_AUDITORS = (Role.DISTRICT_ADMIN, Role.AUDITOR)
CARE_GROUP_FORMERS = (Role.DISTRICT_ADMIN, Role.COMMUNITY_WORKER)
STATISTICS_READERS = (
    Role.CITY_ADMIN,
    Role.DISTRICT_ADMIN,
    Role.COMMUNITY_WORKER,
    Role.GRID_WORKER,
    Role.AUDITOR,
)


PLACES = KnownToExist()
"""Communities and grids are never deleted or renamed: once seen, they need not be looked up again."""


async def check_community_exists(session: AsyncSession, district: str, community: str) -> None:
    async def look_up() -> bool:
        statement = select(Community.code).where(Community.district == district, Community.code == community)
        return (await session.exec(statement)).first() is not None

    if not await PLACES.exists(session, ("community", district, community), look_up):
        raise NotFound(
            f"community {community} not found in {district}", zh=f"街道 {district} 没有社区 {community}"
        )


async def check_grid_exists(
    session: AsyncSession, district: str, community: str, grid_code: str | None
) -> None:
    if grid_code is None:
        return

    async def look_up() -> bool:
        statement = select(Grid.code).where(
            Grid.district == district, Grid.community == community, Grid.code == grid_code
        )
        return (await session.exec(statement)).first() is not None

    if not await PLACES.exists(session, ("grid", district, community, grid_code), look_up):
        raise Invalid(
            f"grid {grid_code} does not exist in {community}", zh=f"社区 {community} 没有网格 {grid_code}"
        )


async def load_resident(
    session: AsyncSession, caller: Caller, resident_id: str, *, for_update: bool = False
) -> Resident:
    """The resident, if the caller may see them; otherwise NotFound, whatever the reason."""
    if not for_update:
        return await get_visible(session, Resident, resident_id, caller, "resident")
    resident = await session.get(Resident, resident_id, with_for_update=True)
    if resident is None:
        raise not_found("resident")
    caller.check_sees(resident.district, resident.community, "resident")
    return resident


async def load_care_group(session: AsyncSession, caller: Caller, care_group_id: str) -> CareGroup:
    return await get_visible(session, CareGroup, care_group_id, caller, "care group")


async def load_visit(session: AsyncSession, caller: Caller, visit_id: str) -> VisitLog:
    return await get_visible(session, VisitLog, visit_id, caller, "visit")
