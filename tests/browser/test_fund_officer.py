"""A fund officer's day in a real browser, at phone and desktop size, on SQLite and PostgreSQL: sign
in → record a donation received yesterday → its receipt number → approve and pay a request another
officer made → publish yesterday → the public 公示 page (no sign-in) in people's words; and a
volunteer's certificate opened by its serial, without sign-in, whose QR code leads to its check."""

from __future__ import annotations

import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import segno
from playwright.sync_api import Browser, expect

from linli_shared.auth import Role
from linli_shared.clock import CHINA_TIME

from .conftest import DESKTOP, PHONE, Stack
from .test_grid_worker_day import UUID, Visit, save_timings

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.nats]

T = TypeVar("T")
DONOR = "东李庄便民超市"


@dataclass(frozen=True)
class Officer:
    phone: str
    password: str
    account: str


def call(stack: Stack, service: str, method: str, path: str, headers: dict[str, str], **sent: Any) -> Any:
    response = httpx.request(method, getattr(stack, service).url + path, headers=headers, timeout=30, **sent)
    assert response.status_code < 300, response.text
    return response.json()


def until(check: Callable[[], T | None], timeout: float = 30.0) -> T:
    """The check's first answer that is not None (an event crossing NATS meanwhile), polled."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found is not None:
            return found
        assert time.monotonic() < deadline, "the event never arrived"
        time.sleep(0.2)


SENDING = """() => {
  // a form on its way: its first submit goes through console.js and is then held here (as a slow
  // answer would hold it); a second tap meanwhile must be stopped by console.js itself
  const form = document.querySelector("main form[method=post]");
  const button = form.querySelector("button[type=submit], button:not([type])");
  form.noValidate = true;  // an empty form: the browser's own checks would stop the submit first
  const seen = [];
  const hold = (event) => { seen.push(event.defaultPrevented); event.preventDefault(); };
  window.addEventListener("submit", hold);
  form.requestSubmit(button);
  form.requestSubmit(button);
  window.removeEventListener("submit", hold);
  const busy = form.getAttribute("aria-busy") === "true";
  return { busy, button: button.textContent, first_went: !seen[0], second_stopped: seen[1] };
}"""


@pytest.fixture
def officer(stack: Stack) -> Officer:
    """高桥营街道 · 东李庄社区 and its fund officer, who signs in with a password."""
    admin = stack.bearer(Role.CITY_ADMIN, "admin")
    stack.post("/v1/districts", {"code": stack.district, "name": "高桥营街道"}, admin)
    place = {"district": stack.district, "code": stack.community, "name": "东李庄社区"}
    stack.post("/v1/communities", place, admin)
    phone, password = f"100{uuid.uuid4().int % 10**8:08d}", secrets.token_urlsafe(12)
    here = {"district": stack.district, "community": stack.community}
    account = stack.post(
        "/v1/accounts", {"phone": phone, "display_name": "刘会计", "password": password, **here}, admin
    )
    stack.post(f"/v1/accounts/{account['id']}/grants", {"role": "fund_officer", **here}, admin)
    return Officer(phone, password, str(account["id"]))


def requested_help(stack: Stack) -> tuple[dict[str, Any], dict[str, Any]]:
    """Another officer asks for 300 yuan of medical help for a resident the fund has learnt of, and
    for 80 yuan of relief that will be refused."""
    worker = stack.bearer(Role.COMMUNITY_WORKER, "cw-zhang")
    resident = stack.post(
        "/v1/residents",
        {
            "district": stack.district,
            "community": stack.community,
            "full_name": "赵秀珍",
            "gender": "female",
            "id_number": "110105194403080027",
            "tags": ["dibao"],
        },
        worker,
    )
    body = {
        "district": stack.district,
        "community": stack.community,
        "resident_id": resident["id"],
        "purpose": "medical",
        "fund": "general",
        "amount_fen": 30_000,
        "reason": "住院自付部分",
    }
    other = stack.bearer(Role.FUND_OFFICER, "officer-li")

    def ask() -> dict[str, Any] | None:
        response = httpx.post(stack.fund.url + "/v1/disbursements", json=body, headers=other, timeout=30)
        return dict(response.json()) if response.status_code == 201 else None

    medical = until(ask)
    body |= {"purpose": "relief", "amount_fen": 8_000, "reason": "冬季取暖补贴"}
    relief = httpx.post(stack.fund.url + "/v1/disbursements", json=body, headers=other, timeout=30)
    assert relief.status_code == 201, relief.text
    return medical, dict(relief.json())


def certificate_serial(stack: Stack) -> str:
    worker = stack.bearer(Role.COMMUNITY_WORKER, "cw-zhang")
    here = {"district": stack.district, "community": stack.community}
    volunteer = call(
        stack,
        "points",
        "POST",
        "/v1/volunteers",
        worker,
        json={**here, "subject": "v-wang", "full_name": "王桂兰"},
    )
    served = {
        "volunteer_id": volunteer["id"],
        "served_on": str(china_today() - timedelta(days=2)),
        "minutes": 630,
    }
    call(stack, "points", "POST", "/v1/service-records", worker, json=served)
    issued = call(stack, "points", "POST", f"/v1/volunteers/{volunteer['id']}/certificates", worker)
    return str(issued["serial"])


def china_today() -> Any:
    return datetime.now(UTC).astimezone(CHINA_TIME).date()


def test_fund_officer_records_approves_pays_and_publishes(
    browser: Browser, stack: Stack, officer: Officer, artefacts: Path
) -> None:
    request, refused = requested_help(stack)
    yesterday = china_today() - timedelta(days=1)

    phone = Visit(browser, stack, PHONE, artefacts)
    phone.label += "-fund"
    page = phone.page
    phone.goto("/")
    page.get_by_label("手机号").fill(officer.phone)
    page.get_by_label("密码").fill(officer.password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/fund/donation$"))
    expect(page.locator(".who")).to_contain_text("东李庄社区 · 基金管理员")
    expect(page.get_by_role("heading", name="登记一笔捐赠")).to_be_visible()
    phone.check("donation")
    # while a form is on its way the button says so, and a second tap sends nothing more
    sending = {"busy": True, "button": "请稍候…", "first_went": True, "second_stopped": True}
    assert page.evaluate(SENDING) == sending
    page.reload()

    # a wrong amount: said in Chinese next to the field, nothing recorded
    page.get_by_label("金额（元）").fill("12.345")
    page.get_by_label("捐赠人（姓名或单位）").fill(DONOR)
    page.get_by_role("button", name="登记并生成收据编号").click()
    expect(page.locator("#amount-error")).to_contain_text("以元为单位")
    expect(page.get_by_label("金额（元）")).to_have_attribute("aria-invalid", "true")
    phone.check("donation-error")

    # the gift that came in yesterday, typed in yuan
    page.get_by_label("金额（元）").fill("1,280.50")
    page.get_by_label("收款日期").fill(yesterday.isoformat())
    page.get_by_label("捐赠人类型").select_option(label="爱心企业")
    page.get_by_label("收款方式").select_option(label="银行转账")
    page.get_by_role("button", name="登记并生成收据编号").click()
    receipt = page.locator("#receipt")
    expect(receipt).to_contain_text("已登记，收据编号 No.")
    expect(receipt).to_contain_text("¥1,280.50")
    expect(receipt).to_contain_text(f"收款日期 {yesterday.year}年{yesterday.month}月{yesterday.day}日")
    number = page.locator(".receipt-number").inner_text().removeprefix("No.")
    phone.check("donation-receipt")

    # the effect in the fund: one donation, 128,050 fen, booked on yesterday (China time)
    reader = stack.bearer(Role.FUND_OFFICER, "officer-li")
    donations = call(stack, "fund", "GET", "/v1/donations", reader)["items"]
    assert [(d["receipt_number"], d["amount_fen"], d["donor_name"]) for d in donations] == [
        (number, 128_050, DONOR)
    ]
    received = datetime.fromisoformat(donations[0]["received_at"]).astimezone(CHINA_TIME).date()
    assert received == yesterday and donations[0]["channel"] == "bank_transfer"

    # the request another officer made: approved, then paid
    page.get_by_role("link", name="审批与支付").click()
    waiting = page.locator(f"#request-{request['id']}")
    expect(waiting).to_contain_text("医疗救助 · ¥300.00")
    expect(waiting).to_contain_text("另一位基金管理员")
    phone.check("requests")
    waiting.get_by_role("button", name="同意").click()
    expect(page.get_by_role("status")).to_contain_text("已同意")

    # refusing needs a reason: asked for next to the field, then given
    other = page.locator(f"#request-{refused['id']}")
    other.get_by_role("button", name="驳回").click()
    expect(page.locator(f"#reason-{refused['id']}-error")).to_contain_text("请写明不同意的理由")
    phone.check("requests-reason-missing")
    page.locator(f"#request-{refused['id']}").get_by_label("不同意的理由").fill(
        "本季度取暖补贴已由街道统一发放"
    )
    page.locator(f"#request-{refused['id']}").get_by_role("button", name="驳回").click()
    expect(page.get_by_role("status")).to_contain_text("已驳回")
    expect(page.locator(f"#request-{refused['id']}")).to_have_count(0)
    gone = call(stack, "fund", "GET", f"/v1/disbursements/{refused['id']}", reader)
    assert (gone["status"], gone["rejection_reason"]) == ("rejected", "本季度取暖补贴已由街道统一发放")
    to_pay = page.locator(f"#pay-{request['id']}")
    to_pay.get_by_label("付款方式").select_option(label="银行转账")  # the gift came by bank
    to_pay.get_by_role("button", name="已付款，记账").click()
    expect(page.get_by_role("status")).to_contain_text("已支付")
    expect(page.locator(f"#pay-{request['id']}")).to_have_count(0)
    paid = call(stack, "fund", "GET", f"/v1/disbursements/{request['id']}", reader)
    assert (paid["status"], paid["first_approved_by"], paid["channel"]) == (
        "paid",
        officer.account,
        "bank_transfer",
    )

    # publish yesterday: the period with the gift in it
    page.get_by_role("link", name="公示", exact=True).click()
    page.get_by_label("起始日").fill(yesterday.isoformat())
    page.get_by_label(re.compile("^截止日")).fill(yesterday.isoformat())
    page.get_by_role("button", name="公示", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("第 1 期已公示")
    phone.check("publication")
    link = page.get_by_role("link", name=re.compile(r"^第 1 期：")).get_attribute("href")
    assert link is not None and link.startswith(stack.fund.url)

    # the public page, no sign-in, at phone size: people's words
    public = Visit(browser, stack, PHONE, artefacts)
    public.label += "-public"
    public.page.goto(link)
    body = public.page.locator("body")
    expect(body).to_contain_text(f"第 1 期：{yesterday.year}年{yesterday.month}月{yesterday.day}日 至 ")
    expect(body).to_contain_text(DONOR)
    expect(body).to_contain_text("¥1,280.50")
    expect(body).to_contain_text(re.compile(r"公示于 \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}（北京时间）"))
    # the fund heard the registry's place.named before the resident the help was asked for
    expect(public.page.locator(".place")).to_have_text("高桥营街道 · 东李庄社区")
    assert not re.search(r"\d{4}-\d{2}-\d{2}", public.page.locator("main").inner_text())
    public.check("disclosure")

    # the same day's pages on a desktop
    desktop = Visit(browser, stack, DESKTOP, artefacts)
    desktop.label += "-fund"
    desktop.goto("/")
    desktop.page.get_by_label("手机号").fill(officer.phone)
    desktop.page.get_by_label("密码").fill(officer.password)
    desktop.page.get_by_role("button", name="登录").click()
    expect(desktop.page).to_have_url(re.compile(r"/fund/donation$"))
    desktop.check("donation")
    desktop.goto("/fund/requests")
    expect(desktop.page.get_by_text("现在没有待审批的申请。")).to_be_visible()
    desktop.check("requests")
    desktop.goto("/fund/publication")
    expect(desktop.page.get_by_role("link", name=re.compile(r"^第 1 期："))).to_be_visible()
    desktop.check("publication")
    desktop.page.goto(link)
    desktop.check("disclosure")

    timings = [{**t, "page": UUID.sub("{id}", t["page"])} for t in phone.timings + desktop.timings]
    save_timings(artefacts, f"fund-{stack.database}", timings)
    for visit in (phone, public, desktop):
        visit.context.close()


def test_a_certificate_opened_by_its_serial_carries_a_qr_code_to_its_check(
    browser: Browser, stack: Stack, officer: Officer, artefacts: Path
) -> None:
    """`officer` names the place in the registry: the certificate says 东李庄社区 once points heard it."""
    serial = certificate_serial(stack)
    check_url = f"{stack.points.url}/v1/public/certificates/{serial}/verification"

    def named() -> bool | None:
        page = httpx.get(f"{stack.points.url}/v1/public/certificates/{serial}", timeout=30)
        return True if "东李庄社区" in page.text else None

    until(named)  # place.named crossing NATS to points
    for size in (PHONE, DESKTOP):
        visit = Visit(browser, stack, size, artefacts)
        visit.label += "-certificate"
        visit.page.goto(f"{stack.points.url}/v1/public/certificates/{serial}")  # no sign-in
        expect(visit.page.get_by_role("heading", name=re.compile("志愿服务时长证明"))).to_be_visible()
        expect(visit.page.locator(".hours")).to_have_text("10.50")
        expect(visit.page.locator(".holder")).to_have_text("王**")
        expect(visit.page.locator(".statement")).to_contain_text("在东李庄社区累计参加志愿服务")
        qr = visit.page.get_by_role("img", name="核验二维码")
        expect(qr).to_be_visible()
        box = qr.bounding_box()
        assert box is not None and box["width"] >= 100, "big enough for a phone camera"
        link = visit.page.locator("a.qr")
        assert link.get_attribute("href") == check_url
        drawn = link.locator("svg path").get_attribute("d")
        expected = segno.make(check_url, error="m").svg_inline(scale=4, border=2)
        found = re.search(r' d="([^"]+)"', expected)
        assert found and drawn == found.group(1), "the QR code encodes the verification link"
        assert "GET " not in visit.page.inner_text("body")
        visit.check("page")

        link.click()
        expect(visit.page).to_have_url(check_url)
        expect(visit.page.get_by_role("status")).to_contain_text("这份证书真实有效")
        expect(visit.page.locator(".hours")).to_have_text("10.50 小时")
        expect(visit.page.locator("body")).to_contain_text("东李庄社区")
        expect(visit.page.locator("body")).not_to_contain_text(stack.community)
        visit.check("verification")
        visit.context.close()
