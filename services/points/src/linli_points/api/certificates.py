"""HTTP route of a volunteer's certificates, listed (issuing and the public pages are in service_hours)."""

from __future__ import annotations

from fastapi import APIRouter

from linli_points.api.service_hours import certificate_out
from linli_points.api.service_hours_schemas import CertificateOut
from linli_points.usecases import certificates
from linli_shared.auth import CallerDep
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.service import SessionDep

router = APIRouter(prefix="/v1")


@router.get(
    "/volunteers/{volunteer_id}/certificates",
    response_model=Page[CertificateOut],
    tags=["service hours"],
)
async def list_certificates(
    volunteer_id: str,
    session: SessionDep,
    caller: CallerDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    """Every certificate issued to the volunteer, by serial, with its paths to verify and print."""
    volunteer, page = await certificates.list_certificates(
        session, caller, volunteer_id, cursor=cursor, limit=limit
    )
    return Page(
        items=[certificate_out(certificate, volunteer) for certificate in page.items],
        next_cursor=page.next_cursor,
    )
