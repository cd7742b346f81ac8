"""A volunteer's points: activities to sign up for, hours, balance and ledger, the love supermarket
with its pickup codes, and the wish wall (claim, fulfil). The points service decides what each
volunteer may see and do; these pages only show its answers."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from linli_console import words
from linli_console.forms import form_of
from linli_console.places import signed_in
from linli_console.rendering import TEMPLATES, render
from linli_console.services import Refusal
from linli_console.session import Desk
from linli_shared.clock import utc_now
from linli_shared.words import day_words

router = APIRouter(include_in_schema=False)
TEMPLATES.env.filters["day"] = day_words
TEMPLATES.env.globals["REDEMPTION_STATUS_NAMES"] = words.REDEMPTION_STATUS_NAMES
TEMPLATES.env.globals["ENTRY_KIND_NAMES"] = words.ENTRY_KIND_NAMES
TEMPLATES.env.globals["WISH_STATUS_NAMES"] = words.WISH_STATUS_NAMES
TEMPLATES.env.globals["STOCK_SOURCE_NAMES"] = words.STOCK_SOURCE_NAMES

LEDGER_LINES = 20


def new_key() -> str:
    """One Idempotency-Key per form render: a double tap posts the same key, the service acts once."""
    return uuid.uuid4().hex


def keyed(forms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each record with the key of its own form."""
    return [{**form, "key": new_key()} for form in forms]


def newest_first(items: list[dict[str, Any]], stamp: str) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: words.parse_moment(item[stamp]), reverse=True)


async def me(desk: Desk) -> dict[str, Any]:
    """The signed-in volunteer's own record (with the balance); the service refuses anyone else."""
    answer: dict[str, Any] = await desk.call("points", "GET", "/v1/volunteers/me")
    return answer


async def items_by_id(desk: Desk) -> dict[str, dict[str, Any]]:
    return {str(i["id"]): i for i in await desk.get_all("points", "/v1/items")}


async def my_redemptions(desk: Desk) -> list[dict[str, Any]]:
    """The volunteer's redemptions, newest first, each with its item's name."""
    redemptions, items = await asyncio.gather(desk.get_all("points", "/v1/redemptions"), items_by_id(desk))
    for redemption in redemptions:
        redemption["item_name"] = items.get(str(redemption["item_id"]), {}).get("name", "已下架的商品")
    return newest_first(redemptions, "redeemed_at")


@router.get("/points")
async def points_page(request: Request) -> Response:
    """Balance, the pickup codes waiting, hours served, and the latest ledger lines."""
    desk, _ = await signed_in(request)
    volunteer = await me(desk)
    volunteer_id = str(volunteer["id"])
    ledger, record, redemptions = await asyncio.gather(
        desk.get_all("points", f"/v1/volunteers/{volunteer_id}/ledger"),
        desk.call("points", "GET", f"/v1/volunteers/{volunteer_id}/service-record"),
        my_redemptions(desk),
    )
    ledger.sort(key=lambda entry: int(entry["id"]), reverse=True)
    return render(
        request,
        "points.html",
        {
            "volunteer": volunteer,
            "ledger": ledger[:LEDGER_LINES],
            "record": record,
            "waiting": [r for r in redemptions if r["status"] == "reserved"],
            "settled": [r for r in redemptions if r["status"] != "reserved"][:10],
        },
    )


@router.get("/activities")
async def activities_page(request: Request, *, error: Refusal | None = None, failed: str = "") -> Response:
    """Published activities not yet started, soonest first, each with its sign-up button."""
    desk, _ = await signed_in(request)
    now = utc_now()
    activities = [
        a
        for a in await desk.get_all("points", "/v1/activities")
        if a["status"] == "published" and words.parse_moment(a["ends_at"]) > now
    ]
    activities.sort(key=lambda a: words.parse_moment(a["starts_at"]))
    return render(
        request,
        "activities.html",
        {
            "activities": keyed(activities),
            "signed": request.query_params.get("signed"),
            "error": error,
            "failed": failed,
        },
        status_code=error.status if error else 200,
    )


