"""Corrections of volunteers, teams, activities and items over HTTP, their ends, and their histories.

Each correction names only the fields it changes and the version it was made on: the If-Match
header (the ETag the record was answered with) or `version` in the body; without either it is a
428, on a version someone moved on from a 409 saying what changed. An end (a volunteer leaves, a
team is dissolved, an activity called off, an item delisted) checks the version only if given."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Response
from pydantic import AwareDatetime, Field

from linli_points.api.activities import ActivityOut, activity_out
from linli_points.api.supermarket import ItemOut
from linli_points.api.volunteers import TeamOut, VolunteerOut, volunteer_out
from linli_points.domain import TeamKind
from linli_points.domain.hours import Rounding
from linli_points.models import Item, Team
from linli_points.usecases import activity_corrections, corrections
from linli_shared.auth import CallerDep
from linli_shared.correction_schemas import Correction, IfMatch, Reason, Version
from linli_shared.schema_types import Strict
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep
from linli_shared.versions import ChangeOut, Versioned, change_out, etag, parse_if_match

router = APIRouter(prefix="/v1", tags=["corrections"])


class VolunteerCorrectionIn(Correction):
    unclearable = ("full_name", "skills")
    full_name: str | None = Field(default=None, min_length=1, max_length=100)
    team_id: str | None = Field(
        default=None, max_length=36, description="A team of their community; null: none."
    )
    skills: list[Annotated[str, Field(min_length=1, max_length=50)]] | None = Field(
        default=None, max_length=20
    )


class TeamCorrectionIn(Correction):
    unclearable = ("name", "kind")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    kind: TeamKind | None = None


class ActivityCorrectionIn(Correction):
    unclearable = ("title", "place", "starts_at", "ends_at", "capacity", "points_per_hour", "rounding")
    title: str | None = Field(default=None, min_length=1, max_length=200)
    place: str | None = Field(default=None, min_length=1, max_length=200)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = Field(
        default=None, description="After starts_at, at most 24 hours later."
    )
    capacity: int | None = Field(default=None, ge=1, le=10_000, description="At least the sign-ups so far.")
    points_per_hour: int | None = Field(default=None, ge=0, le=1000)
    rounding: Rounding | None = None
    daily_points_cap: int | None = Field(default=None, ge=0, le=100_000, description="null: no cap.")


class ItemCorrectionIn(Correction):
    unclearable = ("name", "points_price", "low_stock_threshold")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    points_price: int | None = Field(default=None, gt=0, le=1_000_000)
    monthly_limit: int | None = Field(default=None, gt=0, le=1000, description="null: no limit.")
    low_stock_threshold: int | None = Field(default=None, ge=0, le=100_000)


class CancellationIn(Strict):
    reason: str = Reason
    version: int | None = Version


def tagged(response: Response, record: Versioned) -> Versioned:
    response.headers["ETag"] = etag(record)
    return record


@router.patch("/volunteers/{volunteer_id}", response_model=VolunteerOut)
async def correct_volunteer(
    volunteer_id: str,
    data: VolunteerCorrectionIn,
    response: Response,
    uow: UnitOfWorkDep,
    caller: CallerDep,
    if_match: IfMatch = None,
) -> object:
    """Correct a volunteer's name, team or skills on the version you read."""
    seen = parse_if_match(if_match, data.version)
    volunteer, balance = await corrections.correct_volunteer(uow, caller, volunteer_id, data, seen=seen)
    return volunteer_out(tagged(response, volunteer), balance)  # type: ignore[arg-type]


@router.post("/volunteers/{volunteer_id}/cancel", response_model=VolunteerOut)
async def release_volunteer(
    volunteer_id: str,
    data: CancellationIn,
    response: Response,
    uow: UnitOfWorkDep,
    caller: CallerDep,
    if_match: IfMatch = None,
) -> object:
    """The volunteer leaves: kept on record with their points, inactive; they can no longer sign up,
    redeem or be credited."""
    seen = parse_if_match(if_match, data.version)
    volunteer, balance = await corrections.release_volunteer(uow, caller, volunteer_id, data, seen=seen)
    return volunteer_out(tagged(response, volunteer), balance)  # type: ignore[arg-type]


