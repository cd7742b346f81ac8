"""A community worker's pages in a real browser, at phone and desktop size, on SQLite and PostgreSQL:
sign in → search an elder by name → the elder's page; and the care day closed: a grid worker logs an
urgent finding → the community worker sees the alert at once and acknowledges it → the grid worker's
ladder shows who did."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from linli_shared.auth import Role

from .conftest import DESKTOP, PHONE, Stack, register_elder
from .test_grid_worker_day import Visit, reload_until

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.nats]


@dataclass(frozen=True)
class Person:
    phone: str
    password: str
    account_id: str


@dataclass(frozen=True)
class Community:
    """A community with a grid worker and a community worker who sign in, and one elder in their care."""

    grid_worker: Person
    community_worker: Person
    elder: str
    elder_id: str


def person(stack: Stack, admin: dict[str, str], name: str, role: str) -> Person:
    phone, password = f"100{uuid.uuid4().int % 10**8:08d}", secrets.token_urlsafe(12)
    account = stack.post(
        "/v1/accounts",
        {
            "phone": phone,
            "display_name": name,
            "password": password,
            "district": stack.district,
            "community": stack.community,
        },
        admin,
    )
    stack.post(
        f"/v1/accounts/{account['id']}/grants",
        {"role": role, "district": stack.district, "community": stack.community},
        admin,
    )
    return Person(phone, password, str(account["id"]))


@pytest.fixture
def community(stack: Stack) -> Community:
    admin = stack.bearer(Role.CITY_ADMIN, "admin")
    stack.post("/v1/districts", {"code": stack.district, "name": "高桥营街道"}, admin)
    stack.post(
        "/v1/communities", {"district": stack.district, "code": stack.community, "name": "东李庄社区"}, admin
    )
    grid_worker = person(stack, admin, "李网格", "grid_worker")
    community_worker = person(stack, admin, "张社工", "community_worker")
    worker = stack.bearer(Role.COMMUNITY_WORKER, community_worker.account_id)
    elder_id = register_elder(stack, worker, "王秀英", "110105194403080027")
    stack.post(
        "/v1/care-groups",
        {
            "resident_id": elder_id,
            "community_worker": community_worker.account_id,
            "grid_worker": grid_worker.account_id,
            "neighbour_name": "赵大妈",
            "visit_every_hours": 24,
            "call_every_days": 7,
            "formed_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        },
        worker,
    )
    return Community(grid_worker, community_worker, "王秀英", elder_id)


def sign_in(visit: Visit, who: Person, landing: str = "/today") -> None:
    visit.goto("/sign-in")
    visit.page.get_by_label("手机号").fill(who.phone)
    visit.page.get_by_label("密码").fill(who.password)
    visit.page.get_by_role("button", name="登录").click()
    expect(visit.page).to_have_url(re.compile(landing + "$"))


def test_community_worker_finds_an_elder_by_name_and_opens_the_page(
    browser: Browser, stack: Stack, community: Community, artefacts: Path
) -> None:
    for number, size in enumerate((PHONE, DESKTOP)):
        visit = Visit(browser, stack, size, artefacts)
        visit.label = f"cw-{visit.label}"
        page = visit.page
        sign_in(visit, community.community_worker)
        expect(page.locator(".who")).to_contain_text("东李庄社区 · 社区工作者")

        page.get_by_role("link", name="居民", exact=True).click()
        expect(page.get_by_role("heading", name="查找居民")).to_be_visible()
        visit.check("residents")
        page.get_by_label("姓名（输入一个字也可以）").fill("秀")
        page.get_by_role("button", name="查找").click()
        found = page.locator("#found li", has_text=community.elder)
        expect(found).to_have_count(1)
        expect(found).to_contain_text("独居")
        expect(found).to_contain_text("身份证尾号 0027")
        visit.check("residents-found")

        found.get_by_role("link").click()
        expect(page.get_by_role("heading", name=re.compile(community.elder))).to_be_visible()
        care = page.locator("#care")
        expect(care).to_contain_text("网格员：李网格")
        expect(care).to_contain_text("社区工作者：您")
        expect(care).to_contain_text("邻居：赵大妈")
        visit.check("resident")
        page.get_by_role("link", name="更正姓名、电话或监护人").click()
        page.get_by_label("电话", exact=True).fill("电话号码")
        page.get_by_role("button", name="保存更正").click()
        expect(page.locator("#phone-error")).to_be_visible()  # the registry's words, beside the field
        visit.check("resident-correct-refused")
        page.get_by_label("电话", exact=True).fill(f"1380013800{number}")
        page.get_by_role("button", name="保存更正").click()
        expect(page.get_by_role("status")).to_contain_text("已保存更正")
        page.get_by_role("link", name="更正姓名、电话或监护人").click()
        expect(page.get_by_label("电话", exact=True)).to_have_value(f"1380013800{number}")
        page.go_back()

        page.get_by_role("link", name="逾期", exact=True).click()
        expect(page.get_by_role("heading", name="社区逾期的走访和电话")).to_be_visible()
        visit.check("overdue")
        visit.context.close()


def test_an_urgent_finding_reaches_the_community_worker_and_the_grid_worker_sees_who_acknowledged(
    browser: Browser, stack: Stack, community: Community, artefacts: Path
) -> None:
    grid = Visit(browser, stack, PHONE, artefacts)
    grid.label = f"urgent-gw-{grid.label}"
    sign_in(grid, community.grid_worker)
    grid.goto(f"/elders/{community.elder_id}")  # due tomorrow: folded under 其他老人 on the day's page
    grid.page.get_by_label("情况记录（可不填）").fill("老人摔倒，腿肿了")
    grid.page.get_by_label(re.compile("紧急情况")).check()
    grid.page.get_by_role("button", name="已上门走访").click()
    expect(grid.page).to_have_url(re.compile(r"/today\?done=.*urgent=1"))
    expect(grid.page.get_by_role("alert")).to_contain_text("系统已同时提醒关爱小组的网格员和社区工作者")
    grid.check("urgent-logged")

    # the registry recorded it urgent, with the note as written
    visits = httpx.get(
        stack.registry.url + "/v1/visits",
        params={"resident_id": community.elder_id},
        headers=stack.bearer(Role.COMMUNITY_WORKER, community.community_worker.account_id),
        timeout=30,
    ).json()["items"]
    assert [v["findings"] for v in visits] == ["老人摔倒，腿肿了"]

    worker = Visit(browser, stack, DESKTOP, artefacts)
    worker.label = f"urgent-cw-{worker.label}"
    sign_in(worker, community.community_worker)
    worker.goto("/alerts")
    alert = worker.page.locator("article.alert", has_text=f"{community.elder}需要尽快跟进")
    reload_until(worker.page, alert)
    expect(alert).to_contain_text("老人摔倒，腿肿了")
    expect(alert).to_contain_text("尚未确认")
    worker.check("urgent-alert")
    alert.get_by_role("button", name="确认：我来处理").click()
    expect(worker.page.get_by_role("status").first).to_contain_text("已确认")
    expect(worker.page.locator("article.alert", has_text=f"{community.elder}需要尽快跟进")).to_contain_text(
        re.compile(r"您已于 今天 \d{2}:\d{2} 确认")
    )
    worker.check("urgent-acknowledged")

    # the grid worker's copy: closed for them too, and the ladder says the community worker did it
    grid.goto("/alerts")
    mine = grid.page.locator("article.alert", has_text=f"{community.elder}需要尽快跟进")
    reload_until(grid.page, mine)
    expect(mine).to_contain_text(re.compile(r"社区工作者已于 今天 \d{2}:\d{2} 确认"))
    expect(mine.get_by_role("button", name="确认：我来处理")).to_have_count(0)
    ladder = mine.locator("ol.ladder")
    expect(ladder).to_contain_text("网格员 您")
    expect(ladder).to_contain_text(re.compile(r"社区工作者.*社区工作者已于 今天 \d{2}:\d{2} 确认"))
    grid.check("urgent-ladder")
    grid.context.close()
    worker.context.close()
