"""Registering people: look first (by the ID number's last four characters, or by address, so nobody
is registered twice and a newcomer joins their household), then a household or a resident on a
form whose errors the registry gives in Chinese beside their field. Each form carries its own
Idempotency-Key, so a double tap registers once."""

from __future__ import annotations

import asyncio
import unicodedata
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from linli_console.forms import form_of
from linli_console.pages_residents import resident_card
from linli_console.places import grid_names, signed_in
from linli_console.rendering import render
from linli_console.services import Refusal
from linli_console.session import Desk, Person
from linli_console.words import GENDER_NAMES, TAG_NAMES

router = APIRouter(include_in_schema=False)

LOOKUP_LIMIT = 30
ADDRESS_MAX = 200
RESIDENT_FIELDS = ("full_name", "gender", "id_number", "grid_code", "phone", "guardian_name",
                   "guardian_relation", "guardian_phone")  # fmt: skip
"""What the resident form sends as typed (blank fields are left out); tags and household apart."""


def tail_of(text: str) -> str:
    """What a person types as the ID tail (００２ｘ, 002x) as the registry takes it (002X)."""
    return unicodedata.normalize("NFKC", text).strip().upper()[:4]


def households_of(residents: list[dict[str, Any]], addresses: dict[str, str]) -> list[dict[str, Any]]:
    """The residents found by address, by household, in the order first found."""
    households: dict[str, dict[str, Any]] = {}
    for resident in residents:
        household_id = str(resident.get("household_id") or "")
        entry = households.setdefault(
            household_id, {"id": household_id, "address": addresses.get(household_id, ""), "members": []}
        )
        entry["members"].append(resident_card(resident))
    return list(households.values())


async def address_of(desk: Desk, household_id: str) -> str | None:
    try:
        household = await desk.call("registry", "GET", f"/v1/households/{household_id}")
    except Refusal:
        return None
    return str(household.get("address") or "")


async def addresses_of(desk: Desk, household_ids: set[str]) -> dict[str, str]:
    """Each household's address, asked at once; one the person may not read is left out."""
    ordered = sorted(household_ids)
    found = await asyncio.gather(*(address_of(desk, household_id) for household_id in ordered))
    return {key: address for key, address in zip(ordered, found, strict=True) if address is not None}


@router.get("/register")
async def look_up(request: Request) -> Response:
    """Look before registering: by ID tail, or by part of the address (grouped by household)."""
    desk, _ = await signed_in(request)
    tail = tail_of(request.query_params.get("tail") or "")
    address = (request.query_params.get("address") or "").strip()[:ADDRESS_MAX]
    params = {"id_tail": tail} if tail else {"address": address} if address else None
    found: list[dict[str, Any]] = []
    error: Refusal | None = None
    more = False
    if params:
        try:
            page = await desk.call(
                "registry",
                "GET",
                "/v1/residents",
                params={**params, "limit": LOOKUP_LIMIT, "status": "active"},
            )
        except Refusal as refusal:
            error = refusal
        else:
            found, more = list(page.get("items", [])), bool(page.get("next_cursor"))
    households: list[dict[str, Any]] = []
    if address and not tail and found:
        ids = {str(r["household_id"]) for r in found if r.get("household_id")}
        households = households_of(found, await addresses_of(desk, ids))
    registered = await just_registered(desk, request.query_params.get("registered"))
    return render(
        request,
        "register.html",
        {
            "tail": tail,
            "address": address,
            "searched": bool(params) and error is None,
            "found": [resident_card(r) for r in found],
            "households": households,
            "more": more,
            "error": error,
            "registered": registered,
        },
        status_code=error.status if error else 200,
    )


async def just_registered(desk: Desk, resident_id: str | None) -> dict[str, Any] | None:
    if not resident_id:
        return None
    try:
        return resident_card(await desk.call("registry", "GET", f"/v1/residents/{resident_id[:36]}"))
    except Refusal:
        return None


async def grids_of(desk: Desk, person: Person) -> dict[str, str]:
    """The person's community's grids, code → name, for the grid choice."""
    return await grid_names(desk, person.district, person.community)


def form_page(
    request: Request, template: str, form: dict[str, Any], error: Refusal | None, **values: Any
) -> Response:
    """A form as typed, its Idempotency-Key kept across a refusal, the refusal beside its fields."""
    return render(
        request,
        template,
        {"form": form, "key": form.get("key") or uuid.uuid4().hex, "error": error, **values},
        status_code=error.status if error else 200,
    )


async def household_page(
    request: Request, desk: Desk, person: Person, form: dict[str, str], error: Refusal | None = None
) -> Response:
    return form_page(request, "register_household.html", form, error, grids=await grids_of(desk, person))


@router.get("/register/household")
async def household_form(request: Request) -> Response:
    desk, person = await signed_in(request)
    address = (request.query_params.get("address") or "")[:ADDRESS_MAX]
    return await household_page(request, desk, person, {"address": address})


@router.post("/register/household")
async def register_household(request: Request) -> Response:
    """A new household in the person's community; then its first resident's form."""
    desk, person = await signed_in(request)
    form = await form_of(request)
    body = {
        "district": person.district,
        "community": person.community,
        "grid_code": form.get("grid_code") or None,
        "address": form.get("address", "").strip(),
    }
    try:
        household = await desk.call(
            "registry", "POST", "/v1/households", json=body, idempotency_key=form.get("key") or None
        )
    except Refusal as refusal:
        return await household_page(request, desk, person, form, refusal)
    return RedirectResponse(f"/register/resident?household={household['id']}", status_code=303)


async def resident_page(
    request: Request, desk: Desk, person: Person, form: dict[str, Any], error: Refusal | None = None
) -> Response:
    household_id = str(form.get("household_id") or "")
    addresses = await addresses_of(desk, {household_id}) if household_id else {}
    return form_page(
        request,
        "register_resident.html",
        form,
        error,
        tags=form.get("tags") or [],
        household_id=household_id if household_id in addresses else "",
        household_address=addresses.get(household_id, ""),
        grids=await grids_of(desk, person),
        genders={code: GENDER_NAMES.get(code, "其他") for code in ("female", "male", "other")},
        tag_names=TAG_NAMES,
    )


@router.get("/register/resident")
async def resident_form(request: Request) -> Response:
    desk, person = await signed_in(request)
    household_id = (request.query_params.get("household") or "")[:36]
    return await resident_page(request, desk, person, {"household_id": household_id})


@router.post("/register/resident")
async def register_resident(request: Request) -> Response:
    """The resident as typed (blank fields left out, so the registry says what is missing)."""
    desk, person = await signed_in(request)
    form: dict[str, Any] = dict(await form_of(request))
    form["tags"] = [tag for tag in TAG_NAMES if form.get(f"tag_{tag}")]
    body: dict[str, Any] = {
        "district": person.district,
        "community": person.community,
        "tags": form["tags"],
        **{name: form[name].strip() for name in RESIDENT_FIELDS if str(form.get(name) or "").strip()},
    }
    if "id_number" in body:
        body["id_number"] = unicodedata.normalize("NFKC", body["id_number"]).upper()
    if form.get("household_id"):
        body["household_id"] = str(form["household_id"])[:36]
    try:
        resident = await desk.call(
            "registry", "POST", "/v1/residents", json=body, idempotency_key=form.get("key") or None
        )
    except Refusal as refusal:
        return await resident_page(request, desk, person, form, refusal)
    return RedirectResponse(f"/register?registered={resident['id']}", status_code=303)