@router.patch("/teams/{team_id}", response_model=TeamOut)
async def correct_team(
    team_id: str,
    data: TeamCorrectionIn,
    response: Response,
    uow: UnitOfWorkDep,
    caller: CallerDep,
    if_match: IfMatch = None,
) -> object:
    """Rename a team or change its kind, on the version you read."""
    seen = parse_if_match(if_match, data.version)
    team: Team = await corrections.correct_team(uow, caller, team_id, data, seen=seen)
    return tagged(response, team).model_dump()


@router.post("/teams/{team_id}/cancel", response_model=TeamOut)
async def dissolve_team(
    team_id: str,
    data: CancellationIn,
    response: Response,
    uow: UnitOfWorkDep,
    caller: CallerDep,
    if_match: IfMatch = None,
) -> object:
    """Dissolve a team: it stays on record, inactive, and its members belong to no team."""
    seen = parse_if_match(if_match, data.version)
    team: Team = await corrections.dissolve_team(uow, caller, team_id, data, seen=seen)
    return tagged(response, team).model_dump()


@router.patch("/activities/{activity_id}", response_model=ActivityOut)
async def correct_activity(
    activity_id: str,
    data: ActivityCorrectionIn,
    response: Response,
    uow: UnitOfWorkDep,
    caller: CallerDep,
    if_match: IfMatch = None,
) -> object:
    """Correct an activity's title, place, time, places or points rule on the version you read.
    Places never fall below the sign-ups; once hours were confirmed its time and rule stay."""
    seen = parse_if_match(if_match, data.version)
    activity = await activity_corrections.correct_activity(uow, caller, activity_id, data, seen=seen)
    return activity_out(tagged(response, activity))  # type: ignore[arg-type]


@router.post("/activities/{activity_id}/cancel", response_model=ActivityOut)
async def cancel_activity(
    activity_id: str,
    data: CancellationIn,
    response: Response,
    uow: UnitOfWorkDep,
    caller: CallerDep,
    if_match: IfMatch = None,
) -> object:
    """Call an activity off: its sign-ups are cancelled, no hours can be confirmed for it. Refused
    (409) once hours were confirmed for it."""
    seen = parse_if_match(if_match, data.version)
    activity = await activity_corrections.cancel_activity(uow, caller, activity_id, data, seen=seen)
    return activity_out(tagged(response, activity))  # type: ignore[arg-type]


@router.patch("/items/{item_id}", response_model=ItemOut)
async def correct_item(
    item_id: str,
    data: ItemCorrectionIn,
    response: Response,
    uow: UnitOfWorkDep,
    caller: CallerDep,
    if_match: IfMatch = None,
) -> object:
    """Correct an item's name, points price or limits on the version you read (stock comes in by
    intake)."""
    seen = parse_if_match(if_match, data.version)
    item: Item = await activity_corrections.correct_item(uow, caller, item_id, data, seen=seen)
    return tagged(response, item).model_dump()


@router.post("/items/{item_id}/cancel", response_model=ItemOut)
async def delist_item(
    item_id: str,
    data: CancellationIn,
    response: Response,
    uow: UnitOfWorkDep,
    caller: CallerDep,
    if_match: IfMatch = None,
) -> object:
    """Take an item off the shelf: no longer listed or redeemed; past redemptions stand."""
    seen = parse_if_match(if_match, data.version)
    item: Item = await activity_corrections.delist_item(uow, caller, item_id, data, seen=seen)
    return tagged(response, item).model_dump()


@router.get("/{kind}/{record_id}/history", response_model=list[ChangeOut])
async def record_history(
    kind: Literal["volunteers", "teams", "activities", "items"],
    record_id: str,
    session: SessionDep,
    caller: CallerDep,
) -> object:
    """Every change of a volunteer, team, activity or item since it was entered, oldest first."""
    return [change_out(change) for change in await corrections.history(session, caller, kind, record_id)]
