"""Least privilege in reads: every role walks every GET route of the points app, and only the roles
the table below allows get a 200. The routes come from the app itself, so a new route fails this
test until it is given its row. Paths point at another person's records (a volunteer who is not
the caller, a wish of a resident who is not the caller); what a role sees of its own is checked
after the walk."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.routing import BaseRoute, Mount

from linli_shared.auth import Role
from linli_shared.testing.communities import Community

pytestmark = [pytest.mark.integration]

WORKERS = frozenset({Role.DISTRICT_ADMIN, Role.COMMUNITY_WORKER, Role.GRID_WORKER})
ORGANISERS = frozenset({Role.DISTRICT_ADMIN, Role.COMMUNITY_WORKER})
READERS = WORKERS | {Role.AUDITOR}
EVERYONE = frozenset(Role)
PUBLIC = "public"
"""No token needed (health, documents, the certificate check): any answer but 401 and 403."""

CALLER_SUBJECT = "caller"
"""Every caller's subject; the walking volunteer is enrolled under it, the resident is someone else."""

ALLOWED: dict[str, frozenset[Role] | str] = {
    "/healthz": PUBLIC,
    "/readyz": PUBLIC,
    "/metrics": PUBLIC,
    "/openapi.json": PUBLIC,
    "/asyncapi.json": PUBLIC,
    "/docs": PUBLIC,
    "/docs/oauth2-redirect": PUBLIC,
    "/redoc": PUBLIC,
    # the street office's monthly report (the last whole month by default)
    "/v1/reports/monthly": frozenset(
        {Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.AUDITOR, Role.COMMUNITY_WORKER}
    ),
    "/v1/certificates/{serial}": PUBLIC,  # the masked check of a paper certificate
    "/v1/public/certificates/{serial}": PUBLIC,  # the certificate by its serial, the name masked
    "/v1/public/certificates/{serial}/verification": PUBLIC,  # where its QR code leads
    # community information, no one's personal record (a city admin too: in_scope does not narrow it)
    "/v1/teams": EVERYONE,
    "/v1/items": EVERYONE,
    "/v1/activities": EVERYONE,
    "/v1/activities/{activity_id}": EVERYONE,
    "/v1/communities/{district}/{community}/rules": EVERYONE,
    # a volunteer's record, points, hours and certificate: workers and (checked below) themselves
    "/v1/volunteers": WORKERS | {Role.VOLUNTEER},  # a volunteer's list holds only themselves
    "/v1/volunteers/me": frozenset({Role.VOLUNTEER}),
    "/v1/volunteers/{volunteer_id}": WORKERS,
    "/v1/volunteers/{volunteer_id}/ledger": WORKERS,
    "/v1/volunteers/{volunteer_id}/service-record": WORKERS,
    "/v1/{kind}/{record_id}/history": WORKERS,  # walked with a volunteer's history (names, teams)
    "/v1/certificates/{serial}/print": WORKERS,
    "/v1/volunteers/{volunteer_id}/certificates": ORGANISERS,  # those who may issue one, and the volunteer
    "/v1/redemptions": ORGANISERS | {Role.AUDITOR, Role.VOLUNTEER},  # a volunteer: their own
    "/v1/activities/{activity_id}/sign-ups": READERS,
    # the wish wall: a volunteer sees the wall, a resident their own wishes
    "/v1/wishes": READERS | {Role.VOLUNTEER, Role.RESIDENT},
    "/v1/wishes/{wish_id}": READERS | {Role.VOLUNTEER},  # an open wish, on the wall
    # neighbour help, recorded by workers on residents' behalf
    "/v1/help-offers": READERS,
    "/v1/help-offers/{offer_id}": READERS,
    "/v1/help-requests": READERS,
    "/v1/help-requests/{request_id}": READERS,
    "/v1/help-matches": READERS,
    "/v1/help-matches/{match_id}": READERS,
}


def get_routes(routes: Iterable[BaseRoute], prefix: str = "") -> set[str]:
    """The path of every GET route, through included routers."""
    found: set[str] = set()
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context_prefix = getattr(getattr(route, "include_context", None), "prefix", "") or ""
            found |= get_routes(included.routes, prefix + context_prefix)
        elif not isinstance(route, Mount) and "GET" in (getattr(route, "methods", None) or ()):
            found.add(prefix + str(getattr(route, "path", "")))
    return found


