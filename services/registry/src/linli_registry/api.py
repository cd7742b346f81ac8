"""HTTP routes: translate requests to use cases and results to responses, nothing more."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from linli_registry import care, schemas, usecases
from linli_registry.domain import Status, Tag, age_band, age_on
from linli_registry.models import Resident
from linli_registry.settings import RegistrySettings
from linli_shared.auth import CallerDep
from linli_shared.clock import utc_now
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.service import SessionDep

router = APIRouter(prefix="/v1")
Code = Annotated[str, Query(pattern=r"^[a-z0-9_-]+$", max_length=40)]


def id_key(request: Request) -> bytes:
    settings: RegistrySettings = request.app.state.settings
    return settings.id_hash_key.get_secret_value().encode()


def resident_out(resident: Resident) -> schemas.ResidentOut:
    today = utc_now().date()
    return schemas.ResidentOut(
        **resident.model_dump(exclude={"id_number_hash"}),
        age=age_on(resident.birth_date, today),
        age_band=age_band(resident.birth_date, today),
        tags=usecases.tags_of(resident),
    )


def contact_out(resident: Resident) -> schemas.ContactOut:
    return schemas.ContactOut(
        resident_id=resident.id, **resident.model_dump(include=set(usecases.CONTACT_FIELDS) | {"full_name"})
    )


@router.post("/districts", status_code=201, response_model=schemas.PlaceOut, tags=["places"])
async def create_district(data: schemas.DistrictIn, session: SessionDep, caller: CallerDep) -> object:
    district = await usecases.create_district(session, caller, data)
    return schemas.PlaceOut(district=district.code, code=district.code, name=district.name)


@router.get("/districts", response_model=list[schemas.PlaceOut], tags=["places"])
async def list_districts(session: SessionDep, caller: CallerDep) -> object:
    return [
        schemas.PlaceOut(district=d.code, code=d.code, name=d.name)
        for d in await usecases.list_districts(session, caller)
    ]


@router.post("/communities", status_code=201, response_model=schemas.PlaceOut, tags=["places"])
async def create_community(data: schemas.CommunityIn, session: SessionDep, caller: CallerDep) -> object:
    community = await usecases.create_community(session, caller, data)
    return community.model_dump()


@router.get("/communities", response_model=list[schemas.PlaceOut], tags=["places"])
async def list_communities(district: Code, session: SessionDep, caller: CallerDep) -> object:
    return [c.model_dump() for c in await usecases.list_communities(session, caller, district)]


@router.post("/grids", status_code=201, response_model=schemas.PlaceOut, tags=["places"])
async def create_grid(data: schemas.GridIn, session: SessionDep, caller: CallerDep) -> object:
    return (await usecases.create_grid(session, caller, data)).model_dump()


@router.get("/grids", response_model=list[schemas.PlaceOut], tags=["places"])
async def list_grids(district: Code, community: Code, session: SessionDep, caller: CallerDep) -> object:
    return [g.model_dump() for g in await usecases.list_grids(session, caller, district, community)]


@router.post("/households", status_code=201, response_model=schemas.HouseholdOut, tags=["residents"])
async def create_household(data: schemas.HouseholdIn, session: SessionDep, caller: CallerDep) -> object:
    return (await usecases.create_household(session, caller, data)).model_dump()


@router.post("/residents", status_code=201, response_model=schemas.ResidentOut, tags=["residents"])
async def register_resident(
    data: schemas.ResidentIn, request: Request, session: SessionDep, caller: CallerDep
) -> object:
    resident = await usecases.register_resident(session, caller, data, id_key=id_key(request), now=utc_now())
    return resident_out(resident)


@router.get("/residents", response_model=Page[schemas.ResidentOut], tags=["residents"])
async def search_residents(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    name: Annotated[str | None, Query(max_length=100)] = None,
    tag: Tag | None = None,
    grid_code: Annotated[str | None, Query(max_length=40)] = None,
    status: Status | None = Status.ACTIVE,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    page = await usecases.search_residents(
        session,
        caller,
        id_key=id_key(request),
        name=name,
        tag=tag,
        grid_code=grid_code,
        status=status,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[resident_out(r) for r in page.items], next_cursor=page.next_cursor)


@router.post("/residents/lookups", response_model=Page[schemas.ResidentOut], tags=["residents"])
async def look_up_by_id_number(
    data: schemas.IdNumberLookupIn, request: Request, session: SessionDep, caller: CallerDep
) -> object:
    """Find a resident by national ID number, sent in the body so it never lands in access logs."""
    page = await usecases.search_residents(
        session, caller, id_key=id_key(request), id_number=data.id_number, status=None
    )
    return Page(items=[resident_out(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/residents/{resident_id}", response_model=schemas.ResidentOut, tags=["residents"])
async def get_resident(resident_id: str, session: SessionDep, caller: CallerDep) -> object:
    return resident_out(await usecases.get_resident(session, caller, resident_id))


@router.put("/residents/{resident_id}/tags", response_model=schemas.ResidentOut, tags=["residents"])
async def change_tags(
    resident_id: str, data: schemas.TagsIn, session: SessionDep, caller: CallerDep
) -> object:
    resident = await usecases.change_tags(session, caller, resident_id, data.tags, now=utc_now())
    return resident_out(resident)


@router.put("/residents/{resident_id}/contact", response_model=schemas.ContactOut, tags=["residents"])
async def change_contact(
    resident_id: str, data: schemas.ContactIn, session: SessionDep, caller: CallerDep
) -> object:
    """The whole contact: a field left out or null is cleared. Unchanged, nothing is announced."""
    resident = await usecases.change_contact(session, caller, resident_id, data, now=utc_now())
    return contact_out(resident)


@router.post("/residents/{resident_id}/move-out", response_model=schemas.ResidentOut, tags=["residents"])
async def move_out(
    resident_id: str, data: schemas.StatusChangeIn, session: SessionDep, caller: CallerDep
) -> object:
    resident = await usecases.record_departure(
        session, caller, resident_id, Status.MOVED_OUT, data.on, now=utc_now()
    )
    return resident_out(resident)


@router.post("/residents/{resident_id}/death", response_model=schemas.ResidentOut, tags=["residents"])
async def record_death(
    resident_id: str, data: schemas.StatusChangeIn, session: SessionDep, caller: CallerDep
) -> object:
    resident = await usecases.record_departure(
        session, caller, resident_id, Status.DECEASED, data.on, now=utc_now()
    )
    return resident_out(resident)


@router.put("/residents/{resident_id}/health-record", response_model=schemas.HealthRecordOut, tags=["health"])
async def put_health_record(
    resident_id: str, data: schemas.HealthRecordIn, session: SessionDep, caller: CallerDep
) -> object:
    record = await usecases.put_health_record(session, caller, resident_id, data, now=utc_now())
    return record.model_dump()


@router.get("/residents/{resident_id}/health-record", response_model=schemas.HealthRecordOut, tags=["health"])
async def read_health_record(resident_id: str, session: SessionDep, caller: CallerDep) -> object:
    return (await usecases.read_health_record(session, caller, resident_id, now=utc_now())).model_dump()


@router.get("/health-record-reads", response_model=Page[schemas.HealthRecordReadOut], tags=["health"])
async def list_health_record_reads(
    session: SessionDep,
    caller: CallerDep,
    resident_id: Annotated[str | None, Query(max_length=36)] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    page = await usecases.list_health_record_reads(
        session, caller, resident_id=resident_id, cursor=cursor, limit=limit
    )
    return Page(items=[r.model_dump() for r in page.items], next_cursor=page.next_cursor)


@router.post("/care-groups", status_code=201, response_model=schemas.CareGroupOut, tags=["care"])
async def form_care_group(data: schemas.CareGroupIn, session: SessionDep, caller: CallerDep) -> object:
    return (await care.form_care_group(session, caller, data, now=utc_now())).model_dump()


@router.get("/care-groups", response_model=Page[schemas.CareGroupOut], tags=["care"])
async def list_care_groups(
    session: SessionDep,
    caller: CallerDep,
    mine: bool = False,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    page = await care.list_care_groups(session, caller, mine=mine, cursor=cursor, limit=limit)
    return Page(items=[g.model_dump() for g in page.items], next_cursor=page.next_cursor)


@router.post("/visits", status_code=201, response_model=schemas.VisitOut, tags=["care"])
async def log_visit(data: schemas.VisitIn, session: SessionDep, caller: CallerDep) -> object:
    return (await care.log_visit(session, caller, data, now=utc_now())).model_dump()


@router.get("/visits", response_model=Page[schemas.VisitOut], tags=["care"])
async def list_visits(
    session: SessionDep,
    caller: CallerDep,
    resident_id: Annotated[str | None, Query(max_length=36)] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    page = await care.list_visits(session, caller, resident_id=resident_id, cursor=cursor, limit=limit)
    return Page(items=[v.model_dump() for v in page.items], next_cursor=page.next_cursor)


@router.get("/statistics", response_model=list[schemas.StatisticsRow], tags=["statistics"])
async def statistics(
    session: SessionDep,
    caller: CallerDep,
    by: Annotated[str, Query(pattern="^(community|grid)$")] = "community",
    district: Annotated[str | None, Query(max_length=40)] = None,
) -> object:
    return await care.statistics(
        session, caller, by_grid=by == "grid", district=district, today=utc_now().date()
    )
