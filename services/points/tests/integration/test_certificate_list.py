"""A volunteer's certificates, listed: for the volunteer and the organisers of their community, paged
like every list; anyone else is refused or finds nothing."""

from __future__ import annotations

import pytest

from linli_shared.auth import Role
from linli_shared.testing.communities import Community

pytestmark = [pytest.mark.integration]


async def certified(client, community: Community, volunteer_id: str, subject: str) -> str:
    """A certificate of the hours served so far, asked for by the volunteer; its serial."""
    made = await client.post(
        f"/v1/volunteers/{volunteer_id}/certificates", headers=community.as_(Role.VOLUNTEER, subject)
    )
    assert made.status_code == 201, made.text
    return str(made.json()["serial"])


async def serve(client, community: Community, volunteer_id: str, minutes: int) -> None:
    served = await client.post(
        "/v1/service-records",
        json={"volunteer_id": volunteer_id, "served_on": "2026-11-20", "minutes": minutes},
        headers=community.as_(Role.COMMUNITY_WORKER),
    )
    assert served.status_code == 201, served.text


async def test_a_volunteer_lists_their_certificates_page_by_page(client, community, enrol) -> None:
    volunteer = await enrol(community, subject="wang", full_name="王桂兰")
    await serve(client, community, volunteer["id"], 90)
    first = await certified(client, community, volunteer["id"], "wang")
    await serve(client, community, volunteer["id"], 30)
    second = await certified(client, community, volunteer["id"], "wang")
    path = f"/v1/volunteers/{volunteer['id']}/certificates"

    seen: list[dict[str, object]] = []
    query: dict[str, str | int] = {"limit": 1}
    for _ in range(3):
        page = await client.get(path, params=query, headers=community.as_(Role.VOLUNTEER, "wang"))
        assert page.status_code == 200, page.text
        seen.extend(page.json()["items"])
        if not page.json()["next_cursor"]:
            break
        query["cursor"] = page.json()["next_cursor"]

    assert sorted(str(c["serial"]) for c in seen) == sorted([first, second])
    by_serial = {c["serial"]: c for c in seen}
    assert (by_serial[first]["total_minutes"], by_serial[second]["total_minutes"]) == (90, 120)
    assert by_serial[first]["volunteer_name"] == "王桂兰"
    assert by_serial[first]["verify_path"] == f"/v1/certificates/{first}"


async def test_a_community_worker_reads_them_and_others_may_not(client, community, enrol) -> None:
    volunteer = await enrol(community, subject="wang")
    other = await enrol(community, subject="li")
    await serve(client, community, volunteer["id"], 60)
    serial = await certified(client, community, volunteer["id"], "wang")
    path = f"/v1/volunteers/{volunteer['id']}/certificates"

    worker = await client.get(path, headers=community.as_(Role.COMMUNITY_WORKER))
    assert worker.status_code == 200 and [c["serial"] for c in worker.json()["items"]] == [serial]
    assert (await client.get(path, headers=community.as_(Role.VOLUNTEER, "li"))).status_code == 403
    assert (await client.get(path, headers=community.as_(Role.GRID_WORKER))).status_code == 403
    assert (await client.get(path, headers=community.as_(Role.FUND_OFFICER))).status_code == 403
    elsewhere = Community.new().as_(Role.COMMUNITY_WORKER)
    assert (await client.get(path, headers=elsewhere)).status_code == 404
    assert (await client.get(path)).status_code == 401
    empty = await client.get(
        f"/v1/volunteers/{other['id']}/certificates", headers=community.as_(Role.VOLUNTEER, "li")
    )
    assert empty.status_code == 200 and empty.json() == {"items": [], "next_cursor": None}
