"""Corrections of residents, households and care groups over HTTP, and their histories.

Each correction names only the fields it changes and the version it was made on: the If-Match
header (the ETag the record was read with) or `version` in the body."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import Field

from linli_registry.api.care import CareGroupOut
from linli_registry.api.fields import GuardianName, GuardianRelation, OptionalCode, Phone
from linli_registry.api.residents import id_key, resident_out
from linli_registry.api.residents_schemas import HouseholdOut, ResidentOut
from linli_registry.usecases import corrections
from linli_shared.auth import CallerDep
from linli_shared.correction_schemas import Correction, IfMatch
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep
from linli_shared.versions import ChangeOut, Versioned, change_out, etag, parse_if_match

router = APIRouter(prefix="/v1", tags=["corrections"])


class CorrectionIn(Correction):
    unclearable = ("full_name", "gender", "birth_date", "id_number")
    full_name: str | None = Field(default=None, min_length=1, max_length=100)
    gender: str | None = Field(default=None, pattern=r"^(female|male|other)$")
    birth_date: date | None = Field(default=None)
    id_number: str | None = Field(default=None, min_length=18, max_length=18)
    grid_code: str | None = OptionalCode
    household_id: str | None = Field(default=None, max_length=36)
    phone: str | None = Phone
    guardian_name: str | None = GuardianName
    guardian_relation: str | None = GuardianRelation
    guardian_phone: str | None = Phone


class HouseholdCorrectionIn(Correction):
    unclearable = ("address",)
    address: str | None = Field(default=None, min_length=1, max_length=200)
    grid_code: str | None = OptionalCode
    head_resident_id: str | None = Field(default=None, max_length=36, description="One of its residents.")


class CareGroupCorrectionIn(Correction):
    unclearable = (
        "community_worker",
        "grid_worker",
        "neighbour_name",
        "visit_every_hours",
        "call_every_days",
    )
    community_worker: str | None = Field(default=None, min_length=1, max_length=100)
    grid_worker: str | None = Field(default=None, min_length=1, max_length=100)
    neighbour_name: str | None = Field(default=None, min_length=1, max_length=100)
    neighbour_phone: str | None = Phone
    visit_every_hours: int | None = Field(default=None, ge=1, le=24 * 31)
    call_every_days: int | None = Field(default=None, ge=1, le=366)


class VersionedCareGroupOut(CareGroupOut):
    version: int


def tagged(response: Response, record: Versioned) -> Versioned:
    response.headers["ETag"] = etag(record)
    return record


@router.patch("/residents/{resident_id}", response_model=ResidentOut)
async def correct_resident(
    resident_id: str,
    data: CorrectionIn,
    request: Request,
    response: Response,
    uow: UnitOfWorkDep,
    caller: CallerDep,
    if_match: IfMatch = None,
) -> object:
    """Correct a resident's record on the version you read. If someone changed it since, nothing
    changes: a 409 says what they changed."""
    seen = parse_if_match(if_match, data.version)
    resident = await corrections.correct_resident(
        uow, caller, resident_id, data, seen=seen, id_key=id_key(request)
    )
    return resident_out(tagged(response, resident))  # type: ignore[arg-type]


@router.patch("/households/{household_id}", response_model=HouseholdOut)
async def correct_household(
    household_id: str,
    data: HouseholdCorrectionIn,
    response: Response,
    uow: UnitOfWorkDep,
    caller: CallerDep,
    if_match: IfMatch = None,
) -> object:
    """A household's address, grid or head (one of its residents). Residents join or leave a
    household by a correction of their own `household_id`."""
    seen = parse_if_match(if_match, data.version)
    return tagged(response, await corrections.correct_household(uow, caller, household_id, data, seen=seen))


@router.patch("/care-groups/{care_group_id}", response_model=VersionedCareGroupOut)
async def correct_care_group(
    care_group_id: str,
    data: CareGroupCorrectionIn,
    response: Response,
    uow: UnitOfWorkDep,
    caller: CallerDep,
    if_match: IfMatch = None,
) -> object:
    """Who is in a care group and how often they visit and call: a neighbour moved away, another
    grid worker took over. Alerts go to the people as they now stand."""
    seen = parse_if_match(if_match, data.version)
    return tagged(response, await corrections.correct_care_group(uow, caller, care_group_id, data, seen=seen))


@router.get("/{kind}/{record_id}/history", response_model=list[ChangeOut])
async def record_history(
    kind: Literal["residents", "households", "care-groups"],
    record_id: str,
    session: SessionDep,
    caller: CallerDep,
) -> object:
    """Every change of a resident, household or care group since it was entered, oldest first."""
    return [change_out(change) for change in await corrections.history(session, caller, kind, record_id)]
