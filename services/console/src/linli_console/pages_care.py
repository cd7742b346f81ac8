"""A care group member's day: the elders due and overdue, logging a visit or call at the door in two
taps, and their alerts with the ladder: acknowledge, see who else has it and who acknowledged it."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from linli_console.day import Urgency, elder_of, plan_day
from linli_console.forms import form_of
from linli_console.places import signed_in
from linli_console.rendering import render
from linli_console.services import Refusal, ServiceDown
from linli_console.session import Desk, Person
from linli_console.words import RUNG_NAMES, parse_moment, when
from linli_shared.clock import CHINA_TIME, utc_now

router = APIRouter(include_in_schema=False)

CARE_GROUP_IN_BODY = re.compile(r"（关爱小组 ([0-9a-f-]{36})）")
"""The visit_overdue template names the group by its id; the page names its people instead."""
FOR_OTHER_CHANNELS = re.compile(r"，?或打开下方链接确认|无法登录应用时，?点此链接确认[:：]?\s*|https?://\S+")
"""What the message says for SMS and mail (the signed link): here the button is on the page."""
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MESSAGE_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
MESSAGE_DAY_TIME = re.compile(r"(?<![\d-])(\d{2})-(\d{2}) (\d{2}:\d{2})")
MESSAGE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2})(?::\d{2})?")


async def my_groups(desk: Desk) -> list[dict[str, Any]]:
    return await desk.get_all("registry", "/v1/care-groups", {"mine": "true"})


@dataclass(frozen=True)
class AlertView:
    """One message of the person's inbox, in people's words, with its ladder as notify tells it."""

    id: int
    title: str
    body: str
    urgent: bool
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    escalated_at: datetime | None
    rung: str | None
    top_of_ladder: bool
    ladder: list[dict[str, str]]

    @property
    def open(self) -> bool:
        return self.urgent and self.acknowledged_at is None


def who_on(rung: dict[str, Any]) -> str:
    """A copy's recipient as the page names them: 您, their name, or nothing (the rung says it)."""
    if rung.get("you"):
        return "您"
    return str(rung["recipient_name"]) if rung.get("named") else ""


def acknowledged_by_words(rung: dict[str, Any]) -> str:
    if rung.get("acknowledged_by_you"):
        who = "您"
    elif rung.get("named"):
        who = f"{RUNG_NAMES.get(str(rung['rung']), '')}{rung['recipient_name']}"
    else:
        who = RUNG_NAMES.get(str(rung.get("acknowledged_by") or rung["rung"]), "关爱小组的另一位成员")
    return f"{who}（通过短信里的确认链接）" if rung.get("acknowledged_by_link") else who


def ladder_steps(
    ladder: list[dict[str, Any]], group: dict[str, Any] | None, person: Person
) -> list[dict[str, str]]:
    """Each rung of the alert's ladder: who stands on it (the care group's people, the person as 您),
    and, from notify, whether it reached them, who acknowledged and when, what climbed."""
    copies = {str(r["rung"]): r for r in ladder}
    members = {
        "neighbour": str((group or {}).get("neighbour_name") or ""),
        "grid_worker": "您" if (group or {}).get("grid_worker") == person.subject else "",
        "community_worker": "您" if (group or {}).get("community_worker") == person.subject else "",
    }
    steps, now = [], utc_now()
    for rung in RUNG_NAMES:
        copy = copies.get(rung)
        if copy is None and group is None:
            continue
        who = (who_on(copy) if copy else "") or members[rung]
        if copy is None:
            state = ""
        elif copy.get("acknowledged_at"):
            state = (
                f"{acknowledged_by_words(copy)}已于 {when(parse_moment(copy['acknowledged_at']), now)} 确认"
            )
        elif copy.get("escalated_at"):
            state = f"无人确认，已于 {when(parse_moment(copy['escalated_at']), now)} 转给上一级"
        elif copy.get("you"):
            state = "这条提醒发给了这一级"
        else:
            state = f"已于 {when(parse_moment(copy['created_at']), now)} 发出，尚未确认"
        steps.append({"rung": RUNG_NAMES[rung], "who": who, "state": state})
    return steps


