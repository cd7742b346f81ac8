"""Correcting a resident's household over the real registry: the form is prefilled from the household,
only what changed is sent on the version read, the resident's page shows the result, a stale form
says someone changed it meanwhile, and a refused value is shown beside its field."""

from __future__ import annotations

import pytest

from linli_shared.auth import Role
from linli_shared.testing.http import bearer

from ..conftest import CONSOLE, Desk, id_number
from .test_resident_pages import as_community_worker, hidden

pytestmark = [pytest.mark.integration]

FIELDS = ("address", "grid_code", "head_resident_id")


async def resident_in_household(desk: Desk) -> tuple[str, str]:
    """王秀英, head of her household at 东街1号, in grid 一片区 (二片区 exists too); her id, its id."""
    admin = bearer(Role.CITY_ADMIN, None)
    place = {"district": desk.district, "community": desk.community}
    for code, name in (("zone-1", "一片区"), ("zone-2", "二片区")):
        await desk.created("/v1/grids", {**place, "code": code, "name": name}, admin)
    household = await desk.created(
        "/v1/households", {**place, "grid_code": "zone-1", "address": "东街1号"}, desk.as_worker()
    )
    resident = await desk.created(
        "/v1/residents",
        {
            **place,
            "household_id": household["id"],
            "full_name": "王秀英",
            "gender": "female",
            "id_number": id_number(),
        },
        desk.as_worker(),
    )
    head = await desk.registry.patch(
        f"/v1/households/{household['id']}",
        json={"head_resident_id": resident["id"], "version": household["version"]},
        headers=desk.as_worker(),
    )
    assert head.status_code == 200, head.text
    return str(resident["id"]), str(household["id"])


def correction_form(page: str, **changes: str) -> dict[str, str]:
    """The form as the browser would send it, with some fields changed."""
    form = {name: hidden(page, name) for name in ("key", "version", "household_id")}
    for name in FIELDS:
        form[f"was_{name}"] = hidden(page, f"was_{name}")
        form[name] = changes.get(name, form[f"was_{name}"])
    form["reason"] = changes.get("reason", "")
    return form


async def household(desk: Desk, household_id: str) -> dict[str, object]:
    read = await desk.registry.get(f"/v1/households/{household_id}", headers=desk.as_worker())
    assert read.status_code == 200, read.text
    return dict(read.json())


async def test_a_household_is_corrected_from_the_residents_page_on_the_version_read(desk: Desk) -> None:
    resident_id, household_id = await resident_in_household(desk)
    await as_community_worker(desk)
    resident_page = (await desk.browser.get(f"/residents/{resident_id}")).text
    assert f'href="/residents/{resident_id}/household/correct"' in resident_page
    assert "网格：一片区" in resident_page

    page = (await desk.browser.get(f"/residents/{resident_id}/household/correct")).text
    assert 'value="东街1号"' in page
    assert '<option value="zone-1" selected>一片区</option>' in page
    assert f'<option value="{resident_id}" selected>王秀英</option>' in page
    assert hidden(page, "version") == "2" and hidden(page, "household_id") == household_id
    elsewhere = (await desk.browser.get(f"/residents/{resident_id}/household/correct")).text
    stale = correction_form(elsewhere, grid_code="")  # another worker, the same version, another key

    saved = await desk.browser.post(
        f"/residents/{resident_id}/household/correct",
        data=correction_form(page, address="东街1号院2门", grid_code="zone-2", reason="门牌改了"),
        headers={"Origin": CONSOLE},
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/residents/{resident_id}?corrected=1#household"
    after = await household(desk, household_id)
    assert (after["address"], after["grid_code"], after["head_resident_id"], after["version"]) == (
        "东街1号院2门",
        "zone-2",
        resident_id,
        3,
    ), "the head was not on the changes sent, and stays"
    shown = (await desk.browser.get(f"/residents/{resident_id}?corrected=1")).text
    section = shown.split('id="household"')[1].split("</section>")[0]
    assert "住址：东街1号院2门（户主）" in section and "网格：二片区" in section
    assert "已保存更正" in shown
    history = await desk.registry.get(f"/v1/households/{household_id}/history", headers=desk.as_worker())
    assert history.json()[-1]["reason"] == "门牌改了"

    refused = await desk.browser.post(
        f"/residents/{resident_id}/household/correct", data=stale, headers={"Origin": CONSOLE}
    )
    assert refused.status_code == 409
    alert = refused.text.split('role="alert"')[1].split("</p>")[0]
    assert "已被他人修改" in alert and "重新打开" in alert
    assert 'value="东街1号"' in refused.text, "the form as typed, not silently the newer values"
    after_stale = await household(desk, household_id)
    assert (after_stale["grid_code"], after_stale["version"]) == ("zone-2", 3), "nothing written when stale"


async def test_an_emptied_address_is_refused_beside_it_and_nothing_changes(desk: Desk) -> None:
    resident_id, household_id = await resident_in_household(desk)
    await as_community_worker(desk)
    page = (await desk.browser.get(f"/residents/{resident_id}/household/correct")).text

    refused = await desk.browser.post(
        f"/residents/{resident_id}/household/correct",
        data=correction_form(page, address=" ", head_resident_id=""),
        headers={"Origin": CONSOLE},
    )

    assert refused.status_code == 422
    beside = refused.text.split('id="address-error"')[1].split("</p>")[0]
    assert "住址" in beside and "不能为空" in beside
    assert 'aria-invalid="true" aria-describedby="address-error"' in refused.text
    assert f'<option value="{resident_id}" selected>' not in refused.text, "the head as the worker chose"
    after = await household(desk, household_id)
    assert (after["address"], after["head_resident_id"], after["version"]) == ("东街1号", resident_id, 2)


async def test_nothing_changed_sends_nothing(desk: Desk) -> None:
    resident_id, household_id = await resident_in_household(desk)
    await as_community_worker(desk)
    page = (await desk.browser.get(f"/residents/{resident_id}/household/correct")).text

    unchanged = await desk.browser.post(
        f"/residents/{resident_id}/household/correct", data=correction_form(page), headers={"Origin": CONSOLE}
    )

    assert unchanged.status_code == 303
    assert (await household(desk, household_id))["version"] == 2
