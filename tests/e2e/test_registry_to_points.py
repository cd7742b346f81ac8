"""Registry → points, both as real processes: a registered resident becomes known to points."""

from __future__ import annotations

import uuid

import httpx
import pytest

from linli_shared.auth import Role, issue_token
from linli_shared.testing.waiting import eventually

from .conftest import JWT_SECRET

pytestmark = [pytest.mark.e2e, pytest.mark.nats]


def bearer(role: Role, district: str | None = None, community: str | None = None) -> dict[str, str]:
    token = issue_token(JWT_SECRET, role=role, district=district, community=community)
    return {"Authorization": f"Bearer {token}"}


async def test_resident_registered_in_the_registry_can_enrol_as_a_volunteer_in_points(
    start_service, nats_url
) -> None:
    registry = start_service("registry", nats_url)
    points = start_service("points", nats_url)
    district = f"d{uuid.uuid4().hex[:8]}"
    admin = bearer(Role.CITY_ADMIN)
    worker = bearer(Role.COMMUNITY_WORKER, district, "donglizhuang")
    for path, body in (
        ("/v1/districts", {"code": district, "name": "高桥营街道"}),
        ("/v1/communities", {"district": district, "code": "donglizhuang", "name": "东李庄社区"}),
    ):
        assert httpx.post(registry.url + path, json=body, headers=admin).status_code == 201
    resident = httpx.post(
        registry.url + "/v1/residents",
        json={
            "district": district,
            "community": "donglizhuang",
            "full_name": "李红亮",
            "gender": "male",
            "id_number": "11010519491231002X",
            "tags": ["party_member"],
        },
        headers=worker,
    ).json()
    volunteer = {
        "district": district,
        "community": "donglizhuang",
        "subject": "li-hongliang",
        "full_name": "李红亮",
        "resident_id": resident["id"],
        "party_member": True,
    }

    async def enrolled() -> httpx.Response | None:
        response = httpx.post(points.url + "/v1/volunteers", json=volunteer, headers=worker)
        assert response.status_code in (201, 422), response.text
        return response if response.status_code == 201 else None

    response = await eventually(enrolled, timeout=30, every=0.2)
    assert response.json()["resident_id"] == resident["id"]

    moved = httpx.post(
        registry.url + f"/v1/residents/{resident['id']}/move-out", json={"on": "2026-01-01"}, headers=worker
    )
    assert moved.status_code == 200
    second = {**volunteer, "subject": "someone-else"}

    async def refused() -> bool:
        english = {**worker, "Accept-Language": "en"}  # the detail names the status as the registry does
        answer = httpx.post(points.url + "/v1/volunteers", json=second, headers=english)
        return answer.status_code == 422 and "moved_out" in answer.json()["detail"]

    assert await eventually(refused, timeout=30, every=0.2)
