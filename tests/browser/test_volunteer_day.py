"""A volunteer and the supermarket keeper in a real browser, on SQLite and PostgreSQL: the volunteer
signs in on a phone and redeems an item (a double tap redeems it once) → the pickup code, large →
the keeper signs in, a wrong code is refused next to the field, the right one hands the item over →
the volunteer's page (now on a desktop) shows it picked up and the balance down; the keeper sees the
item run low and takes stock in. Each step is checked in the points service too."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from linli_shared.auth import Role
from linli_shared.clock import CHINA_TIME

from .conftest import DESKTOP, PHONE, Stack
from .test_grid_worker_day import Visit

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.nats]

RICE, RICE_PRICE, SOAP = "大米5斤", 30, "洗衣液"
STARTING_POINTS = 100


@dataclass(frozen=True)
class Person:
    phone: str
    password: str
    account: str


@dataclass(frozen=True)
class Market:
    volunteer: Person
    volunteer_id: str
    keeper: Person
    rice: str
    haircut: str


def call(stack: Stack, service: str, method: str, path: str, headers: dict[str, str], **sent: Any) -> Any:
    url = getattr(stack, service).url + path
    response = httpx.request(method, url, headers=headers, timeout=30, **sent)
    assert response.status_code < 300, response.text
    return response.json()


def person(stack: Stack, name: str, role: str | None, *, resident_id: str | None = None) -> Person:
    """An account that signs in with a password; its role granted now, or (None) by the caller."""
    admin = stack.bearer(Role.CITY_ADMIN, "admin")
    phone, password = f"100{uuid.uuid4().int % 10**8:08d}", secrets.token_urlsafe(12)
    body = {
        "phone": phone,
        "display_name": name,
        "password": password,
        "district": stack.district,
        "community": stack.community,
        "resident_id": resident_id,
    }
    account = stack.post("/v1/accounts", body, admin)
    if role is not None:
        grant_role(stack, str(account["id"]), role)
    return Person(phone, password, str(account["id"]))


def grant_role(stack: Stack, account: str, role: str) -> None:
    grant = {"role": role, "district": stack.district, "community": stack.community}
    stack.post(f"/v1/accounts/{account}/grants", grant, stack.bearer(Role.CITY_ADMIN, "admin"))


@pytest.fixture
def market(stack: Stack) -> Market:
    """东李庄社区 with its keeper (a community worker), a volunteer with 100 points, and two items."""
    admin = stack.bearer(Role.CITY_ADMIN, "admin")
    stack.post("/v1/districts", {"code": stack.district, "name": "高桥营街道"}, admin)
    place = {"district": stack.district, "code": stack.community, "name": "东李庄社区"}
    stack.post("/v1/communities", place, admin)
    keeper = person(stack, "张店长", "community_worker")
    volunteer = person(stack, "王小明", None)
    worker = stack.bearer(Role.COMMUNITY_WORKER, keeper.account)
    here = {"district": stack.district, "community": stack.community}
    enrolled = call(
        stack,
        "points",
        "POST",
        "/v1/volunteers",
        worker,
        json={**here, "subject": volunteer.account, "full_name": "王小明"},
    )
    # the volunteer's tokens carry the account's volunteer link as their subject
    call(
        stack,
        "registry",
        "PATCH",
        f"/v1/accounts/{volunteer.account}",
        admin,
        json={"volunteer_id": volunteer.account},
    )
    grant_role(stack, volunteer.account, "volunteer")
    call(
        stack,
        "points",
        "POST",
        "/v1/points/adjustments",
        worker,
        json={"volunteer_id": enrolled["id"], "points": STARTING_POINTS, "reason": "开户奖励"},
    )
    rice = call(
        stack,
        "points",
        "POST",
        "/v1/items",
        worker,
        json={**here, "name": RICE, "points_price": RICE_PRICE, "low_stock_threshold": 2},
    )
    soap = call(
        stack, "points", "POST", "/v1/items", worker, json={**here, "name": SOAP, "points_price": 150}
    )
    for item, quantity in ((rice, 3), (soap, 5)):
        intake = {"quantity": quantity, "source": "donation"}
        call(stack, "points", "POST", f"/v1/items/{item['id']}/intakes", worker, json=intake)
    tomorrow = (datetime.now(CHINA_TIME) + timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    activity = {
        **here,
        "title": "义务理发",
        "kind": "haircut",
        "place": "社区活动室",
        "starts_at": tomorrow.isoformat(),
        "ends_at": (tomorrow + timedelta(hours=2)).isoformat(),
        "capacity": 5,
    }
    haircut = call(stack, "points", "POST", "/v1/activities", worker, json=activity)
    return Market(volunteer, str(enrolled["id"]), keeper, str(rice["id"]), str(haircut["id"]))


def sign_in(visit: Visit, who: Person, lands_on: str) -> None:
    visit.goto("/")
    expect(visit.page).to_have_url(re.compile(r"/sign-in"))
    visit.page.get_by_label("手机号").fill(who.phone)
    visit.page.get_by_label("密码").fill(who.password)
    visit.page.get_by_role("button", name="登录").click()
    expect(visit.page).to_have_url(re.compile(lands_on + "$"))


def as_volunteer(stack: Stack, market: Market) -> dict[str, str]:
    return stack.bearer(Role.VOLUNTEER, market.volunteer.account)


def test_volunteer_redeems_and_the_keeper_hands_it_over(
    browser: Browser, stack: Stack, market: Market, artefacts: Path
) -> None:
    volunteer = Visit(browser, stack, PHONE, artefacts)
    volunteer.label += "-volunteer"
    page = volunteer.page
    sign_in(volunteer, market.volunteer, "/points")
    expect(page.get_by_role("heading", name="王小明的积分")).to_be_visible()
    expect(page.locator("#balance")).to_have_text(f"{STARTING_POINTS} 分")
    expect(page.locator(".who")).to_contain_text("东李庄社区 · 志愿者")
    volunteer.check("points")

    # an activity tomorrow morning: signed up for in one tap
    page.get_by_role("link", name="活动", exact=True).click()
    haircut = page.locator(f"#activity-{market.haircut}")
    expect(haircut).to_contain_text("明天 09:00 至 明天 11:00")
    expect(haircut).to_contain_text("还剩 5 个名额")
    volunteer.check("activities")
    haircut.get_by_role("button", name="报名参加").click()
    expect(page.get_by_role("status")).to_contain_text("已报名")
    expect(page.locator(f"#activity-{market.haircut}")).to_contain_text("还剩 4 个名额")
    path = f"/v1/activities/{market.haircut}/sign-ups"
    (signed,) = call(
        stack, "points", "GET", path, stack.bearer(Role.COMMUNITY_WORKER, market.keeper.account)
    )["items"]
    assert (signed["volunteer_id"], signed["status"]) == (market.volunteer_id, "signed_up")

    # the catalogue: the soap costs more than the balance, the rice is redeemed with a double tap
    page.get_by_role("link", name="爱心超市", exact=True).click()
    expect(page.get_by_role("button", name=f"兑换 {SOAP}")).to_be_disabled()
    expect(page.locator(".card", has_text=SOAP)).to_contain_text("积分不够，还差 50 分")
    volunteer.check("supermarket")
    page.get_by_role("button", name=f"兑换 {RICE}").dblclick()
    expect(page).to_have_url(re.compile(r"/redemptions/[0-9a-f-]{36}$"))
    code = page.locator("#pickup-code")
    expect(code).to_have_text(re.compile(r"^\d{6}$"))
    pickup_code = code.inner_text()
    expect(page.get_by_role("status")).to_contain_text(f"已兑换，用去 {RICE_PRICE} 分")
    volunteer.check("pickup-code")

    # in the points service: one redemption however often it was tapped, the points debited once
    (redemption,) = call(stack, "points", "GET", "/v1/redemptions", as_volunteer(stack, market))["items"]
    assert (redemption["status"], redemption["pickup_code"], redemption["points"]) == (
        "reserved",
        pickup_code,
        RICE_PRICE,
    )
    me = call(stack, "points", "GET", "/v1/volunteers/me", as_volunteer(stack, market))
    assert me["balance"] == STARTING_POINTS - RICE_PRICE

    page.get_by_role("link", name="我的积分", exact=True).click()
    expect(page.locator("#balance")).to_have_text(f"{STARTING_POINTS - RICE_PRICE} 分")
    expect(page.locator(f"#redemption-{redemption['id']}")).to_contain_text(pickup_code)

    # the keeper at the counter, on a phone: a wrong code is refused next to the field
    keeper = Visit(browser, stack, PHONE, artefacts)
    keeper.label += "-keeper"
    counter = keeper.page
    sign_in(keeper, market.keeper, "/today")
    counter.get_by_role("link", name="更多", exact=True).click()  # a long menu folds under 更多
    counter.get_by_role("link", name="超市取货", exact=True).click()
    field = counter.get_by_label("取货码（6位数字）")
    expect(field).to_have_attribute("inputmode", "numeric")
    keeper.check("pickup")
    field.fill("123")
    counter.get_by_role("button", name="确认取货").click()
    expect(counter.locator("#code-error")).to_contain_text("取货码是6位数字")
    expect(counter.get_by_label("取货码（6位数字）")).to_have_attribute("aria-invalid", "true")
    wrong = "000000" if pickup_code != "000000" else "111111"
    counter.get_by_label("取货码（6位数字）").fill(wrong)
    counter.get_by_role("button", name="确认取货").click()
    expect(counter.locator("#code-error")).to_contain_text("没有找到这个取货码")
    keeper.check("pickup-wrong-code")

    counter.get_by_label("取货码（6位数字）").fill(pickup_code)
    counter.get_by_role("button", name="确认取货").click()
    expect(counter.get_by_role("status")).to_contain_text(f"已取货：{RICE} × 1，志愿者 王小明")
    keeper.check("pickup-done")
    worker = stack.bearer(Role.COMMUNITY_WORKER, market.keeper.account)
    (settled,) = call(stack, "points", "GET", "/v1/redemptions", worker)["items"]
    assert (settled["id"], settled["status"]) == (redemption["id"], "picked_up")

    # the rice ran low (3 in, 1 out, warned at 2): the keeper takes ten in
    counter.get_by_role("link", name="更多", exact=True).click()  # a long menu folds under 更多
    counter.get_by_role("link", name="超市库存", exact=True).click()
    low = counter.locator("#low li", has_text=RICE)
    expect(low).to_contain_text("还有 2 件")
    expect(counter.locator("#low li", has_text=SOAP)).to_have_count(0)
    keeper.check("stock")
    low.get_by_label("收到几件").fill("10")
    low.get_by_label("来源").select_option(label="捐赠")
    low.get_by_role("button", name=f"入库 {RICE}").click()
    expect(counter.get_by_role("status")).to_contain_text("已入库，现有 12 件")
    expect(counter.locator("#low li", has_text=RICE)).to_have_count(0)
    items = {i["name"]: i for i in call(stack, "points", "GET", "/v1/items", worker)["items"]}
    assert (items[RICE]["stock"], items[SOAP]["stock"]) == (12, 5)

    # the volunteer, now on a desktop: picked up, the balance down, the code page says so
    desktop = Visit(browser, stack, DESKTOP, artefacts)
    desktop.label += "-volunteer"
    sign_in(desktop, market.volunteer, "/points")
    expect(desktop.page.locator("#balance")).to_have_text(f"{STARTING_POINTS - RICE_PRICE} 分")
    expect(desktop.page.get_by_role("heading", name="待取货（0）")).to_be_visible()
    picked = desktop.page.locator(f"#redemption-{redemption['id']}")
    expect(picked).to_contain_text("已取货")
    expect(picked).not_to_contain_text(pickup_code)
    expect(desktop.page.locator("#ledger-title + ul li").first).to_contain_text(f"兑换商品：1 × {RICE}")
    desktop.check("points-after")
    desktop.goto(f"/redemptions/{redemption['id']}")
    expect(desktop.page.get_by_role("status")).to_contain_text("已取货")
    expect(desktop.page.locator("#pickup-code")).to_have_count(0)
    desktop.check("redemption-after")
    me = call(stack, "points", "GET", "/v1/volunteers/me", as_volunteer(stack, market))
    assert me["balance"] == STARTING_POINTS - RICE_PRICE

    for visit in (volunteer, keeper, desktop):
        visit.context.close()
