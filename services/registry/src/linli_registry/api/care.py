"""Care groups and visit logs over HTTP."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from linli_registry.api.fields import Name, Phone
from linli_registry.domain import VisitKind, age_on
from linli_registry.usecases import care
from linli_registry.usecases.residents import tags_of
from linli_shared.auth import CallerDep
from linli_shared.clock import utc_now
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.schema_types import Strict
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["care"])


class CareGroupIn(Strict):
    resident_id: str = Field(max_length=36)
    community_worker: str = Field(min_length=1, max_length=100)
    grid_worker: str = Field(min_length=1, max_length=100)
    neighbour_name: str = Name
    neighbour_phone: str | None = Phone
    visit_every_hours: int = Field(default=24, ge=1, le=24 * 31)
    call_every_days: int = Field(default=7, ge=1, le=366)
    formed_at: datetime | None = Field(
        default=None,
        description="When the group was formed, if before it is entered here (at most 31 days ago); "
        "defaults to now; timezone required. Visits are due from then on.",
    )


class CareGroupOut(BaseModel):
    id: str
    district: str
    community: str
    resident_id: str
    community_worker: str
    grid_worker: str
    neighbour_name: str
    neighbour_phone: str | None
    visit_every_hours: int
    call_every_days: int
    active: bool
    formed_at: datetime


class CareGroupDueOut(CareGroupOut):
    """A care group with its last contacts and next dues, counted as the overdue check counts them."""

    last_visit_at: datetime | None = Field(description="The latest visit logged for the group.")
    last_call_at: datetime | None = Field(description="The latest call logged for the group.")
    next_visit_due_at: datetime = Field(description="Last visit (or forming) plus the visit period.")
    next_call_due_at: datetime = Field(
        description="Last visit or call (or forming) plus the call period: a visit counts as a call."
    )
    resident_name: str = Field(description="The elder's name, so a day's list needs no call per elder.")
    resident_age: int
    resident_tags: list[str]


class VisitIn(Strict):
    resident_id: str = Field(max_length=36)
    kind: VisitKind = VisitKind.VISIT
    visited_at: datetime | None = Field(default=None, description="Defaults to now; timezone required.")
    findings: str = Field(default="", max_length=4000)
    follow_up: str = Field(default="", max_length=4000)
    urgent: bool = Field(
        default=False,
        description="The findings cannot wait: the care group's grid worker and community worker are "
        "alerted at once (`care.visit.urgent_finding`).",
    )


class VisitOut(BaseModel):
    id: str
    district: str
    community: str
    resident_id: str
    care_group_id: str | None
    kind: str
    visitor: str
    visited_at: datetime
    findings: str
    follow_up: str


@router.post("/care-groups", status_code=201, response_model=CareGroupOut)
async def form_care_group(data: CareGroupIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await care.form_care_group(uow, caller, data)).model_dump()


@router.get("/care-groups", response_model=Page[CareGroupDueOut])
async def list_care_groups(
    session: SessionDep,
    caller: CallerDep,
    mine: bool = False,
    resident_id: Annotated[str | None, Query(max_length=36, description="The group of this elder.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    page = await care.list_care_groups(
        session, caller, mine=mine, cursor=cursor, limit=limit, resident_id=resident_id
    )
    groups = list(page.items)
    dues = await care.dues_of_groups(session, groups)
    elders = await care.elders_of_groups(session, groups)
    today = utc_now().date()
    items = [
        {
            **g.model_dump(),
            **asdict(dues[g.id]),
            "resident_name": elders[g.resident_id].full_name,
            "resident_age": age_on(elders[g.resident_id].birth_date, today),
            "resident_tags": tags_of(elders[g.resident_id]),
        }
        for g in groups
    ]
    return Page(items=items, next_cursor=page.next_cursor)


@router.post("/visits", status_code=201, response_model=VisitOut)
async def log_visit(data: VisitIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await care.log_visit(uow, caller, data)).model_dump()


@router.get("/visits", response_model=Page[VisitOut])
async def list_visits(
    session: SessionDep,
    caller: CallerDep,
    resident_id: Annotated[str | None, Query(max_length=36)] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    page = await care.list_visits(session, caller, resident_id=resident_id, cursor=cursor, limit=limit)
    return Page(items=[v.model_dump() for v in page.items], next_cursor=page.next_cursor)
