from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from linli_points.app import create_app
from linli_points.settings import PointsSettings
from linli_points.subscribers import REGISTRY, handlers
from linli_shared.auth import Role
from linli_shared.testing.communities import Community, feed_resident
from linli_shared.testing.http import TEST_JWT_SECRET, running_app

NATS_AWAY = "nats://127.0.0.1:9"  # the discard port: nothing listens there


@pytest.fixture
def points_settings(database_url: str) -> PointsSettings:
    """The service with NATS away: these tests feed events through the inbox themselves and read
    the outbox table, so no test replays another's events (the bus path has its own tests)."""
    return PointsSettings(database_url=database_url, nats_url=NATS_AWAY, jwt_secret=TEST_JWT_SECRET)


@pytest.fixture
async def client(points_settings: PointsSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_app(points_settings)) as http:
        yield http


@pytest.fixture
def community() -> Community:
    return Community.new()


@pytest.fixture
def known_resident(client: httpx.AsyncClient) -> Callable[..., object]:
    """Feed a resident into the read model through the real inbox path."""

    async def feed(community: Community, **details: object) -> str:
        factory = client.app.state.session_factory  # type: ignore[attr-defined]
        return await feed_resident(factory, REGISTRY.consumer.durable, handlers, community, **details)

    return feed


@pytest.fixture
def enrol(client: httpx.AsyncClient) -> Callable[..., object]:
    async def enrol_volunteer(
        community: Community, subject: str | None = None, **extra: object
    ) -> dict[str, object]:
        body = {
            "district": community.district,
            "community": community.community,
            "subject": subject or f"v-{uuid.uuid4().hex[:6]}",
            "full_name": "李红亮",
            **extra,
        }
        response = await client.post(
            "/v1/volunteers", json=body, headers=community.as_(Role.COMMUNITY_WORKER)
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    return enrol_volunteer


@pytest.fixture
def credit(client: httpx.AsyncClient) -> Callable[..., object]:
    async def credit_points(community: Community, volunteer_id: str, points: int) -> None:
        response = await client.post(
            "/v1/points/adjustments",
            json={"volunteer_id": volunteer_id, "points": points, "reason": "opening"},
            headers=community.as_(Role.COMMUNITY_WORKER),
        )
        assert response.status_code == 201, response.text

    return credit_points


@pytest.fixture
def stocked_item(client: httpx.AsyncClient) -> Callable[..., object]:
    async def create(community: Community, *, price: int, stock: int, **extra: object) -> dict[str, object]:
        worker = community.as_(Role.COMMUNITY_WORKER)
        body = {
            "district": community.district,
            "community": community.community,
            "name": "米 5kg",
            "points_price": price,
            **extra,
        }
        item = await client.post("/v1/items", json=body, headers=worker)
        assert item.status_code == 201, item.text
        intake = await client.post(
            f"/v1/items/{item.json()['id']}/intakes",
            json={"quantity": stock, "source": "donation"},
            headers=worker,
        )
        assert intake.status_code == 201, intake.text
        return dict(intake.json())

    return create
