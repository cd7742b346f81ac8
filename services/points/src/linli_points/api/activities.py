"""HTTP routes of activities and their sign-ups, with what they accept and return."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, Field, model_validator

from linli_points.access import load_activity
from linli_points.domain import hours
from linli_points.domain.hours import Rounding
from linli_points.models import Activity, SignUp
from linli_points.usecases import activities
from linli_shared.auth import CallerDep
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.schema_types import Code, Strict
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep

router = APIRouter(prefix="/v1")


class ActivityIn(Strict):
    district: str = Code
    community: str = Code
    title: str = Field(min_length=1, max_length=200)
    kind: str = Field(
        pattern=r"^[a-z0-9_-]+$", min_length=1, max_length=30, description="e.g. haircut, first_aid."
    )
    place: str = Field(min_length=1, max_length=200)
    starts_at: AwareDatetime
    ends_at: AwareDatetime = Field(description="After starts_at, at most 24 hours later.")
    capacity: int = Field(ge=1, le=10_000)
    points_per_hour: int = Field(default=10, ge=0, le=1000)
    rounding: Rounding = Field(default=Rounding.DOWN, description="How started hours count.")
    daily_points_cap: int | None = Field(
        default=None, ge=0, le=100_000, description="Most service points a volunteer earns in a day."
    )

    @model_validator(mode="after")
    def check_window(self) -> ActivityIn:
        hours.check_window(self.starts_at, self.ends_at)
        return self


class SignUpIn(Strict):
    volunteer_id: str | None = Field(
        default=None, max_length=36, description="Only a worker signs up someone else."
    )


class ActivityOut(BaseModel):
    id: str
    district: str
    community: str
    title: str
    kind: str
    place: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    signed_up: int
    places_left: int
    points_per_hour: int
    rounding: hours.Rounding
    daily_points_cap: int | None
    organiser: str
    status: str
    published_at: datetime
    version: int


class SignUpOut(BaseModel):
    id: str
    activity_id: str
    volunteer_id: str
    status: hours.SignUpStatus
    signed_up_at: datetime


def activity_out(activity: Activity) -> ActivityOut:
    return ActivityOut(**activity.model_dump(), places_left=activity.capacity - activity.signed_up)


def sign_up_out(entry: SignUp) -> SignUpOut:
    return SignUpOut(**entry.model_dump())


@router.post("/activities", status_code=201, response_model=ActivityOut, tags=["activities"])
async def publish_activity(data: ActivityIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return activity_out(await activities.publish_activity(uow, caller, data))


@router.get("/activities", response_model=Page[ActivityOut], tags=["activities"])
async def list_activities(
    session: SessionDep, caller: CallerDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> object:
    page = await activities.list_activities(session, caller, cursor=cursor, limit=limit)
    return Page(items=[activity_out(a) for a in page.items], next_cursor=page.next_cursor)


@router.get("/activities/{activity_id}", response_model=ActivityOut, tags=["activities"])
async def get_activity(activity_id: str, session: SessionDep, caller: CallerDep) -> object:
    return activity_out(await load_activity(session, caller, activity_id))


@router.post(
    "/activities/{activity_id}/sign-ups", status_code=201, response_model=SignUpOut, tags=["activities"]
)
async def sign_up(
    activity_id: str, uow: UnitOfWorkDep, caller: CallerDep, data: SignUpIn | None = None
) -> object:
    return sign_up_out(await activities.sign_up(uow, caller, activity_id, data or SignUpIn()))


@router.get("/activities/{activity_id}/sign-ups", response_model=Page[SignUpOut], tags=["activities"])
async def list_sign_ups(
    activity_id: str,
    session: SessionDep,
    caller: CallerDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    page = await activities.list_sign_ups(session, caller, activity_id, cursor=cursor, limit=limit)
    return Page(items=[sign_up_out(s) for s in page.items], next_cursor=page.next_cursor)


@router.post(
    "/activities/{activity_id}/sign-ups/{volunteer_id}/cancellation",
    response_model=SignUpOut,
    tags=["activities"],
)
async def cancel_sign_up(
    activity_id: str, volunteer_id: str, uow: UnitOfWorkDep, caller: CallerDep
) -> object:
    return sign_up_out(await activities.cancel_sign_up(uow, caller, activity_id, volunteer_id))
