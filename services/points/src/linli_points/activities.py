"""Activities and service hours: publish, sign up, confirm hours, late entries, records, certificates.

Hours and points are two ledgers. A ServiceRecord is the permanent record of service; the points
it earned (by the activity's rule, within the day's cap) go through `move_points` like any other.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from pydantic import AwareDatetime, Field, model_validator
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points import hours
from linli_points.domain import EntryKind
from linli_points.hours import Rounding, SignUpStatus
from linli_points.ledger import earn_points
from linli_points.models import (
    Activity,
    Certificate,
    CommunityRules,
    PointsAccount,
    PointsEntry,
    ServiceRecord,
    SignUp,
    Volunteer,
)
from linli_points.schemas import Code, Strict
from linli_points.usecases import ORGANISERS, READERS, load_volunteer, volunteer_of
from linli_shared.auth import Caller, Role
from linli_shared.clock import china_day, utc_now
from linli_shared.contracts.points import ActivityPublished, ServiceHoursConfirmed
from linli_shared.contracts.registry import VisitLogged
from linli_shared.database import commit_or_conflict
from linli_shared.errors import Conflict, Forbidden, Invalid, NotFound
from linli_shared.events import Envelope
from linli_shared.idempotency import IdempotentRequest, commit_once, previous_result, replay_or_raise
from linli_shared.outbox import record_event
from linli_shared.paging import Page, page_of
from linli_shared.scoping import get_visible, in_scope

PUBLISHED = "published"

# --- what the use cases accept ------------------------------------------------------------------


class ActivityIn(Strict):
    district: str = Code
    community: str = Code
    title: str = Field(min_length=1, max_length=200)
    kind: str = Field(
        pattern=r"^[a-z0-9_-]+$", min_length=1, max_length=30, description="e.g. haircut, first_aid."
    )
    place: str = Field(min_length=1, max_length=200)
    starts_at: AwareDatetime
    ends_at: AwareDatetime = Field(description="After starts_at, at most 24 hours later.")
    capacity: int = Field(ge=1, le=10_000)
    points_per_hour: int = Field(default=10, ge=0, le=1000)
    rounding: Rounding = Field(default=Rounding.DOWN, description="How started hours count.")
    daily_points_cap: int | None = Field(
        default=None, ge=0, le=100_000, description="Most service points a volunteer earns in a day."
    )

    @model_validator(mode="after")
    def check_window(self) -> ActivityIn:
        hours.check_window(self.starts_at, self.ends_at)
        return self


class SignUpIn(Strict):
    volunteer_id: str | None = Field(
        default=None, max_length=36, description="Only a worker signs up someone else."
    )


class AttendanceIn(Strict):
    volunteer_id: str = Field(max_length=36)
    minutes: int = Field(gt=0, le=hours.MAX_ACTIVITY_MINUTES, description="At most the activity's window.")
    note: str = Field(default="", max_length=500)


class LateServiceIn(Strict):
    """Hours served outside any activity, entered afterwards by an administrator."""

    volunteer_id: str = Field(max_length=36)
    served_on: date = Field(description="The day served, not in the future (China time).")
    minutes: int = Field(gt=0, le=hours.MAX_ACTIVITY_MINUTES)
    earns_points: bool = Field(default=True, description="False records the hours without points.")
    points_per_hour: int = Field(default=10, ge=0, le=1000)
    rounding: Rounding = Rounding.DOWN
    daily_points_cap: int | None = Field(default=None, ge=0, le=100_000)
    note: str = Field(default="", max_length=500)


# --- activities and sign-ups --------------------------------------------------------------------


async def publish_activity(
    session: AsyncSession, caller: Caller, data: ActivityIn, *, now: datetime
) -> Activity:
    caller.check_role(*ORGANISERS)
    caller.check_sees(data.district, data.community, "community")
    activity = Activity(
        id=str(uuid.uuid4()),
        **data.model_dump(exclude={"rounding"}),
        rounding=data.rounding.value,
        organiser=caller.subject,
        status=PUBLISHED,
        published_at=now,
    )
    session.add(activity)
    record_event(
        session,
        ActivityPublished(
            activity_id=activity.id,
            title=activity.title,
            kind=activity.kind,
            starts_at=activity.starts_at,
            capacity=activity.capacity,
        ),
        district=activity.district,
        community=activity.community,
        now=now,
    )
    await session.commit()
    return activity


async def list_activities(
    session: AsyncSession, caller: Caller, *, cursor: str | None, limit: int
) -> Page[Activity]:
    statement = in_scope(select(Activity), Activity, caller)
    return await page_of(session, statement, col(Activity.id), cursor=cursor, limit=limit)


async def load_activity(session: AsyncSession, caller: Caller, activity_id: str) -> Activity:
    return await get_visible(session, Activity, activity_id, caller, "activity")


async def volunteer_for(session: AsyncSession, caller: Caller, volunteer_id: str | None) -> Volunteer:
    """The volunteer acted for: a volunteer acts for themselves, a worker names whom."""
    if caller.role is Role.VOLUNTEER:
        volunteer = await volunteer_of(session, caller)
        if volunteer_id not in (None, volunteer.id):
            raise Forbidden("volunteers may sign up only themselves")
        return volunteer
    caller.check_role(*ORGANISERS)
    if volunteer_id is None:
        raise Invalid("volunteer_id is required when a worker signs up a volunteer")
    return await load_volunteer(session, caller, volunteer_id)


def check_same_community(activity: Activity, volunteer: Volunteer) -> None:
    if (volunteer.district, volunteer.community) != (activity.district, activity.community):
        raise Invalid(f"the volunteer does not belong to {activity.community}, where the activity is")


async def sign_up(
    session: AsyncSession, caller: Caller, activity_id: str, data: SignUpIn, *, now: datetime
) -> SignUp:
    """Take a place, if one is left: the count and the sign-up commit together or not at all."""
    activity = await load_activity(session, caller, activity_id)
    volunteer = await volunteer_for(session, caller, data.volunteer_id)
    check_same_community(activity, volunteer)
    if activity.status != PUBLISHED:
        raise Conflict(f"this activity is {activity.status}")
    if now >= activity.ends_at:
        raise Conflict("this activity has ended")
    existing = await sign_up_of(session, activity.id, volunteer.id)
    if existing is not None and existing.status != SignUpStatus.CANCELLED:
        raise Conflict("this volunteer is already signed up for this activity")
    await take_place(session, activity)
    if existing is None:
        entry = SignUp(
            id=str(uuid.uuid4()),
            activity_id=activity.id,
            volunteer_id=volunteer.id,
            status=SignUpStatus.SIGNED_UP.value,
            signed_up_at=now,
        )
        session.add(entry)
        await commit_or_conflict(session, "this volunteer is already signed up for this activity")
        return entry
    if not await move_sign_up(session, existing.id, SignUpStatus.CANCELLED, SignUpStatus.SIGNED_UP, now=now):
        raise Conflict("this volunteer is already signed up for this activity")
    await session.commit()
    await session.refresh(existing)
    return existing


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
        raise Conflict(f"{activity.title} is full: all {activity.capacity} places are taken")
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


async def cancel_sign_up(
    session: AsyncSession, caller: Caller, activity_id: str, volunteer_id: str, *, now: datetime
) -> SignUp:
    """Free the place, exactly once however often it is asked; confirmed hours cannot be cancelled."""
    activity = await load_activity(session, caller, activity_id)
    volunteer = await load_volunteer(session, caller, volunteer_id)
    if caller.role is not Role.VOLUNTEER:
        caller.check_role(*ORGANISERS)
    entry = await sign_up_of(session, activity.id, volunteer.id)
    if entry is None:
        raise NotFound("sign-up not found")
    if not await move_sign_up(session, entry.id, SignUpStatus.SIGNED_UP, SignUpStatus.CANCELLED, now=now):
        raise Conflict("this sign-up was already cancelled, or its hours confirmed")
    await session.exec(
        update(Activity).where(col(Activity.id) == activity.id).values(signed_up=Activity.signed_up - 1)
    )
    await session.commit()
    await session.refresh(entry)
    return entry


async def list_sign_ups(
    session: AsyncSession, caller: Caller, activity_id: str, *, cursor: str | None, limit: int
) -> Page[SignUp]:
    caller.check_role(*READERS)
    activity = await load_activity(session, caller, activity_id)
    statement = select(SignUp).where(SignUp.activity_id == activity.id)
    return await page_of(session, statement, col(SignUp.id), cursor=cursor, limit=limit)


# --- hours and the points they earn -------------------------------------------------------------


async def confirm_attendance(
    session: AsyncSession,
    caller: Caller,
    activity_id: str,
    data: AttendanceIn,
    *,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> ServiceRecord:
    """Record the minutes a signed-up volunteer served, once, and credit their points by the rule."""
    caller.check_role(*ORGANISERS)
    if idempotency and (previous := await previous_result(session, idempotency)):
        return await load_record(session, caller, previous)
    activity = await load_activity(session, caller, activity_id)
    volunteer = await load_volunteer(session, caller, data.volunteer_id)
    if now < activity.starts_at:
        raise Conflict("hours can be confirmed once the activity has started")
    window = hours.window_minutes(activity.starts_at, activity.ends_at)
    if data.minutes > window:
        raise Invalid(f"{data.minutes} minutes is longer than the activity ({window} minutes)")
    entry = await sign_up_of(session, activity.id, volunteer.id)
    if entry is None or entry.status == SignUpStatus.CANCELLED:
        raise Conflict("this volunteer is not signed up for this activity")
    confirmed = entry.status == SignUpStatus.ATTENDED or not await move_sign_up(
        session, entry.id, SignUpStatus.SIGNED_UP, SignUpStatus.ATTENDED, now=now
    )
    if confirmed:  # already: by a twin request (same key) that committed since the check above, or another
        already = Conflict("hours were already confirmed for this volunteer and activity, or cancelled")
        return await replay_or_raise(
            session, idempotency, already, lambda found: load_record(session, caller, found)
        )
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
        recorded_at=now,
    )
    rule_points = hours.points_for(data.minutes, activity.points_per_hour, Rounding(activity.rounding))
    await credit_service(
        session,
        volunteer,
        record,
        rule_points,
        daily_cap=activity.daily_points_cap,
        reason=f"{activity.title}: {hours.hours_of(data.minutes)} h",
        actor=caller.subject,
        now=now,
    )
    return await commit_record(session, caller, idempotency, record)


async def enter_service_hours(
    session: AsyncSession,
    caller: Caller,
    data: LateServiceIn,
    *,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> ServiceRecord:
    """An administrator's late entry of hours outside an activity, with or without points."""
    caller.check_role(*ORGANISERS)
    if idempotency and (previous := await previous_result(session, idempotency)):
        return await load_record(session, caller, previous)
    volunteer = await load_volunteer(session, caller, data.volunteer_id)
    if data.served_on > china_day(now):
        raise Invalid("served_on is in the future")
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
        recorded_at=now,
    )
    rule_points = hours.points_for(data.minutes, data.points_per_hour, data.rounding)
    await credit_service(
        session,
        volunteer,
        record,
        rule_points if data.earns_points else 0,
        daily_cap=data.daily_points_cap,
        reason=f"service on {data.served_on.isoformat()}: {hours.hours_of(data.minutes)} h (entered late)",
        actor=caller.subject,
        now=now,
    )
    return await commit_record(session, caller, idempotency, record)


