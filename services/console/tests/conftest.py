"""The console in this process, in front of the real registry app (its lifespan run, on the test's
database and NATS), reached through an in-process transport; notify is left unreachable."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from linli_console.app import create_app as create_console
from linli_console.services import Services
from linli_console.settings import ConsoleSettings
from linli_registry.app import create_app as create_registry
from linli_registry.settings import RegistrySettings
from linli_shared.auth import Role
from linli_shared.natsserver import free_port
from linli_shared.testing.communities import registered_place
from linli_shared.testing.http import TEST_JWT_SECRET, bearer, running_app
from linli_shared.testing.signing import new_signing_key_pem

CONSOLE = "http://console.test"
ID_CHECK = "10X98765432"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number() -> str:
    first17 = f"11010519440308{uuid.uuid4().int % 1000:03d}"
    return first17 + ID_CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


class Route(httpx.AsyncBaseTransport):
    """http://registry goes to the registry app in this process; any other host is a refused connection."""

    def __init__(self, registry: httpx.AsyncBaseTransport) -> None:
        self.registry = registry

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "registry":
            return await self.registry.handle_async_request(request)
        raise httpx.ConnectError("nothing listens there", request=request)


@dataclass
class Desk:
    """The console as a browser sees it, and the registry as an admin calls it."""

    browser: httpx.AsyncClient
    registry: httpx.AsyncClient
    district: str
    community: str
    phone: str
    password: str
    account_id: str

    async def sign_in(self) -> httpx.Response:
        return await self.browser.post(
            "/sign-in", data={"phone": self.phone, "password": self.password}, headers={"Origin": CONSOLE}
        )

    def as_worker(self) -> dict[str, str]:
        return bearer(Role.COMMUNITY_WORKER, self.district, self.community, "cw-zhang")

    async def created(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        response = await self.registry.post(path, json=body, headers=headers)
        assert response.status_code == 201, response.text
        return dict(response.json())


@pytest.fixture
async def registry(database_url: str, nats_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = RegistrySettings(
        database_url=database_url,
        nats_url=nats_url,
        jwt_secret=TEST_JWT_SECRET,
        id_hash_key="test-id-hash-key-" + "y" * 32,
        signing_key=new_signing_key_pem(),
        care_check_seconds=3600,
    )
    async with running_app(create_registry(settings)) as client:
        yield client


def console_settings(**changes: Any) -> ConsoleSettings:
    dead = f"http://127.0.0.1:{free_port()}"
    values: dict[str, Any] = {
        "registry_url": "http://registry",
        "points_url": dead,
        "fund_url": dead,
        "notify_url": dead,
        "cookie_secure": False,
        **changes,
    }
    return ConsoleSettings(**values)


@pytest.fixture
async def desk(registry: httpx.AsyncClient) -> AsyncIterator[Desk]:
    """A community with a grid worker who has a password, and the console in front of the registry."""
    app = create_console(console_settings())
    registry_transport = httpx.ASGITransport(app=registry.app)  # type: ignore[attr-defined]
    async with app.router.lifespan_context(app):
        await app.state.services.client.aclose()
        app.state.services = Services(
            app.state.settings, httpx.AsyncClient(transport=Route(registry_transport))
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=CONSOLE) as browser:
            district, community = await registered_place(registry)
            admin = bearer(Role.CITY_ADMIN, None)
            phone, password = f"100{uuid.uuid4().int % 10**8:08d}", secrets.token_urlsafe(12)
            account = await registry.post(
                "/v1/accounts",
                json={
                    "phone": phone,
                    "display_name": "李网格",
                    "password": password,
                    "district": district,
                    "community": community,
                },
                headers=admin,
            )
            assert account.status_code == 201, account.text
            account_id = account.json()["id"]
            grant = await registry.post(
                f"/v1/accounts/{account_id}/grants",
                json={"role": "grid_worker", "district": district, "community": community},
                headers=admin,
            )
            assert grant.status_code == 201, grant.text
            yield Desk(browser, registry, district, community, phone, password, account_id)
        await app.state.services.client.aclose()


async def elder_in_care(desk: Desk, name: str, *, every_hours: int, formed_hours_ago: float) -> str:
    resident = await desk.created(
        "/v1/residents",
        {
            "district": desk.district,
            "community": desk.community,
            "full_name": name,
            "gender": "female",
            "id_number": id_number(),
            "tags": ["living_alone"],
        },
        desk.as_worker(),
    )
    await desk.created(
        "/v1/care-groups",
        {
            "resident_id": resident["id"],
            "community_worker": "cw-zhang",
            "grid_worker": desk.account_id,
            "neighbour_name": "赵大妈",
            "visit_every_hours": every_hours,
            "call_every_days": 7,
            "formed_at": (datetime.now(UTC) - timedelta(hours=formed_hours_ago)).isoformat(),
        },
        desk.as_worker(),
    )
    return str(resident["id"])
