"""Accounts and roles for district and city admins, through the registry's /v1/accounts and
/v1/grants: find an account by phone, create one, disable or enable it; grant a role in a place and
withdraw it. The registry decides which accounts, roles and places an admin may touch; these pages
offer only the places the registry shows the admin, and show its refusals next to the field."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from linli_console.forms import form_of
from linli_console.pages_points import new_key
from linli_console.places import signed_in
from linli_console.rendering import render
from linli_console.services import Refusal
from linli_console.session import Desk, Person
from linli_shared.auth import COMMUNITY_LEVEL, Role
from linli_shared.field_labels import ROLE_NAMES

router = APIRouter(include_in_schema=False)

ACCOUNT_FIELDS = ("phone", "display_name", "password", "place")
GRANTABLE_BY = {
    Role.CITY_ADMIN.value: list(Role),
    Role.DISTRICT_ADMIN.value: [r for r in Role if r in COMMUNITY_LEVEL],
}
"""The roles an admin is offered (the registry's account_rules.GRANTABLE says the same and decides)."""


@dataclass(frozen=True)
class Place:
    """A place an account or a grant may lie in: a district, a community of one, or (city) none."""

    district: str
    community: str
    name: str

    @property
    def value(self) -> str:
        return f"{self.district}/{self.community}"


async def places_of(desk: Desk, person: Person) -> list[Place]:
    """The districts the registry shows the admin, each followed by its communities."""
    districts = await desk.call("registry", "GET", "/v1/districts")
    communities = await asyncio.gather(
        *(desk.call("registry", "GET", "/v1/communities", params={"district": d["code"]}) for d in districts)
    )
    found = [Place("", "", "全市（不属于某个街道）")] if person.role == Role.CITY_ADMIN.value else []
    for district, inside in zip(districts, communities, strict=True):
        found.append(Place(str(district["code"]), "", f"{district['name']}（整个街道）"))
        found.extend(
            Place(str(district["code"]), str(c["code"]), f"{district['name']} · {c['name']}") for c in inside
        )
    return found


def place_body(value: str) -> dict[str, str | None]:
    """The registry's district and community of a place option ("district/community")."""
    district, _, community = value.partition("/")
    return {"district": district[:40] or None, "community": community[:40] or None}


def place_label(places: list[Place], district: str | None, community: str | None) -> str:
    wanted = f"{district or ''}/{community or ''}"
    return next((p.name for p in places if p.value == wanted), community or district or "全市")


def field_errors(refusal: Refusal, fields: tuple[str, ...], general_to: str) -> Refusal:
    """The refusal with `district`/`community` shown at the place, and a sentence that names no
    field (a phone already taken, a role that needs a link) beside the field it concerns."""
    moved = {("place" if k in ("district", "community") else k): v for k, v in refusal.fields.items()}
    if not any(name in moved for name in fields) and refusal.detail:
        target = "phone" if "手机号" in refusal.detail and "phone" in fields else general_to
        moved.setdefault(target, []).append(refusal.detail)
    return Refusal(refusal.status, refusal.detail, moved)


async def accounts_page(
    request: Request,
    desk: Desk,
    person: Person,
    *,
    form: dict[str, str] | None = None,
    error: Refusal | None = None,
) -> Response:
    phone = request.query_params.get("phone", "").strip()[:30]
    query: dict[str, Any] = {"limit": 50, "cursor": request.query_params.get("cursor") or None}
    if phone:
        query["phone"] = phone
    page, places = await asyncio.gather(
        desk.call("registry", "GET", "/v1/accounts", params={k: v for k, v in query.items() if v}),
        places_of(desk, person),
    )
    accounts = [
        {**a, "place": place_label(places, a["district"], a["community"])}
        for a in sorted(page["items"], key=lambda a: str(a["display_name"]))
    ]
    return render(
        request,
        "admin_accounts.html",
        {
            "accounts": accounts,
            "next_cursor": page.get("next_cursor"),
            "phone": phone,
            "places": places,
            "form": form or {"place": next((p.value for p in places if p.community), "")},
            "error": error,
            "key": (form or {}).get("key") or new_key(),
        },
        status_code=error.status if error else 200,
    )


@router.get("/admin/accounts")
async def accounts(request: Request) -> Response:
    """The accounts in the admin's scope (or the one with this phone), and the form for a new one."""
    desk, person = await signed_in(request)
    return await accounts_page(request, desk, person)


@router.post("/admin/accounts")
async def create_account(request: Request) -> Response:
    desk, person = await signed_in(request)
    form = await form_of(request)
    problems = {name: ["请填写"] for name in ("phone", "display_name") if not form.get(name, "").strip()}
    if problems:
        return await accounts_page(request, desk, person, form=form, error=Refusal(422, "", problems))
    body = {
        "phone": form["phone"].strip(),
        "display_name": form["display_name"].strip(),
        "password": form.get("password") or None,
        **place_body(form.get("place", "")),
    }
    try:
        made = await desk.call("registry", "POST", "/v1/accounts", json=body, idempotency_key=form.get("key"))
    except Refusal as refusal:
        error = field_errors(refusal, ACCOUNT_FIELDS, "place")
        return await accounts_page(request, desk, person, form=form, error=error)
    return RedirectResponse(f"/admin/accounts/{made['id']}?done=created", status_code=303)


async def account_page(
    request: Request,
    desk: Desk,
    person: Person,
    account_id: str,
    *,
    form: dict[str, str] | None = None,
    error: Refusal | None = None,
) -> Response:
    account, grants, places = await asyncio.gather(
        desk.call("registry", "GET", f"/v1/accounts/{account_id}"),
        desk.get_all("registry", "/v1/grants", {"account_id": account_id}),
        places_of(desk, person),
    )
    fitting = [
        p
        for p in places
        if (not account["district"] or p.district == account["district"])
        and (not account["community"] or p.community == account["community"])
    ]
    lines = [
        {
            **g,
            "role_name": ROLE_NAMES.get(g["role"], g["role"]),
            "place": place_label(places, g["district"], g["community"]),
            "key": new_key(),
        }
        for g in sorted(grants, key=lambda g: (g["withdrawn_at"] is not None, str(g["granted_at"])))
    ]
    return render(
        request,
        "admin_account.html",
        {
            "account": account,
            "place": place_label(places, account["district"], account["community"]),
            "grants": lines,
            "roles": [(r.value, ROLE_NAMES[r.value]) for r in GRANTABLE_BY.get(person.role, [])],
            "places": fitting,
            "form": form or {},
            "error": error,
            "done": request.query_params.get("done", ""),
            "key": new_key(),
            "grant_key": (form or {}).get("key") or new_key(),
        },
        status_code=error.status if error else 200,
    )


@router.get("/admin/accounts/{account_id}")
async def account(account_id: str, request: Request) -> Response:
    """One account: its roles (held and withdrawn), a role to grant, and disabling it."""
    desk, person = await signed_in(request)
    return await account_page(request, desk, person, account_id[:36])


@router.post("/admin/accounts/{account_id}/grants")
async def grant(account_id: str, request: Request) -> Response:
    desk, person = await signed_in(request)
    form, account_id = await form_of(request), account_id[:36]
    if not form.get("role"):
        error = Refusal(422, "", {"role": ["请选择角色"]})
        return await account_page(request, desk, person, account_id, form=form, error=error)
    body = {"role": form["role"][:40], **place_body(form.get("place", ""))}
    path = f"/v1/accounts/{account_id}/grants"
    try:
        await desk.call("registry", "POST", path, json=body, idempotency_key=form.get("key"))
    except Refusal as refusal:
        error = field_errors(refusal, ("role", "place"), "role")
        return await account_page(request, desk, person, account_id, form=form, error=error)
    return RedirectResponse(f"/admin/accounts/{account_id}?done=granted", status_code=303)


@router.post("/admin/accounts/{account_id}/grants/{grant_id}/withdrawal")
async def withdraw(account_id: str, grant_id: str, request: Request) -> Response:
    """Take a role back; the registry ends the sign-ins that hold it."""
    desk, person = await signed_in(request)
    form, account_id = await form_of(request), account_id[:36]
    try:
        await desk.call("registry", "DELETE", f"/v1/grants/{grant_id[:36]}", idempotency_key=form.get("key"))
    except Refusal as refusal:
        return await account_page(request, desk, person, account_id, error=refusal)
    return RedirectResponse(f"/admin/accounts/{account_id}?done=withdrawn", status_code=303)


@router.post("/admin/accounts/{account_id}/disabled")
async def disable(account_id: str, request: Request) -> Response:
    """Disable the account (its sign-ins end at once) or enable it again."""
    desk, person = await signed_in(request)
    form, account_id = await form_of(request), account_id[:36]
    disabled = form.get("disabled") == "true"
    path = f"/v1/accounts/{account_id}"
    try:
        await desk.call(
            "registry", "PATCH", path, json={"disabled": disabled}, idempotency_key=form.get("key")
        )
    except Refusal as refusal:
        return await account_page(request, desk, person, account_id, error=refusal)
    return RedirectResponse(f"/admin/accounts/{account_id}?done={'disabled' if disabled else 'enabled'}", 303)
