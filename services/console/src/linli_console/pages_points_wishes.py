"""Residents' wishes: a resident's own wishes, the short form on which they post one for themselves
(and confirming one a volunteer fulfilled), and the form a community or grid worker fills in to post a
wish for a resident. The wall and claiming are in pages_points; the points service decides who may
post, see and confirm."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from linli_console.forms import form_of
from linli_console.pages_points import keyed, new_key, newest_first
from linli_console.places import signed_in
from linli_console.rendering import render
from linli_console.services import Refusal
from linli_console.session import Desk

router = APIRouter(include_in_schema=False)

MAX_AWARD = 200


async def my_wishes_page(
    request: Request,
    desk: Desk,
    *,
    error: Refusal | None = None,
    form: dict[str, str] | None = None,
    wish_error: Refusal | None = None,
) -> Response:
    """The resident's wishes; `error` is a refused confirmation, `wish_error` a refused new wish,
    shown beside its fields with the form as typed."""
    wishes = newest_first(await desk.get_all("points", "/v1/wishes"), "posted_at")
    form = form or {}
    refused = error or wish_error
    return render(
        request,
        "my_wishes.html",
        {
            "wishes": keyed(wishes),
            "confirmed": request.query_params.get("confirmed"),
            "posted": request.query_params.get("posted"),
            "error": error,
            "form": form,
            "key": form.get("key") or new_key(),
            "wish_error": wish_error,
        },
        status_code=refused.status if refused else 200,
    )


@router.get("/my-wishes")
async def my_wishes(request: Request) -> Response:
    """The resident's own wishes, whatever their state; a fulfilled one waits for their word."""
    desk, _ = await signed_in(request)
    return await my_wishes_page(request, desk)


@router.post("/my-wishes")
async def post_my_wish(request: Request) -> Response:
    """The resident's own wish, in their words: it waits for the community's review like any other."""
    desk, person = await signed_in(request)
    form = await form_of(request)
    if not form.get("title", "").strip():
        problem = Refusal(422, "", {"title": ["请写下心愿，例如“帮忙修水龙头”"]})
        return await my_wishes_page(request, desk, form=form, wish_error=problem)
    body = {
        "resident_id": person.subject,  # the points service refuses a resident posting for anyone else
        "title": form["title"].strip()[:200],
        "description": form.get("description", "").strip()[:2000],
    }
    try:
        wish = await desk.call(
            "points", "POST", "/v1/wishes", json=body, idempotency_key=form.get("key") or None
        )
    except Refusal as refusal:
        return await my_wishes_page(request, desk, form=form, wish_error=refusal)
    return RedirectResponse(f"/my-wishes?posted=1#wish-{wish['id']}", status_code=303)


@router.post("/my-wishes/{wish_id}/confirmation")
async def confirm(wish_id: str, request: Request) -> Response:
    desk, _ = await signed_in(request)
    form = await form_of(request)
    path = f"/v1/wishes/{wish_id[:36]}/confirmation"
    try:
        await desk.call("points", "POST", path, idempotency_key=form.get("key") or None)
    except Refusal as refusal:
        return await my_wishes_page(request, desk, error=refusal)
    return RedirectResponse(f"/my-wishes?confirmed={wish_id[:36]}#wish-{wish_id[:36]}", status_code=303)


async def residents(desk: Desk) -> list[dict[str, Any]]:
    """The community's residents the worker may see, by name (the registry decides which)."""
    answer = await desk.call("registry", "GET", "/v1/residents", params={"limit": 500})
    return sorted(answer["items"], key=lambda r: str(r["full_name"]))


async def new_wish_page(
    request: Request, desk: Desk, *, form: dict[str, str] | None = None, error: Refusal | None = None
) -> Response:
    form = form or {"resident_id": request.query_params.get("resident_id", "")[:36]}
    return render(
        request,
        "new_wish.html",
        {
            "residents": await residents(desk),
            "form": form,
            "error": error,
            "key": form.get("key") or new_key(),
            "posted": request.query_params.get("posted"),
            "max_award": MAX_AWARD,
        },
        status_code=error.status if error else 200,
    )


@router.get("/wishes/new")
async def new_wish(request: Request) -> Response:
    desk, _ = await signed_in(request)
    return await new_wish_page(request, desk)


@router.post("/wishes/new")
async def post_wish(request: Request) -> Response:
    """Who, what, a sentence more if needed, and the points it is worth: it waits for review."""
    desk, _ = await signed_in(request)
    form = await form_of(request)
    problems: dict[str, list[str]] = {}
    if not form.get("resident_id"):
        problems["resident_id"] = ["请选择是哪位居民的心愿"]
    if not form.get("title", "").strip():
        problems["title"] = ["请写下心愿，例如“帮忙修水龙头”"]
    award = form.get("points_award", "").strip() or "0"
    if not award.isdigit() or int(award) > MAX_AWARD:
        problems["points_award"] = [f"请填写 0 到 {MAX_AWARD} 之间的整数"]
    if problems:
        return await new_wish_page(request, desk, form=form, error=Refusal(422, "", problems))
    body = {
        "resident_id": form["resident_id"][:36],
        "title": form["title"].strip()[:200],
        "description": form.get("description", "").strip()[:2000],
        "points_award": int(award),
    }
    try:
        await desk.call("points", "POST", "/v1/wishes", json=body, idempotency_key=form.get("key") or None)
    except Refusal as refusal:
        return await new_wish_page(request, desk, form=form, error=refusal)
    return RedirectResponse("/wishes/new?posted=1", status_code=303)
