"""The love supermarket: catalogue, stock intake, redemption, pickup and cancellation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points import domain
from linli_points.access import (
    ORGANISERS,
    load_item,
    load_item_of_intake,
    load_redemption,
    load_volunteer,
    volunteer_acted_for,
    volunteer_of,
)
from linli_points.domain import EntryKind, OutOfStock, RedemptionStatus
from linli_points.ledger import PostedEntry, move_points
from linli_points.models import Item, Redemption, StockIntake, Volunteer
from linli_points.words import status_zh
from linli_shared.auth import Caller, Role
from linli_shared.contracts.points import PointsRedeemed, RedemptionCancelled, StockLow
from linli_shared.errors import Conflict, NotFound
from linli_shared.paging import Page, page_of
from linli_shared.scoping import in_scope
from linli_shared.unit_of_work import Made, Work, write

if TYPE_CHECKING:
    from linli_points.api.supermarket import IntakeIn, ItemIn, PickupIn, RedemptionIn


@write(replay=load_item)
async def create_item(uow: Work, caller: Caller, data: ItemIn) -> Made[Item]:
    caller.check_role(*ORGANISERS)
    caller.check_sees(data.district, data.community, "community")
    item = Item(id=str(uuid.uuid4()), **data.model_dump())
    uow.session.add(item)
    return Made(item.id, item)


async def list_items(session: AsyncSession, caller: Caller, *, cursor: str | None, limit: int) -> Page[Item]:
    statement = in_scope(select(Item).where(col(Item.active).is_(True)), Item, caller)
    return await page_of(session, statement, col(Item.id), cursor=cursor, limit=limit)


@write(replay=load_item_of_intake)
async def receive_stock(uow: Work, caller: Caller, item_id: str, data: IntakeIn) -> Made[Item]:
    """Stock comes in (bought, donated, from a neighbour); the same intake sent twice counts once."""
    caller.check_role(*ORGANISERS)
    item = await load_item(uow.session, caller, item_id)
    intake = StockIntake(
        id=str(uuid.uuid4()),
        district=item.district,
        community=item.community,
        item_id=item.id,
        quantity=data.quantity,
        source=data.source.value,
        note=data.note,
        received_by=caller.subject,
        received_at=uow.now,
    )
    uow.session.add(intake)
    await uow.session.exec(
        update(Item).where(col(Item.id) == item.id).values(stock=Item.stock + data.quantity)
    )
    await uow.session.refresh(item)
    return Made(intake.id, item)


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
        raise OutOfStock(f"only {item.stock} of {item.name} left", zh=f"“{item.name}”只剩 {item.stock} 件了")
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


@write(replay=load_redemption)
async def redeem(uow: Work, caller: Caller, data: RedemptionIn) -> Made[Redemption]:
    """Spend points on goods: the debit, the stock and the pickup code commit together or not at all.

    The points or the stock may be gone to a twin request (same key): @write then answers as it did."""
    session = uow.session
    volunteer = await volunteer_acted_for(
        session,
        caller,
        data.volunteer_id,
        only_own="volunteers may spend only their own points",
        only_own_zh="志愿者只能使用自己的积分",
        doing="redeems for a volunteer",
        doing_zh="代志愿者兑换",
    )
    item = await load_item(session, caller, data.item_id)
    if (item.district, item.community) != (volunteer.district, volunteer.community):
        raise NotFound("item not found", zh="没有找到这个商品")
    if not item.active:
        raise Conflict(f"{item.name} is no longer offered", zh=f"“{item.name}”已下架")
    redemption = Redemption(
        id=str(uuid.uuid4()),
        district=item.district,
        community=item.community,
        item_id=item.id,
        volunteer_id=volunteer.id,
        quantity=data.quantity,
        points=item.points_price * data.quantity,
        pickup_code=domain.new_pickup_code(),
        redeemed_at=uow.now,
    )
    entry, left = await take_points_and_stock(uow, caller, volunteer, item, redemption)
    session.add(redemption)
    uow.record(
        PointsRedeemed(
            redemption_id=redemption.id,
            volunteer_id=volunteer.id,
            item_id=item.id,
            quantity=data.quantity,
            points=redemption.points,
            balance=entry.balance_after,
        ),
        district=item.district,
        community=item.community,
    )
    if domain.crosses_low_stock(left + data.quantity, left, item.low_stock_threshold):
        uow.record(
            StockLow(item_id=item.id, item_name=item.name, stock=left, threshold=item.low_stock_threshold),
            district=item.district,
            community=item.community,
        )
    return Made(redemption.id, redemption)


async def take_points_and_stock(
    uow: Work, caller: Caller, volunteer: Volunteer, item: Item, redemption: Redemption
) -> tuple[PostedEntry, int]:
    """Debit the points, check the monthly limit, take the stock; return the entry and what is left."""
    entry = await move_points(  # first: it locks the volunteer's account for the checks below
        uow.session,
        volunteer,
        -redemption.points,
        kind=EntryKind.REDEEMED,
        reason=f"{redemption.quantity} × {item.name}",
        actor=caller.subject,
        now=uow.now,
        reference=redemption.id,
    )
    already = await redeemed_this_month(uow.session, volunteer, item, uow.now)
    domain.check_monthly_limit(already, redemption.quantity, item.monthly_limit)
    return entry, await take_stock(uow.session, item, redemption.quantity)


async def settle(session: AsyncSession, redemption_id: str, to: RedemptionStatus, now: datetime) -> bool:
    """Move a reserved redemption on, once: a conditional update, so two racing requests can't both."""
    result = await session.exec(
        update(Redemption)
        .where(col(Redemption.id) == redemption_id, col(Redemption.status) == RedemptionStatus.RESERVED.value)
        .values(status=to.value, settled_at=now)
    )
    return bool(result.rowcount)


