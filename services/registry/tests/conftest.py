from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date

import httpx
import pytest

from linli_registry.app import create_app
from linli_registry.domain import id_check_char
from linli_registry.settings import RegistrySettings
from linli_shared.auth import Role
from linli_shared.testing.http import TEST_JWT_SECRET, bearer, running_app

JWT_SECRET = TEST_JWT_SECRET
ID_HASH_KEY = "test-id-hash-key-" + "y" * 32
_serial = itertools.count(100)


def make_id_number(birth: date = date(1950, 3, 1), region: str = "110105") -> str:
    """A valid, unique 18-character ID number for the given birth date."""
    first17 = f"{region}{birth:%Y%m%d}{next(_serial) % 1000:03d}"
    return first17 + id_check_char(first17)


headers = bearer


@dataclass
class Place:
    district: str
    community: str
    grid: str

    def as_(self, role: Role, subject: str = "tester") -> dict[str, str]:
        return bearer(role, self.district, self.community, subject)


@pytest.fixture
def id_number() -> Callable[..., str]:
    return make_id_number


@pytest.fixture
def registry_settings(database_url: str, nats_url: str) -> RegistrySettings:
    return RegistrySettings(
        database_url=database_url,
        nats_url=nats_url,
        jwt_secret=JWT_SECRET,
        id_hash_key=ID_HASH_KEY,
        care_check_seconds=3600,
    )


@pytest.fixture
async def client(registry_settings: RegistrySettings) -> AsyncIterator[httpx.AsyncClient]:
    """The registry in this process, lifespan included (migrations, bus, relay)."""
    async with running_app(create_app(registry_settings)) as http:
        yield http


@pytest.fixture
def new_place(client: httpx.AsyncClient) -> Callable[[], object]:
    async def create() -> Place:
        place = Place(f"d{uuid.uuid4().hex[:8]}", f"c{uuid.uuid4().hex[:8]}", "zone-1")
        admin = headers(Role.CITY_ADMIN, None)
        for path, body in (
            ("/v1/districts", {"code": place.district, "name": "高桥营街道"}),
            ("/v1/communities", {"district": place.district, "code": place.community, "name": "东李庄社区"}),
            (
                "/v1/grids",
                {
                    "district": place.district,
                    "community": place.community,
                    "code": place.grid,
                    "name": "一片区",
                    "grid_worker": "grid-worker-1",
                },
            ),
        ):
            response = await client.post(path, json=body, headers=admin)
            assert response.status_code == 201, response.text
        return place

    return create


@pytest.fixture
async def place(new_place: Callable[[], object]) -> Place:
    return await new_place()  # type: ignore[misc]


@pytest.fixture
def register(client: httpx.AsyncClient) -> Callable[..., object]:
    async def register_resident(place: Place, **overrides: object) -> dict[str, object]:
        body = {
            "district": place.district,
            "community": place.community,
            "grid_code": place.grid,
            "full_name": "李国昌",
            "gender": "male",
            "id_number": make_id_number(),
            "tags": [],
            **overrides,
        }
        response = await client.post("/v1/residents", json=body, headers=place.as_(Role.COMMUNITY_WORKER))
        assert response.status_code == 201, response.text
        return dict(response.json())

    return register_resident


@pytest.fixture(scope="session")
def make_headers() -> Callable[..., dict[str, str]]:
    return headers


@pytest.fixture(scope="session")
def test_secrets() -> dict[str, str]:
    return {"jwt_secret": JWT_SECRET, "id_hash_key": ID_HASH_KEY}
