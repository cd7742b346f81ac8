"""HTTP routes: translate requests to use cases and results to responses, nothing more."""

from __future__ import annotations

from fastapi import APIRouter

from linli_points import rules, schemas, supermarket, usecases
from linli_points.models import Volunteer
from linli_shared.auth import CallerDep
from linli_shared.clock import utc_now
from linli_shared.idempotency import IdempotencyDep
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.service import SessionDep

router = APIRouter(prefix="/v1")


def volunteer_out(volunteer: Volunteer, balance: int) -> schemas.VolunteerOut:
    return schemas.VolunteerOut(**volunteer.model_dump(), balance=balance)


@router.post("/teams", status_code=201, response_model=schemas.TeamOut, tags=["volunteers"])
async def create_team(data: schemas.TeamIn, session: SessionDep, caller: CallerDep) -> object:
    return (await usecases.create_team(session, caller, data)).model_dump()


@router.get("/teams", response_model=list[schemas.TeamOut], tags=["volunteers"])
async def list_teams(session: SessionDep, caller: CallerDep) -> object:
    return [team.model_dump() for team in await usecases.list_teams(session, caller)]


@router.post("/volunteers", status_code=201, response_model=schemas.VolunteerOut, tags=["volunteers"])
async def enrol_volunteer(data: schemas.VolunteerIn, session: SessionDep, caller: CallerDep) -> object:
    return volunteer_out(*await usecases.enrol_volunteer(session, caller, data, now=utc_now()))


@router.get("/volunteers", response_model=Page[schemas.VolunteerOut], tags=["volunteers"])
async def list_volunteers(
    session: SessionDep, caller: CallerDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> object:
    page = await usecases.list_volunteers(session, caller, cursor=cursor, limit=limit)
    items = [volunteer_out(v, await usecases.balance_of(session, v.id)) for v in page.items]
    return Page(items=items, next_cursor=page.next_cursor)


@router.get("/volunteers/me", response_model=schemas.VolunteerOut, tags=["volunteers"])
async def my_volunteer_record(session: SessionDep, caller: CallerDep) -> object:
    volunteer = await usecases.volunteer_of(session, caller)
    return volunteer_out(volunteer, await usecases.balance_of(session, volunteer.id))


@router.get("/volunteers/{volunteer_id}", response_model=schemas.VolunteerOut, tags=["volunteers"])
async def get_volunteer(volunteer_id: str, session: SessionDep, caller: CallerDep) -> object:
    return volunteer_out(*await usecases.get_volunteer(session, caller, volunteer_id))


@router.get("/volunteers/{volunteer_id}/ledger", response_model=Page[schemas.EntryOut], tags=["points"])
async def points_ledger(
    volunteer_id: str,
    session: SessionDep,
    caller: CallerDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    page = await usecases.list_entries(session, caller, volunteer_id, cursor=cursor, limit=limit)
    return Page(items=[e.model_dump() for e in page.items], next_cursor=page.next_cursor)


@router.post("/points/adjustments", status_code=201, response_model=schemas.EntryOut, tags=["points"])
async def adjust_points(
    data: schemas.AdjustmentIn, session: SessionDep, caller: CallerDep, idempotency: IdempotencyDep
) -> object:
    entry = await usecases.adjust_points(session, caller, data, idempotency=idempotency, now=utc_now())
    return entry.model_dump()


@router.post("/items", status_code=201, response_model=schemas.ItemOut, tags=["supermarket"])
async def create_item(data: schemas.ItemIn, session: SessionDep, caller: CallerDep) -> object:
    return (await supermarket.create_item(session, caller, data)).model_dump()


@router.get("/items", response_model=Page[schemas.ItemOut], tags=["supermarket"])
async def list_items(
    session: SessionDep, caller: CallerDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> object:
    page = await supermarket.list_items(session, caller, cursor=cursor, limit=limit)
    return Page(items=[i.model_dump() for i in page.items], next_cursor=page.next_cursor)


@router.post(
    "/items/{item_id}/intakes", status_code=201, response_model=schemas.ItemOut, tags=["supermarket"]
)
async def receive_stock(
    item_id: str, data: schemas.IntakeIn, session: SessionDep, caller: CallerDep, idempotency: IdempotencyDep
) -> object:
    item = await supermarket.receive_stock(
        session, caller, item_id, data, idempotency=idempotency, now=utc_now()
    )
    return item.model_dump()


@router.post("/redemptions", status_code=201, response_model=schemas.RedemptionOut, tags=["supermarket"])
async def redeem(
    data: schemas.RedemptionIn, session: SessionDep, caller: CallerDep, idempotency: IdempotencyDep
) -> object:
    redemption = await supermarket.redeem(session, caller, data, idempotency=idempotency, now=utc_now())
    return redemption.model_dump()


@router.get("/redemptions", response_model=Page[schemas.RedemptionOut], tags=["supermarket"])
async def list_redemptions(
    session: SessionDep, caller: CallerDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> object:
    page = await supermarket.list_redemptions(session, caller, cursor=cursor, limit=limit)
    return Page(items=[r.model_dump() for r in page.items], next_cursor=page.next_cursor)


@router.post(
    "/redemptions/{redemption_id}/pickup", response_model=schemas.RedemptionOut, tags=["supermarket"]
)
async def confirm_pickup(
    redemption_id: str, data: schemas.PickupIn, session: SessionDep, caller: CallerDep
) -> object:
    return (
        await supermarket.confirm_pickup(session, caller, redemption_id, data, now=utc_now())
    ).model_dump()


@router.post(
    "/redemptions/{redemption_id}/cancellation", response_model=schemas.RedemptionOut, tags=["supermarket"]
)
async def cancel_redemption(redemption_id: str, session: SessionDep, caller: CallerDep) -> object:
    return (await supermarket.cancel_redemption(session, caller, redemption_id, now=utc_now())).model_dump()


@router.get("/communities/{district}/{community}/rules", response_model=schemas.RulesOut, tags=["rules"])
async def get_rules(district: str, community: str, session: SessionDep, caller: CallerDep) -> object:
    return (await rules.get_rules(session, caller, district, community)).model_dump()


@router.put("/communities/{district}/{community}/rules", response_model=schemas.RulesOut, tags=["rules"])
async def set_rules(
    district: str, community: str, data: schemas.RulesIn, session: SessionDep, caller: CallerDep
) -> object:
    return (await rules.set_rules(session, caller, district, community, data)).model_dump()