async def created(response: Any) -> dict[str, Any]:
    response = await response
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def a_community_with_one_of_everything(
    client: httpx.AsyncClient,
    community: Community,
    known_resident: Any,
    enrol: Any,
    credit: Any,
    stocked_item: Any,
) -> dict[str, str]:
    """Records of every kind in one community, owned by people other than the callers."""
    worker = community.as_(Role.COMMUNITY_WORKER)
    place = {"district": community.district, "community": community.community}
    resident = await known_resident(community)
    await enrol(community, subject=CALLER_SUBJECT)  # the walking volunteer
    other = await enrol(community, subject="someone-else", full_name="王建国")
    await credit(community, other["id"], 100)
    await created(
        client.post(
            "/v1/teams", json={**place, "name": "红色先锋队", "kind": "party_building"}, headers=worker
        )
    )
    item = await stocked_item(community, price=10, stock=5)
    await created(
        client.post(
            "/v1/redemptions",
            json={"item_id": item["id"], "volunteer_id": other["id"]},
            headers={**worker, "Idempotency-Key": "walk-redemption"},
        )
    )
    now = datetime.now(UTC)
    activity = await created(
        client.post(
            "/v1/activities",
            json={
                **place,
                "title": "理发",
                "kind": "haircut",
                "place": "活动室",
                "starts_at": (now - timedelta(minutes=1)).isoformat(),
                "ends_at": (now + timedelta(hours=3)).isoformat(),
                "capacity": 10,
                "points_per_hour": 10,
            },
            headers=worker,
        )
    )
    await created(
        client.post(
            f"/v1/activities/{activity['id']}/sign-ups", json={"volunteer_id": other["id"]}, headers=worker
        )
    )
    await created(
        client.post(
            "/v1/service-records",
            json={"volunteer_id": other["id"], "served_on": "2025-12-24", "minutes": 120},
            headers=worker,
        )
    )
    certificate = await created(client.post(f"/v1/volunteers/{other['id']}/certificates", headers=worker))
    wish = await created(
        client.post("/v1/wishes", json={"resident_id": resident, "title": "一台轮椅"}, headers=worker)
    )
    await created(client.post(f"/v1/wishes/{wish['id']}/review", json={"approve": True}, headers=worker))
    giver = await known_resident(community)
    posting = {**place, "goods": "轮椅"}
    offer = await created(
        client.post("/v1/help-offers", json={**posting, "resident_id": giver}, headers=worker)
    )
    request = await created(
        client.post("/v1/help-requests", json={**posting, "resident_id": resident}, headers=worker)
    )
    match = await created(
        client.post(
            "/v1/help-matches", json={"offer_id": offer["id"], "request_id": request["id"]}, headers=worker
        )
    )
    return {
        "volunteer_id": other["id"],
        "serial": certificate["serial"],
        "activity_id": activity["id"],
        "wish_id": wish["id"],
        "offer_id": offer["id"],
        "request_id": request["id"],
        "match_id": match["id"],
        "district": community.district,
        "community": community.community,
        "resident_id": resident,
        "kind": "volunteers",
        "record_id": other["id"],
    }


@pytest.fixture
async def records(client, community, known_resident, enrol, credit, stocked_item) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return await a_community_with_one_of_everything(
        client, community, known_resident, enrol, credit, stocked_item
    )


async def test_every_get_route_answers_200_only_to_the_roles_its_row_allows(
    client: httpx.AsyncClient, community: Community, records: dict[str, str]
) -> None:
    routes = get_routes(client.app.routes)  # type: ignore[attr-defined]
    assert not routes - ALLOWED.keys(), (
        f"GET routes without a row in ALLOWED: {sorted(routes - ALLOWED.keys())}"
    )
    assert not ALLOWED.keys() - routes, (
        f"rows for routes the app no longer has: {sorted(ALLOWED.keys() - routes)}"
    )
    wrong: list[str] = []
    for path in sorted(routes):
        allowed = ALLOWED[path]
        url = path.format(**records)
        for role in Role:
            response = await client.get(url, headers=community.as_(role, CALLER_SUBJECT))
            status = response.status_code
            if allowed == PUBLIC:
                ok = status not in (401, 403)
            else:
                assert isinstance(allowed, frozenset)
                ok = (status == 200) == (role in allowed) and status != 500
            if not ok:
                expected = "200" if allowed == PUBLIC or role in allowed else "403 or 404"
                wrong.append(f"{role.value:<17} GET {path}: {status}, expected {expected}")
    assert not wrong, "\n".join(wrong)


async def test_a_volunteer_lists_and_reads_only_themselves(
    client: httpx.AsyncClient, community: Community, records: dict[str, str]
) -> None:
    me = community.as_(Role.VOLUNTEER, CALLER_SUBJECT)
    listed = await client.get("/v1/volunteers", headers=me)
    assert listed.status_code == 200, listed.text
    (mine,) = listed.json()["items"]
    assert mine["subject"] == CALLER_SUBJECT
    assert (await client.get(f"/v1/volunteers/{mine['id']}", headers=me)).json()["id"] == mine["id"]
    assert (await client.get(f"/v1/volunteers/{mine['id']}/ledger", headers=me)).status_code == 200
    other = await client.get(f"/v1/volunteers/{records['volunteer_id']}/ledger", headers=me)
    assert other.status_code == 403
    everyone = await client.get("/v1/volunteers", headers=community.as_(Role.GRID_WORKER))
    assert {v["id"] for v in everyone.json()["items"]} == {mine["id"], records["volunteer_id"]}


async def test_a_resident_lists_their_own_wishes_and_no_one_elses(
    client: httpx.AsyncClient, community: Community, records: dict[str, str]
) -> None:
    resident = records["resident_id"]
    own = community.as_(Role.RESIDENT, resident)
    listed = await client.get("/v1/wishes", headers=own)
    filtered = await client.get("/v1/wishes", params={"resident_id": resident}, headers=own)
    assert listed.status_code == filtered.status_code == 200, listed.text
    assert [w["id"] for w in listed.json()["items"]] == [records["wish_id"]]
    assert filtered.json() == listed.json()
    someone_else = community.as_(Role.RESIDENT, "another-resident")
    assert (await client.get("/v1/wishes", headers=someone_else)).json()["items"] == []
    asked = await client.get("/v1/wishes", params={"resident_id": resident}, headers=someone_else)
    assert asked.status_code == 403
