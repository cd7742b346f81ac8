"""Service hours and the points they earn: attendance, late entries, records and certificates.

Hours and points are two ledgers. A ServiceRecord is the permanent record of service; the points
it earned (by the activity's rule, within the day's cap) go through the points ledger like any other.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points.access import (
    ORGANISERS,
    READERS,
    check_serving,
    load_activity,
    load_certificate,
    load_record,
    load_volunteer,
)
from linli_points.domain import hours
from linli_points.domain.hours import Rounding
from linli_points.ledger import earn_points
from linli_points.models import Activity, Certificate, PointsAccount, ServiceRecord, Volunteer
from linli_points.usecases.activities import mark_attended
from linli_shared.auth import Caller, Role
from linli_shared.clock import china_day
from linli_shared.contracts.points import ServiceHoursConfirmed
from linli_shared.database import flush_or_conflict
from linli_shared.errors import Conflict, Invalid
from linli_shared.unit_of_work import Made, Work, write

if TYPE_CHECKING:
    from linli_points.api.service_hours_schemas import AttendanceIn, LateServiceIn


@write(replay=load_record)
async def confirm_attendance(
    uow: Work, caller: Caller, activity_id: str, data: AttendanceIn
) -> Made[ServiceRecord]:
    """Record the minutes a signed-up volunteer served, once, and credit their points by the rule."""
    caller.check_role(*ORGANISERS)
    activity = await load_activity(uow.session, caller, activity_id)
    record = await attend(uow, caller, activity, data)
    return Made(record.id, record)


async def attend(
    uow: Work, caller: Caller, activity: Activity, data: AttendanceIn, *, batch_id: str | None = None
) -> ServiceRecord:
    """Mark one signed-up volunteer attended and stage their record, points and events."""
    volunteer = await load_volunteer(uow.session, caller, data.volunteer_id)
    check_serving(volunteer)
    await mark_attended(uow, activity, volunteer, data.minutes)
    record = ServiceRecord(
        id=str(uuid.uuid4()),
        district=activity.district,
        community=activity.community,
        volunteer_id=volunteer.id,
        activity_id=activity.id,
        served_on=china_day(activity.starts_at),
        minutes=data.minutes,
        earns_points=True,
        note=data.note,
        recorded_by=caller.subject,
        recorded_at=uow.now,
        batch_id=batch_id,
    )
    rule_points = hours.points_for(data.minutes, activity.points_per_hour, Rounding(activity.rounding))
    reason = f"{activity.title}: {hours.hours_of(data.minutes)} h"
    await credit_service(
        uow, volunteer, record, rule_points, daily_cap=activity.daily_points_cap, reason=reason
    )
    return record


@write(replay=load_record)
async def enter_service_hours(uow: Work, caller: Caller, data: LateServiceIn) -> Made[ServiceRecord]:
    """An administrator's late entry of hours outside an activity, with or without points."""
    caller.check_role(*ORGANISERS)
    volunteer = await load_volunteer(uow.session, caller, data.volunteer_id)
    check_serving(volunteer)
    if data.served_on > china_day(uow.now):
        raise Invalid("served_on is in the future", zh="服务日期不能晚于今天")
    record = ServiceRecord(
        id=str(uuid.uuid4()),
        district=volunteer.district,
        community=volunteer.community,
        volunteer_id=volunteer.id,
        activity_id=None,
        served_on=data.served_on,
        minutes=data.minutes,
        earns_points=data.earns_points,
        note=data.note,
        recorded_by=caller.subject,
        recorded_at=uow.now,
    )
    rule_points = hours.points_for(data.minutes, data.points_per_hour, data.rounding)
    await credit_service(
        uow,
        volunteer,
        record,
        rule_points if data.earns_points else 0,
        daily_cap=data.daily_points_cap,
        reason=f"service on {data.served_on.isoformat()}: {hours.hours_of(data.minutes)} h (entered late)",
    )
    return Made(record.id, record)