@router.post("/activities/{activity_id}/sign-ups")
async def sign_up(activity_id: str, request: Request) -> Response:
    desk, _ = await signed_in(request)
    form = await form_of(request)
    path = f"/v1/activities/{activity_id[:36]}/sign-ups"
    try:
        await desk.call("points", "POST", path, json={}, idempotency_key=form.get("key") or None)
    except Refusal as refusal:
        return await activities_page(request, error=refusal, failed=activity_id[:36])
    return RedirectResponse(f"/activities?signed={activity_id[:36]}#activity-{activity_id[:36]}", 303)


@router.get("/supermarket")
async def supermarket_page(request: Request, *, error: Refusal | None = None, failed: str = "") -> Response:
    """The catalogue of the volunteer's community, each item with its own redeem form and key."""
    desk, _ = await signed_in(request)
    volunteer, items = await asyncio.gather(me(desk), desk.get_all("points", "/v1/items"))
    items.sort(key=lambda i: (int(i["points_price"]), str(i["name"])))
    return render(
        request,
        "supermarket.html",
        {
            "volunteer": volunteer,
            "items": keyed(items),
            "error": error,
            "failed": failed,
        },
        status_code=error.status if error else 200,
    )


@router.post("/supermarket/redemptions")
async def redeem(request: Request) -> Response:
    """Spend points on one item; the same key twice is one redemption. Then the pickup code, large."""
    desk, _ = await signed_in(request)
    form = await form_of(request)
    item_id = form.get("item_id", "")[:36]
    try:
        redemption = await desk.call(
            "points",
            "POST",
            "/v1/redemptions",
            json={"item_id": item_id, "quantity": 1},
            idempotency_key=form.get("key") or None,
        )
    except Refusal as refusal:
        return await supermarket_page(request, error=refusal, failed=item_id)
    return RedirectResponse(f"/redemptions/{redemption['id']}", status_code=303)


@router.get("/redemptions/{redemption_id}")
async def redemption_page(redemption_id: str, request: Request) -> Response:
    """One redemption: its pickup code in large digits while it waits, its state once settled."""
    desk, _ = await signed_in(request)
    found = next((r for r in await my_redemptions(desk) if r["id"] == redemption_id[:36]), None)
    if found is None:
        raise Refusal(404, "没有找到这笔兑换")
    return render(request, "redemption.html", {"redemption": found})


@router.get("/wishes")
async def wishes_page(request: Request, *, error: Refusal | None = None, failed: str = "") -> Response:
    """The wall (wishes open to claim) and the wishes this volunteer has claimed."""
    desk, _ = await signed_in(request)
    volunteer, wishes = await asyncio.gather(me(desk), desk.get_all("points", "/v1/wishes"))
    mine = [w for w in wishes if w.get("claimant_id") == volunteer["id"]]
    return render(
        request,
        "wishes.html",
        {
            "open": keyed(newest_first([w for w in wishes if w["status"] == "open"], "posted_at")),
            "mine": keyed(newest_first(mine, "updated_at")),
            "done": request.query_params.get("done"),
            "error": error,
            "failed": failed,
        },
        status_code=error.status if error else 200,
    )


@router.post("/wishes/{wish_id}/claim")
async def claim(wish_id: str, request: Request) -> Response:
    desk, _ = await signed_in(request)
    form = await form_of(request)
    try:
        await desk.call(
            "points", "POST", f"/v1/wishes/{wish_id[:36]}/claim", idempotency_key=form.get("key") or None
        )
    except Refusal as refusal:
        return await wishes_page(request, error=refusal, failed=wish_id[:36])
    return RedirectResponse(f"/wishes?done=claimed#wish-{wish_id[:36]}", status_code=303)


@router.post("/wishes/{wish_id}/fulfilment")
async def fulfil(wish_id: str, request: Request) -> Response:
    desk, _ = await signed_in(request)
    form = await form_of(request)
    note = form.get("note", "").strip()
    if not note:
        return await wishes_page(
            request, error=Refusal(422, "", {"note": ["请写一句做了什么"]}), failed=wish_id[:36]
        )
    try:
        await desk.call(
            "points",
            "POST",
            f"/v1/wishes/{wish_id[:36]}/fulfilment",
            json={"note": note},
            idempotency_key=form.get("key") or None,
        )
    except Refusal as refusal:
        return await wishes_page(request, error=refusal, failed=wish_id[:36])
    return RedirectResponse(f"/wishes?done=fulfilled#wish-{wish_id[:36]}", status_code=303)
