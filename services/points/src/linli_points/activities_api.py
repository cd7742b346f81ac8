"""HTTP routes of activities: translate requests to use cases and results to responses."""

from __future__ import annotations

import csv
import html
import io
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from linli_points import activities, hours
from linli_points.activities import ServiceSummary
from linli_points.models import Activity, Certificate, ServiceRecord, SignUp, Volunteer
from linli_shared.auth import CallerDep
from linli_shared.clock import china_day, utc_now
from linli_shared.idempotency import IdempotencyDep
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.service import SessionDep

router = APIRouter(prefix="/v1")

CSV_COLUMNS = (
    "volunteer",
    "served_on",
    "activity",
    "kind",
    "minutes",
    "hours",
    "earns_points",
    "points_awarded",
    "record_id",
)


class ActivityOut(BaseModel):
    id: str
    district: str
    community: str
    title: str
    kind: str
    place: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    signed_up: int
    places_left: int
    points_per_hour: int
    rounding: hours.Rounding
    daily_points_cap: int | None
    organiser: str
    status: str
    published_at: datetime


class SignUpOut(BaseModel):
    id: str
    activity_id: str
    volunteer_id: str
    status: hours.SignUpStatus
    signed_up_at: datetime


class ServiceRecordOut(BaseModel):
    id: str
    district: str
    community: str
    volunteer_id: str
    activity_id: str | None
    served_on: date
    minutes: int
    hours: float
    earns_points: bool
    points_awarded: int
    note: str
    recorded_by: str
    recorded_at: datetime


class ServiceLineOut(BaseModel):
    record_id: str
    served_on: date
    activity_id: str | None
    activity_title: str | None
    activity_kind: str | None
    minutes: int
    hours: float
    earns_points: bool
    points_awarded: int


class ServiceSummaryOut(BaseModel):
    volunteer_id: str
    full_name: str
    district: str
    community: str
    total_minutes: int
    total_hours: float
    points_from_service: int
    activity_count: int
    records: list[ServiceLineOut]


class CertificateOut(BaseModel):
    serial: str
    district: str
    community: str
    volunteer_id: str
    volunteer_name: str
    total_minutes: int
    total_hours: float
    issued_by: str
    issued_at: datetime
    verify_path: str
    print_path: str


class CertificateCheckOut(BaseModel):
    """What anyone holding a serial may learn: enough to check a paper, nothing more."""

    serial: str
    volunteer_name: str
    community: str
    total_hours: float
    issued_at: datetime


def activity_out(activity: Activity) -> ActivityOut:
    return ActivityOut(**activity.model_dump(), places_left=activity.capacity - activity.signed_up)


def record_out(record: ServiceRecord) -> ServiceRecordOut:
    return ServiceRecordOut(**record.model_dump(), hours=hours.hours_of(record.minutes))


def sign_up_out(entry: SignUp) -> SignUpOut:
    return SignUpOut(**entry.model_dump())


def summary_out(summary: ServiceSummary) -> ServiceSummaryOut:
    lines = [
        ServiceLineOut(
            record_id=record.id,
            served_on=record.served_on,
            activity_id=record.activity_id,
            activity_title=activity.title if activity else None,
            activity_kind=activity.kind if activity else None,
            minutes=record.minutes,
            hours=hours.hours_of(record.minutes),
            earns_points=record.earns_points,
            points_awarded=record.points_awarded,
        )
        for record, activity in summary.records
    ]
    volunteer = summary.volunteer
    return ServiceSummaryOut(
        volunteer_id=volunteer.id,
        full_name=volunteer.full_name,
        district=volunteer.district,
        community=volunteer.community,
        total_minutes=summary.total_minutes,
        total_hours=hours.hours_of(summary.total_minutes),
        points_from_service=summary.points_from_service,
        activity_count=len({line.activity_id for line in lines if line.activity_id}),
        records=lines,
    )


def summary_csv(summary: ServiceSummary) -> str:
    """One row per service record under a header; the volunteer's name is the only personal datum."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    name = hours.spreadsheet_safe(summary.volunteer.full_name)
    for record, activity in summary.records:
        writer.writerow(
            (
                name,
                record.served_on.isoformat(),
                hours.spreadsheet_safe(activity.title) if activity else "(entered late)",
                activity.kind if activity else "",
                record.minutes,
                f"{hours.hours_of(record.minutes):.2f}",
                "yes" if record.earns_points else "no",
                record.points_awarded,
                record.id,
            )
        )
    return "\ufeff" + buffer.getvalue()  # the BOM makes spreadsheet programs read the Chinese right


def certificate_out(certificate: Certificate, volunteer: Volunteer) -> CertificateOut:
    return CertificateOut(
        **certificate.model_dump(),
        volunteer_name=volunteer.full_name,
        total_hours=hours.hours_of(certificate.total_minutes),
        verify_path=f"/v1/certificates/{certificate.serial}",
        print_path=f"/v1/certificates/{certificate.serial}/print",
    )


def certificate_page(certificate: Certificate, volunteer: Volunteer) -> str:
    """A plain page to print; every value escaped."""
    e = html.escape
    issued_on = china_day(certificate.issued_at).isoformat()
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>志愿服务时长证明 {e(certificate.serial)}</title>
<style>
body {{ font-family: serif; max-width: 40em; margin: 4em auto; line-height: 1.8; }}
h1 {{ text-align: center; }}
.serial {{ font-family: monospace; }}
@media print {{ body {{ margin: 2em; }} }}
</style>
</head>
<body>
<h1>志愿服务时长证明<br><small>Certificate of volunteer service hours</small></h1>
<p>兹证明 <strong>{e(volunteer.full_name)}</strong> 在 {e(certificate.community)} 社区累计志愿服务
<strong>{hours.hours_of(certificate.total_minutes):.2f}</strong> 小时。</p>
<p>This certifies that {e(volunteer.full_name)} has served {hours.hours_of(certificate.total_minutes):.2f}
hours as a volunteer in the community {e(certificate.community)}.</p>
<p>证书编号 Serial: <span class="serial">{e(certificate.serial)}</span><br>
签发日期 Issued: {e(issued_on)}</p>
<p>核验 Verify: GET /v1/certificates/{e(certificate.serial)}</p>
</body>
</html>
"""