async def credit_service(
    uow: Work,
    volunteer: Volunteer,
    record: ServiceRecord,
    rule_points: int,
    *,
    daily_cap: int | None,
    reason: str,
) -> None:
    """Stage the record, its points (within the day's cap) and its event."""
    session = uow.session
    if rule_points > 0:
        await lock_account(session, volunteer)
        already = await service_points_on(session, volunteer.id, record.served_on)
        record.points_awarded = hours.capped(rule_points, already_today=already, daily_cap=daily_cap)
    if record.points_awarded > 0:
        await earn_points(
            uow,
            volunteer,
            record.points_awarded,
            reason=reason,
            actor=record.recorded_by,
            reference=record.id,
        )
    session.add(record)
    uow.record(
        ServiceHoursConfirmed(
            record_id=record.id,
            volunteer_id=volunteer.id,
            activity_id=record.activity_id,
            minutes=record.minutes,
            points_awarded=record.points_awarded,
        ),
        district=record.district,
        community=record.community,
    )
    await flush_or_conflict(session, "these hours were already recorded", zh="这段服务时长已经记录过了")


async def lock_account(session: AsyncSession, volunteer: Volunteer) -> None:
    """Hold the volunteer's account row, so two awards on one day cannot both read the same total."""
    statement = (
        select(col(PointsAccount.balance))
        .where(col(PointsAccount.volunteer_id) == volunteer.id)
        .with_for_update()
    )
    await session.exec(statement)


async def service_points_on(session: AsyncSession, volunteer_id: str, day: date) -> int:
    statement = select(func.coalesce(func.sum(ServiceRecord.points_awarded), 0)).where(
        ServiceRecord.volunteer_id == volunteer_id, ServiceRecord.served_on == day
    )
    return int((await session.exec(statement)).one())


# --- a volunteer's record of service and certificates -------------------------------------------


@dataclass(frozen=True)
class ServiceSummary:
    """A volunteer's service, oldest first, with the activity of each record (None if entered late)."""

    volunteer: Volunteer
    records: list[tuple[ServiceRecord, Activity | None]]

    @property
    def total_minutes(self) -> int:
        return sum(record.minutes for record, _ in self.records)

    @property
    def points_from_service(self) -> int:
        return sum(record.points_awarded for record, _ in self.records)


async def service_record(session: AsyncSession, caller: Caller, volunteer_id: str) -> ServiceSummary:
    """Everything a volunteer served; volunteers see only their own."""
    volunteer = await load_volunteer(session, caller, volunteer_id)
    if caller.role is not Role.VOLUNTEER:
        caller.check_role(*READERS)
    statement = (
        select(ServiceRecord, Activity)
        .outerjoin(Activity, col(ServiceRecord.activity_id) == col(Activity.id))
        .where(ServiceRecord.volunteer_id == volunteer.id)
        .order_by(col(ServiceRecord.served_on), col(ServiceRecord.recorded_at), col(ServiceRecord.id))
    )
    rows = (await session.exec(statement)).all()
    return ServiceSummary(volunteer=volunteer, records=[(record, activity) for record, activity in rows])


async def total_minutes_of(session: AsyncSession, volunteer_id: str) -> int:
    statement = select(func.coalesce(func.sum(ServiceRecord.minutes), 0)).where(
        ServiceRecord.volunteer_id == volunteer_id
    )
    return int((await session.exec(statement)).one())


@write(replay=load_certificate)
async def issue_certificate(
    uow: Work, caller: Caller, volunteer_id: str
) -> Made[tuple[Certificate, Volunteer]]:
    """Certify the hours served so far under a serial anyone can verify; a worker or the volunteer asks."""
    volunteer = await load_volunteer(uow.session, caller, volunteer_id)
    if caller.role is not Role.VOLUNTEER:
        caller.check_role(*ORGANISERS)
    total = await total_minutes_of(uow.session, volunteer.id)
    if total == 0:
        raise Conflict("there are no service hours to certify yet", zh="还没有服务时长，暂时不能开具服务证书")
    entropy = secrets.token_bytes(hours.SERIAL_ENTROPY_BYTES)
    certificate = Certificate(
        serial=hours.certificate_serial(volunteer.community, china_day(uow.now).year, entropy),
        district=volunteer.district,
        community=volunteer.community,
        volunteer_id=volunteer.id,
        total_minutes=total,
        issued_by=caller.subject,
        issued_at=uow.now,
    )
    uow.session.add(certificate)
    return Made(certificate.serial, (certificate, volunteer))
