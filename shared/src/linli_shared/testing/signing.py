"""Signing keys for tests: made fresh in each run (a key is never committed), and tokens signed
with them as the registry signs them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from linli_shared.auth import Role, sign_token
from linli_shared.token_keys import new_signing_key_pem as new_signing_key_pem  # for tests to import here
from linli_shared.token_keys import public_jwk


def key_of(pem: str) -> Ed25519PrivateKey:
    key = load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def jwks_of(pem: str) -> dict[str, Any]:
    """The JWKS document of the key's public half, as LINLI_JWKS takes it."""
    return {"keys": [public_jwk(key_of(pem).public_key())]}


def signed_bearer(
    pem: str,
    role: Role,
    district: str | None,
    community: str | None = None,
    subject: str = "tester",
    *,
    lifetime: timedelta = timedelta(minutes=15),
    now: datetime | None = None,
) -> dict[str, str]:
    """Authorization header with an EdDSA token signed by this key."""
    token = sign_token(
        key_of(pem),
        role=role,
        district=district,
        community=community,
        subject=subject,
        account=None,
        lifetime=lifetime,
        now=now,
    )
    return {"Authorization": f"Bearer {token}"}
