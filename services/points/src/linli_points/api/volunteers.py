"""HTTP routes of teams, volunteers and their points, with what they accept and return."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from linli_points.access import balance_of, load_volunteer_with_balance, volunteer_of
from linli_points.domain import TeamKind
from linli_points.models import Volunteer
from linli_points.usecases import points, volunteers
from linli_shared.auth import CallerDep
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.schema_types import Code, Strict
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep

router = APIRouter(prefix="/v1")


class TeamIn(Strict):
    district: str = Code
    community: str = Code
    name: str = Field(min_length=1, max_length=100)
    kind: TeamKind


class TeamOut(BaseModel):
    id: str
    district: str
    community: str
    name: str
    kind: TeamKind
    active: bool
    version: int


class VolunteerIn(Strict):
    district: str = Code
    community: str = Code
    subject: str = Field(min_length=1, max_length=100, description="The subject of their own token.")
    full_name: str = Field(min_length=1, max_length=100)
    resident_id: str | None = Field(default=None, max_length=36, description="If a registered resident.")
    team_id: str | None = Field(default=None, max_length=36)
    party_member: bool = False
    skills: list[str] = Field(default_factory=list, max_length=20)


class VolunteerOut(BaseModel):
    id: str
    district: str
    community: str
    subject: str
    full_name: str
    resident_id: str | None
    team_id: str | None
    party_member: bool
    skills: list[str]
    balance: int
    enrolled_at: datetime
    active: bool = Field(description="False once the volunteer has left.")
    left_at: datetime | None
    version: int


class AdjustmentIn(Strict):
    volunteer_id: str = Field(max_length=36)
    points: int = Field(ge=-100_000, le=100_000, description="Positive credits, negative debits; not 0.")
    reason: str = Field(min_length=1, max_length=500)


class EntryOut(BaseModel):
    id: int
    volunteer_id: str
    kind: str
    points: int
    balance_after: int
    reason: str
    actor: str
    reference: str | None
    created_at: datetime


def volunteer_out(volunteer: Volunteer, balance: int) -> VolunteerOut:
    return VolunteerOut(**volunteer.model_dump(), balance=balance)


@router.post("/teams", status_code=201, response_model=TeamOut, tags=["volunteers"])
async def create_team(data: TeamIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await volunteers.create_team(uow, caller, data)).model_dump()


@router.get("/teams", response_model=list[TeamOut], tags=["volunteers"])
async def list_teams(session: SessionDep, caller: CallerDep) -> object:
    return [team.model_dump() for team in await volunteers.list_teams(session, caller)]


@router.post("/volunteers", status_code=201, response_model=VolunteerOut, tags=["volunteers"])
async def enrol_volunteer(data: VolunteerIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return volunteer_out(*await volunteers.enrol_volunteer(uow, caller, data))


@router.get("/volunteers", response_model=Page[VolunteerOut], tags=["volunteers"])
async def list_volunteers(
    session: SessionDep, caller: CallerDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> object:
    page = await volunteers.list_volunteers(session, caller, cursor=cursor, limit=limit)
    items = [volunteer_out(v, await balance_of(session, v.id)) for v in page.items]
    return Page(items=items, next_cursor=page.next_cursor)


@router.get("/volunteers/me", response_model=VolunteerOut, tags=["volunteers"])
async def my_volunteer_record(session: SessionDep, caller: CallerDep) -> object:
    volunteer = await volunteer_of(session, caller)
    return volunteer_out(volunteer, await balance_of(session, volunteer.id))


@router.get("/volunteers/{volunteer_id}", response_model=VolunteerOut, tags=["volunteers"])
async def get_volunteer(volunteer_id: str, session: SessionDep, caller: CallerDep) -> object:
    return volunteer_out(*await load_volunteer_with_balance(session, caller, volunteer_id))


@router.get("/volunteers/{volunteer_id}/ledger", response_model=Page[EntryOut], tags=["points"])
async def points_ledger(
    volunteer_id: str,
    session: SessionDep,
    caller: CallerDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    page = await points.list_entries(session, caller, volunteer_id, cursor=cursor, limit=limit)
    return Page(items=[e.model_dump() for e in page.items], next_cursor=page.next_cursor)


@router.post("/points/adjustments", status_code=201, response_model=EntryOut, tags=["points"])
async def adjust_points(data: AdjustmentIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return await points.adjust_points(uow, caller, data)
