"""The community's care groups (关爱小组): each elder with the three who look after them (grid worker,
community worker, neighbour) and how often; and forming a new group: find the elder, choose the
grid worker, name the neighbour. The signed-in community worker is the group's community worker."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from linli_console.day import elder_of
from linli_console.forms import form_of
from linli_console.pages_register import form_page
from linli_console.pages_residents import SEARCH_LIMIT, person_name, resident_card
from linli_console.places import signed_in
from linli_console.rendering import render
from linli_console.services import Refusal
from linli_console.session import Desk, Person
from linli_shared.clock import utc_now

router = APIRouter(include_in_schema=False)

NAME_MAX = 100
DEFAULT_VISIT_EVERY_HOURS = "24"
DEFAULT_CALL_EVERY_DAYS = "7"


async def names_of(desk: Desk, person: Person, subjects: set[str]) -> dict[str, str]:
    """Each account's name as the registry lets the person read it (您 for themself)."""
    ordered = sorted(subjects)
    names = await asyncio.gather(*(person_name(desk, person, subject) for subject in ordered))
    return dict(zip(ordered, names, strict=True))


@router.get("/care-groups")
async def care_groups(request: Request) -> Response:
    desk, person = await signed_in(request)
    groups = await desk.get_all("registry", "/v1/care-groups")
    now = utc_now()
    names = await names_of(
        desk, person, {str(g[role]) for g in groups for role in ("grid_worker", "community_worker")}
    )
    listed = [
        {
            "elder": elder_of(group, now),
            "grid_worker": names.get(str(group["grid_worker"]), ""),
            "community_worker": names.get(str(group["community_worker"]), ""),
            "neighbour": str(group.get("neighbour_name") or ""),
            "neighbour_phone": str(group.get("neighbour_phone") or ""),
            "visit_every_hours": group.get("visit_every_hours"),
            "call_every_days": group.get("call_every_days"),
        }
        for group in groups
    ]
    listed.sort(key=lambda g: g["elder"].name)
    formed = request.query_params.get("formed", "")[:36]
    formed_name = next((g["elder"].name for g in listed if g["elder"].resident_id == formed), "")
    return render(request, "care_groups.html", {"groups": listed, "formed": formed_name})


async def grid_workers(desk: Desk, person: Person) -> dict[str, str]:
    """The community's grid workers (their grants standing now), account id → name."""
    try:
        grants = await desk.get_all("registry", "/v1/grants")
    except Refusal:
        return {}
    subjects = {
        str(g["account_id"])
        for g in grants
        if g.get("role") == "grid_worker"
        and not g.get("withdrawn_at")
        and g.get("community") == person.community
    }
    names = await names_of(desk, person, subjects)
    return {subject: name or "（未填写姓名的网格员）" for subject, name in names.items()}


async def candidates(desk: Desk, query: str) -> tuple[list[dict[str, Any]], Refusal | None]:
    if not query:
        return [], None
    try:
        page = await desk.call(
            "registry", "GET", "/v1/residents", params={"name": query, "limit": SEARCH_LIMIT}
        )
    except Refusal as refusal:
        return [], refusal
    return [resident_card(r) for r in page.get("items", [])], None


async def forming_page(
    request: Request, desk: Desk, person: Person, form: dict[str, str], error: Refusal | None = None
) -> Response:
    resident_id = form.get("resident_id", "")[:36]
    elder = None
    if resident_id:
        elder = resident_card(await desk.call("registry", "GET", f"/v1/residents/{resident_id}"))
    query = form.get("q", "").strip()[:NAME_MAX]
    found, search_error = await candidates(desk, query) if elder is None else ([], None)
    return form_page(
        request,
        "care_group_new.html",
        {"visit_every_hours": DEFAULT_VISIT_EVERY_HOURS, "call_every_days": DEFAULT_CALL_EVERY_DAYS, **form},
        error,
        elder=elder,
        query=query,
        found=found,
        search_error=search_error,
        grid_workers=await grid_workers(desk, person) if elder else {},
    )


@router.get("/care-groups/new")
async def new_care_group(request: Request) -> Response:
    """First the elder (by name), then the group's people."""
    desk, person = await signed_in(request)
    form = {"resident_id": request.query_params.get("resident", ""), "q": request.query_params.get("q", "")}
    return await forming_page(request, desk, person, form)


def whole_number(text: str) -> int | str:
    """A count as typed: a whole number, or the text itself for the registry to refuse in Chinese."""
    cleaned = text.strip()
    return int(cleaned) if cleaned.isascii() and cleaned.isdigit() else cleaned


@router.post("/care-groups/new")
async def form_care_group(request: Request) -> Response:
    desk, person = await signed_in(request)
    form = await form_of(request)
    body: dict[str, Any] = {
        "resident_id": form.get("resident_id", "")[:36],
        "community_worker": person.subject,
        "grid_worker": form.get("grid_worker", ""),
        "neighbour_name": form.get("neighbour_name", "").strip(),
        "neighbour_phone": form.get("neighbour_phone", "").strip() or None,
        "visit_every_hours": whole_number(form.get("visit_every_hours", "")),
        "call_every_days": whole_number(form.get("call_every_days", "")),
    }
    try:
        await desk.call(
            "registry", "POST", "/v1/care-groups", json=body, idempotency_key=form.get("key") or None
        )
    except Refusal as refusal:
        return await forming_page(request, desk, person, form, refusal)
    return RedirectResponse(f"/care-groups?formed={body['resident_id']}", status_code=303)
