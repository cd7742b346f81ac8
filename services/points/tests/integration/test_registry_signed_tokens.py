"""The points service trusts the registry's tokens by its public key alone (LINLI_JWKS), holds no
key that can mint one, and refuses a token once it expires."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from linli_points.settings import PointsSettings
from linli_registry.app import create_app as create_registry
from linli_registry.settings import RegistrySettings
from linli_shared import auth
from linli_shared.auth import Role, issue_token
from linli_shared.clock import utc_now
from linli_shared.testing.communities import registered_place
from linli_shared.testing.http import TEST_JWT_SECRET, bearer, running_app
from linli_shared.testing.signing import jwks_of, new_signing_key_pem, signed_bearer

SIGNING_KEY = new_signing_key_pem()
NATS_AWAY = "nats://127.0.0.1:9"


@pytest.fixture
def points_settings(database_url: str) -> PointsSettings:
    """No LINLI_JWT_SECRET: only tokens signed by the registry's key are accepted."""
    return PointsSettings(database_url=database_url, nats_url=NATS_AWAY, jwks=jwks_of(SIGNING_KEY))


@pytest.fixture
async def registry(tmp_path: Path, nats_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = RegistrySettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}",
        nats_url=nats_url,
        jwt_secret=TEST_JWT_SECRET,
        id_hash_key="test-id-hash-key-" + "y" * 32,
        signing_key=SIGNING_KEY,
        care_check_seconds=3600,
    )
    async with running_app(create_registry(settings)) as http:
        yield http


async def signed_in_worker(registry: httpx.AsyncClient) -> str:
    """A community worker's account made in the registry and signed in with its password."""
    district, community = await registered_place(registry)
    admin = bearer(Role.CITY_ADMIN, None)
    phone = f"138{uuid.uuid4().int % 10**8:08d}"
    account = {"phone": phone, "display_name": "张敏", "password": "长城-long-enough-1", "district": district,
               "community": community}  # fmt: skip
    made = await registry.post("/v1/accounts", json=account, headers=admin)
    assert made.status_code == 201, made.text
    role = {"role": "community_worker", "district": district, "community": community}
    assert (
        await registry.post(f"/v1/accounts/{made.json()['id']}/grants", json=role, headers=admin)
    ).status_code == 201
    signed = await registry.post("/v1/sign-in", json={"phone": phone, "password": "长城-long-enough-1"})
    assert signed.status_code == 200, signed.text
    return str(signed.json()["access_token"])


async def test_points_accepts_a_registry_signed_token_and_refuses_it_after_expiry(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await signed_in_worker(registry)
    headers = {"Authorization": f"Bearer {token}"}
    accepted = await client.get("/v1/teams", headers=headers)
    assert accepted.status_code == 200, accepted.text
    later = time.time() + 15 * 60 + 1  # the access token's lifetime has passed
    monkeypatch.setattr(auth, "time", SimpleNamespace(time=lambda: later, monotonic=time.monotonic))
    expired = await client.get("/v1/teams", headers=headers)
    assert expired.status_code == 401
    assert expired.headers["content-type"] == "application/problem+json"


async def test_points_refuses_expired_development_and_foreign_tokens(client: httpx.AsyncClient) -> None:
    past = utc_now() - timedelta(hours=1)
    for headers in (
        signed_bearer(SIGNING_KEY, Role.CITY_ADMIN, None, now=past),  # expired
        signed_bearer(new_signing_key_pem(), Role.CITY_ADMIN, None),  # a key points does not trust
        {"Authorization": f"Bearer {issue_token(TEST_JWT_SECRET, role=Role.CITY_ADMIN, district=None)}"},
    ):
        response = await client.get("/v1/teams", headers=headers)
        assert response.status_code == 401, response.text
    assert (
        await client.get("/v1/teams", headers=signed_bearer(SIGNING_KEY, Role.CITY_ADMIN, None))
    ).status_code == 200
