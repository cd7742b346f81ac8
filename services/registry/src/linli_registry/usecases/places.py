"""Districts, communities and grids: the places every registry row belongs to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_registry.access import check_community_exists
from linli_registry.models import Community, District, Grid
from linli_shared.auth import Caller, Role
from linli_shared.contracts.registry import PlaceNamed
from linli_shared.database import flush_or_conflict
from linli_shared.errors import Conflict, NotFound, not_found
from linli_shared.unit_of_work import Made, Work, write

if TYPE_CHECKING:
    from linli_registry.api.places import CommunityIn, DistrictIn, GridIn


async def load_district(session: AsyncSession, caller: Caller, code: str) -> District:
    district = await session.get(District, code)
    if district is None:
        raise NotFound(f"district {code} not found", zh=f"没有找到街道 {code}")
    return district


@write(replay=load_district)
async def create_district(uow: Work, caller: Caller, data: DistrictIn) -> Made[District]:
    caller.check_role(Role.CITY_ADMIN)
    if await uow.session.get(District, data.code):
        raise Conflict(f"district {data.code} already exists", zh=f"街道 {data.code} 已存在")
    district = District(code=data.code, name=data.name)
    uow.session.add(district)
    uow.record(
        PlaceNamed(district=district.code, district_name=district.name),
        district=district.code,
        community=None,
    )
    return Made(district.code, district)


async def list_districts(session: AsyncSession, caller: Caller) -> list[District]:
    statement = select(District).order_by(col(District.code))
    if caller.role is not Role.CITY_ADMIN:
        statement = statement.where(District.code == caller.district)
    return list((await session.exec(statement)).all())


async def check_community_exists_by_id(session: AsyncSession, caller: Caller, community_id: str) -> Community:
    community = await session.get(Community, int(community_id))
    if community is None:
        raise not_found("community")
    caller.check_sees(community.district, None, "community")
    return community


@write(replay=check_community_exists_by_id)
async def create_community(uow: Work, caller: Caller, data: CommunityIn) -> Made[Community]:
    caller.check_role(Role.CITY_ADMIN, Role.DISTRICT_ADMIN)
    caller.check_sees(data.district, None, "district")
    district = await uow.session.get(District, data.district)
    if district is None:
        raise NotFound(f"district {data.district} not found", zh=f"没有找到街道 {data.district}")
    community = Community(district=data.district, code=data.code, name=data.name)
    uow.session.add(community)
    await flush_or_conflict(
        uow.session,
        f"community {data.code} already exists in {data.district}",
        zh=f"街道 {data.district} 已有社区 {data.code}",
    )
    named = PlaceNamed(
        district=district.code,
        district_name=district.name,
        community=community.code,
        community_name=community.name,
    )
    uow.record(named, district=district.code, community=community.code)
    return Made(str(community.id), community)


async def list_communities(session: AsyncSession, caller: Caller, district: str) -> list[Community]:
    caller.check_sees(district, caller.community if caller.community else None, "district")
    statement = select(Community).where(Community.district == district).order_by(col(Community.code))
    if caller.community:
        statement = statement.where(Community.code == caller.community)
    return list((await session.exec(statement)).all())


async def load_grid(session: AsyncSession, caller: Caller, grid_id: str) -> Grid:
    grid = await session.get(Grid, int(grid_id))
    if grid is None:
        raise not_found("grid")
    caller.check_sees(grid.district, grid.community, "grid")
    return grid


@write(replay=load_grid)
async def create_grid(uow: Work, caller: Caller, data: GridIn) -> Made[Grid]:
    caller.check_role(Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.COMMUNITY_WORKER)
    caller.check_sees(data.district, data.community, "community")
    await check_community_exists(uow.session, data.district, data.community)
    grid = Grid(**data.model_dump())
    uow.session.add(grid)
    await flush_or_conflict(
        uow.session,
        f"grid {data.code} already exists in {data.community}",
        zh=f"社区 {data.community} 已有网格 {data.code}",
    )
    return Made(str(grid.id), grid)


async def list_grids(session: AsyncSession, caller: Caller, district: str, community: str) -> list[Grid]:
    caller.check_sees(district, community, "community")
    statement = (
        select(Grid).where(Grid.district == district, Grid.community == community).order_by(col(Grid.code))
    )
    return list((await session.exec(statement)).all())
