"""A volunteer's certificates of service hours: each with its serial, hours and the day it was issued,
linked to its public page (the one its QR code and any reader reach without signing in); and a
button to certify the hours served so far. The points service decides who may see and issue one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from linli_console.forms import form_of
from linli_console.pages_points import me, new_key
from linli_console.places import signed_in
from linli_console.rendering import render
from linli_console.services import Refusal
from linli_console.session import Desk
from linli_console.words import local_day, parse_moment
from linli_shared.words import day_words

router = APIRouter(include_in_schema=False)


def certificate_line(certificate: dict[str, Any], points_url: str) -> dict[str, Any]:
    """What the list shows of one certificate: its serial, hours, issued day and public page."""
    serial = str(certificate["serial"])
    return {
        "serial": serial,
        "hours": f"{float(certificate['total_hours']):.1f}",
        "issued_on": day_words(local_day(parse_moment(certificate["issued_at"]))),
        "issued_at": parse_moment(certificate["issued_at"]),
        "link": f"{points_url}/v1/public/certificates/{serial}",
    }


async def certificates_page(request: Request, desk: Desk, *, error: Refusal | None = None) -> Response:
    volunteer = await me(desk)
    found = await desk.get_all("points", f"/v1/volunteers/{volunteer['id']}/certificates")
    points_url = desk.settings.url_of("points")
    lines = sorted(
        (certificate_line(c, points_url) for c in found), key=lambda c: c["issued_at"], reverse=True
    )
    return render(
        request,
        "certificates.html",
        {
            "volunteer": volunteer,
            "certificates": lines,
            "issued": request.query_params.get("issued", "")[:40],
            "key": new_key(),
            "error": error,
        },
        status_code=error.status if error else 200,
    )


@router.get("/certificates")
async def certificates(request: Request) -> Response:
    """My certificates, newest first."""
    desk, _ = await signed_in(request)
    return await certificates_page(request, desk)


@router.post("/certificates")
async def issue(request: Request) -> Response:
    """Certify the hours served so far; the same form sent twice issues one certificate."""
    desk, _ = await signed_in(request)
    form = await form_of(request)
    volunteer = await me(desk)
    path = f"/v1/volunteers/{volunteer['id']}/certificates"
    try:
        made = await desk.call("points", "POST", path, idempotency_key=form.get("key") or None)
    except Refusal as refusal:
        return await certificates_page(request, desk, error=refusal)
    return RedirectResponse(f"/certificates?issued={made['serial']}", status_code=303)
