"""The care day over the registry's own answers: an urgent finding travels as `urgent`, and the day's
list is one call to the registry, however many elders."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlmodel import col, select

from linli_shared.outbox import OutboxMessage

from ..conftest import CONSOLE, Desk, elder_in_care

pytestmark = [pytest.mark.integration]


async def test_an_urgent_finding_is_sent_as_urgent_and_the_page_says_who_was_told(desk: Desk) -> None:
    resident_id = await elder_in_care(desk, "王秀英", every_hours=24, formed_hours_ago=2)
    await desk.sign_in()
    page = await desk.browser.get(f"/elders/{resident_id}")
    key = page.text.split('name="key" value="')[1].split('"')[0]
    form = {"key": key, "kind": "visit", "findings": "老人摔倒，腿肿了", "follow_up": "", "urgent": "1"}
    logged = await desk.browser.post(
        f"/elders/{resident_id}/contacts", data=form, headers={"Origin": CONSOLE}
    )
    assert logged.status_code == 303 and logged.headers["location"].endswith("&urgent=1")

    async with desk.registry.app.state.session_factory() as session:  # type: ignore[attr-defined]
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    reported = [
        json.loads(r.envelope)["payload"] for r in rows if r.subject.endswith(".care.visit.urgent_finding")
    ]
    assert [(p["resident_id"], p["findings"], p["grid_worker"]) for p in reported] == [
        (resident_id, "老人摔倒，腿肿了", desk.account_id)
    ], "the note as written: no 【紧急】 prefix"
    shown = await desk.browser.get(logged.headers["location"])
    assert "系统已同时提醒关爱小组的网格员和社区工作者" in shown.text


async def test_the_day_is_one_call_to_the_registry_however_many_elders(desk: Desk) -> None:
    # whatever the hour: overdue by 2 h, overdue by 0.5 h, and due in 47 h (another day)
    for name, every, hours_ago in (("王秀英", 24, 26), ("张桂兰", 24, 24.5), ("刘淑珍", 48, 1)):
        await elder_in_care(desk, name, every_hours=every, formed_hours_ago=hours_ago)
    await desk.sign_in()
    console = desk.browser._transport.app  # type: ignore[attr-defined]
    asked: list[str] = []

    async def count(request: httpx.Request) -> None:
        if request.url.host == "registry":
            asked.append(request.url.path)

    console.state.services.client.event_hooks["request"].append(count)
    today = await desk.browser.get("/today")
    assert today.status_code == 200
    assert asked.count("/v1/care-groups") == 1
    assert not [path for path in asked if path.startswith(("/v1/residents", "/v1/visits"))], asked
    pressing = today.text.split('id="pressing"')[1].split("</ul>")[0]
    assert pressing.index("王秀英") < pressing.index("张桂兰"), "the longest overdue first"
    assert "已逾期" in pressing and "刘淑珍" not in pressing