async def credit_service(
    session: AsyncSession,
    volunteer: Volunteer,
    record: ServiceRecord,
    rule_points: int,
    *,
    daily_cap: int | None,
    reason: str,
    actor: str,
    now: datetime,
) -> None:
    """Stage the record, its points (within the day's cap) and its events; the caller commits."""
    if rule_points > 0:
        await lock_account(session, volunteer)
        already = await service_points_on(session, volunteer.id, record.served_on)
        record.points_awarded = hours.capped(rule_points, already_today=already, daily_cap=daily_cap)
    if record.points_awarded > 0:
        await earn_points(
            session,
            volunteer,
            record.points_awarded,
            reason=reason,
            actor=actor,
            now=now,
            reference=record.id,
        )
    session.add(record)
    record_event(
        session,
        ServiceHoursConfirmed(
            record_id=record.id,
            volunteer_id=volunteer.id,
            activity_id=record.activity_id,
            minutes=record.minutes,
            points_awarded=record.points_awarded,
        ),
        district=record.district,
        community=record.community,
        now=now,
    )


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


async def commit_record(
    session: AsyncSession, caller: Caller, idempotency: IdempotentRequest | None, record: ServiceRecord
) -> ServiceRecord:
    try:
        return await commit_once(
            session, idempotency, record.id, lambda found: load_record(session, caller, found), record
        )
    except IntegrityError as error:
        raise Conflict("these hours were already recorded") from error


