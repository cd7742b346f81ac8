"""Households and residents over HTTP: translate requests to use cases and results to responses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from linli_registry.api.residents_schemas import (
    ContactIn,
    ContactOut,
    HouseholdIn,
    HouseholdOut,
    HouseholdWithMembersOut,
    IdNumberLookupIn,
    ResidentBriefOut,
    ResidentIn,
    ResidentOut,
    StatusChangeIn,
    TagsIn,
)
from linli_registry.domain import Status, Tag, age_band, age_on
from linli_registry.models import Resident
from linli_registry.settings import RegistrySettings
from linli_registry.usecases import residents
from linli_registry.usecases.resident_filters import HOUSEHOLD_ID_PATTERN, ID_TAIL_PATTERN, TYPED_TEXT_PATTERN
from linli_shared.auth import Caller, CallerDep, Role
from linli_shared.clock import utc_now
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["residents"])


def id_key(request: Request) -> bytes:
    settings: RegistrySettings = request.app.state.settings
    return settings.id_hash_key.get_secret_value().encode()


def resident_out(resident: Resident) -> ResidentOut:
    today = utc_now().date()
    return ResidentOut(
        **resident.model_dump(exclude={"id_number_hash"}),
        age=age_on(resident.birth_date, today),
        age_band=age_band(resident.birth_date, today),
        tags=residents.tags_of(resident),
    )


BRIEF_READERS = frozenset({Role.FUND_OFFICER})
"""Roles that read residents without their contact (phone, guardian) or birth date."""
# A read answers with one model or the other: tried in this order, the whole record is never
# taken for the brief (which its extra fields would also satisfy).
ResidentRead = Annotated[ResidentOut | ResidentBriefOut, Field(union_mode="left_to_right")]
ResidentPage = Annotated[Page[ResidentOut] | Page[ResidentBriefOut], Field(union_mode="left_to_right")]


def resident_view(resident: Resident, caller: Caller) -> ResidentOut | ResidentBriefOut:
    """What the caller may read of a resident: the whole record, or for a fund officer the brief."""
    full = resident_out(resident)
    if caller.role in BRIEF_READERS:
        return ResidentBriefOut(**full.model_dump(include=set(ResidentBriefOut.model_fields)))
    return full


def contact_out(resident: Resident) -> ContactOut:
    return ContactOut(
        resident_id=resident.id,
        **resident.model_dump(include=set(residents.CONTACT_FIELDS) | {"full_name"}),
    )


@router.post("/households", status_code=201, response_model=HouseholdOut)
async def create_household(data: HouseholdIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await residents.create_household(uow, caller, data)).model_dump()


@router.get("/households/{household_id}", response_model=HouseholdWithMembersOut)
async def get_household(
    household_id: str, response: Response, session: SessionDep, caller: CallerDep
) -> object:
    """The household and its residents; its ETag is the version to send back with a correction."""
    household, members = await residents.household_with_members(session, caller, household_id)
    response.headers["ETag"] = f'"{household.version}"'
    return {**household.model_dump(), "members": [m.model_dump() for m in members]}


@router.post("/residents", status_code=201, response_model=ResidentOut)
async def register_resident(
    data: ResidentIn, request: Request, uow: UnitOfWorkDep, caller: CallerDep
) -> object:
    return resident_out(await residents.register_resident(uow, caller, data, id_key=id_key(request)))


@router.get("/residents", response_model=ResidentPage)
async def search_residents(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    name: Annotated[str | None, Query(max_length=100, pattern=TYPED_TEXT_PATTERN)] = None,
    tag: Tag | None = None,
    grid_code: Annotated[str | None, Query(max_length=40)] = None,
    id_tail: Annotated[
        str | None,
        Query(
            pattern=ID_TAIL_PATTERN,
            description="The ID number's last four characters, as the masked number shows them.",
        ),
    ] = None,
    household_id: Annotated[str | None, Query(pattern=HOUSEHOLD_ID_PATTERN)] = None,
    address: Annotated[
        str | None,
        Query(pattern=TYPED_TEXT_PATTERN, max_length=200, description="Part of the household's address."),
    ] = None,
    status: Status | None = Status.ACTIVE,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    page = await residents.search_residents(
        session,
        caller,
        id_key=id_key(request),
        name=name,
        tag=tag,
        grid_code=grid_code,
        id_tail=id_tail,
        household_id=household_id,
        address=address,
        status=status,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[resident_view(r, caller) for r in page.items], next_cursor=page.next_cursor)


@router.post("/residents/lookups", response_model=ResidentPage)
async def look_up_by_id_number(
    data: IdNumberLookupIn, request: Request, session: SessionDep, caller: CallerDep
) -> object:
    """Find a resident by national ID number, sent in the body so it never lands in access logs."""
    page = await residents.search_residents(
        session, caller, id_key=id_key(request), id_number=data.id_number, status=None
    )
    return Page(items=[resident_view(r, caller) for r in page.items], next_cursor=page.next_cursor)


@router.get("/residents/{resident_id}", response_model=ResidentRead)
async def get_resident(
    resident_id: str, response: Response, session: SessionDep, caller: CallerDep
) -> object:
    """The record; its ETag is the version to send back in If-Match with a correction."""
    resident = await residents.get_resident(session, caller, resident_id)
    response.headers["ETag"] = f'"{resident.version}"'
    return resident_view(resident, caller)


@router.put("/residents/{resident_id}/tags", response_model=ResidentOut)
async def change_tags(resident_id: str, data: TagsIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return resident_out(await residents.change_tags(uow, caller, resident_id, data.tags))


@router.put("/residents/{resident_id}/contact", response_model=ContactOut)
async def change_contact(resident_id: str, data: ContactIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    """The whole contact: a field left out or null is cleared. Unchanged, nothing is announced."""
    return contact_out(await residents.change_contact(uow, caller, resident_id, data))


@router.post("/residents/{resident_id}/move-out", response_model=ResidentOut)
async def move_out(resident_id: str, data: StatusChangeIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    resident = await residents.record_departure(uow, caller, resident_id, Status.MOVED_OUT, data.on)
    return resident_out(resident)


@router.post("/residents/{resident_id}/death", response_model=ResidentOut)
async def record_death(
    resident_id: str, data: StatusChangeIn, uow: UnitOfWorkDep, caller: CallerDep
) -> object:
    resident = await residents.record_departure(uow, caller, resident_id, Status.DECEASED, data.on)
    return resident_out(resident)
