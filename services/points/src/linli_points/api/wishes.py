"""HTTP routes of the wish wall, with what they accept and return."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from linli_points.access import load_wish
from linli_points.domain.wishes import MAX_POINTS_AWARD, WishStatus
from linli_points.usecases import wishes
from linli_shared.auth import CallerDep
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.schema_types import Strict
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep

router = APIRouter(prefix="/v1")


class WishIn(Strict):
    resident_id: str = Field(
        min_length=1,
        max_length=36,
        description="A resident of the caller's community; a resident posts only for themselves.",
    )
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    points_award: int = Field(
        default=0, ge=0, le=MAX_POINTS_AWARD, description="Points the claimant earns once it is confirmed."
    )


class ReviewIn(Strict):
    approve: bool = Field(strict=True, description="true puts the wish on the wall; false rejects it.")
    note: str = Field(default="", max_length=500, description="Required when rejecting.")


class FulfilmentIn(Strict):
    note: str = Field(
        min_length=1, max_length=2000, description="What was done, for the resident and the branch."
    )


class WishOut(BaseModel):
    id: str
    district: str
    community: str
    resident_id: str
    title: str
    description: str
    points_award: int
    status: WishStatus
    posted_by: str
    posted_at: datetime
    reviewed_by: str | None
    review_note: str
    claimant_id: str | None
    claimed_at: datetime | None
    claim_expires_at: datetime | None
    fulfilled_at: datetime | None
    fulfilment_note: str
    confirmed_by: str | None
    closed_reason: str
    updated_at: datetime


StatusQuery = Annotated[WishStatus | None, Query(description="Only wishes in this status.")]
ResidentQuery = Annotated[str | None, Query(max_length=36, description="Only this resident's wishes.")]


@router.post("/wishes", status_code=201, response_model=WishOut, tags=["wishes"])
async def post_wish(data: WishIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await wishes.post_wish(uow, caller, data)).model_dump()


@router.get("/wishes", response_model=Page[WishOut], tags=["wishes"])
async def list_wishes(
    session: SessionDep,
    caller: CallerDep,
    status: StatusQuery = None,
    resident_id: ResidentQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    page = await wishes.list_wishes(
        session, caller, status=status, resident_id=resident_id, cursor=cursor, limit=limit
    )
    return Page(items=[w.model_dump() for w in page.items], next_cursor=page.next_cursor)


@router.get("/wishes/{wish_id}", response_model=WishOut, tags=["wishes"])
async def get_wish(wish_id: str, session: SessionDep, caller: CallerDep) -> object:
    return (await load_wish(session, caller, wish_id)).model_dump()


@router.post("/wishes/{wish_id}/review", response_model=WishOut, tags=["wishes"])
async def review_wish(wish_id: str, data: ReviewIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await wishes.review_wish(uow, caller, wish_id, data)).model_dump()


@router.post("/wishes/{wish_id}/claim", response_model=WishOut, tags=["wishes"])
async def claim_wish(wish_id: str, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await wishes.claim_wish(uow, caller, wish_id)).model_dump()


@router.post("/wishes/{wish_id}/fulfilment", response_model=WishOut, tags=["wishes"])
async def fulfil_wish(wish_id: str, data: FulfilmentIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await wishes.fulfil_wish(uow, caller, wish_id, data)).model_dump()


@router.post("/wishes/{wish_id}/confirmation", response_model=WishOut, tags=["wishes"])
async def confirm_wish(wish_id: str, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await wishes.confirm_wish(uow, caller, wish_id)).model_dump()
