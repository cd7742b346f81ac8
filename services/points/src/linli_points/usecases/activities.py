"""Activities and their sign-ups: publish, take a place while one is left, free it again."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points.access import (
    ORGANISERS,
    READERS,
    load_activity,
    load_volunteer,
    volunteer_acted_for,
)
from linli_points.domain import hours
from linli_points.domain.hours import SignUpStatus
from linli_points.models import Activity, SignUp, Volunteer
from linli_points.words import status_zh
from linli_shared.auth import Caller, Role
from linli_shared.contracts.points import ActivityPublished
from linli_shared.database import flush_or_conflict
from linli_shared.errors import Conflict, Invalid, NotFound
from linli_shared.paging import Page, page_of
from linli_shared.scoping import in_scope
from linli_shared.unit_of_work import Made, Work, write

if TYPE_CHECKING:
    from linli_points.api.activities import ActivityIn, SignUpIn

PUBLISHED = "published"
CANCELLED = "cancelled"
ALREADY_SIGNED_UP = "this volunteer is already signed up for this activity"
ALREADY_SIGNED_UP_ZH = "这位志愿者已经报名了这项活动"
NO_SIGN_UP = "没有找到这条报名记录"


@write(replay=load_activity)
async def publish_activity(uow: Work, caller: Caller, data: ActivityIn) -> Made[Activity]:
    caller.check_role(*ORGANISERS)
    caller.check_sees(data.district, data.community, "community")
    activity = Activity(
        id=str(uuid.uuid4()),
        **data.model_dump(exclude={"rounding"}),
        rounding=data.rounding.value,
        organiser=caller.subject,
        status=PUBLISHED,
        published_at=uow.now,
    )
    uow.session.add(activity)
    uow.record(
        ActivityPublished(
            activity_id=activity.id,
            title=activity.title,
            kind=activity.kind,
            starts_at=activity.starts_at,
            capacity=activity.capacity,
        ),
        district=activity.district,
        community=activity.community,
    )
    return Made(activity.id, activity)


async def list_activities(
    session: AsyncSession, caller: Caller, *, cursor: str | None, limit: int
) -> Page[Activity]:
    statement = in_scope(select(Activity), Activity, caller)
    return await page_of(session, statement, col(Activity.id), cursor=cursor, limit=limit)


def check_same_community(activity: Activity, volunteer: Volunteer) -> None:
    if (volunteer.district, volunteer.community) != (activity.district, activity.community):
        raise Invalid(
            f"the volunteer does not belong to {activity.community}, where the activity is",
            zh=f"这位志愿者不属于活动所在的{activity.community}社区",
        )


async def load_sign_up(session: AsyncSession, caller: Caller, sign_up_id: str) -> SignUp:
    entry = await session.get(SignUp, sign_up_id)
    if entry is None:
        raise NotFound("sign-up not found", zh=NO_SIGN_UP)
    await load_activity(session, caller, entry.activity_id)
    return entry


@write(replay=load_sign_up)
async def sign_up(uow: Work, caller: Caller, activity_id: str, data: SignUpIn) -> Made[SignUp]:
    """Take a place, if one is left: the count and the sign-up commit together or not at all."""
    session = uow.session
    activity = await load_activity(session, caller, activity_id)
    volunteer = await volunteer_acted_for(
        session,
        caller,
        data.volunteer_id,
        only_own="volunteers may sign up only themselves",
        only_own_zh="志愿者只能为自己报名",
        doing="signs up a volunteer",
        doing_zh="为志愿者报名",
    )
    check_same_community(activity, volunteer)
    if activity.status != PUBLISHED:
        raise Conflict(
            f"this activity is {activity.status}",
            zh=f"这项活动当前为「{status_zh(activity.status)}」，不能报名",
        )
    if uow.now >= activity.ends_at:
        raise Conflict("this activity has ended", zh="这项活动已经结束了")
    existing = await sign_up_of(session, activity.id, volunteer.id)
    if existing is not None and existing.status != SignUpStatus.CANCELLED:
        raise Conflict(ALREADY_SIGNED_UP, zh=ALREADY_SIGNED_UP_ZH)
    await take_place(session, activity)
    if existing is None:
        entry = SignUp(
            id=str(uuid.uuid4()),
            activity_id=activity.id,
            volunteer_id=volunteer.id,
            status=SignUpStatus.SIGNED_UP.value,
            signed_up_at=uow.now,
        )
        session.add(entry)
        await flush_or_conflict(session, ALREADY_SIGNED_UP, zh=ALREADY_SIGNED_UP_ZH)
        return Made(entry.id, entry)
    if not await move_sign_up(
        session, existing.id, SignUpStatus.CANCELLED, SignUpStatus.SIGNED_UP, now=uow.now
    ):
        raise Conflict(ALREADY_SIGNED_UP, zh=ALREADY_SIGNED_UP_ZH)
    await session.refresh(existing)
    return Made(existing.id, existing)


async def take_place(session: AsyncSession, activity: Activity) -> int:
    """Count one more sign-up only while places are left, in one statement; return the count."""
    taken = (
        await session.exec(
            update(Activity)
            .where(col(Activity.id) == activity.id, col(Activity.signed_up) < col(Activity.capacity))
            .values(signed_up=Activity.signed_up + 1)
            .returning(col(Activity.signed_up))
        )
    ).scalar_one_or_none()
    if taken is None:
        raise Conflict(
            f"{activity.title} is full: all {activity.capacity} places are taken",
            zh=f"“{activity.title}”已满员：{activity.capacity} 个名额都已报满",
        )
    return int(taken)


async def sign_up_of(session: AsyncSession, activity_id: str, volunteer_id: str) -> SignUp | None:
    statement = select(SignUp).where(SignUp.activity_id == activity_id, SignUp.volunteer_id == volunteer_id)
    return (await session.exec(statement)).first()


async def move_sign_up(
    session: AsyncSession, sign_up_id: str, before: SignUpStatus, after: SignUpStatus, *, now: datetime
) -> bool:
    """Move a sign-up on only from the state it was read in, so two racing requests can't both."""
    values: dict[str, object] = {"status": after.value}
    if after is SignUpStatus.SIGNED_UP:
        values["signed_up_at"] = now
    result = await session.exec(
        update(SignUp)
        .where(col(SignUp.id) == sign_up_id, col(SignUp.status) == before.value)
        .values(**values)
    )
    return bool(result.rowcount)


