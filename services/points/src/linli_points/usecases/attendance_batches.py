"""An activity's attendance for every attendee in one request: all credited by the single
attendance's rules, or none.

Set-based: the volunteers and their sign-ups are read (the sign-ups locked, in volunteer-id order:
the one order every transaction takes rows in) in one statement each; the sign-ups move to attended
in one UPDATE; the service records go in with one multi-row INSERT; then the accounts are locked
(also in volunteer-id order) and credited, one UPDATE per distinct award, and the ledger entries go
in with one INSERT. The accounts are taken last because they are what concurrent batches share:
their locks are held until the commit.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points.access import ORGANISERS, load_activity
from linli_points.domain import EntryKind, hours
from linli_points.domain.hours import Rounding, SignUpStatus
from linli_points.models import Activity, PointsAccount, PointsEntry, ServiceRecord, SignUp, Volunteer
from linli_points.usecases.activities import ALREADY_CONFIRMED, ALREADY_CONFIRMED_ZH, check_attendance
from linli_shared.auth import Caller
from linli_shared.bulk import insert_rows, table_of
from linli_shared.clock import china_day
from linli_shared.contracts.points import ATTENDEES_PER_EVENT, AttendanceConfirmed, AttendeeConfirmed
from linli_shared.database import among
from linli_shared.errors import Conflict, DomainError, Invalid, NotFound
from linli_shared.unit_of_work import Made, Work, write

if TYPE_CHECKING:
    from linli_points.api.service_hours_schemas import AttendanceBatchIn, AttendanceIn


@dataclass(frozen=True)
class AttendanceBatch:
    id: str
    activity_id: str
    records: list[dict[str, Any]]
    """Each service record's columns, by volunteer id (plain rows: no ORM object per attendee)."""


async def load_attendance_batch(session: AsyncSession, caller: Caller, batch_id: str) -> AttendanceBatch:
    """The records a batch confirmed, by volunteer id, for a caller who sees their activity."""
    statement = (
        select(ServiceRecord)
        .where(ServiceRecord.batch_id == batch_id)
        .order_by(col(ServiceRecord.volunteer_id))
    )
    records = list((await session.exec(statement)).all())
    if not records or records[0].activity_id is None:
        raise NotFound("attendance batch not found", zh="没有找到这批出勤记录")
    activity = await load_activity(session, caller, records[0].activity_id)
    return AttendanceBatch(batch_id, activity.id, [record.model_dump() for record in records])


@contextmanager
def naming(number: int, line: AttendanceIn) -> Iterator[None]:
    """A bad attendee refuses the whole batch with a 422 that says which one and why."""
    try:
        yield
    except DomainError as error:
        raise Invalid(
            f"attendee {number} (volunteer {line.volunteer_id}): {error.detail}",
            zh=f"第 {number} 位参加人员（志愿者 {line.volunteer_id}）：{error.detail_in('zh')}",
        ) from error


