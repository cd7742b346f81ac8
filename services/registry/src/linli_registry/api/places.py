"""Districts, communities and grids over HTTP."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from linli_registry.api.fields import Code, CodeQuery, Name
from linli_registry.usecases import places
from linli_shared.auth import CallerDep
from linli_shared.schema_types import Strict
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["places"])


class DistrictIn(Strict):
    code: str = Code
    name: str = Name


class CommunityIn(Strict):
    district: str = Code
    code: str = Code
    name: str = Name


class GridIn(Strict):
    district: str = Code
    community: str = Code
    code: str = Code
    name: str = Name
    grid_worker: str | None = Field(default=None, max_length=100)


class PlaceOut(BaseModel):
    district: str
    community: str | None = None
    code: str
    name: str
    grid_worker: str | None = None


@router.post("/districts", status_code=201, response_model=PlaceOut)
async def create_district(data: DistrictIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    district = await places.create_district(uow, caller, data)
    return PlaceOut(district=district.code, code=district.code, name=district.name)


@router.get("/districts", response_model=list[PlaceOut])
async def list_districts(session: SessionDep, caller: CallerDep) -> object:
    return [
        PlaceOut(district=d.code, code=d.code, name=d.name)
        for d in await places.list_districts(session, caller)
    ]


@router.post("/communities", status_code=201, response_model=PlaceOut)
async def create_community(data: CommunityIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await places.create_community(uow, caller, data)).model_dump()


@router.get("/communities", response_model=list[PlaceOut])
async def list_communities(district: CodeQuery, session: SessionDep, caller: CallerDep) -> object:
    return [c.model_dump() for c in await places.list_communities(session, caller, district)]


@router.post("/grids", status_code=201, response_model=PlaceOut)
async def create_grid(data: GridIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await places.create_grid(uow, caller, data)).model_dump()


@router.get("/grids", response_model=list[PlaceOut])
async def list_grids(
    district: CodeQuery, community: CodeQuery, session: SessionDep, caller: CallerDep
) -> object:
    return [g.model_dump() for g in await places.list_grids(session, caller, district, community)]