def first_acknowledgement(ladder: list[dict[str, Any]]) -> dict[str, Any] | None:
    acknowledged = [r for r in ladder if r.get("acknowledged_at")]
    return min(acknowledged, key=lambda r: parse_moment(r["acknowledged_at"])) if acknowledged else None


def in_our_words(body: str, subject: str = "") -> str:
    """The message as the page shows it: no group id, no link, the reader's own id as 您, times
    written as people write them."""
    body = FOR_OTHER_CHANNELS.sub("", CARE_GROUP_IN_BODY.sub("", body))
    if subject:
        body = body.replace(f"{subject}，您好", "您好").replace(subject, "您")
    now = utc_now()
    body = MESSAGE_TIME.sub(
        lambda found: when(datetime.fromisoformat(found.group(1)).replace(tzinfo=CHINA_TIME), now), body
    )
    body = MESSAGE_DATE.sub(lambda found: f"{int(found.group(2))}月{int(found.group(3))}日", body)
    body = MESSAGE_DAY_TIME.sub(
        lambda found: f"{int(found.group(1))}月{int(found.group(2))}日 {found.group(3)}", body
    )
    return body.strip()


def alert_view(
    item: dict[str, Any], groups: dict[str, dict[str, Any]], person: Person, ladder: list[dict[str, Any]]
) -> AlertView:
    body = str(item.get("body", ""))
    found = CARE_GROUP_IN_BODY.search(body)
    group = groups.get(found.group(1)) if found else None
    for member, rung in (("grid_worker", "网格员"), ("community_worker", "社区工作者")):
        if group and group.get(member) and group[member] != person.subject:
            body = body.replace(str(group[member]), rung)  # who did not acknowledge, by their place
    body = UUID.sub("一位同事", in_our_words(body, person.subject))
    first = first_acknowledgement(ladder)  # anyone on the ladder acknowledging closes it for all
    acknowledged_at = item.get("acknowledged_at") or (first or {}).get("acknowledged_at")
    by: str | None
    if item.get("acknowledged_at"):
        by = "您" if item.get("acknowledged_by") == person.subject else "收信人通过短信里的确认链接"
    else:
        by = acknowledged_by_words(first) if first else None
    return AlertView(
        id=int(item["id"]),
        title=in_our_words(str(item.get("title", "")), person.subject),
        body=body,
        top_of_ladder=item.get("rung") == list(RUNG_NAMES)[-1],
        urgent=item.get("urgency") == "urgent",
        created_at=parse_moment(item["created_at"]),
        acknowledged_at=parse_moment(acknowledged_at) if acknowledged_at else None,
        acknowledged_by=by,
        escalated_at=parse_moment(item["escalated_at"]) if item.get("escalated_at") else None,
        rung=RUNG_NAMES.get(str(item.get("rung")), None) if item.get("rung") else None,
        ladder=ladder_steps(ladder, group, person),
    )


async def ladder_for(desk: Desk, item: dict[str, Any]) -> list[dict[str, Any]]:
    """The alert's ladder from notify; none for a message that is not on one."""
    if item.get("urgency") != "urgent" or not item.get("rung"):
        return []
    answer = await desk.call("notify", "GET", f"/v1/notifications/{int(item['id'])}/ladder")
    return list(answer) if isinstance(answer, list) else []


async def my_alerts(desk: Desk, person: Person, groups: list[dict[str, Any]]) -> list[AlertView]:
    by_id = {str(g["id"]): g for g in groups}
    items = await desk.get_all("notify", "/v1/inbox")
    ladders = await asyncio.gather(*(ladder_for(desk, item) for item in items))
    views = [alert_view(item, by_id, person, ladder) for item, ladder in zip(items, ladders, strict=True)]
    return sorted(views, key=lambda a: (not a.open, -a.created_at.timestamp()))