async def load_record(session: AsyncSession, caller: Caller, record_id: str) -> ServiceRecord:
    return await get_visible(session, ServiceRecord, record_id, caller, "service record")


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


async def issue_certificate(
    session: AsyncSession,
    caller: Caller,
    volunteer_id: str,
    *,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> tuple[Certificate, Volunteer]:
    """Certify the hours served so far under a serial anyone can verify; a worker or the volunteer asks."""
    volunteer = await load_volunteer(session, caller, volunteer_id)
    if caller.role is not Role.VOLUNTEER:
        caller.check_role(*ORGANISERS)
    if idempotency and (previous := await previous_result(session, idempotency)):
        return await load_certificate(session, caller, previous)
    total = await total_minutes_of(session, volunteer.id)
    if total == 0:
        raise Conflict("there are no service hours to certify yet")
    certificate = Certificate(
        serial=hours.certificate_serial(
            volunteer.community, china_day(now).year, secrets.token_bytes(hours.SERIAL_ENTROPY_BYTES)
        ),
        district=volunteer.district,
        community=volunteer.community,
        volunteer_id=volunteer.id,
        total_minutes=total,
        issued_by=caller.subject,
        issued_at=now,
    )
    session.add(certificate)
    return await commit_once(
        session,
        idempotency,
        certificate.serial,
        lambda found: load_certificate(session, caller, found),
        (certificate, volunteer),
    )


async def verify_certificate(session: AsyncSession, serial: str) -> tuple[Certificate, Volunteer]:
    """The certificate under a serial, for anyone who holds the serial; no caller needed."""
    normal = hours.normal_serial(serial)
    certificate = await session.get(Certificate, normal) if normal else None
    if certificate is None:
        raise NotFound("no certificate has this serial")
    volunteer = await session.get(Volunteer, certificate.volunteer_id)
    assert volunteer is not None  # a foreign key
    return certificate, volunteer


async def load_certificate(
    session: AsyncSession, caller: Caller, serial: str
) -> tuple[Certificate, Volunteer]:
    """The full certificate, for its volunteer and the workers of its community."""
    certificate, _ = await verify_certificate(session, serial)
    caller.check_sees(certificate.district, certificate.community, "certificate")
    volunteer = await load_volunteer(session, caller, certificate.volunteer_id)
    if caller.role is not Role.VOLUNTEER:
        caller.check_role(*READERS)
    return certificate, volunteer


# --- points for visits the registry logged -------------------------------------------------------


async def on_visit_logged(session: AsyncSession, envelope: Envelope) -> None:
    """Credit the community's visit points to the volunteer who visited, once per visit; never commits."""
    visit = envelope.open(VisitLogged)
    volunteer = (
        await session.exec(
            select(Volunteer).where(
                Volunteer.district == envelope.district, Volunteer.subject == visit.visitor
            )
        )
    ).first()
    if volunteer is None:
        return  # the visitor is not a volunteer here: visits earn points only for volunteers
    rules = await session.get(CommunityRules, (envelope.district, envelope.community or volunteer.community))
    if rules is None or rules.visit_points <= 0:
        return
    credited = (
        await session.exec(
            select(PointsEntry.id).where(
                PointsEntry.volunteer_id == volunteer.id,
                PointsEntry.kind == EntryKind.EARNED.value,
                PointsEntry.reference == visit.visit_id,
            )
        )
    ).first()
    if credited is not None:
        return  # the inbox dedupes by event id; this catches the same visit under a new one
    now = utc_now()
    reason = f"{visit.kind} to a resident"
    await earn_points(
        session,
        volunteer,
        rules.visit_points,
        reason=reason,
        actor=visit.visitor,
        now=now,
        reference=visit.visit_id,
    )
