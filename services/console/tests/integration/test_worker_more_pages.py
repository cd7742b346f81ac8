"""The community worker's registering, import, care group and statistics pages over the real
registry: look up by ID tail and address, register a household and a resident once however often
the form is sent, the registry's errors beside their field, the Excel register, a care group formed,
and the statistics drawn as bars with their numbers."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook

from linli_console.pages_register_import import upload_of
from linli_console.pages_statistics import by_age_band

from ..conftest import CONSOLE, Desk, elder_in_care, id_number
from .test_resident_pages import as_community_worker, hidden

pytestmark = [pytest.mark.integration]
ORIGIN = {"Origin": CONSOLE}


def resident_form(page: str, **fields: str) -> dict[str, str]:
    return {"key": hidden(page, "key"), "gender": "female", **fields}


async def test_a_resident_registered_twice_from_one_form_is_registered_once(desk: Desk) -> None:
    await as_community_worker(desk)
    household_page = (await desk.browser.get("/register/household")).text
    made = await desk.browser.post(
        "/register/household",
        data={"key": hidden(household_page, "key"), "address": "东李庄村3排12号"},
        headers=ORIGIN,
    )
    assert made.status_code == 303, made.text
    household_id = made.headers["location"].split("household=")[1]
    page = (await desk.browser.get(made.headers["location"])).text
    assert "登记到这户：东李庄村3排12号" in page and hidden(page, "household_id") == household_id

    number = id_number()
    form = resident_form(
        page, household_id=household_id, full_name="王秀英", id_number=number, tag_living_alone="1"
    )
    first = await desk.browser.post("/register/resident", data=form, headers=ORIGIN)
    again = await desk.browser.post("/register/resident", data=form, headers=ORIGIN)
    assert first.status_code == again.status_code == 303, again.text
    assert first.headers["location"] == again.headers["location"]
    shown = (await desk.browser.get(first.headers["location"])).text
    assert "已登记：" in shown and "王秀英" in shown and f"身份证尾号 {number[-4:]}" in shown

    found = (await desk.browser.get("/register", params={"tail": number[-4:].lower()})).text
    listed = found.split('id="found"')[1].split("</ul>")[0]
    assert listed.count("王秀英") == 1 and "独居" in listed
    by_address = (await desk.browser.get("/register", params={"address": "3排12"})).text
    assert "东李庄村3排12号" in by_address and f"/register/resident?household={household_id}" in by_address


async def test_the_registrys_refusals_are_shown_beside_their_fields(desk: Desk) -> None:
    await as_community_worker(desk)
    page = (await desk.browser.get("/register/resident")).text
    form = resident_form(page, full_name="王秀英", id_number="12345", phone="电话")
    refused = await desk.browser.post("/register/resident", data=form, headers=ORIGIN)
    assert refused.status_code == 422
    assert re.search(r'id="id_number"[^>]*aria-invalid="true"', refused.text)
    assert 'id="id_number-error"' in refused.text and 'id="phone-error"' in refused.text
    assert 'value="王秀英"' in refused.text, "what was typed stays"
    assert hidden(refused.text, "key") == form["key"]
    bad_tail = await desk.browser.get("/register", params={"tail": "12a"})
    assert bad_tail.status_code == 422 and 'id="id_tail-error"' in bad_tail.text


def workbook(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["户号", "住址", "姓名*", "性别*", "身份证号*", "出生日期", "网格", "电话", "标签"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_the_excel_register_is_checked_then_imported(desk: Desk) -> None:
    await as_community_worker(desk)
    template = await desk.browser.get("/register/import/template")
    assert template.status_code == 200 and template.content[:2] == b"PK"
    good = [
        ["1", "西街5号", "李国昌", "男", id_number(), "", "", "", ""],
        ["1", "西街5号", "李秀英", "女", id_number(), "", "", "", ""],
    ]
    bad = [*good, ["2", "西街6号", "张三", "男", "110105", "", "", "", ""]]
    page = (await desk.browser.get("/register/import")).text
    files = {"workbook": ("名册.xlsx", workbook(bad), "application/octet-stream")}
    refused = await desk.browser.post(
        "/register/import", data={"key": hidden(page, "key")}, files=files, headers=ORIGIN
    )
    assert refused.status_code == 422, refused.text
    problems = refused.text.split('id="import-problems"')[1].split("</table>")[0]
    assert "第4行" in problems and "身份证号" in problems
    checked = await desk.browser.post(
        "/register/import",
        data={"key": hidden(page, "key"), "dry_run": "1"},
        files={"workbook": ("名册.xlsx", workbook(good), "application/octet-stream")},
        headers=ORIGIN,
    )
    assert checked.status_code == 200 and "检查完毕（没有导入）" in checked.text and "2 人" in checked.text
    imported = await desk.browser.post(
        "/register/import",
        data={"key": hidden(page, "key")},
        files={"workbook": ("名册.xlsx", workbook(good), "application/octet-stream")},
        headers=ORIGIN,
    )
    assert imported.status_code == 200 and "已登记 1 户、2 人" in imported.text
    nothing = await desk.browser.post("/register/import", data={"key": "k"}, headers=ORIGIN)
    assert nothing.status_code == 400 and "请先选择" in nothing.text


def test_a_multipart_body_gives_its_fields_and_file_bytes_untouched() -> None:
    content = b"PK\x03\x04\r\n--not-the-boundary\r\n\x00\xff"
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="key"\r\n\r\nabc\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="workbook"; filename="a.xlsx"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n--XyZ--\r\n"
    )
    upload = upload_of("multipart/form-data; boundary=XyZ", body)
    assert upload is not None
    assert (upload.fields, upload.file, upload.file_name) == ({"key": "abc"}, content, "a.xlsx")
    assert upload_of("application/x-www-form-urlencoded", b"key=abc") is None


async def test_a_care_group_is_formed_and_listed_with_its_people(desk: Desk) -> None:
    await elder_in_care(desk, "李桂兰", every_hours=24, formed_hours_ago=1)
    elder = await desk.created(
        "/v1/residents",
        {"district": desk.district, "community": desk.community, "full_name": "王秀英", "gender": "female",
         "id_number": id_number(), "tags": ["lonely"]},
        desk.as_worker(),
    )  # fmt: skip
    await as_community_worker(desk)
    search = (await desk.browser.get("/care-groups/new", params={"q": "秀英"})).text
    assert f"/care-groups/new?resident={elder['id']}" in search.split('id="candidates"')[1]
    page = (await desk.browser.get("/care-groups/new", params={"resident": elder["id"]})).text
    assert f'<option value="{desk.account_id}"' in page and "李网格" in page
    form = {"key": hidden(page, "key"), "resident_id": elder["id"], "grid_worker": desk.account_id,
            "neighbour_name": "", "visit_every_hours": "24", "call_every_days": "7"}  # fmt: skip
    refused = await desk.browser.post("/care-groups/new", data=form, headers=ORIGIN)
    assert refused.status_code == 422 and 'id="neighbour_name-error"' in refused.text
    formed = await desk.browser.post(
        "/care-groups/new", data={**form, "neighbour_name": "赵大妈"}, headers=ORIGIN
    )
    assert formed.status_code == 303, formed.text
    listed = (await desk.browser.get(formed.headers["location"])).text
    assert "已为王秀英组建关爱小组" in listed
    groups = listed.split('id="groups"')[1]
    assert groups.count('class="card"') == 2 and "网格员：李网格" in groups and "社区工作者：您" in groups


async def test_the_statistics_are_drawn_as_bars_with_their_numbers(desk: Desk) -> None:
    await elder_in_care(desk, "李桂兰", every_hours=24, formed_hours_ago=1)
    await elder_in_care(desk, "王秀英", every_hours=24, formed_hours_ago=1)
    await as_community_worker(desk)
    page = (await desk.browser.get("/statistics")).text
    tags = page.split('id="chart-tag"')[1].split("</section>")[0]
    assert "<svg" in tags and "<rect" in tags
    assert re.search(r"<th scope=\"row\">独居</th><td class=\"count\">2</td>", tags)
    ages = page.split('id="chart-age"')[1].split("</section>")[0]
    assert re.search(r"<th scope=\"row\">80岁及以上</th><td class=\"count\">2</td>", ages)


def test_the_age_bands_add_up_to_the_population() -> None:
    row = {"population": 10, "aged_60_plus": 6, "aged_70_plus": 3, "aged_80_plus": 1}
    chart = by_age_band([row])
    assert [(bar.label, bar.value) for bar in chart.bars] == [
        ("60岁以下", 4), ("60–69岁", 3), ("70–79岁", 2), ("80岁及以上", 1)
    ]  # fmt: skip
    assert [bar.width for bar in chart.bars] == [200, 150, 100, 50]