@router.post("/activities", status_code=201, response_model=ActivityOut, tags=["activities"])
async def publish_activity(data: activities.ActivityIn, session: SessionDep, caller: CallerDep) -> object:
    return activity_out(await activities.publish_activity(session, caller, data, now=utc_now()))


@router.get("/activities", response_model=Page[ActivityOut], tags=["activities"])
async def list_activities(
    session: SessionDep, caller: CallerDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> object:
    page = await activities.list_activities(session, caller, cursor=cursor, limit=limit)
    return Page(items=[activity_out(a) for a in page.items], next_cursor=page.next_cursor)


@router.get("/activities/{activity_id}", response_model=ActivityOut, tags=["activities"])
async def get_activity(activity_id: str, session: SessionDep, caller: CallerDep) -> object:
    return activity_out(await activities.load_activity(session, caller, activity_id))


@router.post(
    "/activities/{activity_id}/sign-ups", status_code=201, response_model=SignUpOut, tags=["activities"]
)
async def sign_up(
    activity_id: str, session: SessionDep, caller: CallerDep, data: activities.SignUpIn | None = None
) -> object:
    entry = await activities.sign_up(
        session, caller, activity_id, data or activities.SignUpIn(), now=utc_now()
    )
    return sign_up_out(entry)


@router.get("/activities/{activity_id}/sign-ups", response_model=Page[SignUpOut], tags=["activities"])
async def list_sign_ups(
    activity_id: str,
    session: SessionDep,
    caller: CallerDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    page = await activities.list_sign_ups(session, caller, activity_id, cursor=cursor, limit=limit)
    return Page(items=[sign_up_out(s) for s in page.items], next_cursor=page.next_cursor)


@router.post(
    "/activities/{activity_id}/sign-ups/{volunteer_id}/cancellation",
    response_model=SignUpOut,
    tags=["activities"],
)
async def cancel_sign_up(
    activity_id: str, volunteer_id: str, session: SessionDep, caller: CallerDep
) -> object:
    entry = await activities.cancel_sign_up(session, caller, activity_id, volunteer_id, now=utc_now())
    return sign_up_out(entry)


@router.post(
    "/activities/{activity_id}/attendance",
    status_code=201,
    response_model=ServiceRecordOut,
    tags=["service hours"],
)
async def confirm_attendance(
    activity_id: str,
    data: activities.AttendanceIn,
    session: SessionDep,
    caller: CallerDep,
    idempotency: IdempotencyDep,
) -> object:
    record = await activities.confirm_attendance(
        session, caller, activity_id, data, idempotency=idempotency, now=utc_now()
    )
    return record_out(record)


@router.post("/service-records", status_code=201, response_model=ServiceRecordOut, tags=["service hours"])
async def enter_service_hours(
    data: activities.LateServiceIn, session: SessionDep, caller: CallerDep, idempotency: IdempotencyDep
) -> object:
    record = await activities.enter_service_hours(
        session, caller, data, idempotency=idempotency, now=utc_now()
    )
    return record_out(record)


@router.get(
    "/volunteers/{volunteer_id}/service-record",
    response_model=ServiceSummaryOut,
    tags=["service hours"],
    responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with ?format=csv."}},
)
async def service_record(
    volunteer_id: str,
    session: SessionDep,
    caller: CallerDep,
    format: Annotated[Literal["json", "csv"], Query(description="csv: one row per record.")] = "json",
) -> object:
    summary = await activities.service_record(session, caller, volunteer_id)
    if format == "csv":
        return Response(
            summary_csv(summary),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="service-record-{volunteer_id}.csv"'},
        )
    return summary_out(summary)


@router.post(
    "/volunteers/{volunteer_id}/certificates",
    status_code=201,
    response_model=CertificateOut,
    tags=["service hours"],
)
async def issue_certificate(
    volunteer_id: str, session: SessionDep, caller: CallerDep, idempotency: IdempotencyDep
) -> object:
    issued = await activities.issue_certificate(
        session, caller, volunteer_id, idempotency=idempotency, now=utc_now()
    )
    return certificate_out(*issued)


@router.get("/certificates/{serial}", response_model=CertificateCheckOut, tags=["service hours"])
async def verify_certificate(serial: str, session: SessionDep) -> object:
    """Public on purpose: anyone holding a paper certificate can check its serial, without a token."""
    certificate, volunteer = await activities.verify_certificate(session, serial)
    return CertificateCheckOut(
        serial=certificate.serial,
        volunteer_name=hours.mask_name(volunteer.full_name),
        community=certificate.community,
        total_hours=hours.hours_of(certificate.total_minutes),
        issued_at=certificate.issued_at,
    )


@router.get("/certificates/{serial}/print", response_class=HTMLResponse, tags=["service hours"])
async def print_certificate(serial: str, session: SessionDep, caller: CallerDep) -> HTMLResponse:
    """The printable certificate carries the full name, so only its volunteer and their workers get it."""
    certificate, volunteer = await activities.load_certificate(session, caller, serial)
    return HTMLResponse(certificate_page(certificate, volunteer))
