"""The admins, the wish review and the volunteer's certificates in a real browser, on SQLite and
PostgreSQL: a district admin (desktop) creates a community worker's account and grants roles, the
volunteer's among them → the new worker signs in on a phone, named in the header, and puts a wish on
the wall (a rejection without a reason is refused beside the field) → the volunteer, on a phone,
certifies their hours (a double tap issues one certificate) and opens its public page. Each step is
checked in the registry or the points service too."""

from __future__ import annotations

import re
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from linli_shared.auth import Role

from .conftest import DESKTOP, PHONE, Stack
from .test_grid_worker_day import Visit, save_timings
from .test_volunteer_day import Person, call, person, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.nats]

WISH, ELDER, VOLUNTEER = "帮忙读报纸", "陈桂芳", "王小明"


def place(stack: Stack) -> None:
    admin = stack.bearer(Role.CITY_ADMIN, "admin")
    stack.post("/v1/districts", {"code": stack.district, "name": "高桥营街道"}, admin)
    stack.post(
        "/v1/communities", {"district": stack.district, "code": stack.community, "name": "东李庄社区"}, admin
    )


def district_admin(stack: Stack) -> Person:
    admin = stack.bearer(Role.CITY_ADMIN, "admin")
    phone, password = f"100{uuid.uuid4().int % 10**8:08d}", secrets.token_urlsafe(12)
    body = {"phone": phone, "display_name": "赵主任", "password": password, "district": stack.district}
    account = stack.post("/v1/accounts", body, admin)
    stack.post(
        f"/v1/accounts/{account['id']}/grants", {"role": "district_admin", "district": stack.district}, admin
    )
    return Person(phone, password, str(account["id"]))


def linked_volunteer(stack: Stack) -> tuple[Person, str]:
    """An account linked to a volunteer of points (enrolled with the account as subject), no role yet."""
    volunteer = person(stack, VOLUNTEER, None)
    here = {"district": stack.district, "community": stack.community}
    worker = stack.bearer(Role.COMMUNITY_WORKER, "cw-setup")
    body = {**here, "subject": volunteer.account, "full_name": VOLUNTEER}
    enrolled = call(stack, "points", "POST", "/v1/volunteers", worker, json=body)
    admin = stack.bearer(Role.CITY_ADMIN, "admin")
    path = f"/v1/accounts/{volunteer.account}"
    call(stack, "registry", "PATCH", path, admin, json={"volunteer_id": volunteer.account})
    return volunteer, str(enrolled["id"])


def pending_wish(stack: Stack) -> dict[str, Any]:
    """A wish posted for an elder, once points has learned of the elder from the registry's event."""
    worker = stack.bearer(Role.COMMUNITY_WORKER, "cw-setup")
    here = {"district": stack.district, "community": stack.community}
    elder = stack.post(
        "/v1/residents",
        {**here, "full_name": ELDER, "gender": "female", "id_number": "110105194403080027"},
        worker,
    )
    body = {"resident_id": elder["id"], "title": WISH, "points_award": 10}
    deadline = time.monotonic() + 30
    while True:
        response = httpx.post(stack.points.url + "/v1/wishes", json=body, headers=worker, timeout=30)
        if response.status_code == 201 or time.monotonic() > deadline:
            assert response.status_code == 201, response.text
            return dict(response.json())
        time.sleep(0.2)  # polling to a deadline: the resident travels registry → NATS → points


