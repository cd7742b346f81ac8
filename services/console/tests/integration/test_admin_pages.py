"""Admins in the console against the real registry: the header names the signed-in person; a district
admin finds and creates accounts (the registry's refusals beside their field), grants a role in a
community, withdraws it, and disables the account; a grid worker is shown none of it."""

from __future__ import annotations

import re
import secrets
import uuid

import pytest

from linli_shared.auth import Role
from linli_shared.testing.http import bearer

from ..conftest import CONSOLE, Desk

pytestmark = [pytest.mark.integration, pytest.mark.nats]

FORM = {"Origin": CONSOLE}


async def sign_in_district_admin(desk: Desk) -> str:
    """A district admin of the desk's district, signed in through the console; their phone."""
    admin = bearer(Role.CITY_ADMIN, None)
    phone, password = f"100{uuid.uuid4().int % 10**8:08d}", secrets.token_urlsafe(12)
    account = await desk.created(
        "/v1/accounts",
        {"phone": phone, "display_name": "赵主任", "password": password, "district": desk.district},
        admin,
    )
    await desk.created(
        f"/v1/accounts/{account['id']}/grants", {"role": "district_admin", "district": desk.district}, admin
    )
    signed = await desk.browser.post("/sign-in", data={"phone": phone, "password": password}, headers=FORM)
    assert signed.status_code == 303, signed.text
    return phone


def key_of(page: str, action: str) -> str:
    form = page.split(f'method="post" action="{action}"')[1]
    found = re.search(r'name="key" value="([0-9a-f]+)"', form)
    assert found, f"no key in the form {action}"
    return found.group(1)


async def test_the_header_names_the_signed_in_person(desk: Desk) -> None:
    await desk.sign_in()
    today = await desk.browser.get("/today")
    assert "李网格</span> · 东李庄社区 · 网格员" in today.text
    assert (await desk.browser.get("/admin/accounts")).status_code == 403, (
        "the registry refuses a grid worker"
    )

    await desk.browser.post("/sign-out", headers=FORM)
    again = await desk.browser.get("/sign-in")
    assert "李网格" not in again.text


async def test_a_district_admin_creates_an_account_grants_withdraws_and_disables(desk: Desk) -> None:
    await sign_in_district_admin(desk)
    landing = await desk.browser.get("/")
    assert landing.headers["location"] == "/admin/accounts"
    page = await desk.browser.get("/admin/accounts")
    assert page.status_code == 200 and "赵主任</span> · " in page.text and "李网格" in page.text
    place = f"{desk.district}/{desk.community}"
    assert f'<option value="{place}" selected>' in page.text

    key = key_of(page.text, "/admin/accounts")
    missing = await desk.browser.post(
        "/admin/accounts",
        data={"key": key, "phone": "", "display_name": "新社工", "place": place},
        headers=FORM,
    )
    assert missing.status_code == 422 and 'id="phone-error"' in missing.text
    taken = await desk.browser.post(
        "/admin/accounts",
        data={"key": key, "phone": desk.phone, "display_name": "新社工", "place": place},
        headers=FORM,
    )
    assert taken.status_code == 409
    assert "这个手机号已经有账号了" in taken.text.split('id="phone-error"')[1].split("</p>")[0]

    phone = f"100{uuid.uuid4().int % 10**8:08d}"
    body = {
        "key": key_of(taken.text, "/admin/accounts"),
        "phone": phone,
        "display_name": "新社工",
        "place": place,
    }
    made = await desk.browser.post("/admin/accounts", data=body, headers=FORM)
    assert made.status_code == 303
    account_path = made.headers["location"].split("?")[0]
    account_id = account_path.rsplit("/", 1)[1]
    found = await desk.registry.get(
        "/v1/accounts", params={"phone": phone}, headers=bearer(Role.CITY_ADMIN, None)
    )
    assert [a["id"] for a in found.json()["items"]] == [account_id]

    account = await desk.browser.get(account_path)
    assert "新社工" in account.text and "还没有角色" in account.text
    grant_action = f"{account_path}/grants"
    refused = await desk.browser.post(
        grant_action,
        data={"key": key_of(account.text, grant_action), "role": "volunteer", "place": place},
        headers=FORM,
    )
    assert refused.status_code == 422
    assert "须先关联志愿者" in refused.text.split('id="role-error"')[1].split("</p>")[0]
    granted = await desk.browser.post(
        grant_action,
        data={"key": key_of(refused.text, grant_action), "role": "community_worker", "place": place},
        headers=FORM,
    )
    assert granted.status_code == 303
    grants = await desk.registry.get(
        "/v1/grants", params={"account_id": account_id}, headers=bearer(Role.CITY_ADMIN, None)
    )
    (held,) = grants.json()["items"]
    assert (held["role"], held["community"], held["withdrawn_at"]) == (
        "community_worker",
        desk.community,
        None,
    )

    account = await desk.browser.get(account_path)
    assert "社区工作者</strong> · " in account.text and "东李庄社区" in account.text
    withdrawal = f"{account_path}/grants/{held['id']}/withdrawal"
    withdrawn = await desk.browser.post(
        withdrawal, data={"key": key_of(account.text, withdrawal)}, headers=FORM
    )
    assert withdrawn.status_code == 303
    account = await desk.browser.get(withdrawn.headers["location"])
    assert "已收回角色" in account.text and "已收回</span>" in account.text

    disabling = f"{account_path}/disabled"
    disabled = await desk.browser.post(
        disabling, data={"key": key_of(account.text, disabling), "disabled": "true"}, headers=FORM
    )
    assert disabled.status_code == 303
    record = await desk.registry.get(f"/v1/accounts/{account_id}", headers=bearer(Role.CITY_ADMIN, None))
    assert record.json()["disabled"] is True
    listed = await desk.browser.get("/admin/accounts", params={"phone": phone})
    assert "新社工" in listed.text and "已停用" in listed.text and "李网格" not in listed.text
