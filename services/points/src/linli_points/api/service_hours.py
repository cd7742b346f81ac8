"""HTTP routes of service hours: attendance, late entries, a volunteer's record, certificates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import TypeAdapter
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points.access import certificate_by_serial, load_certificate
from linli_points.api.service_hours_schemas import (
    AttendanceBatchIn,
    AttendanceBatchOut,
    AttendanceIn,
    CertificateCheckOut,
    CertificateOut,
    LateServiceIn,
    ServiceLineOut,
    ServiceRecordOut,
    ServiceSummaryOut,
)
from linli_points.domain import hours
from linli_points.models import Certificate, KnownPlace, ServiceRecord, Volunteer
from linli_points.usecases import attendance_batches, service_hours
from linli_points.usecases.service_hours import ServiceSummary
from linli_shared.auth import CallerDep
from linli_shared.body_limit import BATCH_BODY_BYTES
from linli_shared.clock import china_day
from linli_shared.places import place_names
from linli_shared.qr import qr_svg
from linli_shared.service import SessionDep
from linli_shared.tables import BOM, csv_templates
from linli_shared.unit_of_work import UnitOfWorkDep
from linli_shared.words import day_words

router = APIRouter(prefix="/v1")
RECORDS_OUT = TypeAdapter(list[ServiceRecordOut])

TEMPLATE_DIR = Path(__file__).parent.parent / "templates"
TEMPLATES = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
TABLES = csv_templates(TEMPLATE_DIR)
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


def record_out(record: ServiceRecord) -> ServiceRecordOut:
    return ServiceRecordOut(**record.model_dump(), hours=hours.hours_of(record.minutes))


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
    return BOM + TABLES.get_template("service_record.csv").render(
        columns=CSV_COLUMNS, volunteer=summary.volunteer, records=summary.records, hours_of=hours.hours_of
    )


def certificate_out(certificate: Certificate, volunteer: Volunteer) -> CertificateOut:
    return CertificateOut(
        **certificate.model_dump(),
        volunteer_name=volunteer.full_name,
        total_hours=hours.hours_of(certificate.total_minutes),
        verify_path=f"/v1/certificates/{certificate.serial}",
        print_path=f"/v1/certificates/{certificate.serial}/print",
    )


async def place_words(session: AsyncSession, certificate: Certificate) -> str:
    """The community as the certificate names it (东李庄社区, from the registry's place.named); its
    code while points has not heard the name."""
    names = await place_names(session, KnownPlace, certificate.district, certificate.community)
    return names.community_name or certificate.community


QR_LABEL = "核验二维码"


def certificate_page(certificate: Certificate, *, verify_url: str, holder: str, place: str) -> str:
    """The certificate to show or print: fits a phone, its QR code leads to its verification page;
    every value escaped by the template."""
    return TEMPLATES.get_template("certificate.html").render(
        serial=certificate.serial,
        holder=holder,
        place=place,
        total_hours=f"{hours.hours_of(certificate.total_minutes):.2f}",
        issued_on=day_words(china_day(certificate.issued_at)),
        verify_url=verify_url,
        qr_svg=qr_svg(verify_url, label=QR_LABEL),
    )


def verification_url(request: Request, serial: str) -> str:
    return str(request.url_for("certificate_verification_page", serial=serial))


@router.post(
    "/activities/{activity_id}/attendance",
    status_code=201,
    response_model=ServiceRecordOut,
    tags=["service hours"],
)
async def confirm_attendance(
    activity_id: str,
    data: AttendanceIn,
    uow: UnitOfWorkDep,
    caller: CallerDep,
) -> object:
    return record_out(await service_hours.confirm_attendance(uow, caller, activity_id, data))


@router.post(
    "/activities/{activity_id}/attendance-batches",
    status_code=201,
    response_model=AttendanceBatchOut,
    tags=["service hours"],
    max_body_size=BATCH_BODY_BYTES,
)
async def confirm_attendances(
    activity_id: str, data: AttendanceBatchIn, uow: UnitOfWorkDep, caller: CallerDep
) -> object:
    """Everyone who served, in one request: all credited by the activity's rule, or none (a bad
    attendee is a 422 naming them). The same Idempotency-Key confirms the batch once."""
    batch = await attendance_batches.confirm_attendances(uow, caller, activity_id, data)
    records = RECORDS_OUT.validate_python(
        [{**record, "hours": hours.hours_of(record["minutes"])} for record in batch.records]
    )  # one call for the list, not one a record
    return AttendanceBatchOut(
        id=batch.id,
        activity_id=batch.activity_id,
        count=len(records),
        points_awarded=sum(record.points_awarded for record in records),
        records=records,
    )


@router.post("/service-records", status_code=201, response_model=ServiceRecordOut, tags=["service hours"])
async def enter_service_hours(data: LateServiceIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return record_out(await service_hours.enter_service_hours(uow, caller, data))


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
    summary = await service_hours.service_record(session, caller, volunteer_id)
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
async def issue_certificate(volunteer_id: str, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return certificate_out(*await service_hours.issue_certificate(uow, caller, volunteer_id))


@router.get("/certificates/{serial}", response_model=CertificateCheckOut, tags=["service hours"])
async def verify_certificate(serial: str, session: SessionDep) -> object:
    """Public on purpose: anyone holding a paper certificate can check its serial, without a token."""
    certificate, volunteer = await certificate_by_serial(session, serial)
    return CertificateCheckOut(
        serial=certificate.serial,
        volunteer_name=hours.mask_name(volunteer.full_name),
        community=certificate.community,
        total_hours=hours.hours_of(certificate.total_minutes),
        issued_at=certificate.issued_at,
    )


@router.get("/certificates/{serial}/print", response_class=HTMLResponse, tags=["service hours"])
async def print_certificate(
    serial: str, request: Request, session: SessionDep, caller: CallerDep
) -> HTMLResponse:
    """The printable certificate with the full name, so only its volunteer and their workers get it."""
    certificate, volunteer = await load_certificate(session, caller, serial)
    url = verification_url(request, certificate.serial)
    place = await place_words(session, certificate)
    return HTMLResponse(
        certificate_page(certificate, verify_url=url, holder=volunteer.full_name, place=place)
    )


@router.get("/public/certificates/{serial}", response_class=HTMLResponse, tags=["public"])
async def certificate_public_page(serial: str, request: Request, session: SessionDep) -> HTMLResponse:
    """The certificate by its serial, no sign-in: the name as on the public check (王*兰)."""
    certificate, volunteer = await certificate_by_serial(session, serial)
    url = verification_url(request, certificate.serial)
    holder = hours.mask_name(volunteer.full_name)
    place = await place_words(session, certificate)
    return HTMLResponse(certificate_page(certificate, verify_url=url, holder=holder, place=place))


@router.get(
    "/public/certificates/{serial}/verification",
    response_class=HTMLResponse,
    tags=["public"],
    name="certificate_verification_page",
)
async def certificate_verification_page(serial: str, session: SessionDep) -> HTMLResponse:
    """Where the QR code leads: whether the serial is real, and what to compare with the paper."""
    certificate, volunteer = await certificate_by_serial(session, serial)
    return HTMLResponse(
        TEMPLATES.get_template("certificate_check.html").render(
            serial=certificate.serial,
            holder=hours.mask_name(volunteer.full_name),
            place=await place_words(session, certificate),
            total_hours=f"{hours.hours_of(certificate.total_minutes):.2f}",
            issued_on=day_words(china_day(certificate.issued_at)),
        )
    )
