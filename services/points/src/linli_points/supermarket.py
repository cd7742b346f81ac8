"""The love supermarket: catalogue, stock intake, redemption, pickup and cancellation."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import partial

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points import domain, schemas
from linli_points.domain import EntryKind, OutOfStock, RedemptionStatus
from linli_points.ledger import move_points
from linli_points.models import Item, Redemption, StockIntake, Volunteer
from linli_points.usecases import ORGANISERS, load_volunteer, volunteer_of
from linli_shared.auth import Caller, Role
from linli_shared.contracts.points import PointsRedeemed, RedemptionCancelled, StockLow
from linli_shared.errors import Conflict, Forbidden, Invalid, NotFound
from linli_shared.idempotency import IdempotentRequest, commit_once, previous_result, replay_or_raise
from linli_shared.outbox import record_event
from linli_shared.paging import Page, page_of
from linli_shared.scoping import get_visible, in_scope


async def create_item(session: AsyncSession, caller: Caller, data: schemas.ItemIn) -> Item:
    caller.check_role(*ORGANISERS)
    caller.check_sees(data.district, data.community, "community")
    item = Item(id=str(uuid.uuid4()), **data.model_dump())
    session.add(item)
    await session.commit()
    return item


async def list_items(session: AsyncSession, caller: Caller, *, cursor: str | None, limit: int) -> Page[Item]:
    statement = in_scope(select(Item).where(col(Item.active).is_(True)), Item, caller)
    return await page_of(session, statement, col(Item.id), cursor=cursor, limit=limit)


async def load_item(session: AsyncSession, caller: Caller, item_id: str) -> Item:
    return await get_visible(session, Item, item_id, caller, "item")


async def receive_stock(
    session: AsyncSession,
    caller: Caller,
    item_id: str,
    data: schemas.IntakeIn,
    *,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> Item:
    """Stock comes in (bought, donated, from a neighbour); the same intake sent twice counts once."""
    caller.check_role(*ORGANISERS)
    item = await load_item(session, caller, item_id)
    if idempotency and await previous_result(session, idempotency):
        return item
    intake = StockIntake(
        id=str(uuid.uuid4()),
        district=item.district,
        community=item.community,
        item_id=item.id,
        quantity=data.quantity,
        source=data.source.value,
        note=data.note,
        received_by=caller.subject,
        received_at=now,
    )
    session.add(intake)
    await session.exec(update(Item).where(col(Item.id) == item.id).values(stock=Item.stock + data.quantity))
    await session.refresh(item)
    return await commit_once(
        session, idempotency, intake.id, lambda _: load_item(session, caller, item_id), item
    )


async def take_stock(session: AsyncSession, item: Item, quantity: int) -> int:
    """Decrement stock only if enough is left, in one statement; return what is left."""
    left = (
        await session.exec(
            update(Item)
            .where(col(Item.id) == item.id, col(Item.stock) >= quantity)
            .values(stock=Item.stock - quantity)
            .returning(col(Item.stock))
        )
    ).scalar_one_or_none()
    if left is None:
        raise OutOfStock(f"only {item.stock} of {item.name} left")
    return int(left)


async def redeemed_this_month(session: AsyncSession, volunteer: Volunteer, item: Item, now: datetime) -> int:
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    statement = select(func.coalesce(func.sum(Redemption.quantity), 0)).where(
        Redemption.volunteer_id == volunteer.id,
        Redemption.item_id == item.id,
        Redemption.status != RedemptionStatus.CANCELLED.value,
        col(Redemption.redeemed_at) >= month_start,
    )
    return int((await session.exec(statement)).one())


async def redeem(
    session: AsyncSession,
    caller: Caller,
    data: schemas.RedemptionIn,
    *,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> Redemption:
    """Spend points on goods: the debit, the stock and the pickup code commit together or not at all."""
    if idempotency and (previous := await previous_result(session, idempotency)):
        return await load_redemption(session, caller, previous)
    if caller.role is Role.VOLUNTEER:
        volunteer = await volunteer_of(session, caller)
        if data.volunteer_id not in (None, volunteer.id):
            raise Forbidden("volunteers may spend only their own points")
    else:
        caller.check_role(*ORGANISERS)
        if data.volunteer_id is None:
            raise Invalid("volunteer_id is required when a worker redeems for a volunteer")
        volunteer = await load_volunteer(session, caller, data.volunteer_id)
    item = await load_item(session, caller, data.item_id)
    if (item.district, item.community) != (volunteer.district, volunteer.community):
        raise NotFound("item not found")
    if not item.active:
        raise Conflict(f"{item.name} is no longer offered")
    points = item.points_price * data.quantity
    redemption = Redemption(
        id=str(uuid.uuid4()),
        district=item.district,
        community=item.community,
        item_id=item.id,
        volunteer_id=volunteer.id,
        quantity=data.quantity,
        points=points,
        pickup_code=domain.new_pickup_code(),
        redeemed_at=now,
    )
    replay = partial(load_redemption, session, caller)
    try:
        entry = await move_points(  # first: it locks the volunteer's account for the checks below
            session,
            volunteer,
            -points,
            kind=EntryKind.REDEEMED,
            reason=f"{data.quantity} × {item.name}",
            actor=caller.subject,
            now=now,
            reference=redemption.id,
        )
        domain.check_monthly_limit(
            await redeemed_this_month(session, volunteer, item, now), data.quantity, item.monthly_limit
        )
        left = await take_stock(session, item, data.quantity)
    except Conflict as error:  # the points or stock may be gone to a twin (same key): its answer is ours
        return await replay_or_raise(session, idempotency, error, replay)
    session.add(redemption)
    record_event(
        session,
        PointsRedeemed(
            redemption_id=redemption.id,
            volunteer_id=volunteer.id,
            item_id=item.id,
            quantity=data.quantity,
            points=points,
            balance=entry.balance_after,
        ),
        district=item.district,
        community=item.community,
        now=now,
    )
    if domain.crosses_low_stock(left + data.quantity, left, item.low_stock_threshold):
        record_event(
            session,
            StockLow(item_id=item.id, item_name=item.name, stock=left, threshold=item.low_stock_threshold),
            district=item.district,
            community=item.community,
            now=now,
        )
    return await commit_once(session, idempotency, redemption.id, replay, redemption)


async def load_redemption(session: AsyncSession, caller: Caller, redemption_id: str) -> Redemption:
    redemption = await get_visible(session, Redemption, redemption_id, caller, "redemption")
    if caller.role is Role.VOLUNTEER:
        await load_volunteer(session, caller, redemption.volunteer_id)
    return redemption


async def settle(session: AsyncSession, redemption_id: str, to: RedemptionStatus, now: datetime) -> bool:
    """Move a reserved redemption on, once: a conditional update, so two racing requests can't both."""
    result = await session.exec(
        update(Redemption)
        .where(col(Redemption.id) == redemption_id, col(Redemption.status) == RedemptionStatus.RESERVED.value)
        .values(status=to.value, settled_at=now)
    )
    return bool(result.rowcount)


