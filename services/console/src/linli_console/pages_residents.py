"""The community worker's residents: search by name, one resident's page (tags, household, care group,
recent visits; the health record only when asked for, and only where the registry lets the role read
it, since every read is recorded), and the community's overdue care groups."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from linli_console.day import Urgency, elder_of, plan_day
from linli_console.forms import correction_form, form_of
from linli_console.places import grid_names, signed_in
from linli_console.rendering import render
from linli_console.services import Refusal
from linli_console.session import Desk, Person
from linli_console.words import GENDER_NAMES, TAG_NAMES, parse_moment
from linli_shared.clock import utc_now

router = APIRouter(include_in_schema=False)

SEARCH_LIMIT = 30
NAME_MAX = 100
ID_TAIL = re.compile(r"[0-9]{3}[0-9Xx]")


def id_tail(masked: object) -> str:
    """The last four characters of the masked ID number (110105********002X → 002X)."""
    text = str(masked or "")
    return text[-4:] if len(text) >= 4 else ""


def resident_card(resident: dict[str, Any]) -> dict[str, Any]:
    """A resident as a list shows them: name, gender, age, ID tail, tags in Chinese."""
    return {
        "id": str(resident["id"]),
        "name": str(resident["full_name"]),
        "gender": GENDER_NAMES.get(str(resident.get("gender")), ""),
        "age": resident.get("age"),
        "id_tail": id_tail(resident.get("id_number_masked")),
        "tags": [TAG_NAMES.get(str(t), str(t)) for t in resident.get("tags") or []],
        "status": str(resident.get("status") or "active"),
    }


def search_terms(query: str) -> dict[str, str]:
    """One box for both: four characters that end an ID number (1234, 002X) are its tail, read from
    the masked number; anything else is a name (one character is enough)."""
    return {"id_tail": query.upper()} if ID_TAIL.fullmatch(query) else {"name": query}


@router.get("/residents")
async def search(request: Request) -> Response:
    """Search by name or by the last four characters of the ID number."""
    desk, _ = await signed_in(request)
    query = (request.query_params.get("q") or "").strip()[:NAME_MAX]
    found: list[dict[str, Any]] = []
    error: Refusal | None = None
    more = False
    terms = search_terms(query)
    if query:
        try:
            params = {**terms, "limit": SEARCH_LIMIT}
            page = await desk.call("registry", "GET", "/v1/residents", params=params)
        except Refusal as refusal:
            error = refusal
        else:
            found = [resident_card(r) for r in page.get("items", [])]
            more = bool(page.get("next_cursor"))
    return render(
        request,
        "residents.html",
        {"query": query, "by_tail": "id_tail" in terms, "found": found, "more": more, "error": error},
        status_code=error.status if error else 200,
    )


async def person_name(desk: Desk, person: Person, subject: object) -> str:
    """A care group member by name: 您, the account's name where the registry lets us read it, else
    nothing (never the account id)."""
    if not subject:
        return ""
    if subject == person.subject:
        return "您"
    try:
        account = await desk.call("registry", "GET", f"/v1/accounts/{str(subject)[:36]}")
    except Refusal:
        return ""
    return str(account.get("display_name") or "") if isinstance(account, dict) else ""


async def household_of(desk: Desk, resident: dict[str, Any]) -> dict[str, Any] | None:
    household_id = resident.get("household_id")
    if not household_id:
        return None
    try:
        household: dict[str, Any] = await desk.call("registry", "GET", f"/v1/households/{household_id}")
    except Refusal:
        return None
    members = [m for m in household.get("members", []) if str(m.get("id")) != str(resident["id"])]
    return {
        "address": household.get("address") or "",
        "grid": await grid_name(desk, household),
        "members": [
            {
                "id": str(m["id"]),
                "name": str(m.get("full_name") or ""),
                "head": m.get("id") == household.get("head_resident_id"),
            }
            for m in members
        ],
        "head_is_this": household.get("head_resident_id") == resident["id"],
    }


async def grid_name(desk: Desk, household: dict[str, Any]) -> str:
    """The household's grid by its name (一片区); nothing if it has none or the name cannot be read."""
    code = str(household.get("grid_code") or "")
    if not code:
        return ""
    try:
        names = await grid_names(desk, household.get("district"), household.get("community"))
    except Refusal:
        return ""
    return names.get(code, "")


