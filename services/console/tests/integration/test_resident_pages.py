"""The community worker's resident pages over the real registry: search by name, the resident's page,
the health record read only when asked for (and recorded), the community's overdue list."""

from __future__ import annotations

import re
import secrets
import uuid

import pytest

from linli_shared.auth import Role
from linli_shared.testing.http import bearer

from ..conftest import CONSOLE, Desk, elder_in_care

pytestmark = [pytest.mark.integration]


async def as_community_worker(desk: Desk) -> str:
    """Sign the browser in as a community worker of the desk's community; their account id."""
    admin = bearer(Role.CITY_ADMIN, None)
    phone, password = f"100{uuid.uuid4().int % 10**8:08d}", secrets.token_urlsafe(12)
    account = await desk.created(
        "/v1/accounts",
        {
            "phone": phone,
            "display_name": "张社工",
            "password": password,
            "district": desk.district,
            "community": desk.community,
        },
        admin,
    )
    await desk.created(
        f"/v1/accounts/{account['id']}/grants",
        {"role": "community_worker", "district": desk.district, "community": desk.community},
        admin,
    )
    signed = await desk.browser.post(
        "/sign-in", data={"phone": phone, "password": password}, headers={"Origin": CONSOLE}
    )
    assert signed.status_code == 303, signed.text
    return str(account["id"])


async def test_a_community_worker_finds_an_elder_by_name_and_reads_the_page(desk: Desk) -> None:
    resident_id = await elder_in_care(desk, "王秀英", every_hours=24, formed_hours_ago=30)
    await elder_in_care(desk, "李桂兰", every_hours=24, formed_hours_ago=1)
    await as_community_worker(desk)

    found = await desk.browser.get("/residents", params={"q": "秀"})
    assert found.status_code == 200
    listed = found.text.split('id="found"')[1].split("</ul>")[0]
    assert "王秀英" in listed and "李桂兰" not in listed and "独居" in listed
    assert f"/residents/{resident_id}" in listed

    page = await desk.browser.get(f"/residents/{resident_id}")
    assert page.status_code == 200
    care = page.text.split('id="care"')[1].split("</section>")[0]
    assert "网格员：李网格" in care and "邻居：赵大妈" in care and "已逾期" in care
    assert resident_id not in re.sub(r'href="[^"]*"', "", page.text), "no raw ids shown, but in links"
    assert "查看健康档案" in page.text

    overdue = await desk.browser.get("/overdue")
    shown = overdue.text.split('id="overdue"')[1].split("</ul>")[0]
    assert "王秀英" in shown and "李桂兰" not in shown


async def test_the_same_box_finds_a_resident_by_the_last_four_characters_of_the_id_number(desk: Desk) -> None:
    resident_id = await elder_in_care(desk, "王秀英", every_hours=24, formed_hours_ago=1)
    other_id = await elder_in_care(desk, "李桂兰", every_hours=24, formed_hours_ago=1)
    await as_community_worker(desk)
    tails = {}
    for some_id in (resident_id, other_id):
        read = await desk.registry.get(f"/v1/residents/{some_id}", headers=desk.as_worker())
        tails[some_id] = read.json()["id_number_masked"][-4:]

    found = await desk.browser.get("/residents", params={"q": tails[resident_id].lower()})
    assert found.status_code == 200
    listed = found.text.split('id="found"')[1].split("</ul>")[0]
    assert f"/residents/{resident_id}" in listed
    assert (f"/residents/{other_id}" in listed) == (tails[other_id] == tails[resident_id])

    unused = next(tail for tail in ("000X", "0001", "0002") if tail not in tails.values())
    nobody = await desk.browser.get("/residents", params={"q": unused})
    assert "没有身份证尾号为" in nobody.text


async def test_the_health_record_is_read_only_when_asked_for_and_the_read_is_recorded(desk: Desk) -> None:
    resident_id = await elder_in_care(desk, "王秀英", every_hours=24, formed_hours_ago=1)
    record = {"address": "2号楼3单元101", "past_illnesses": "高血压", "regular_medicines": "氨氯地平"}
    response = await desk.registry.put(
        f"/v1/residents/{resident_id}/health-record", json=record, headers=desk.as_worker()
    )
    assert response.status_code == 200, response.text
    account_id = await as_community_worker(desk)
    auditor = bearer(Role.DISTRICT_ADMIN, desk.district, None, "admin-1")

    async def reads() -> list[str]:
        answer = await desk.registry.get("/v1/health-record-reads", headers=auditor)
        assert answer.status_code == 200, answer.text
        return [str(r.get("reader")) for r in answer.json()["items"]]

    await desk.browser.get(f"/residents/{resident_id}")
    assert await reads() == [], "opening the resident's page reads no health record"
    shown = await desk.browser.get(f"/residents/{resident_id}/health")
    assert shown.status_code == 200 and "氨氯地平" in shown.text and "这次查看已被记录" in shown.text
    assert await reads() == [account_id]


def hidden(page: str, name: str) -> str:
    return page.split(f'name="{name}" value="')[1].split('"')[0]


def correction_form(page: str, **changes: str) -> dict[str, str]:
    form = {name: hidden(page, name) for name in ("key", "version")}
    for name in ("full_name", "phone", "guardian_name", "guardian_relation", "guardian_phone"):
        form[f"was_{name}"] = hidden(page, f"was_{name}")
        form[name] = changes.get(name, form[f"was_{name}"])
    return form


async def test_a_correction_changes_only_what_was_changed_and_a_stale_one_says_why(desk: Desk) -> None:
    resident_id = await elder_in_care(desk, "王秀英", every_hours=24, formed_hours_ago=1)
    await as_community_worker(desk)
    page = (await desk.browser.get(f"/residents/{resident_id}/correct")).text
    stale = correction_form(page, full_name="王秀兰")
    saved = await desk.browser.post(
        f"/residents/{resident_id}/correct",
        data=correction_form(page, phone="13800138000"),
        headers={"Origin": CONSOLE},
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith("?corrected=1")
    resident = (await desk.registry.get(f"/v1/residents/{resident_id}", headers=desk.as_worker())).json()
    assert (resident["full_name"], resident["phone"], resident["version"]) == ("王秀英", "13800138000", 2)

    refused = await desk.browser.post(
        f"/residents/{resident_id}/correct", data=stale, headers={"Origin": CONSOLE}
    )
    assert refused.status_code == 409
    assert 'role="alert"' in refused.text and "重新打开" in refused.text
    after = (await desk.registry.get(f"/v1/residents/{resident_id}", headers=desk.as_worker())).json()
    assert after["full_name"] == "王秀英", "nothing written on a stale version"


async def test_a_refused_value_is_shown_beside_its_field(desk: Desk) -> None:
    resident_id = await elder_in_care(desk, "王秀英", every_hours=24, formed_hours_ago=1)
    await as_community_worker(desk)
    page = (await desk.browser.get(f"/residents/{resident_id}/correct")).text
    refused = await desk.browser.post(
        f"/residents/{resident_id}/correct",
        data=correction_form(page, phone="电话号码"),
        headers={"Origin": CONSOLE},
    )
    assert refused.status_code == 422
    beside = refused.text.split('id="phone-error"')[1].split("</p>")[0]
    assert beside.strip(">") and 'aria-invalid="true" aria-describedby="phone-error"' in refused.text
