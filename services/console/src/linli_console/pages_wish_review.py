"""Reviewing residents' wishes, the branch's step in the points service: a wish posted for a resident
waits (待审核) until a community worker or district admin puts it on the wall or turns it down with
a reason the resident is told; a wish a volunteer fulfilled waits for a worker's (or the resident's)
confirmation, which pays the volunteer. The points service decides who may do either."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from linli_console.forms import form_of
from linli_console.pages_points import keyed, newest_first
from linli_console.places import signed_in
from linli_console.rendering import render
from linli_console.services import Refusal
from linli_console.session import Desk

router = APIRouter(include_in_schema=False)

DONE_NOTICES = {
    "approved": "已通过，心愿已上墙，志愿者可以认领了。",
    "rejected": "已驳回，原因会告诉居民。",
    "confirmed": "已确认完成，志愿者的积分已经发放。",
}


async def resident_names(desk: Desk) -> dict[str, str]:
    """Residents' names by id, as far as the registry lets the reviewer see them."""
    try:
        answer = await desk.call("registry", "GET", "/v1/residents", params={"limit": 500})
    except Refusal:
        return {}
    return {str(r["id"]): str(r["full_name"]) for r in answer["items"]}


def named(wishes: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    return [{**w, "resident_name": names.get(str(w["resident_id"]), "居民")} for w in wishes]


async def review_page(
    request: Request, desk: Desk, *, error: Refusal | None = None, failed: str = "", note: str = ""
) -> Response:
    pending = await desk.get_all("points", "/v1/wishes", {"status": "pending"})
    fulfilled = await desk.get_all("points", "/v1/wishes", {"status": "fulfilled"})
    names = await resident_names(desk) if pending or fulfilled else {}
    return render(
        request,
        "wish_review.html",
        {
            "pending": keyed(named(newest_first(pending, "posted_at"), names)),
            "fulfilled": keyed(named(newest_first(fulfilled, "updated_at"), names)),
            "notice": DONE_NOTICES.get(request.query_params.get("done", "")),
            "error": error,
            "failed": failed,
            "note": note,
        },
        status_code=error.status if error else 200,
    )


@router.get("/wish-review")
async def wish_review(request: Request) -> Response:
    """Wishes waiting for review, then fulfilled wishes waiting for confirmation."""
    desk, _ = await signed_in(request)
    return await review_page(request, desk)


@router.post("/wish-review/{wish_id}")
async def review(wish_id: str, request: Request) -> Response:
    """Approve (on the wall) or reject (with the reason, required) one pending wish."""
    desk, _ = await signed_in(request)
    form = await form_of(request)
    wish_id, approve = wish_id[:36], form.get("decision") == "approve"
    note = form.get("note", "").strip()[:500]
    if not approve and not note:
        problem = Refusal(422, "", {"note": ["驳回时请写明原因，会告诉居民"]})
        return await review_page(request, desk, error=problem, failed=wish_id)
    try:
        await desk.call(
            "points",
            "POST",
            f"/v1/wishes/{wish_id}/review",
            json={"approve": approve, "note": note},
            idempotency_key=form.get("key") or None,
        )
    except Refusal as refusal:
        return await review_page(request, desk, error=refusal, failed=wish_id, note=note)
    return RedirectResponse(f"/wish-review?done={'approved' if approve else 'rejected'}", status_code=303)


@router.post("/wish-review/{wish_id}/confirmation")
async def confirm(wish_id: str, request: Request) -> Response:
    """The worker confirms a fulfilled wish on the resident's behalf; the volunteer is paid once."""
    desk, _ = await signed_in(request)
    form = await form_of(request)
    path = f"/v1/wishes/{wish_id[:36]}/confirmation"
    try:
        await desk.call("points", "POST", path, idempotency_key=form.get("key") or None)
    except Refusal as refusal:
        return await review_page(request, desk, error=refusal, failed=wish_id[:36])
    return RedirectResponse("/wish-review?done=confirmed", status_code=303)
