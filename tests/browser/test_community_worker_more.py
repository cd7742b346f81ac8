"""A community worker's registering day in a real browser, at phone and desktop size, on SQLite and
PostgreSQL: sign in → look a resident up by the ID number's last four characters → check an Excel
register without importing it → register a new resident (the registry's refusal shown beside its
field first) → the statistics chart → form a care group for the new resident and see it listed.
And on a desktop: correct a household's address (and grid) from a resident's page, an emptied
address refused beside the field first; the resident's page and the registry show the change."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import Workbook
from playwright.sync_api import Browser, expect

from linli_registry.domain import id_check_char
from linli_shared.auth import Role

from .conftest import DESKTOP, PHONE, Stack, register_elder
from .test_community_worker import Person, person, sign_in
from .test_grid_worker_day import Visit, save_timings
from .test_volunteer_day import call

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.nats]

ELDER_ID_NUMBER = "110105194403080027"


@dataclass(frozen=True)
class Workers:
    grid_worker: Person
    community_worker: Person


@pytest.fixture
def workers(stack: Stack) -> Workers:
    """A community with a grid worker and a community worker who sign in, and one elder registered."""
    admin = stack.bearer(Role.CITY_ADMIN, "admin")
    stack.post("/v1/districts", {"code": stack.district, "name": "高桥营街道"}, admin)
    stack.post(
        "/v1/communities", {"district": stack.district, "code": stack.community, "name": "东李庄社区"}, admin
    )
    stack.post(
        "/v1/grids",
        {"district": stack.district, "community": stack.community, "code": "zone-1", "name": "一片区"},
        admin,
    )
    grid_worker = person(stack, admin, "李网格", "grid_worker")
    community_worker = person(stack, admin, "张社工", "community_worker")
    register_elder(
        stack, stack.bearer(Role.COMMUNITY_WORKER, community_worker.account_id), "王秀英", ELDER_ID_NUMBER
    )
    return Workers(grid_worker, community_worker)


def register_workbook(id_number: str) -> bytes:
    """The register with one household of one resident, as a worker fills it in."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["户号", "住址", "姓名*", "性别*", "身份证号*"])
    sheet.append(["1", "西街5号", "李国昌", "男", id_number])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def id_number(serial: int) -> str:
    first17 = f"11010519380514{serial:03d}"
    return first17 + id_check_char(first17)


def test_community_worker_looks_up_registers_counts_and_forms_a_care_group(
    browser: Browser, stack: Stack, workers: Workers, artefacts: Path
) -> None:
    for number, size in enumerate((PHONE, DESKTOP)):
        visit = Visit(browser, stack, size, artefacts)
        visit.label = f"cw-more-{visit.label}"
        page = visit.page
        sign_in(visit, workers.community_worker)

        # look first: the elder by the last four characters of the ID number
        page.get_by_role("link", name="更多", exact=True).click()  # a long menu folds under 更多
        page.get_by_role("link", name="登记", exact=True).click()
        expect(page.get_by_role("heading", name="登记居民")).to_be_visible()
        page.get_by_label("身份证号后四位").fill("0027")
        page.get_by_role("button", name="查找").click()
        found = page.locator("#found li")
        expect(found).to_have_count(1)
        expect(found).to_contain_text("王秀英")
        expect(found).to_contain_text("身份证尾号 0027")
        visit.check("register-lookup")

        # the Excel register from the phone's file picker, checked without importing
        page.get_by_role("link", name="从 Excel 名册批量导入").click()
        page.get_by_label("名册文件（.xlsx）").set_input_files(
            {"name": "名册.xlsx", "mimeType": "", "buffer": register_workbook(id_number(100 + number))}
        )
        page.get_by_label("只检查，不导入").check()
        page.get_by_role("button", name="上传并导入").click()
        expect(page.locator("#import-result")).to_contain_text("检查完毕（没有导入）")
        expect(page.locator("#import-result")).to_contain_text("将登记 1 户、1 人")
        visit.check("register-import-checked")
        page.get_by_role("link", name="← 登记居民").click()

        # a new resident: the registry refuses a wrong ID number beside the field, then registers
        newcomer, newcomer_id = f"刘桂芳{'甲乙'[number]}", id_number(number)
        page.get_by_role("link", name="登记新居民").click()
        page.get_by_label("姓名", exact=True).fill(newcomer)
        page.get_by_label("女", exact=True).check()
        page.get_by_label("身份证号", exact=True).fill(newcomer_id[:17])
        page.get_by_label("网格", exact=True).select_option(label="一片区")
        page.get_by_label("独居", exact=True).check()
        page.get_by_role("button", name="登记", exact=True).click()
        expect(page.locator("#id_number-error")).to_be_visible()
        expect(page.get_by_label("姓名", exact=True)).to_have_value(newcomer)
        visit.check("register-refused")
        page.get_by_label("身份证号", exact=True).fill(newcomer_id)
        page.get_by_role("button", name="登记", exact=True).click()
        expect(page.locator("#registered")).to_contain_text(
            f"已登记：{newcomer}（身份证尾号 {newcomer_id[-4:]}）"
        )
        visit.check("registered")

        # the statistics: bars and their numbers, the newcomers counted
        page.get_by_role("link", name="更多", exact=True).click()  # a long menu folds under 更多
        page.get_by_role("link", name="统计", exact=True).click()
        expect(page.get_by_role("heading", name="社区统计")).to_be_visible()
        ages = page.locator("#chart-age")
        expect(ages.locator("svg rect")).to_have_count(4)
        expect(ages.get_by_role("row", name=re.compile("80岁及以上"))).to_contain_text(str(2 + number))
        expect(page.locator("#chart-grid").get_by_role("row", name=re.compile("一片区"))).to_contain_text(
            str(1 + number)
        )
        visit.check("statistics")

        # a care group for the newcomer: found by name, the grid worker chosen, the neighbour named
        page.get_by_role("link", name="更多", exact=True).click()  # a long menu folds under 更多
        page.get_by_role("link", name="关爱小组", exact=True).click()
        page.get_by_role("link", name="组建新的关爱小组").click()
        page.get_by_label(re.compile("要关爱的居民姓名")).fill(newcomer)
        page.get_by_role("button", name="查找").click()
        page.locator("#candidates li", has_text=newcomer).get_by_role("link").click()
        page.get_by_label("网格员", exact=True).select_option(label="李网格")
        page.get_by_label(re.compile("结对的邻居姓名")).fill("赵大妈")
        visit.check("care-group-new")
        page.get_by_role("button", name="组建关爱小组").click()
        expect(page.get_by_role("status")).to_contain_text(f"已为{newcomer}组建关爱小组")
        group = page.locator("#groups li", has_text=newcomer)
        expect(group).to_contain_text("网格员：李网格")
        expect(group).to_contain_text("社区工作者：您")
        expect(group).to_contain_text("邻居：赵大妈")
        visit.check("care-groups")
        save_timings(artefacts, visit.label, visit.timings)
        visit.context.close()


