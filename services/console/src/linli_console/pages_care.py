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

from linli_console.day import Elder, Urgency, elder_of, plan_day
from linli_console.forms import form_of
from linli_console.places import signed_in
from linli_console.rendering import render
from linli_console.services import Refusal, ServiceDown
from linli_console.session import Desk, Person
from linli_console.words import RUNG_NAMES, parse_moment, when
from linli_shared.clock import CHINA_TIME, utc_now

router = APIRouter(include_in_schema=False)

URGENT_MARK = "【紧急】"
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


async def elder_for(desk: Desk, group: dict[str, Any], now: datetime) -> tuple[Elder, dict[str, Any] | None]:
    resident_id = str(group["resident_id"])
    resident, visits = await asyncio.gather(
        desk.call("registry", "GET", f"/v1/residents/{resident_id}"),
        desk.get_all("registry", "/v1/visits", {"resident_id": resident_id}),
    )
    return elder_of(group, resident, visits, now), resident


@dataclass(frozen=True)
class AlertView:
    """One message of the person's inbox, in people's words, with its ladder."""

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


def acknowledger(by: str | None, person: Person) -> str:
    if not by:
        return ""
    if by == person.subject:
        return "您"
    if by.startswith("link:"):
        return "收信人通过短信里的确认链接"
    return "关爱小组的另一位成员"


def ladder_of(item: dict[str, Any], group: dict[str, Any] | None, person: Person) -> list[dict[str, str]]:
    """Who stands on each rung of this alert: the care group's people, the person marked 您."""
    if group is None:
        return []
    rungs = []
    for rung, who in (
        ("neighbour", str(group.get("neighbour_name") or "")),
        ("grid_worker", "您" if group.get("grid_worker") == person.subject else ""),
        ("community_worker", "您" if group.get("community_worker") == person.subject else ""),
    ):
        if rung == item.get("rung"):
            state = "这条提醒发给了这一级"
        elif item.get("escalated_at") and rung == next_rung(item.get("rung")):
            state = "无人确认，已转给这一级"
        else:
            state = ""
        rungs.append({"rung": RUNG_NAMES[rung], "who": who, "state": state})
    return rungs


def next_rung(rung: str | None) -> str | None:
    order = list(RUNG_NAMES)
    return order[order.index(rung) + 1] if rung in order and order.index(rung) + 1 < len(order) else None


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


def alert_view(item: dict[str, Any], groups: dict[str, dict[str, Any]], person: Person) -> AlertView:
    body = str(item.get("body", ""))
    found = CARE_GROUP_IN_BODY.search(body)
    group = groups.get(found.group(1)) if found else None
    for member, rung in (("grid_worker", "网格员"), ("community_worker", "社区工作者")):
        if group and group.get(member) and group[member] != person.subject:
            body = body.replace(str(group[member]), rung)  # who did not acknowledge, by their place
    body = UUID.sub("一位同事", in_our_words(body, person.subject))
    return AlertView(
        id=int(item["id"]),
        title=in_our_words(str(item.get("title", "")), person.subject),
        body=body,
        top_of_ladder=item.get("rung") == list(RUNG_NAMES)[-1],
        urgent=item.get("urgency") == "urgent",
        created_at=parse_moment(item["created_at"]),
        acknowledged_at=parse_moment(item["acknowledged_at"]) if item.get("acknowledged_at") else None,
        acknowledged_by=acknowledger(item.get("acknowledged_by"), person),
        escalated_at=parse_moment(item["escalated_at"]) if item.get("escalated_at") else None,
        rung=RUNG_NAMES.get(str(item.get("rung")), None) if item.get("rung") else None,
        ladder=ladder_of(item, group, person),
    )


async def my_alerts(desk: Desk, person: Person, groups: list[dict[str, Any]]) -> list[AlertView]:
    by_id = {str(g["id"]): g for g in groups}
    items = await desk.get_all("notify", "/v1/inbox")
    views = [alert_view(item, by_id, person) for item in items]
    return sorted(views, key=lambda a: (not a.open, -a.created_at.timestamp()))


@router.get("/today")
async def today(request: Request) -> Response:
    """Elders overdue first, then those due today; the rest folded away."""
    desk, person = await signed_in(request)
    now = utc_now()
    groups = await my_groups(desk)
    elders = plan_day([e for e, _ in await asyncio.gather(*(elder_for(desk, g, now) for g in groups))])
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
    elder, resident = await elder_for(desk, group, now)
    visits = await desk.get_all("registry", "/v1/visits", {"resident_id": resident_id})
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
    if urgent:
        findings = f"{URGENT_MARK}{findings}" if findings else f"{URGENT_MARK}请社区尽快跟进"
    body = {
        "resident_id": resident_id[:36],
        "kind": kind,
        "findings": findings,
        "follow_up": form.get("follow_up", "").strip(),
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
