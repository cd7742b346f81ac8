"""The supermarket keeper at the counter (a community worker): a pickup confirmed by its six-digit
code, stock taken in, and the items running low. The points service checks the keeper's role."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from linli_console.forms import form_of
from linli_console.pages_points import items_by_id, keyed, new_key
from linli_console.places import signed_in
from linli_console.rendering import render
from linli_console.services import Refusal
from linli_console.session import Desk
from linli_console.words import STOCK_SOURCE_NAMES

router = APIRouter(include_in_schema=False)

PICKUP_CODE = re.compile(r"^\d{6}$")


async def named(desk: Desk, redemptions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each redemption with its item's and its volunteer's names, as the keeper reads them."""
    items = await items_by_id(desk)
    volunteers = await asyncio.gather(
        *(desk.call("points", "GET", f"/v1/volunteers/{r['volunteer_id']}") for r in redemptions)
    )
    return [
        {
            **r,
            "item_name": items.get(str(r["item_id"]), {}).get("name", "已下架的商品"),
            "volunteer_name": v["full_name"],
        }
        for r, v in zip(redemptions, volunteers, strict=True)
    ]


async def pickup_page(
    request: Request,
    desk: Desk,
    *,
    code: str = "",
    error: Refusal | None = None,
    choices: list[dict[str, Any]] | None = None,
) -> Response:
    done = request.query_params.get("done", "")[:36]
    picked = None
    if done:
        found = [r for r in await desk.get_all("points", "/v1/redemptions") if r["id"] == done]
        picked = (await named(desk, found))[0] if found else None
    return render(
        request,
        "pickup.html",
        {"code": code, "error": error, "choices": choices or [], "picked": picked, "key": new_key()},
        status_code=error.status if error else 200,
    )


@router.get("/pickup")
async def pickup(request: Request) -> Response:
    desk, _ = await signed_in(request)
    return await pickup_page(request, desk)


@router.post("/pickup")
async def confirm_pickup(request: Request) -> Response:
    """The code the volunteer shows; one waiting redemption with it is handed over at once, two
    (rare: codes are six digits) are listed by item and volunteer for the keeper to choose."""
    desk, _ = await signed_in(request)
    form = await form_of(request)
    code = re.sub(r"\s", "", form.get("code", ""))
    if not PICKUP_CODE.match(code):
        refusal = Refusal(422, "", {"code": ["取货码是6位数字，请核对后再输入"]})
        return await pickup_page(request, desk, code=code[:12], error=refusal)
    waiting = [
        r
        for r in await desk.get_all("points", "/v1/redemptions")
        if r["status"] == "reserved" and r["pickup_code"] == code
    ]
    chosen = form.get("redemption_id", "")[:36]
    if chosen:
        waiting = [r for r in waiting if r["id"] == chosen]
    if not waiting:
        refusal = Refusal(404, "", {"code": ["没有找到这个取货码的待取商品，请核对后再输入"]})
        return await pickup_page(request, desk, code=code, error=refusal)
    if len(waiting) > 1:
        return await pickup_page(request, desk, code=code, choices=await named(desk, waiting))
    (redemption,) = waiting
    try:
        await desk.call(
            "points",
            "POST",
            f"/v1/redemptions/{redemption['id']}/pickup",
            json={"pickup_code": code},
            idempotency_key=form.get("key") or None,
        )
    except Refusal as refusal:
        refusal.fields.setdefault("code", [refusal.detail])
        return await pickup_page(request, desk, code=code, error=refusal)
    return RedirectResponse(f"/pickup?done={redemption['id']}", status_code=303)


async def stock_page(
    request: Request, desk: Desk, *, error: Refusal | None = None, failed: str = ""
) -> Response:
    """Items running low first, then the rest; each with its intake form and key."""
    items = sorted(await desk.get_all("points", "/v1/items"), key=lambda i: (str(i["name"]), str(i["id"])))
    low = [i for i in items if int(i["stock"]) <= int(i["low_stock_threshold"])]
    return render(
        request,
        "stock.html",
        {
            "low": keyed(low),
            "rest": keyed([i for i in items if i not in low]),
            "received": request.query_params.get("received"),
            "sources": STOCK_SOURCE_NAMES,
            "error": error,
            "failed": failed,
        },
        status_code=error.status if error else 200,
    )


@router.get("/stock")
async def stock(request: Request) -> Response:
    desk, _ = await signed_in(request)
    return await stock_page(request, desk)


@router.post("/stock/{item_id}/intakes")
async def take_in(item_id: str, request: Request) -> Response:
    desk, _ = await signed_in(request)
    form = await form_of(request)
    item_id = item_id[:36]
    quantity = form.get("quantity", "").strip()
    if not quantity.isdigit() or int(quantity) <= 0:
        refusal = Refusal(422, "", {"quantity": ["请填写收到的件数（大于0的整数）"]})
        return await stock_page(request, desk, error=refusal, failed=item_id)
    source = form.get("source") if form.get("source") in STOCK_SOURCE_NAMES else "purchase"
    body = {"quantity": int(quantity), "source": source, "note": form.get("note", "").strip()[:500]}
    try:
        await desk.call(
            "points",
            "POST",
            f"/v1/items/{item_id}/intakes",
            json=body,
            idempotency_key=form.get("key") or None,
        )
    except Refusal as refusal:
        return await stock_page(request, desk, error=refusal, failed=item_id)
    return RedirectResponse(f"/stock?received={item_id}#item-{item_id}", status_code=303)
