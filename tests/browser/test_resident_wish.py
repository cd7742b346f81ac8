"""A resident's wish in a real browser, on SQLite and PostgreSQL: a community worker posts it for the
resident with the short form (a missing field is named next to it) → the branch approves it → a
volunteer claims it on the wall and fulfils it on a phone → the resident confirms it on a phone →
the volunteer has earned the wish's points. And a resident posts a wish of their own on a phone
(待审核 in their list) → it waits in the community worker's review → approved, the resident sees it
on the wall's terms. Each step is checked in the points service too."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from linli_shared.auth import Role

from .conftest import DESKTOP, PHONE, Stack
from .test_grid_worker_day import Visit, save_timings
from .test_volunteer_day import (
    STARTING_POINTS,
    Market,
    Person,
    call,
    grant_role,
    market,
    person,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.nats]
__all__ = ["market"]  # the fixture, used by name

WISH, AWARD, ELDER = "帮忙换个厨房灯泡", 20, "陈桂芳"
OWN_WISH, OWN_DETAIL = "想学用智能手机视频通话", "周末下午在家，想和外地的孙子视频"


def test_a_wish_is_posted_claimed_fulfilled_and_confirmed(
    browser: Browser, stack: Stack, market: Market, artefacts: Path
) -> None:
    worker = stack.bearer(Role.COMMUNITY_WORKER, market.keeper.account)
    here = {"district": stack.district, "community": stack.community}
    elder = stack.post(
        "/v1/residents",
        {**here, "full_name": ELDER, "gender": "female", "id_number": "110105194403080027"},
        worker,
    )
    resident = person(stack, ELDER, None, resident_id=str(elder["id"]))
    grant_role(stack, resident.account, "resident")

    # the community worker posts the wish for the elder: the short form, a missing field named
    desk = Visit(browser, stack, DESKTOP, artefacts)
    desk.label += "-worker"
    page = desk.page
    sign_in(desk, market.keeper, "/today")
    page.get_by_role("link", name="更多", exact=True).click()  # a long menu folds under 更多
    page.get_by_role("link", name="登记心愿", exact=True).click()
    page.get_by_label("哪位居民").select_option(label=ELDER)
    page.get_by_role("button", name="登记心愿").click()
    expect(page.locator("#title-error")).to_contain_text("请写下心愿")
    expect(page.get_by_label("哪位居民")).to_have_value(str(elder["id"]))
    desk.check("new-wish-error")
    page.get_by_label("心愿").fill(WISH)
    page.get_by_label("完成后给志愿者的积分（可不填）").fill(str(AWARD))
    notice = page.get_by_role("status")
    deadline = time.monotonic() + 30
    while True:  # the points service learns of a new resident from the registry's event
        with page.expect_navigation():
            page.get_by_role("button", name="登记心愿").click()
        if notice.count() or time.monotonic() > deadline:
            break
        expect(page.locator(".error").first).to_contain_text("查不到居民")
    expect(notice).to_contain_text("心愿已登记")
    desk.check("new-wish-posted")
    (wish,) = call(stack, "points", "GET", "/v1/wishes", worker)["items"]
    assert (wish["title"], wish["resident_id"], wish["points_award"], wish["status"]) == (
        WISH,
        elder["id"],
        AWARD,
        "pending",
    )
    call(stack, "points", "POST", f"/v1/wishes/{wish['id']}/review", worker, json={"approve": True})

    # the volunteer claims it on the wall, and says what was done (an empty note is refused)
    volunteer = Visit(browser, stack, PHONE, artefacts)
    volunteer.label += "-volunteer"
    wall = volunteer.page
    sign_in(volunteer, market.volunteer, "/points")
    wall.get_by_role("link", name="心愿墙", exact=True).click()
    card = wall.locator(f"#wish-{wish['id']}")
    expect(card).to_contain_text(f"完成确认后得 {AWARD} 分")
    volunteer.check("wall")
    card.get_by_role("button", name="我来认领").click()
    expect(wall.get_by_role("status")).to_contain_text("已认领")
    expect(wall.get_by_role("heading", name="我认领的心愿（1）")).to_be_visible()
    volunteer.check("claimed")
    wall.get_by_role("button", name="已完成这个心愿").click()
    expect(wall.locator(f"#note-{wish['id']}-error")).to_contain_text("请写一句做了什么")
    wall.get_by_label("做了什么").fill("换了一个节能灯泡，试过能亮")
    wall.get_by_role("button", name="已完成这个心愿").click()
    expect(wall.get_by_role("status")).to_contain_text("已完成，等社区确认")
    expect(wall.locator(f"#wish-{wish['id']}")).to_contain_text("已完成，待确认")
    volunteer.check("fulfilled")

    # the elder confirms it on a phone; the volunteer earns the wish's points
    elder_visit = Visit(browser, stack, PHONE, artefacts)
    elder_visit.label += "-resident"
    own = elder_visit.page
    sign_in(elder_visit, resident, "/my-wishes")
    mine = own.locator(f"#wish-{wish['id']}")
    expect(mine).to_contain_text("已完成，待确认")
    expect(mine).to_contain_text("志愿者说：换了一个节能灯泡，试过能亮")
    elder_visit.check("my-wishes")
    mine.get_by_role("button", name="心愿已经实现了").click()
    expect(own.get_by_role("status")).to_contain_text("积分已经发放")
    expect(own.locator(f"#wish-{wish['id']} .wish-state")).to_have_text("已确认")
    expect(own.get_by_role("button", name="心愿已经实现了")).to_have_count(0)
    elder_visit.check("confirmed")

    confirmed = call(stack, "points", "GET", f"/v1/wishes/{wish['id']}", worker)
    assert (confirmed["status"], confirmed["confirmed_by"]) == ("confirmed", elder["id"])
    me = call(
        stack, "points", "GET", "/v1/volunteers/me", stack.bearer(Role.VOLUNTEER, market.volunteer.account)
    )
    assert me["balance"] == STARTING_POINTS + AWARD
    volunteer.goto("/points")
    expect(volunteer.page.locator("#balance")).to_have_text(re.compile(rf"^{STARTING_POINTS + AWARD} 分$"))

    for visit in (desk, volunteer, elder_visit):
        visit.context.close()


@dataclass(frozen=True)
class Neighbourhood:
    """东李庄社区 with a community worker and an elder who signs in as a resident."""

    community_worker: Person
    resident: Person
    elder_id: str


@pytest.fixture
def neighbourhood(stack: Stack) -> Neighbourhood:
    admin = stack.bearer(Role.CITY_ADMIN, "admin")
    stack.post("/v1/districts", {"code": stack.district, "name": "高桥营街道"}, admin)
    place = {"district": stack.district, "code": stack.community, "name": "东李庄社区"}
    stack.post("/v1/communities", place, admin)
    community_worker = person(stack, "张社工", "community_worker")
    here = {"district": stack.district, "community": stack.community}
    elder = stack.post(
        "/v1/residents",
        {**here, "full_name": ELDER, "gender": "female", "id_number": "110105194403080027"},
        stack.bearer(Role.COMMUNITY_WORKER, community_worker.account),
    )
    resident = person(stack, ELDER, None, resident_id=str(elder["id"]))
    grant_role(stack, resident.account, "resident")
    return Neighbourhood(community_worker, resident, str(elder["id"]))


def test_a_resident_posts_their_own_wish_and_the_community_worker_reviews_it(
    browser: Browser, stack: Stack, neighbourhood: Neighbourhood, artefacts: Path
) -> None:
    worker = stack.bearer(Role.COMMUNITY_WORKER, neighbourhood.community_worker.account)
    resident, elder_id = neighbourhood.resident, neighbourhood.elder_id

    # the elder on a phone: the short form on their own page, a missing wish named beside the field
    phone = Visit(browser, stack, PHONE, artefacts)
    phone.label += "-resident-own"
    own = phone.page
    sign_in(phone, resident, "/my-wishes")
    expect(own.get_by_role("heading", name="许个心愿")).to_be_visible()
    expect(own.locator("main")).to_contain_text("您还没有登记过心愿")
    phone.check("my-wishes-empty")
    own.get_by_label("补充说明（可不填）").fill(OWN_DETAIL)
    own.get_by_role("button", name="许下这个心愿").click()
    expect(own.locator("#title-error")).to_contain_text("请写下心愿")
    expect(own.get_by_label("心愿", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(own.get_by_label("补充说明（可不填）")).to_have_value(OWN_DETAIL)
    phone.check("my-wish-missing")
    own.get_by_label("心愿", exact=True).fill(OWN_WISH)
    notice = own.get_by_role("status")
    deadline = time.monotonic() + 30
    while True:  # the points service learns of a new resident from the registry's event
        with own.expect_navigation():
            own.get_by_role("button", name="许下这个心愿").click()
        if notice.count() or time.monotonic() > deadline:
            break
        expect(own.locator("#new-wish .error")).to_contain_text("查不到居民")
    expect(notice).to_contain_text("心愿已登记")
    (wish,) = call(stack, "points", "GET", "/v1/wishes", worker)["items"]
    assert (wish["title"], wish["description"], wish["resident_id"], wish["posted_by"], wish["status"]) == (
        OWN_WISH,
        OWN_DETAIL,
        elder_id,
        elder_id,
        "pending",
    )
    mine = own.locator(f"#wish-{wish['id']}")
    expect(mine).to_contain_text(OWN_WISH)
    expect(mine.locator(".wish-state")).to_have_text("待审核")
    expect(own.get_by_label("心愿", exact=True)).to_have_value("")  # a fresh form for the next one
    phone.check("my-wish-posted")

    # the community worker finds it waiting for review, with the elder's name, and approves it
    desk = Visit(browser, stack, DESKTOP, artefacts)
    desk.label += "-worker-review-own"
    review = desk.page
    sign_in(desk, neighbourhood.community_worker, "/today")
    review.get_by_role("link", name="更多", exact=True).click()  # a long menu folds under 更多
    review.get_by_role("link", name="审核心愿", exact=True).click()
    card = review.locator(f"#wish-{wish['id']}")
    expect(card).to_contain_text(f"{ELDER}：{OWN_WISH}")
    expect(card).to_contain_text(OWN_DETAIL)
    desk.check("wish-review-own")
    card.get_by_role("button", name="通过，上心愿墙").click()
    expect(review.get_by_role("status")).to_contain_text("已通过")
    assert call(stack, "points", "GET", f"/v1/wishes/{wish['id']}", worker)["status"] == "open"

    # back on the elder's phone: the wish is on the wall now
    phone.goto("/my-wishes")
    expect(own.locator(f"#wish-{wish['id']} .wish-state")).to_have_text("可认领")
    phone.check("my-wish-open")
    save_timings(artefacts, f"resident-own-wish-{stack.database}", phone.timings + desk.timings)
    for visit in (phone, desk):
        visit.context.close()
