"""Corrections of activities and love-supermarket items, and their ends: an activity called off
(only before any hours were confirmed for it), an item delisted. Shaped as the corrections of
volunteers and teams (`linli_points.usecases.corrections`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, update
from sqlmodel import col, select

from linli_points.access import ORGANISERS, load_activity, load_item
from linli_points.domain import hours
from linli_points.domain.hours import SignUpStatus
from linli_points.models import Activity, Item, SignUp
from linli_points.usecases.corrections import (
    ACTIVITY_FIELDS,
    CANCELLED,
    EARNING_RULE,
    ITEM_FIELDS,
    apply,
    flushed,
    locked,
    named_values,
    version_to_make,
)
from linli_shared.auth import Caller
from linli_shared.contracts.points import ActivityCancelled, ActivityChanged, ItemChanged
from linli_shared.errors import Conflict, Invalid
from linli_shared.unit_of_work import Made, Work, write
from linli_shared.versions import keep_change

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from linli_points.api.corrections import ActivityCorrectionIn, CancellationIn, ItemCorrectionIn


# --- activities -------------------------------------------------------------------------------------


def activity_changed(activity: Activity, changed: list[str], *, version: int) -> ActivityChanged:
    return ActivityChanged(
        activity_id=activity.id,
        title=activity.title,
        kind=activity.kind,
        place=activity.place,
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
        capacity=activity.capacity,
        points_per_hour=activity.points_per_hour,
        rounding=activity.rounding,
        daily_points_cap=activity.daily_points_cap,
        version=version,
        changed=changed,
    )


async def attended(session: AsyncSession, activity: Activity) -> int:
    """How many volunteers had their hours at this activity confirmed (and credited)."""
    statement = select(func.count()).where(
        SignUp.activity_id == activity.id, SignUp.status == SignUpStatus.ATTENDED.value
    )
    return int((await session.exec(statement)).one())


async def check_activity_correction(
    session: AsyncSession, activity: Activity, values: dict[str, object]
) -> None:
    """The corrected activity still holds: it ends after it starts, within a day; its places hold
    everyone signed up; the rule that earned confirmed hours their points stays as it was."""
    starts_at = values.get("starts_at", activity.starts_at)
    ends_at = values.get("ends_at", activity.ends_at)
    if ends_at <= starts_at:  # type: ignore[operator]
        raise Invalid("结束时间须晚于开始时间")
    if hours.window_minutes(starts_at, ends_at) > hours.MAX_ACTIVITY_MINUTES:  # type: ignore[arg-type]
        raise Invalid("一项活动最长 24 小时；更长的请按天分别发布")
    capacity = values.get("capacity", activity.capacity)
    if capacity < activity.signed_up:  # type: ignore[operator]
        raise Conflict(
            f"已有 {activity.signed_up} 人报名，名额不能少于 {activity.signed_up}；请先取消多出的报名"
        )
    rule = sorted(name for name in EARNING_RULE & values.keys() if values[name] != getattr(activity, name))
    if rule and await attended(session, activity):
        raise Conflict("这项活动已有志愿者确认了服务时长并记了积分，不能再改时间或积分规则")


@write(replay=load_activity)
async def correct_activity(
    uow: Work, caller: Caller, activity_id: str, data: ActivityCorrectionIn, *, seen: int | None
) -> Made[Activity]:
    """An activity's title, place, time, places or points rule, on the version the worker saw."""
    caller.check_role(*ORGANISERS)
    activity = await load_activity(uow.session, caller, activity_id)
    await locked(uow, activity)
    if activity.status == CANCELLED:
        raise Conflict("这项活动已取消，不能再改")
    made = await version_to_make(uow, activity, seen)
    values = named_values(data)
    await check_activity_correction(uow.session, activity, values)  # before any attribute is set
    changes = apply(activity, values, ACTIVITY_FIELDS)
    if changes:
        keep_change(uow, caller, activity, "corrected", changes, version=made, reason=data.reason)
        event = activity_changed(activity, sorted(changes), version=made)
        uow.record(event, district=activity.district, community=activity.community)
        await flushed(uow, activity, made - 1)
    return Made(activity.id, activity)


