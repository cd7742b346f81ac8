"""HTTP routes of the love supermarket, with what they accept and return."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from linli_points.domain import StockSource
from linli_points.usecases import supermarket
from linli_shared.auth import CallerDep
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.schema_types import Code, Strict
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep

router = APIRouter(prefix="/v1")


class ItemIn(Strict):
    district: str = Code
    community: str = Code
    name: str = Field(min_length=1, max_length=100)
    points_price: int = Field(gt=0, le=1_000_000)
    monthly_limit: int | None = Field(default=None, gt=0, le=1000)
    low_stock_threshold: int = Field(default=0, ge=0, le=100_000)


class ItemOut(BaseModel):
    id: str
    district: str
    community: str
    name: str
    points_price: int
    stock: int
    monthly_limit: int | None
    low_stock_threshold: int
    active: bool
    version: int


class IntakeIn(Strict):
    quantity: int = Field(gt=0, le=100_000)
    source: StockSource
    note: str = Field(default="", max_length=500)


class RedemptionIn(Strict):
    item_id: str = Field(max_length=36)
    quantity: int = Field(default=1, gt=0, le=100)
    volunteer_id: str | None = Field(
        default=None, max_length=36, description="Only a worker may redeem for someone else."
    )


class PickupIn(Strict):
    pickup_code: str = Field(pattern=r"^\d{6}$")


class RedemptionOut(BaseModel):
    id: str
    district: str
    community: str
    item_id: str
    volunteer_id: str
    quantity: int
    points: int
    status: str
    pickup_code: str
    redeemed_at: datetime
    settled_at: datetime | None


@router.post("/items", status_code=201, response_model=ItemOut, tags=["supermarket"])
async def create_item(data: ItemIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await supermarket.create_item(uow, caller, data)).model_dump()


@router.get("/items", response_model=Page[ItemOut], tags=["supermarket"])
async def list_items(
    session: SessionDep, caller: CallerDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> object:
    page = await supermarket.list_items(session, caller, cursor=cursor, limit=limit)
    return Page(items=[i.model_dump() for i in page.items], next_cursor=page.next_cursor)


@router.post("/items/{item_id}/intakes", status_code=201, response_model=ItemOut, tags=["supermarket"])
async def receive_stock(item_id: str, data: IntakeIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await supermarket.receive_stock(uow, caller, item_id, data)).model_dump()


@router.post("/redemptions", status_code=201, response_model=RedemptionOut, tags=["supermarket"])
async def redeem(data: RedemptionIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await supermarket.redeem(uow, caller, data)).model_dump()


@router.get("/redemptions", response_model=Page[RedemptionOut], tags=["supermarket"])
async def list_redemptions(
    session: SessionDep, caller: CallerDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> object:
    page = await supermarket.list_redemptions(session, caller, cursor=cursor, limit=limit)
    return Page(items=[r.model_dump() for r in page.items], next_cursor=page.next_cursor)


@router.post("/redemptions/{redemption_id}/pickup", response_model=RedemptionOut, tags=["supermarket"])
async def confirm_pickup(redemption_id: str, data: PickupIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await supermarket.confirm_pickup(uow, caller, redemption_id, data)).model_dump()


@router.post("/redemptions/{redemption_id}/cancellation", response_model=RedemptionOut, tags=["supermarket"])
async def cancel_redemption(redemption_id: str, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await supermarket.cancel_redemption(uow, caller, redemption_id)).model_dump()
