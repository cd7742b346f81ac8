"""What the account and sign-in tests share: a registry that can sign, and accounts made through
its API."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import httpx
from cryptography.fernet import Fernet

from linli_registry.settings import RegistrySettings
from linli_shared.auth import Role
from linli_shared.testing.http import TEST_JWT_SECRET, bearer
from linli_shared.testing.signing import new_signing_key_pem

SIGNING_KEY = new_signing_key_pem()  # made in each run, never committed
CODE_KEY = Fernet.generate_key().decode()
ID_HASH_KEY = "test-id-hash-key-" + "y" * 32
PASSWORD = "长城-long-enough-1"
_phones = itertools.count(int(uuid.uuid4().int % 10**6))


def signing_settings(database_url: str, nats_url: str, **overrides: Any) -> RegistrySettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "nats_url": nats_url,
        "jwt_secret": TEST_JWT_SECRET,  # admins in these tests still use development tokens
        "id_hash_key": ID_HASH_KEY,
        "care_check_seconds": 3600,
        "signing_key": SIGNING_KEY,
        "sign_in_code_key": CODE_KEY,
        "sign_in_failures_per_phone": 3,
        "sign_in_failures_per_address": 8,
        **overrides,
    }
    return RegistrySettings(**values)


def new_phone() -> str:
    return f"139{next(_phones) % 10**8:08d}"


async def make_account(
    client: httpx.AsyncClient,
    district: str | None,
    community: str | None,
    *,
    as_role: Role = Role.CITY_ADMIN,
    password: str | None = PASSWORD,
    **extra: object,
) -> dict[str, Any]:
    body = {
        "phone": new_phone(),
        "display_name": "王秀兰",
        "district": district,
        "community": community,
        **extra,
    }
    if password is not None:
        body["password"] = password
    response = await client.post("/v1/accounts", json=body, headers=bearer(as_role, district, community))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def grant(
    client: httpx.AsyncClient,
    account_id: str,
    role: Role,
    district: str | None,
    community: str | None = None,
    *,
    by: dict[str, str] | None = None,
) -> httpx.Response:
    body = {"role": role.value, "district": district, "community": community}
    return await client.post(
        f"/v1/accounts/{account_id}/grants", json=body, headers=by or bearer(Role.CITY_ADMIN, None)
    )


async def sign_in(
    client: httpx.AsyncClient, phone: str, password: str = PASSWORD, **extra: object
) -> httpx.Response:
    return await client.post("/v1/sign-in", json={"phone": phone, "password": password, **extra})


def as_bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