async def mark_attended(uow: Work, activity: Activity, volunteer: Volunteer, minutes: int) -> None:
    """Move the volunteer's sign-up to attended, once: of two racing confirmations one gets a 409."""
    entry = await sign_up_of(uow.session, activity.id, volunteer.id)
    check_attendance(uow.now, activity, minutes, None if entry is None else entry.status)
    assert entry is not None
    if not await move_sign_up(
        uow.session, entry.id, SignUpStatus.SIGNED_UP, SignUpStatus.ATTENDED, now=uow.now
    ):
        raise Conflict(
            ALREADY_CONFIRMED, zh=ALREADY_CONFIRMED_ZH
        )  # by a twin request (same key), which @write then replays


ALREADY_CONFIRMED = "hours were already confirmed for this volunteer and activity, or cancelled"
ALREADY_CONFIRMED_ZH = "这位志愿者在这项活动的服务时长已经确认过了，或报名已取消"


def check_attendance(now: datetime, activity: Activity, minutes: int, sign_up_status: str | None) -> None:
    """Hours are confirmed once the activity has started, for at most its window, and only for a
    volunteer signed up and not yet confirmed (`sign_up_status`: None if never signed up)."""
    if activity.status == CANCELLED:
        raise Conflict("这项活动已取消，不能再确认服务时长")
    if now < activity.starts_at:
        raise Conflict(
            "hours can be confirmed once the activity has started", zh="活动开始后才能确认服务时长"
        )
    window = hours.window_minutes(activity.starts_at, activity.ends_at)
    if minutes > window:
        raise Invalid(
            f"{minutes} minutes is longer than the activity ({window} minutes)",
            zh=f"{minutes} 分钟超过了活动时长（{window} 分钟）",
        )
    if sign_up_status is None or sign_up_status == SignUpStatus.CANCELLED:
        raise Conflict("this volunteer is not signed up for this activity", zh="这位志愿者没有报名这项活动")
    if sign_up_status == SignUpStatus.ATTENDED:
        raise Conflict(ALREADY_CONFIRMED, zh=ALREADY_CONFIRMED_ZH)


@write(replay=load_sign_up)
async def cancel_sign_up(uow: Work, caller: Caller, activity_id: str, volunteer_id: str) -> Made[SignUp]:
    """Free the place, exactly once however often it is asked; confirmed hours cannot be cancelled."""
    session = uow.session
    activity = await load_activity(session, caller, activity_id)
    volunteer = await load_volunteer(session, caller, volunteer_id)
    if caller.role is not Role.VOLUNTEER:
        caller.check_role(*ORGANISERS)
    entry = await sign_up_of(session, activity.id, volunteer.id)
    if entry is None:
        raise NotFound("sign-up not found", zh=NO_SIGN_UP)
    if not await move_sign_up(session, entry.id, SignUpStatus.SIGNED_UP, SignUpStatus.CANCELLED, now=uow.now):
        raise Conflict(
            "this sign-up was already cancelled, or its hours confirmed",
            zh="这条报名已经取消，或服务时长已确认，不能再取消",
        )
    await session.exec(
        update(Activity).where(col(Activity.id) == activity.id).values(signed_up=Activity.signed_up - 1)
    )
    await session.refresh(entry)
    return Made(entry.id, entry)


async def list_sign_ups(
    session: AsyncSession, caller: Caller, activity_id: str, *, cursor: str | None, limit: int
) -> Page[SignUp]:
    caller.check_role(*READERS)
    activity = await load_activity(session, caller, activity_id)
    statement = select(SignUp).where(SignUp.activity_id == activity.id)
    return await page_of(session, statement, col(SignUp.id), cursor=cursor, limit=limit)