@router.get("/today")
async def today(request: Request) -> Response:
    """Elders overdue first, then those due today; the rest folded away."""
    desk, person = await signed_in(request)
    now = utc_now()
    groups = await my_groups(desk)  # one call: the registry counts each group's dues and names its elder
    elders = plan_day([elder_of(g, now) for g in groups])
    try:
        open_alerts = sum(a.open for a in await my_alerts(desk, person, groups))
        alerts_down = False
    except ServiceDown:
        open_alerts, alerts_down = 0, True
    done = request.query_params.get("done")
    logged = next((e for e in elders if e.resident_id == done), None)
    return render(
        request,
        "today.html",
        {
            "pressing": [e for e in elders if e.urgency is not Urgency.LATER],
            "later": [e for e in elders if e.urgency is Urgency.LATER],
            "open_alerts": open_alerts,
            "alerts_down": alerts_down,
            "logged": logged,
            "logged_kind": request.query_params.get("kind"),
            "urgent_logged": request.query_params.get("urgent") == "1",
            "has_groups": bool(groups),
        },
    )


async def elder_page(
    request: Request,
    desk: Desk,
    resident_id: str,
    *,
    error: Refusal | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    now = utc_now()
    groups = {str(g["resident_id"]): g for g in await my_groups(desk)}
    group = groups.get(resident_id)
    if group is None:
        raise Refusal(404, "这位老人不在您的关爱小组里")
    resident, visits = await asyncio.gather(
        desk.call("registry", "GET", f"/v1/residents/{resident_id}"),
        desk.get_all("registry", "/v1/visits", {"resident_id": resident_id}),
    )
    elder = elder_of(group, now)
    visits.sort(key=lambda v: parse_moment(v["visited_at"]), reverse=True)
    return render(
        request,
        "elder.html",
        {
            "elder": elder,
            "resident": resident,
            "recent": visits[:5],
            "error": error,
            "form": form or {},
            "key": (form or {}).get("key") or uuid.uuid4().hex,
        },
        status_code=error.status if error else 200,
    )


@router.get("/elders/{resident_id}")
async def elder(resident_id: str, request: Request) -> Response:
    """The first tap: the elder's page, with the two buttons at the top."""
    desk, _ = await signed_in(request)
    return await elder_page(request, desk, resident_id[:36])


@router.post("/elders/{resident_id}/contacts")
async def log_contact(resident_id: str, request: Request) -> Response:
    """The second tap: a visit or a call, logged with the note; the same key twice logs it once."""
    desk, _ = await signed_in(request)
    form = await form_of(request)
    kind = "call" if form.get("kind") == "call" else "visit"
    urgent = form.get("urgent") == "1"
    findings = form.get("findings", "").strip()
    body = {
        "resident_id": resident_id[:36],
        "kind": kind,
        "findings": findings,
        "follow_up": form.get("follow_up", "").strip(),
        "urgent": urgent,
    }
    try:
        await desk.call("registry", "POST", "/v1/visits", json=body, idempotency_key=form.get("key") or None)
    except Refusal as refusal:
        return await elder_page(request, desk, resident_id[:36], error=refusal, form=form)
    target = f"/today?done={resident_id[:36]}&kind={kind}" + ("&urgent=1" if urgent else "")
    return RedirectResponse(target, status_code=303)


@router.get("/alerts")
async def alerts(request: Request) -> Response:
    desk, person = await signed_in(request)
    groups = await my_groups(desk)
    views = await my_alerts(desk, person, groups)
    return render(
        request,
        "alerts.html",
        {
            "open": [a for a in views if a.open],
            "closed": [a for a in views if not a.open],
            "acknowledged": request.query_params.get("acknowledged"),
        },
    )


@router.post("/alerts/{notification_id}/acknowledgement")
async def acknowledge(notification_id: int, request: Request) -> Response:
    """Acknowledge: notify records the first acknowledgement and stops the ladder."""
    desk, _ = await signed_in(request)
    path = f"/v1/notifications/{notification_id}/acknowledgement"
    await desk.call("notify", "POST", path, idempotency_key=f"ack-{notification_id}")
    return RedirectResponse(
        f"/alerts?acknowledged={notification_id}#alert-{notification_id}", status_code=303
    )