async def confirm_pickup(
    session: AsyncSession, caller: Caller, redemption_id: str, data: schemas.PickupIn, *, now: datetime
) -> Redemption:
    caller.check_role(*ORGANISERS)
    redemption = await load_redemption(session, caller, redemption_id)
    if data.pickup_code != redemption.pickup_code:
        raise Conflict("the pickup code does not match")
    if not await settle(session, redemption.id, RedemptionStatus.PICKED_UP, now):
        raise Conflict(f"this redemption is already {redemption.status}")
    await session.commit()
    await session.refresh(redemption)
    return redemption


async def cancel_redemption(
    session: AsyncSession, caller: Caller, redemption_id: str, *, now: datetime
) -> Redemption:
    """Refund the points and put the goods back, exactly once however often it is asked."""
    redemption = await load_redemption(session, caller, redemption_id)
    if caller.role is not Role.VOLUNTEER:
        caller.check_role(*ORGANISERS)
    if not await settle(session, redemption.id, RedemptionStatus.CANCELLED, now):
        raise Conflict(f"this redemption is already {redemption.status}")
    volunteer = await load_volunteer(session, caller, redemption.volunteer_id)
    await move_points(
        session,
        volunteer,
        redemption.points,
        kind=EntryKind.REFUNDED,
        reason="redemption cancelled",
        actor=caller.subject,
        now=now,
        reference=redemption.id,
    )
    await session.exec(
        update(Item).where(col(Item.id) == redemption.item_id).values(stock=Item.stock + redemption.quantity)
    )
    record_event(
        session,
        RedemptionCancelled(
            redemption_id=redemption.id, volunteer_id=volunteer.id, points_refunded=redemption.points
        ),
        district=redemption.district,
        community=redemption.community,
        now=now,
    )
    await session.commit()
    await session.refresh(redemption)
    return redemption


async def list_redemptions(
    session: AsyncSession, caller: Caller, *, cursor: str | None, limit: int
) -> Page[Redemption]:
    statement = in_scope(select(Redemption), Redemption, caller)
    if caller.role is Role.VOLUNTEER:
        statement = statement.where(Redemption.volunteer_id == (await volunteer_of(session, caller)).id)
    else:
        caller.check_role(*ORGANISERS, Role.AUDITOR)
    return await page_of(session, statement, col(Redemption.id), cursor=cursor, limit=limit)