@write(replay=load_attendance_batch)
async def confirm_attendances(
    uow: Work, caller: Caller, activity_id: str, data: AttendanceBatchIn
) -> Made[AttendanceBatch]:
    """Everyone who served at an activity, confirmed in one unit of work by the single attendance's
    rules, or no one: a bad attendee refuses the batch with a 422 naming them. Attendees are taken
    in volunteer-id order, the one order their rows are locked in."""
    caller.check_role(*ORGANISERS)
    session = uow.session
    activity = await load_activity(session, caller, activity_id)
    numbered = sorted(enumerate(data.attendees, start=1), key=lambda pair: pair[1].volunteer_id)
    ids = [line.volunteer_id for _, line in numbered]
    scopes = await scopes_of(session, ids)
    left = await left_of(session, ids)
    statuses = await lock_sign_ups(session, activity.id, ids)
    for number, line in numbered:
        with naming(number, line):
            if (scope := scopes.get(line.volunteer_id)) is None:
                raise NotFound("volunteer not found", zh="没有找到这位志愿者")
            caller.check_sees(*scope, "volunteer")
            if line.volunteer_id in left:
                raise Conflict("这位志愿者已离开志愿队伍，不能再记服务时长和积分")
            check_attendance(uow.now, activity, line.minutes, statuses.get(line.volunteer_id))
    moved = await move_sign_ups(session, activity.id, ids)
    for number, line in numbered:
        if line.volunteer_id not in moved:  # a twin request (same key), which @write then replays
            with naming(number, line):
                raise Conflict(ALREADY_CONFIRMED, zh=ALREADY_CONFIRMED_ZH)
    served_on = china_day(activity.starts_at)
    awards = await award_points(session, activity, [line for _, line in numbered], served_on)
    batch_id = str(uuid.uuid4())
    records = [
        record_row(uow, caller, activity, line, awards[line.volunteer_id], served_on, batch_id)
        for _, line in numbered
    ]
    await insert_rows(
        session,
        ServiceRecord,
        records,
        conflict="these hours were already recorded",
        conflict_zh="这些服务时长已经记录过了",
    )
    balances = await credit(session, awards)  # the accounts' locks are held from here to the commit
    reason = {
        line.volunteer_id: f"{activity.title}: {hours.hours_of(line.minutes)} h" for _, line in numbered
    }
    entries = [
        entry_row(uow, activity, row, balances[row["volunteer_id"]], reason[row["volunteer_id"]])
        for row in records
        if row["points_awarded"] > 0
    ]
    await insert_rows(
        session,
        PointsEntry,
        entries,
        conflict="these points were already credited",
        conflict_zh="这些积分已经记过了",
    )
    attendees = [
        attendee(row, balances.get(row["volunteer_id"]), reason[row["volunteer_id"]]) for row in records
    ]
    for start in range(0, len(attendees), ATTENDEES_PER_EVENT):  # two events an attendee were most
        chunk = attendees[start : start + ATTENDEES_PER_EVENT]  # of a batch's CPU
        announced = AttendanceConfirmed(batch_id=batch_id, activity_id=activity.id, attendees=chunk)
        uow.record(announced, district=activity.district, community=activity.community)
    return Made(batch_id, AttendanceBatch(batch_id, activity.id, records))


