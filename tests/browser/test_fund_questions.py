"""The 公示期 in a real browser, at phone and desktop size, on SQLite and PostgreSQL: the fund officer
publishes yesterday (a gift in it) → a resident signs in on a phone, opens the period, questions the
gift (an empty question is refused next to the field) → the officer sees it waiting, with the line
it is about, and answers → the resident reads the answer → the fund's public page says "公示期内 1 条
质询，已答复 1 条". Each step is checked in the fund service too."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from linli_shared.auth import Role

from .conftest import DESKTOP, PHONE, Stack
from .test_fund_officer import DONOR, Officer, call, china_today, officer
from .test_grid_worker_day import Visit
from .test_volunteer_day import Person, grant_role, person, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.nats]
__all__ = ["officer"]  # the fixture, used by name

QUESTION = "这笔捐款是哪天到账的？"
ANSWER = "已核对银行流水，款项于当天到账。"
SUMMARY = "公示期内 1 条质询，已答复 1 条"


def gift_and_resident(stack: Stack, officer: Officer) -> tuple[str, Person]:
    """A gift the fund received yesterday, and a resident of the community with a password."""
    here = {"district": stack.district, "community": stack.community}
    gift = call(
        stack,
        "fund",
        "POST",
        "/v1/donations",
        stack.bearer(Role.FUND_OFFICER, officer.account),
        json={
            **here,
            "donor_kind": "enterprise",
            "donor_name": DONOR,
            "channel": "bank_transfer",
            "amount_fen": 128_050,
            "received_on": str(china_today() - timedelta(days=1)),
        },
    )
    worker = stack.bearer(Role.COMMUNITY_WORKER, "cw-zhang")
    elder = stack.post(
        "/v1/residents",
        {**here, "full_name": "陈桂芳", "gender": "female", "id_number": "110105194403080027"},
        worker,
    )
    resident = person(stack, "陈桂芳", None, resident_id=str(elder["id"]))
    grant_role(stack, resident.account, "resident")
    return str(gift["receipt_number"]), resident


def test_a_resident_questions_a_gift_and_the_officer_answers_in_the_open(
    browser: Browser, stack: Stack, officer: Officer, artefacts: Path
) -> None:
    receipt, resident = gift_and_resident(stack, officer)
    line = f"#line-donation-{receipt}"
    yesterday = china_today() - timedelta(days=1)
    fund_officer = Person(officer.phone, officer.password, officer.account)

    # the officer publishes yesterday, the day of the gift
    desk = Visit(browser, stack, PHONE, artefacts)
    desk.label += "-questions-officer"
    sign_in(desk, fund_officer, "/fund/donation")
    desk.page.get_by_role("link", name="公示", exact=True).click()
    desk.page.get_by_label("起始日").fill(yesterday.isoformat())
    desk.page.get_by_label(re.compile("^截止日")).fill(yesterday.isoformat())
    desk.page.get_by_role("button", name="公示", exact=True).click()
    expect(desk.page.get_by_role("status")).to_contain_text("第 1 期已公示")

    # the resident, on a phone: the period open for questions, then its lines
    own = Visit(browser, stack, PHONE, artefacts)
    own.label += "-questions-resident"
    page = own.page
    sign_in(own, resident, "/my-wishes")
    page.get_by_role("link", name="质询", exact=True).click()
    listed = page.locator("#open-periods")
    expect(listed).to_contain_text(f"第 1 期：{yesterday.year}年{yesterday.month}月{yesterday.day}日")
    expect(listed).to_contain_text("收入 ¥1,280.50")
    expect(listed).to_contain_text("公示期内 0 条质询，已答复 0 条")
    own.check("periods")
    page.get_by_role("link", name=re.compile(r"^第 1 期：")).click()
    gift = page.locator(line)
    expect(gift).to_contain_text(f"捐赠 No.{receipt} · ¥1,280.50")
    expect(gift).to_contain_text(DONOR)
    own.check("period")

    # an empty question: said next to the field; then the question, asked once
    gift.get_by_text("对这一笔提出质询").click()
    gift.get_by_role("button", name="提交质询").click()
    expect(page.locator(f"#text-donation-{receipt}-error")).to_contain_text("请写下您想问的")
    expect(page.get_by_label(re.compile("^您的疑问"))).to_have_attribute("aria-invalid", "true")
    own.check("question-empty")
    page.get_by_label(re.compile("^您的疑问")).fill(QUESTION)
    page.get_by_role("button", name="提交质询").click()
    expect(page.get_by_role("status")).to_contain_text("您的质询已提交")
    expect(page.locator(line)).to_contain_text(f"（您刚提出的）：{QUESTION}")
    expect(page.locator(line)).to_contain_text("等待基金管理员答复")
    own.check("question-asked")
    officer_reads = stack.bearer(Role.FUND_OFFICER, officer.account)
    path = f"/v1/funds/{stack.district}/{stack.community}/disclosures/1/questions"
    (asked,) = call(stack, "fund", "GET", path, officer_reads)
    assert (asked["line_kind"], asked["line_ref"], asked["text"], asked["answer"]) == (
        "donation",
        receipt,
        QUESTION,
        None,
    )
    assert asked["asker_account_id"] == resident.account

    # the officer sees it waiting, with the gift it is about, and answers
    desk.page.get_by_role("link", name="质询", exact=True).click()
    waiting = desk.page.locator(f"#question-{asked['id']}")
    expect(waiting).to_contain_text(f"第 1 期 · 捐赠 No.{receipt}")
    expect(waiting).to_contain_text(DONOR)
    expect(waiting).to_contain_text(QUESTION)
    desk.check("waiting")
    waiting.get_by_label(re.compile("^答复")).fill(ANSWER)
    waiting.get_by_role("button", name="答复").click()
    expect(desk.page.get_by_role("status")).to_contain_text("已答复")
    expect(desk.page.get_by_text("现在没有等待答复的质询。")).to_be_visible()
    expect(desk.page.locator(f"#question-{asked['id']}")).to_contain_text(ANSWER)
    desk.check("answered")
    (answered,) = call(stack, "fund", "GET", path, officer_reads)
    assert (answered["answer"]["text"], answered["answered_by_account_id"]) == (ANSWER, officer.account)

    # the resident reads the answer; the fund's public page counts it
    page.reload()
    expect(page.locator(line)).to_contain_text("基金管理员于")
    expect(page.locator(line)).to_contain_text(ANSWER)
    expect(page.locator("#summary")).to_have_text(SUMMARY)
    own.check("question-answered")
    page.get_by_role("link", name="打开公示页").click()
    expect(page).to_have_url(re.compile(r"/disclosures/1\.html$"))
    expect(page.locator("body")).to_contain_text(SUMMARY)
    expect(page.locator("body")).to_contain_text(ANSWER)
    expect(page.locator("body")).not_to_contain_text("陈桂芳")
    own.check("public")

    # the same pages on a desktop
    wide = Visit(browser, stack, DESKTOP, artefacts)
    wide.label += "-questions"
    sign_in(wide, resident, "/my-wishes")
    wide.goto("/fund/questions")
    expect(wide.page.locator("#open-periods")).to_contain_text(SUMMARY)
    wide.check("periods")
    wide.goto("/fund/questions/1")
    expect(wide.page.locator(line)).to_contain_text(ANSWER)
    wide.check("period")
    wide.context.clear_cookies()
    sign_in(wide, fund_officer, "/fund/donation")
    wide.goto("/fund/questions")
    expect(wide.page.locator(f"#question-{asked['id']}")).to_contain_text(ANSWER)
    wide.check("officer")

    for visit in (desk, own, wide):
        visit.context.close()