@router.get("/residents/{resident_id}")
async def resident_page(resident_id: str, request: Request) -> Response:
    desk, person = await signed_in(request)
    resident_id = resident_id[:36]
    resident, groups, visits = await asyncio.gather(
        desk.call("registry", "GET", f"/v1/residents/{resident_id}"),
        desk.get_all("registry", "/v1/care-groups", {"resident_id": resident_id}),
        desk.get_all("registry", "/v1/visits", {"resident_id": resident_id}),
    )
    household = await household_of(desk, resident)
    group = groups[0] if groups else None
    care: dict[str, Any] | None = None
    if group is not None:
        grid_worker, community_worker = await asyncio.gather(
            person_name(desk, person, group.get("grid_worker")),
            person_name(desk, person, group.get("community_worker")),
        )
        care = {
            "elder": elder_of(group, utc_now()),
            "grid_worker": grid_worker,
            "community_worker": community_worker,
            "neighbour": str(group.get("neighbour_name") or ""),
        }
    visits.sort(key=lambda v: parse_moment(v["visited_at"]), reverse=True)
    return render(
        request,
        "resident.html",
        {
            "resident": resident_card(resident),
            "full": resident,
            "household": household,
            "care": care,
            "recent": visits[:5],
            "health_readable": person.role in HEALTH_RECORD_ROLES,
            "corrected": request.query_params.get("corrected") == "1",
        },
    )


HEALTH_RECORD_ROLES = ("community_worker", "district_admin", "grid_worker")
"""Roles the registry may let read a health record (it decides: a grid worker only for the elders
of their care groups); the console only offers the button to them."""


@router.get("/residents/{resident_id}/health")
async def health_record(resident_id: str, request: Request) -> Response:
    """The health record, read on purpose: the registry records every read, so it is never fetched
    just because the resident's page was opened."""
    desk, _ = await signed_in(request)
    resident_id = resident_id[:36]
    resident = await desk.call("registry", "GET", f"/v1/residents/{resident_id}")
    try:
        record = await desk.call("registry", "GET", f"/v1/residents/{resident_id}/health-record")
        refused = None
    except Refusal as refusal:
        if refusal.status not in (403, 404):
            raise
        record, refused = None, refusal
    return render(
        request,
        "resident_health.html",
        {"resident": resident_card(resident), "record": record, "refused": refused},
        status_code=200 if refused is None else refused.status,
    )


@router.get("/overdue")
async def overdue(request: Request) -> Response:
    """The community's care groups whose visit or call is overdue, the longest overdue first."""
    desk, _ = await signed_in(request)
    now = utc_now()
    groups = await desk.get_all("registry", "/v1/care-groups")
    elders = plan_day([elder_of(g, now) for g in groups])
    return render(
        request,
        "overdue.html",
        {
            "overdue": [e for e in elders if e.urgency is Urgency.OVERDUE],
            "groups": len(groups),
        },
    )


CORRECTABLE = {
    "full_name": "姓名",
    "phone": "电话",
    "guardian_name": "监护人姓名",
    "guardian_relation": "与老人的关系",
    "guardian_phone": "监护人电话",
}
"""What the correction page offers, with each field's label; the registry checks every value."""


async def correction_page(
    request: Request,
    desk: Desk,
    resident_id: str,
    *,
    form: dict[str, str] | None = None,
    error: Refusal | None = None,
) -> Response:
    resident = await desk.call("registry", "GET", f"/v1/residents/{resident_id}")
    return render(
        request,
        "resident_correct.html",
        {
            "resident": resident_card(resident),
            "fields": CORRECTABLE,
            **correction_form(resident, CORRECTABLE, form),
            "error": error,
        },
        status_code=error.status if error else 200,
    )


@router.get("/residents/{resident_id}/correct")
async def correct_form(resident_id: str, request: Request) -> Response:
    desk, _ = await signed_in(request)
    return await correction_page(request, desk, resident_id[:36])


@router.post("/residents/{resident_id}/correct")
async def correct(resident_id: str, request: Request) -> Response:
    """Only the fields changed on the form, on the version it was read at: if someone changed the
    record since, the registry refuses and says what changed; its words go beside the fields."""
    desk, _ = await signed_in(request)
    resident_id = resident_id[:36]
    form = await form_of(request)
    changes: dict[str, Any] = {}
    for name in CORRECTABLE:
        now, was = form.get(name, "").strip(), form.get(f"was_{name}", "")
        if now != was:
            changes[name] = now or None  # an emptied field is cleared (the registry refuses it for the name)
    if not changes:
        return RedirectResponse(f"/residents/{resident_id}", status_code=303)
    body = {**changes, "version": int(form.get("version") or 0), "reason": form.get("reason", "").strip()}
    try:
        await desk.call(
            "registry",
            "PATCH",
            f"/v1/residents/{resident_id}",
            json=body,
            idempotency_key=form.get("key") or None,
        )
    except Refusal as refusal:
        return await correction_page(request, desk, resident_id, form=form, error=refusal)
    return RedirectResponse(f"/residents/{resident_id}?corrected=1", status_code=303)
