"""Roles granted and withdrawn within the granter's scope, on an audit trail, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from linli_registry.first_admin import AdminExists, make_first_admin
from linli_registry.settings import RegistrySettings
from linli_shared.auth import Role
from linli_shared.testing.http import bearer

from ..conftest import Place
from .accounts_helpers import as_bearer, grant, make_account, sign_in, signing_settings


@pytest.fixture
def registry_settings(database_url: str, nats_url: str) -> RegistrySettings:
    return signing_settings(database_url, nats_url)


def community_worker(place: Place) -> dict[str, str]:
    return bearer(Role.COMMUNITY_WORKER, place.district, place.community)


def district_admin(place: Place) -> dict[str, str]:
    return bearer(Role.DISTRICT_ADMIN, place.district)


async def test_the_grant_rule_table_holds_over_http(
    client: httpx.AsyncClient, place: Place, new_place: Any
) -> None:
    """A community worker makes grid workers, volunteers and residents of their community, never
    an admin; a district admin the community roles of their district; a city admin anything."""
    other: Place = await new_place()
    account = await make_account(client, place.district, place.community, as_role=Role.COMMUNITY_WORKER)
    account_id = account["id"]
    d, c = place.district, place.community
    expected = [
        (community_worker(place), Role.GRID_WORKER, d, c, 201),
        (community_worker(place), Role.COMMUNITY_WORKER, d, c, 403),
        (community_worker(place), Role.DISTRICT_ADMIN, d, None, 403),
        (community_worker(place), Role.CITY_ADMIN, None, None, 403),
        (district_admin(place), Role.COMMUNITY_WORKER, d, c, 201),
        (district_admin(place), Role.FUND_OFFICER, d, c, 201),
        (district_admin(place), Role.AUDITOR, d, None, 403),
        (district_admin(place), Role.DISTRICT_ADMIN, d, None, 403),
        (bearer(Role.GRID_WORKER, d, c), Role.GRID_WORKER, d, c, 403),
        (bearer(Role.AUDITOR, d), Role.GRID_WORKER, d, c, 403),
        (community_worker(other), Role.GRID_WORKER, d, c, 404),  # another community's account: unseen
        (district_admin(other), Role.GRID_WORKER, d, c, 404),
    ]
    for headers, role, district, community, status in expected:
        response = await grant(client, account_id, role, district, community, by=headers)
        assert response.status_code == status, (role, response.text)
        assert response.headers["content-type"].startswith("application/problem+json") or status == 201


async def test_a_city_admin_makes_a_district_admin_who_signs_in_as_one(
    client: httpx.AsyncClient, place: Place
) -> None:
    account = await make_account(client, place.district, None)
    made = await grant(client, account["id"], Role.DISTRICT_ADMIN, place.district)
    assert made.status_code == 201, made.text
    assert made.json()["community"] is None and made.json()["granted_by_role"] == "city_admin"
    token = (await sign_in(client, account["phone"])).json()["access_token"]
    statistics = await client.get("/v1/statistics?by=community", headers=as_bearer(token))
    assert statistics.status_code == 200, statistics.text


async def test_a_grant_outside_the_accounts_own_scope_is_refused(
    client: httpx.AsyncClient, place: Place, new_place: Any
) -> None:
    other: Place = await new_place()
    account = await make_account(client, place.district, place.community)
    response = await grant(client, account["id"], Role.GRID_WORKER, other.district, other.community)
    assert response.status_code == 422
    again = await grant(client, account["id"], Role.GRID_WORKER, place.district, place.community)
    assert again.status_code == 201
    twice = await grant(client, account["id"], Role.GRID_WORKER, place.district, place.community)
    assert twice.status_code == 409


async def test_a_resident_role_needs_the_resident_and_a_volunteer_role_the_volunteer(
    client: httpx.AsyncClient, place: Place
) -> None:
    account = await make_account(client, place.district, place.community)
    by = community_worker(place)
    assert (
        await grant(client, account["id"], Role.RESIDENT, place.district, place.community, by=by)
    ).status_code == 422
    assert (
        await grant(client, account["id"], Role.VOLUNTEER, place.district, place.community, by=by)
    ).status_code == 422
    linked = await client.patch(f"/v1/accounts/{account['id']}", json={"volunteer_id": "v-42"}, headers=by)
    assert linked.status_code == 200
    volunteer = await grant(client, account["id"], Role.VOLUNTEER, place.district, place.community, by=by)
    assert volunteer.status_code == 201, volunteer.text


async def test_withdrawal_ends_refresh_at_once_and_both_stay_on_the_trail(
    client: httpx.AsyncClient, place: Place
) -> None:
    account = await make_account(client, place.district, place.community)
    granted = (await grant(client, account["id"], Role.GRID_WORKER, place.district, place.community)).json()
    refresh_token = (await sign_in(client, account["phone"])).json()["refresh_token"]
    withdrawn = await client.delete(f"/v1/grants/{granted['id']}", headers=community_worker(place))
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["withdrawn_by_role"] == "community_worker" and withdrawn.json()["withdrawn_at"]
    again = await client.delete(f"/v1/grants/{granted['id']}", headers=district_admin(place))
    assert again.json()["withdrawn_at"] == withdrawn.json()["withdrawn_at"]  # withdrawn once
    assert again.json()["withdrawn_by_role"] == "community_worker"
    assert (await client.post("/v1/tokens/refresh", json={"refresh_token": refresh_token})).status_code == 401
    assert (await sign_in(client, account["phone"])).status_code == 403  # no role left

    trail = await client.get(
        f"/v1/grants?account_id={account['id']}", headers=bearer(Role.AUDITOR, place.district)
    )
    assert trail.status_code == 200
    [row] = trail.json()["items"]
    assert (row["granted_by_role"], row["withdrawn_by_role"]) == ("city_admin", "community_worker")


async def test_the_trail_is_read_by_auditors_and_admins_of_its_scope_only(
    client: httpx.AsyncClient, place: Place, new_place: Any
) -> None:
    other: Place = await new_place()
    account = await make_account(client, place.district, place.community)
    assert (
        await grant(client, account["id"], Role.GRID_WORKER, place.district, place.community)
    ).status_code == 201
    path = f"/v1/grants?account_id={account['id']}"
    for headers, count in [
        (bearer(Role.AUDITOR, place.district), 1),
        (district_admin(place), 1),
        (community_worker(place), 1),
        (bearer(Role.CITY_ADMIN, None), 1),
        (bearer(Role.AUDITOR, other.district), 0),
        (community_worker(other), 0),
    ]:
        response = await client.get(path, headers=headers)
        assert response.status_code == 200
        assert len(response.json()["items"]) == count
    for role in (Role.GRID_WORKER, Role.FUND_OFFICER, Role.VOLUNTEER, Role.RESIDENT):
        response = await client.get(path, headers=bearer(role, place.district, place.community))
        assert response.status_code == 403


async def test_accounts_are_managed_within_the_admins_scope(
    client: httpx.AsyncClient, place: Place, new_place: Any
) -> None:
    other: Place = await new_place()
    account = await make_account(client, place.district, place.community, as_role=Role.COMMUNITY_WORKER)
    assert (
        await client.get(f"/v1/accounts/{account['id']}", headers=community_worker(place))
    ).status_code == 200
    assert (
        await client.get(f"/v1/accounts/{account['id']}", headers=community_worker(other))
    ).status_code == 404
    assert (
        await client.get(
            f"/v1/accounts/{account['id']}", headers=bearer(Role.GRID_WORKER, place.district, place.community)
        )
    ).status_code == 403
    listed = await client.get("/v1/accounts", headers=district_admin(place))
    assert [a["id"] for a in listed.json()["items"]] == [account["id"]]
    assert (
        "password_hash" not in listed.json()["items"][0] and listed.json()["items"][0]["has_password"] is True
    )
    body = {
        "phone": "13912345678",
        "display_name": "外人",
        "district": other.district,
        "community": other.community,
    }
    assert (await client.post("/v1/accounts", json=body, headers=community_worker(place))).status_code == 404
    duplicate = {
        "phone": account["phone"],
        "display_name": "重复",
        "district": place.district,
        "community": place.community,
    }
    assert (
        await client.post("/v1/accounts", json=duplicate, headers=community_worker(place))
    ).status_code == 409


async def test_the_first_city_admin_is_made_once_and_signs_in(client: httpx.AsyncClient) -> None:
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    existing = await client.get("/v1/grants", headers=bearer(Role.CITY_ADMIN, None))
    assert all(g["role"] != "city_admin" or g["withdrawn_at"] for g in existing.json()["items"])
    account = await make_first_admin(factory, "138 0000 0001", "张建国", "first-admin-password")
    signed = await sign_in(client, "13800000001", "first-admin-password")
    assert signed.status_code == 200 and signed.json()["grant"]["role"] == "city_admin"
    created = await client.post(
        "/v1/districts",
        json={"code": "first", "name": "第一"},
        headers=as_bearer(signed.json()["access_token"]),
    )
    assert created.status_code == 201, created.text
    with pytest.raises(AdminExists):
        await make_first_admin(factory, "13800000002", "李四", "another-password")
    trail = await client.get(f"/v1/grants?account_id={account.id}", headers=bearer(Role.CITY_ADMIN, None))
    assert trail.json()["items"][0]["granted_by"] == "first-admin"


async def test_an_admin_cannot_take_over_an_account_holding_a_role_they_may_not_grant(
    client: httpx.AsyncClient, place: Place
) -> None:
    peer = await make_account(client, place.district, place.community)
    assert (
        await grant(client, peer["id"], Role.COMMUNITY_WORKER, place.district, place.community)
    ).status_code == 201
    takeover = {"password": "taken-over-password"}
    refused = await client.patch(f"/v1/accounts/{peer['id']}", json=takeover, headers=community_worker(place))
    assert refused.status_code == 403
    assert (await sign_in(client, peer["phone"], "taken-over-password")).status_code == 401
    allowed = await client.patch(f"/v1/accounts/{peer['id']}", json=takeover, headers=district_admin(place))
    assert allowed.status_code == 200


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM rolegrant WHERE id = :id",
        "UPDATE rolegrant SET role = 'city_admin', district = NULL, community = NULL WHERE id = :id",
        "UPDATE rolegrant SET withdrawn_by = 'someone-else' WHERE id = :id",  # withdrawn already
    ],
)
async def test_the_database_keeps_the_grant_trail_whoever_writes(
    client: httpx.AsyncClient, place: Place, statement: str
) -> None:
    account = await make_account(client, place.district, place.community)
    granted = (await grant(client, account["id"], Role.GRID_WORKER, place.district, place.community)).json()
    assert (
        await client.delete(f"/v1/grants/{granted['id']}", headers=district_admin(place))
    ).status_code == 200
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with pytest.raises(DBAPIError, match="audit trail"):
        async with engine.begin() as connection:
            await connection.execute(text(statement), {"id": granted["id"]})
    trail = await client.get(
        f"/v1/grants?account_id={account['id']}", headers=bearer(Role.AUDITOR, place.district)
    )
    [row] = trail.json()["items"]
    assert (row["role"], row["withdrawn_by_role"]) == ("grid_worker", "district_admin")