@write(replay=load_redemption)
async def confirm_pickup(uow: Work, caller: Caller, redemption_id: str, data: PickupIn) -> Made[Redemption]:
    caller.check_role(*ORGANISERS)
    redemption = await load_redemption(uow.session, caller, redemption_id)
    if data.pickup_code != redemption.pickup_code:
        raise Conflict("the pickup code does not match", zh="取货码不对，请核对后再试")
    if not await settle(uow.session, redemption.id, RedemptionStatus.PICKED_UP, uow.now):
        raise Conflict(
            f"this redemption is already {redemption.status}",
            zh=f"这笔兑换当前为「{status_zh(redemption.status)}」，不能再确认取货",
        )
    await uow.session.refresh(redemption)
    return Made(redemption.id, redemption)


@write(replay=load_redemption)
async def cancel_redemption(uow: Work, caller: Caller, redemption_id: str) -> Made[Redemption]:
    """Refund the points and put the goods back, exactly once however often it is asked."""
    session = uow.session
    redemption = await load_redemption(session, caller, redemption_id)
    if caller.role is not Role.VOLUNTEER:
        caller.check_role(*ORGANISERS)
    if not await settle(session, redemption.id, RedemptionStatus.CANCELLED, uow.now):
        raise Conflict(
            f"this redemption is already {redemption.status}",
            zh=f"这笔兑换当前为「{status_zh(redemption.status)}」，不能再取消",
        )
    volunteer = await load_volunteer(session, caller, redemption.volunteer_id)
    await move_points(
        session,
        volunteer,
        redemption.points,
        kind=EntryKind.REFUNDED,
        reason="redemption cancelled",
        actor=caller.subject,
        now=uow.now,
        reference=redemption.id,
    )
    await session.exec(
        update(Item).where(col(Item.id) == redemption.item_id).values(stock=Item.stock + redemption.quantity)
    )
    uow.record(
        RedemptionCancelled(
            redemption_id=redemption.id, volunteer_id=volunteer.id, points_refunded=redemption.points
        ),
        district=redemption.district,
        community=redemption.community,
    )
    await session.refresh(redemption)
    return Made(redemption.id, redemption)


async def list_redemptions(
    session: AsyncSession, caller: Caller, *, cursor: str | None, limit: int
) -> Page[Redemption]:
    statement = in_scope(select(Redemption), Redemption, caller)
    if caller.role is Role.VOLUNTEER:
        statement = statement.where(Redemption.volunteer_id == (await volunteer_of(session, caller)).id)
    else:
        caller.check_role(*ORGANISERS, Role.AUDITOR)
    return await page_of(session, statement, col(Redemption.id), cursor=cursor, limit=limit)