async def scopes_of(session: AsyncSession, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Each known volunteer's district and community, in one query."""
    statement = select(Volunteer.id, Volunteer.district, Volunteer.community).where(
        among(session, col(Volunteer.id), ids)
    )
    return {
        volunteer_id: (district, community)
        for volunteer_id, district, community in await rows(session, statement)
    }


async def left_of(session: AsyncSession, ids: Sequence[str]) -> set[str]:
    """The volunteers among `ids` who have left, in one query."""
    statement = select(Volunteer.id).where(
        among(session, col(Volunteer.id), ids), col(Volunteer.active).is_(False)
    )
    return {volunteer_id for (volunteer_id,) in await rows(session, statement)}


async def lock_sign_ups(session: AsyncSession, activity_id: str, ids: Sequence[str]) -> dict[str, str]:
    """The attendees' sign-up statuses, their rows locked in volunteer-id order."""
    statement = (
        select(SignUp.volunteer_id, SignUp.status)
        .where(SignUp.activity_id == activity_id, among(session, col(SignUp.volunteer_id), ids))
        .order_by(col(SignUp.volunteer_id))
        .with_for_update()
    )
    return dict(await rows(session, statement))


async def move_sign_ups(session: AsyncSession, activity_id: str, ids: Sequence[str]) -> set[str]:
    """Move the signed-up attendees to attended in one statement; the volunteers it moved."""
    statement = (
        update(table_of(SignUp))
        .where(
            col(SignUp.activity_id) == activity_id,
            among(session, col(SignUp.volunteer_id), ids),
            col(SignUp.status) == SignUpStatus.SIGNED_UP.value,
        )
        .values(status=SignUpStatus.ATTENDED.value)
        .returning(col(SignUp.volunteer_id))
    )
    return {volunteer_id for (volunteer_id,) in await rows(session, statement)}


async def award_points(
    session: AsyncSession, activity: Activity, lines: Sequence[AttendanceIn], served_on: date
) -> dict[str, int]:
    """Each attendee's points by the activity's rule, within the day's cap. Under a cap the accounts
    of those earning are locked first, so two awards on one day cannot both read the same total."""
    rule = Rounding(activity.rounding)
    wanted = {
        line.volunteer_id: hours.points_for(line.minutes, activity.points_per_hour, rule) for line in lines
    }
    earning = sorted(volunteer_id for volunteer_id, points in wanted.items() if points > 0)
    if activity.daily_points_cap is None or not earning:
        return wanted
    await lock_accounts(session, earning)
    today = (
        select(ServiceRecord.volunteer_id, func.coalesce(func.sum(ServiceRecord.points_awarded), 0))
        .where(among(session, col(ServiceRecord.volunteer_id), earning), ServiceRecord.served_on == served_on)
        .group_by(col(ServiceRecord.volunteer_id))
    )
    already = {volunteer_id: int(points) for volunteer_id, points in await rows(session, today)}
    cap = activity.daily_points_cap
    return {
        volunteer_id: hours.capped(points, already_today=already.get(volunteer_id, 0), daily_cap=cap)
        for volunteer_id, points in wanted.items()
    }


async def lock_accounts(session: AsyncSession, volunteer_ids: Sequence[str]) -> None:
    """Lock the accounts in volunteer-id order, the one order every transaction takes them in (no
    deadlock); the locks are held until the commit. Taking them again is free."""
    statement = (
        select(PointsAccount.volunteer_id)
        .where(among(session, col(PointsAccount.volunteer_id), volunteer_ids))
        .order_by(col(PointsAccount.volunteer_id))
        .with_for_update()
    )
    await rows(session, statement)


async def credit(session: AsyncSession, awards: dict[str, int]) -> dict[str, int]:
    """Add each award to its account (locked first), one UPDATE per distinct award; the balances
    after, by volunteer."""
    by_points: dict[int, list[str]] = defaultdict(list)
    for volunteer_id, points in awards.items():
        if points > 0:
            by_points[points].append(volunteer_id)
    if not by_points:
        return {}
    await lock_accounts(session, sorted(v for ids in by_points.values() for v in ids))
    balances: dict[str, int] = {}
    accounts = table_of(PointsAccount)
    for points, ids in sorted(by_points.items()):
        statement = (
            update(accounts)
            .where(among(session, accounts.c.volunteer_id, ids))
            .values(balance=accounts.c.balance + points)
            .returning(accounts.c.volunteer_id, accounts.c.balance)
        )
        balances.update(dict(await rows(session, statement)))
    if missing := [v for ids in by_points.values() for v in ids if v not in balances]:
        raise Conflict(
            f"volunteer {missing[0]} has no points account", zh=f"志愿者 {missing[0]} 还没有积分账户"
        )
    return balances


async def rows(session: AsyncSession, statement: Any) -> list[Any]:
    """A Core statement's rows on the session's transaction, as plain tuples (no ORM objects)."""
    connection = await session.connection()
    return list((await connection.execute(statement)).all())


def record_row(
    uow: Work,
    caller: Caller,
    activity: Activity,
    line: AttendanceIn,
    points: int,
    served_on: date,
    batch_id: str,
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "district": activity.district,
        "community": activity.community,
        "volunteer_id": line.volunteer_id,
        "activity_id": activity.id,
        "served_on": served_on,
        "minutes": line.minutes,
        "earns_points": True,
        "points_awarded": points,
        "note": line.note,
        "recorded_by": caller.subject,
        "recorded_at": uow.now,
        "batch_id": batch_id,
    }


def entry_row(
    uow: Work, activity: Activity, record: dict[str, Any], balance: int, reason: str
) -> dict[str, Any]:
    """The points ledger's entry for a record's award, with the balance after it."""
    return {
        "district": activity.district,
        "community": activity.community,
        "volunteer_id": record["volunteer_id"],
        "kind": EntryKind.EARNED.value,
        "points": record["points_awarded"],
        "balance_after": balance,
        "reason": reason,
        "actor": record["recorded_by"],
        "reference": record["id"],
        "created_at": uow.now,
    }


def attendee(record: dict[str, Any], balance: int | None, reason: str) -> AttendeeConfirmed:
    """What the batch's event says of one attendee: hours, and points with the balance after them."""
    points = record["points_awarded"]
    return AttendeeConfirmed(
        record_id=record["id"],
        volunteer_id=record["volunteer_id"],
        minutes=record["minutes"],
        points_awarded=points,
        balance=balance if points > 0 else None,
        reason=reason,
    )
