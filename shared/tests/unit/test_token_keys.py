"""Tokens signed by the registry's Ed25519 key, verified with trusted public keys (JWKS)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from linli_shared.auth import (
    Caller,
    CallerDep,
    Role,
    TokenVerifier,
    issue_token,
    verifier_for,
)
from linli_shared.clock import utc_now
from linli_shared.errors import Unauthorized, install_problem_handlers
from linli_shared.testing.signing import jwks_of, key_of, new_signing_key_pem, signed_bearer
from linli_shared.token_keys import TrustedKeys, key_id

SECRET = "s" * 40


def token_of(header: dict[str, str]) -> str:
    return header["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def pem() -> str:
    return new_signing_key_pem()


async def test_a_token_signed_by_a_trusted_key_is_accepted(pem: str) -> None:
    verifier = TokenVerifier(TrustedKeys(jwks_of(pem)))
    token = token_of(signed_bearer(pem, Role.GRID_WORKER, "d1", "c1", subject="wang"))
    assert jwt.get_unverified_header(token) == {
        "alg": "EdDSA",
        "kid": key_id(key_of(pem).public_key()),
        "typ": "JWT",
    }
    assert await verifier.read(token) == Caller(
        subject="wang", role=Role.GRID_WORKER, district="d1", community="c1"
    )


async def test_a_token_signed_by_another_key_is_refused(pem: str) -> None:
    verifier = TokenVerifier(TrustedKeys(jwks_of(pem)))
    stranger = new_signing_key_pem()
    with pytest.raises(Unauthorized, match="does not trust"):
        await verifier.read(token_of(signed_bearer(stranger, Role.CITY_ADMIN, None)))


async def test_a_token_claiming_a_trusted_kid_but_signed_by_another_key_is_refused(pem: str) -> None:
    """The kid only picks the key; the signature must still hold under it."""
    verifier = TokenVerifier(TrustedKeys(jwks_of(pem)))
    forged = token_of(signed_bearer(new_signing_key_pem(), Role.CITY_ADMIN, None))
    header, payload, signature = forged.split(".")
    claimed = {"alg": "EdDSA", "kid": key_id(key_of(pem).public_key()), "typ": "JWT"}
    header = base64.urlsafe_b64encode(json.dumps(claimed).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthorized):
        await verifier.read(f"{header}.{payload}.{signature}")


async def test_a_tampered_token_is_refused(pem: str) -> None:
    verifier = TokenVerifier(TrustedKeys(jwks_of(pem)))
    header, payload, signature = token_of(signed_bearer(pem, Role.GRID_WORKER, "d1", "c1")).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = Role.CITY_ADMIN.value
    claims["district"] = claims["community"] = None
    raised = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthorized):
        await verifier.read(f"{header}.{raised}.{signature}")


async def test_an_expired_token_is_refused(pem: str) -> None:
    verifier = TokenVerifier(TrustedKeys(jwks_of(pem)))
    old = utc_now() - timedelta(hours=1)
    expired = token_of(signed_bearer(pem, Role.CITY_ADMIN, None, lifetime=timedelta(minutes=15), now=old))
    with pytest.raises(Unauthorized, match="expired"):
        await verifier.read(expired)


async def test_hs256_tokens_are_refused_without_a_secret_and_accepted_with_one(pem: str) -> None:
    token = issue_token(SECRET, role=Role.CITY_ADMIN, district=None)
    with pytest.raises(Unauthorized, match="HS256 is not accepted"):
        await TokenVerifier(TrustedKeys(jwks_of(pem))).read(token)
    assert (await TokenVerifier(TrustedKeys(jwks_of(pem)), SECRET).read(token)).role is Role.CITY_ADMIN


async def test_an_unsigned_token_is_refused(pem: str) -> None:
    claims = {"sub": "x", "role": "city_admin", "iss": "linli", "aud": "linli", "exp": 2**40}
    token = jwt.encode(claims, None, "none")  # type: ignore[arg-type]  # an unsigned token, on purpose
    with pytest.raises(Unauthorized, match="none is not accepted"):
        await TokenVerifier(TrustedKeys(jwks_of(pem)), SECRET).read(token)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def jwks_server(documents: list[dict[str, Any]], fetches: list[str]) -> httpx.AsyncClient:
    """A JWKS URL that serves the last of `documents` and counts its fetches."""

    def answer(request: httpx.Request) -> httpx.Response:
        fetches.append(str(request.url))
        return httpx.Response(200, json=documents[-1])

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def test_an_unknown_kid_refetches_the_jwks_at_most_once_per_interval(pem: str) -> None:
    """A new key (rotation) is fetched when a token names it; a flood of unknown kids does not
    become a flood of fetches."""
    fetches: list[str] = []
    documents = [jwks_of(pem)]
    clock = Clock()
    keys = TrustedKeys(url="http://registry/.well-known/jwks.json", refetch_seconds=30, clock=clock,
                       client=jwks_server(documents, fetches))  # fmt: skip
    verifier = TokenVerifier(keys)
    assert (await verifier.read(token_of(signed_bearer(pem, Role.CITY_ADMIN, None)))).role is Role.CITY_ADMIN
    assert len(fetches) == 1
    await verifier.read(token_of(signed_bearer(pem, Role.CITY_ADMIN, None)))
    assert len(fetches) == 1  # a known kid needs no fetch

    rotated = new_signing_key_pem()
    documents.append({"keys": jwks_of(pem)["keys"] + jwks_of(rotated)["keys"]})
    new_token = token_of(signed_bearer(rotated, Role.CITY_ADMIN, None))
    clock.now += 5  # too soon after the last fetch: refused without fetching
    with pytest.raises(Unauthorized):
        await verifier.read(new_token)
    with pytest.raises(Unauthorized):
        await verifier.read(token_of(signed_bearer(new_signing_key_pem(), Role.CITY_ADMIN, None)))
    assert len(fetches) == 1
    clock.now += 30
    assert (await verifier.read(new_token)).role is Role.CITY_ADMIN
    assert len(fetches) == 2


async def test_a_failed_fetch_keeps_the_keys_already_known(pem: str) -> None:
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, json=jwks_of(pem)) if len(calls) == 1 else httpx.Response(503)

    clock = Clock()
    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    keys = TrustedKeys(url="http://registry/jwks", refetch_seconds=1, clock=clock, client=client)
    verifier = TokenVerifier(keys)
    token = token_of(signed_bearer(pem, Role.CITY_ADMIN, None))
    await verifier.read(token)
    clock.now += 10
    with pytest.raises(Unauthorized):
        await verifier.read(token_of(signed_bearer(new_signing_key_pem(), Role.CITY_ADMIN, None)))
    assert len(calls) == 2
    assert (await verifier.read(token)).role is Role.CITY_ADMIN


async def test_a_service_with_inline_jwks_and_no_secret_reads_callers_from_signed_tokens_only(
    pem: str,
) -> None:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.settings = SimpleNamespace(
        jwt_secret=None, jwks=jwks_of(pem), trusted_jwks=lambda: jwks_of(pem)
    )

    @app.get("/me")
    async def me(caller: CallerDep) -> dict[str, str]:
        return {"subject": caller.subject}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        ok = await client.get("/me", headers=signed_bearer(pem, Role.CITY_ADMIN, None, subject="li"))
        hs256 = issue_token(SECRET, role=Role.CITY_ADMIN, district=None)
        refused = await client.get("/me", headers={"Authorization": f"Bearer {hs256}"})
    assert ok.json() == {"subject": "li"}
    assert refused.status_code == 401


def test_settings_without_a_secret_trust_no_hs256_key(pem: str) -> None:
    verifier = verifier_for(SimpleNamespace(jwt_secret=None, trusted_jwks=lambda: jwks_of(pem)))
    assert verifier.secret is None
    with_secret = verifier_for(SimpleNamespace(jwt_secret=SecretStr(SECRET)))
    assert with_secret.secret == SECRET