async def cancel_sign_ups(session: AsyncSession, activity: Activity) -> list[str]:
    """Cancel every open sign-up of the activity in one statement; the volunteers it cancelled."""
    statement = (
        update(SignUp)
        .where(col(SignUp.activity_id) == activity.id, col(SignUp.status) == SignUpStatus.SIGNED_UP.value)
        .values(status=SignUpStatus.CANCELLED.value)
        .returning(col(SignUp.volunteer_id))
    )
    return sorted(str(volunteer_id) for (volunteer_id,) in (await session.exec(statement)).all())


@write(replay=load_activity)
async def cancel_activity(
    uow: Work, caller: Caller, activity_id: str, data: CancellationIn, *, seen: int | None
) -> Made[Activity]:
    """Call an activity off: its sign-ups are cancelled and no hours can be confirmed for it. One
    whose hours were already confirmed and credited is not cancelled: those points stand."""
    caller.check_role(*ORGANISERS)
    session = uow.session
    activity = await load_activity(session, caller, activity_id)
    await locked(uow, activity)
    if activity.status == CANCELLED:
        raise Conflict("这项活动已经取消")
    made = await version_to_make(uow, activity, seen, required=False)
    # The open sign-ups first: a confirmation racing this one then either moved its sign-up to
    # attended before (and is counted below) or finds it cancelled.
    freed = await cancel_sign_ups(session, activity)
    if await attended(session, activity):
        raise Conflict("这项活动已有志愿者确认了服务时长并记了积分，不能取消；如有误请调整积分")
    changes = apply(activity, {"status": CANCELLED}, ACTIVITY_FIELDS)
    activity.signed_up -= len(freed)
    keep_change(uow, caller, activity, "cancelled", changes, version=made, reason=data.reason)
    uow.record(
        ActivityCancelled(
            activity_id=activity.id,
            title=activity.title,
            starts_at=activity.starts_at,
            reason=data.reason,
            volunteer_ids=freed,
            version=made,
        ),
        district=activity.district,
        community=activity.community,
    )
    await flushed(uow, activity, made - 1)
    return Made(activity.id, activity)


# --- items ------------------------------------------------------------------------------------------


def item_changed(item: Item, changed: list[str], *, version: int) -> ItemChanged:
    return ItemChanged(
        item_id=item.id,
        item_name=item.name,
        points_price=item.points_price,
        monthly_limit=item.monthly_limit,
        low_stock_threshold=item.low_stock_threshold,
        active=item.active,
        version=version,
        changed=changed,
    )


@write(replay=load_item)
async def correct_item(
    uow: Work, caller: Caller, item_id: str, data: ItemCorrectionIn, *, seen: int | None
) -> Made[Item]:
    """An item's name, price or limits, on the version the worker saw; stock moves only by intake
    and redemption."""
    caller.check_role(*ORGANISERS)
    item = await load_item(uow.session, caller, item_id)
    await locked(uow, item)
    if not item.active:
        raise Conflict(f"“{item.name}”已下架，不能再改")
    made = await version_to_make(uow, item, seen)
    changes = apply(item, named_values(data), ITEM_FIELDS)
    if changes:
        keep_change(uow, caller, item, "corrected", changes, version=made, reason=data.reason)
        uow.record(
            item_changed(item, sorted(changes), version=made),
            district=item.district,
            community=item.community,
        )
        await flushed(uow, item, made - 1)
    return Made(item.id, item)


@write(replay=load_item)
async def delist_item(
    uow: Work, caller: Caller, item_id: str, data: CancellationIn, *, seen: int | None
) -> Made[Item]:
    """Take an item off the shelf: it is no longer listed or redeemed; past redemptions stand."""
    caller.check_role(*ORGANISERS)
    item = await load_item(uow.session, caller, item_id)
    await locked(uow, item)
    if not item.active:
        raise Conflict(f"“{item.name}”已经下架")
    made = await version_to_make(uow, item, seen, required=False)
    changes = apply(item, {"active": False}, ITEM_FIELDS)
    keep_change(uow, caller, item, "delisted", changes, version=made, reason=data.reason)
    uow.record(
        item_changed(item, sorted(changes), version=made), district=item.district, community=item.community
    )
    await flushed(uow, item, made - 1)
    return Made(item.id, item)
