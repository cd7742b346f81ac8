"""A grid worker's day in a real browser, at phone and desktop size, on SQLite and PostgreSQL:
sign in → an elder's visit due → logged in two taps → a missed visit for another elder raises an
alert → acknowledged → the page says who acknowledged it and that the ladder stopped."""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Locator, Page, expect

from linli_shared.auth import Role

from .conftest import DESKTOP, PHONE, Journey, Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.nats]

SERIOUS = {"serious", "critical"}
ISO_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Visit:
    """One browser context of the journey: screenshots named by database and size, page timings kept."""

    def __init__(self, browser: Browser, stack: Stack, size: tuple[int, int], artefacts: Path) -> None:
        self.context = browser.new_context(
            viewport={"width": size[0], "height": size[1]}, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.stack = stack
        self.label = f"{stack.database}-{'phone' if size == PHONE else 'desktop'}"
        self.artefacts = artefacts
        self.timings: list[dict[str, Any]] = []
        self.axe = Axe()
        self.page.on("response", self.timed)

    def timed(self, response: Any) -> None:
        if response.request.resource_type == "document" and response.url.startswith(self.stack.console.url):
            found = re.search(r"dur=([0-9.]+)", response.headers.get("server-timing", ""))
            if found:
                path = response.url.removeprefix(self.stack.console.url).split("?")[0]
                self.timings.append({"page": page_name(path), "server_ms": float(found.group(1))})

    def goto(self, path: str) -> None:
        self.page.goto(self.stack.console.url + path)

    def check(self, name: str) -> None:
        """Screenshot, people's words (no ISO stamps, no ids), fits the width, no serious axe findings."""
        self.page.screenshot(path=str(self.artefacts / f"{self.label}-{name}.png"), full_page=True)
        text = self.page.inner_text("body")
        assert not ISO_STAMP.search(text), f"{name}: a raw timestamp on the page"
        assert not UUID.search(text), f"{name}: a raw id on the page"
        overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: wider than the screen by {overflow}px"
        violations = [v for v in self.axe.run(self.page).response["violations"] if v["impact"] in SERIOUS]
        assert not violations, f"{name}: " + "; ".join(f"{v['id']}: {v['help']}" for v in violations)

    def sign_in(self, journey: Journey) -> None:
        self.goto("/")
        expect(self.page).to_have_url(re.compile(r"/sign-in"))
        self.check("sign-in")
        self.page.get_by_label("手机号").fill(journey.phone)
        self.page.get_by_label("密码").fill(journey.password)
        self.page.get_by_role("button", name="登录").click()
        expect(self.page).to_have_url(re.compile(r"/today$"))


def page_name(path: str) -> str:
    if path.startswith("/elders/"):
        return "/elders/{id}"
    if path.startswith("/alerts"):
        return "/alerts"
    return path or "/"


def reload_until(page: Page, locator: Locator, timeout: float = 90) -> None:
    """Reload until the locator shows (the alert travels registry → NATS → notify meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            expect(locator).to_be_visible(timeout=2_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def grid_worker_inbox(stack: Stack, journey: Journey) -> list[dict[str, Any]]:
    headers = stack.bearer(Role.GRID_WORKER, journey.grid_worker)
    response = httpx.get(stack.notify.url + "/v1/inbox", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def save_timings(artefacts: Path, label: str, timings: list[dict[str, Any]]) -> None:
    by_page: dict[str, list[float]] = {}
    for timing in timings:
        by_page.setdefault(timing["page"], []).append(timing["server_ms"])
    summary = {
        page: {
            "count": len(values),
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(sorted(values)[max(0, round(0.95 * len(values)) - 1)], 1),
        }
        for page, values in sorted(by_page.items())
    }
    (artefacts / f"timings-{label}.json").write_text(json.dumps({"pages": summary, "all": timings}, indent=1))


def test_grid_worker_logs_a_visit_and_acknowledges_a_missed_one(
    browser: Browser, stack: Stack, journey: Journey, artefacts: Path
) -> None:
    phone = Visit(browser, stack, PHONE, artefacts)
    page = phone.page
    phone.sign_in(journey)

    # today's list: the elder whose visit is due, in people's words
    due = page.locator("li.elder", has_text=journey.due_elder).first
    expect(due).to_be_visible()
    expect(due).to_contain_text(re.compile(r"今天|已逾期"))
    expect(page.get_by_role("heading", name="今天要看望的老人")).to_be_visible()
    expect(page.locator(".who")).to_contain_text("东李庄社区 · 网格员")
    phone.check("today")

    # two taps at the door: the elder, then 已上门走访
    due.get_by_role("link").click()  # tap 1
    expect(page.get_by_role("heading", name=re.compile(journey.due_elder))).to_be_visible()
    phone.check("elder")
    page.get_by_label("情况记录（可不填）").fill("精神好，血压正常")
    page.get_by_role("button", name="已上门走访").click()  # tap 2
    expect(page).to_have_url(re.compile(r"/today\?done="))
    expect(page.get_by_role("status")).to_contain_text(f"已记录：{journey.due_elder}的上门走访")
    expect(page.locator("#pressing li.elder", has_text=journey.due_elder)).to_have_count(0)
    expect(page.locator("#later li.elder", has_text=journey.due_elder)).to_have_count(1)  # due tomorrow

    # the effect in the registry: one visit, by this grid worker, with the note
    visits = httpx.get(
        stack.registry.url + "/v1/visits",
        params={"resident_id": journey.due_elder_id},
        headers=stack.bearer(Role.COMMUNITY_WORKER, "cw-zhang"),
        timeout=30,
    ).json()["items"]
    assert [(v["kind"], v["visitor"], v["findings"]) for v in visits] == [
        ("visit", journey.grid_worker, "精神好，血压正常")
    ]

    # the other elder's missed visit: the registry raises it, notify alerts the grid worker
    page.get_by_role("link", name="提醒", exact=True).click()
    alert = page.locator("article.alert", has_text=journey.missed_elder)
    reload_until(page, alert)
    expect(alert).to_contain_text("尚未确认")
    expect(alert.locator("ol.ladder")).to_contain_text("邻居 赵大妈")
    expect(alert.locator("ol.ladder")).to_contain_text("这条提醒发给了这一级")
    phone.check("alert")

    alert.get_by_role("button", name="确认：我来处理").click()
    expect(page.get_by_role("status").first).to_contain_text("已确认")
    acknowledged = page.locator("article.alert", has_text=journey.missed_elder)
    expect(acknowledged).to_contain_text(re.compile(r"您已于 今天 \d{2}:\d{2} 确认，提醒已停止升级"))
    expect(acknowledged.get_by_role("button", name="确认：我来处理")).to_have_count(0)
    phone.check("alert-acknowledged")

    # the effect in notify: acknowledged by this grid worker, and it did not climb
    (notification,) = [n for n in grid_worker_inbox(stack, journey) if journey.missed_elder in n["title"]]
    assert notification["acknowledged_by"] == journey.grid_worker
    assert notification["escalated_at"] is None

    # the same pages on a desktop: a new sign-in, the acknowledgement still shown
    desktop = Visit(browser, stack, DESKTOP, artefacts)
    desktop.sign_in(journey)
    expect(desktop.page.locator("li.elder", has_text=journey.missed_elder).first).to_contain_text("已逾期")
    desktop.check("today")
    desktop.page.locator("li.elder", has_text=journey.missed_elder).first.get_by_role("link").click()
    expect(desktop.page.get_by_role("heading", name=re.compile(journey.missed_elder))).to_be_visible()
    desktop.check("elder")
    desktop.goto("/alerts")
    expect(desktop.page.locator("article.alert", has_text=journey.missed_elder)).to_contain_text(
        "提醒已停止升级"
    )
    desktop.check("alerts")

    desktop.page.get_by_role("link", name="我能做什么").click()
    expect(desktop.page.get_by_role("heading", name="网格员可以做的事")).to_be_visible()
    desktop.check("home")

    # signing out ends the session: the pages ask for a sign-in again
    desktop.page.get_by_role("button", name="退出").click()
    expect(desktop.page.get_by_role("status")).to_contain_text("您已退出")
    desktop.goto("/today")
    expect(desktop.page).to_have_url(re.compile(r"/sign-in\?next=/today"))

    save_timings(artefacts, stack.database, phone.timings + desktop.timings)
    phone.context.close()
    desktop.context.close()
