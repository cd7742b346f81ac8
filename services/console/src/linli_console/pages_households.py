"""Correcting a resident's household from their page: its address, grid and head (户主, one of its
residents), on the version the worker read. Only the fields changed on the form are sent; the registry
checks every value and says in Chinese what is wrong beside the field, or (409) that someone changed
the household meanwhile and what."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from linli_console.forms import correction_form, form_of
from linli_console.pages_residents import resident_card
from linli_console.places import grid_names, signed_in
from linli_console.rendering import render
from linli_console.services import Refusal
from linli_console.session import Desk
from linli_console.words import RESIDENT_STATUS_NAMES

router = APIRouter(include_in_schema=False)

HOUSEHOLD_FIELDS = ("address", "grid_code", "head_resident_id")
"""What the household correction offers; residents join or leave on their own correction."""
NO_HOUSEHOLD = "这位居民没有登记所在的户，无法更正户的信息"


def left_note(status: object) -> str:
    return f"（{RESIDENT_STATUS_NAMES[str(status)]}）" if status in RESIDENT_STATUS_NAMES else ""


def choices_of(household: dict[str, Any]) -> list[dict[str, str]]:
    """The household's residents as the head may be chosen among them, one who left so marked."""
    return [
        {
            "id": str(member["id"]),
            "name": str(member.get("full_name") or "") + left_note(member.get("status")),
        }
        for member in household.get("members") or []
    ]


async def household_correction_page(
    request: Request,
    desk: Desk,
    resident_id: str,
    *,
    form: dict[str, str] | None = None,
    error: Refusal | None = None,
) -> Response:
    """The household as the registry has it now (its residents and the community's grids to choose
    from); after a refusal, the form as typed, on the version it was read at."""
    resident = await desk.call("registry", "GET", f"/v1/residents/{resident_id}")
    household_id = str((form or {}).get("household_id") or resident.get("household_id") or "")[:36]
    if not household_id:
        raise Refusal(404, NO_HOUSEHOLD)
    household, grids = await asyncio.gather(
        desk.call("registry", "GET", f"/v1/households/{household_id}"),
        grid_names(desk, resident.get("district"), resident.get("community")),
    )
    if (grid := str(household.get("grid_code") or "")) and grid not in grids:
        grids[grid] = "现在的网格"
    return render(
        request,
        "household_correct.html",
        {
            "resident": resident_card(resident),
            "household_id": household_id,
            "grids": grids,
            "members": choices_of(household),
            **correction_form(household, HOUSEHOLD_FIELDS, form),
            "reason": (form or {}).get("reason", ""),
            "error": error,
        },
        status_code=error.status if error else 200,
    )


@router.get("/residents/{resident_id}/household/correct")
async def household_correction(resident_id: str, request: Request) -> Response:
    desk, _ = await signed_in(request)
    return await household_correction_page(request, desk, resident_id[:36])


def changes_of(form: dict[str, str]) -> dict[str, Any]:
    """The fields changed on the form: an emptied grid or head is cleared; an emptied address is sent
    as typed, so the registry says beside it that it cannot be empty."""
    changes: dict[str, Any] = {}
    for name in HOUSEHOLD_FIELDS:
        now, was = form.get(name, "").strip(), form.get(f"was_{name}", "")
        if now != was:
            changes[name] = now if name == "address" else now or None
    return changes


@router.post("/residents/{resident_id}/household/correct")
async def correct_household(resident_id: str, request: Request) -> Response:
    """Only what changed, on the version the form was read at; then the resident's page shows it."""
    desk, _ = await signed_in(request)
    resident_id = resident_id[:36]
    form = await form_of(request)
    household_id = form.get("household_id", "")[:36]
    changes = changes_of(form)
    if not household_id or not changes:
        return RedirectResponse(f"/residents/{resident_id}#household", status_code=303)
    version = form.get("version", "")
    body = {
        **changes,
        "version": int(version) if version.isdigit() else None,  # none: the registry asks for it
        "reason": form.get("reason", "").strip(),
    }
    try:
        await desk.call(
            "registry",
            "PATCH",
            f"/v1/households/{household_id}",
            json=body,
            idempotency_key=form.get("key") or None,
        )
    except Refusal as refusal:
        return await household_correction_page(request, desk, resident_id, form=form, error=refusal)
    return RedirectResponse(f"/residents/{resident_id}?corrected=1#household", status_code=303)