def test_community_worker_corrects_a_households_address_from_the_residents_page(
    browser: Browser, stack: Stack, workers: Workers, artefacts: Path
) -> None:
    worker = stack.bearer(Role.COMMUNITY_WORKER, workers.community_worker.account_id)
    here = {"district": stack.district, "community": stack.community}
    household = stack.post("/v1/households", {**here, "address": "东李庄村3排12号"}, worker)
    resident = stack.post(
        "/v1/residents",
        {
            **here,
            "household_id": household["id"],
            "full_name": "赵德明",
            "gender": "male",
            "id_number": id_number(200),
        },
        worker,
    )

    visit = Visit(browser, stack, DESKTOP, artefacts)
    visit.label = f"cw-household-{visit.label}"
    page = visit.page
    sign_in(visit, workers.community_worker)
    page.get_by_role("link", name="居民", exact=True).click()
    page.get_by_label("姓名（输入一个字也可以）").fill("德明")
    page.get_by_role("button", name="查找").click()
    page.locator("#found li", has_text="赵德明").get_by_role("link").click()
    section = page.locator("#household")
    expect(section).to_contain_text("住址：东李庄村3排12号")
    expect(section).not_to_contain_text("网格：")

    # the form holds the household as it is; an emptied address is refused in the registry's words
    section.get_by_role("link", name="更正住址、网格或户主").click()
    expect(page.get_by_role("heading", name="更正赵德明所在的户")).to_be_visible()
    address = page.get_by_label("住址", exact=True)
    expect(address).to_have_value("东李庄村3排12号")
    expect(page.get_by_label("网格", exact=True)).to_have_value("")
    visit.check("household-correct")
    address.fill("")
    page.get_by_label("网格", exact=True).select_option(label="一片区")
    page.get_by_role("button", name="保存更正").click()
    expect(page.locator("#address-error")).to_contain_text("不能为空")
    expect(address).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("网格", exact=True)).to_have_value("zone-1")  # kept as chosen
    visit.check("household-correct-refused")
    assert call(stack, "registry", "GET", f"/v1/households/{household['id']}", worker)["version"] == 1

    # corrected: the resident's page shows the new address and grid, and so does the registry
    address.fill("东李庄村3排14号")
    page.get_by_label("更正原因（可不填）").fill("门牌重新编号")
    page.get_by_role("button", name="保存更正").click()
    expect(page.get_by_role("status")).to_contain_text("已保存更正")
    expect(page).to_have_url(re.compile(rf"/residents/{resident['id']}\?corrected=1#household$"))
    expect(section).to_contain_text("住址：东李庄村3排14号")
    expect(section).to_contain_text("网格：一片区")
    visit.check("household-corrected")
    corrected = call(stack, "registry", "GET", f"/v1/households/{household['id']}", worker)
    assert (corrected["address"], corrected["grid_code"], corrected["version"]) == (
        "东李庄村3排14号",
        "zone-1",
        2,
    )
    change = call(stack, "registry", "GET", f"/v1/households/{household['id']}/history", worker)[-1]
    assert (change["reason"], change["changed_by"]) == ("门牌重新编号", workers.community_worker.account_id)
    save_timings(artefacts, visit.label, visit.timings)
    visit.context.close()