def test_an_admin_grants_roles_a_worker_reviews_a_wish_and_a_volunteer_certifies_hours(
    browser: Browser, stack: Stack, artefacts: Path
) -> None:
    place(stack)
    admin = district_admin(stack)
    volunteer, volunteer_id = linked_volunteer(stack)
    wish = pending_wish(stack)

    # the district admin on a desktop: a new community worker's account, and the volunteer's role
    desk = Visit(browser, stack, DESKTOP, artefacts)
    desk.label += "-admin"
    page = desk.page
    sign_in(desk, admin, "/admin/accounts")
    expect(page.locator(".who")).to_contain_text("赵主任 · 高桥营街道 · 街道管理员")
    expect(page.locator("#accounts")).to_contain_text(VOLUNTEER)
    desk.check("admin-accounts")
    phone, password = f"100{uuid.uuid4().int % 10**8:08d}", secrets.token_urlsafe(12)
    page.get_by_label("姓名").fill("张社工")
    page.get_by_label("手机号（登录用）").fill(volunteer.phone)
    page.get_by_label(re.compile("初始密码")).fill(password)
    page.get_by_label("所在地方").select_option(label="高桥营街道 · 东李庄社区")
    page.get_by_role("button", name="新建账号").click()
    expect(page.locator("#phone-error")).to_contain_text("这个手机号已经有账号了")
    expect(page.get_by_label("手机号（登录用）")).to_have_attribute("aria-invalid", "true")
    desk.check("admin-phone-taken")
    page.get_by_label("手机号（登录用）").fill(phone)
    page.get_by_label(re.compile("初始密码")).fill(password)
    page.get_by_role("button", name="新建账号").click()
    expect(page.get_by_role("status")).to_contain_text("账号已建好")
    page.get_by_label("角色", exact=True).select_option(label="社区工作者")
    page.get_by_role("button", name="授予").click()
    expect(page.get_by_role("status")).to_contain_text("已授予角色")
    expect(page.locator("#grants")).to_contain_text("社区工作者 · 高桥营街道 · 东李庄社区")
    desk.check("admin-granted")

    page.get_by_role("link", name="账号和角色", exact=True).click()
    page.get_by_label("按手机号查找").fill(volunteer.phone)
    page.get_by_role("button", name="查找").click()
    page.get_by_role("link", name=VOLUNTEER).click()
    page.get_by_label("角色", exact=True).select_option(label="志愿者")
    page.get_by_role("button", name="授予").click()
    expect(page.get_by_role("status")).to_contain_text("已授予角色")
    grants = call(
        stack,
        "registry",
        "GET",
        "/v1/grants",
        stack.bearer(Role.CITY_ADMIN, "admin"),
        params={"account_id": volunteer.account},
    )["items"]
    assert [(g["role"], g["community"]) for g in grants] == [("volunteer", stack.community)]

    # the new community worker on a phone: named in the header, puts the wish on the wall
    worker = Visit(browser, stack, PHONE, artefacts)
    worker.label += "-worker"
    review = worker.page
    sign_in(worker, Person(phone, password, ""), "/today")
    expect(review.locator(".who")).to_contain_text("张社工 · 东李庄社区 · 社区工作者")
    review.get_by_role("link", name="更多", exact=True).click()  # a long menu folds under 更多
    review.get_by_role("link", name="审核心愿", exact=True).click()
    card = review.locator(f"#wish-{wish['id']}")
    expect(card).to_contain_text(f"{ELDER}：{WISH}")
    worker.check("wish-review")
    card.get_by_role("button", name="驳回").click()
    expect(review.locator(f"#note-{wish['id']}-error")).to_contain_text("驳回时请写明原因")
    worker.check("wish-review-reason-missing")
    review.locator(f"#wish-{wish['id']}").get_by_role("button", name="通过，上心愿墙").click()
    expect(review.get_by_role("status")).to_contain_text("已通过")
    expect(review.locator(f"#wish-{wish['id']}")).to_have_count(0)
    points_worker = stack.bearer(Role.COMMUNITY_WORKER, "cw-setup")
    assert call(stack, "points", "GET", f"/v1/wishes/{wish['id']}", points_worker)["status"] == "open"

    # the volunteer on a phone: named in the header, certifies the hours served
    served = {"volunteer_id": volunteer_id, "served_on": "2026-11-20", "minutes": 150}
    call(stack, "points", "POST", "/v1/service-records", points_worker, json=served)
    mobile = Visit(browser, stack, PHONE, artefacts)
    mobile.label += "-volunteer"
    own = mobile.page
    sign_in(mobile, volunteer, "/points")
    expect(own.locator(".who")).to_contain_text(f"{VOLUNTEER} · 东李庄社区 · 志愿者")
    own.get_by_role("link", name="服务证书", exact=True).click()
    expect(own.get_by_text("还没有服务证书")).to_be_visible()
    mobile.check("certificates-none")
    own.get_by_role("button", name="开具新的服务证书").dblclick()
    expect(own.get_by_role("status")).to_contain_text("已开具服务证书")
    (certificate,) = call(
        stack, "points", "GET", f"/v1/volunteers/{volunteer_id}/certificates", points_worker
    )["items"]
    line = own.locator(f"#certificate-{certificate['serial']}")
    expect(line).to_contain_text("服务 2.5 小时")
    expect(line).to_contain_text(re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 开具"))
    expect(own.locator("#certificates li")).to_have_count(1)
    mobile.check("certificates")
    line.get_by_role("link", name=re.compile("查看证书")).click()
    expect(own).to_have_url(re.compile(rf"/v1/public/certificates/{certificate['serial']}$"))
    expect(own.locator("body")).to_contain_text(certificate["serial"])
    expect(own.locator("body")).to_contain_text("2.50")

    save_timings(artefacts, f"more-roles-{stack.database}", desk.timings + worker.timings + mobile.timings)
    for visit in (desk, worker, mobile):
        visit.context.close()
