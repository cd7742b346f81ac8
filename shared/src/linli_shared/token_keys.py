"""Trusted public keys: Ed25519 keys as JWKs, their thumbprints (`kid`), and the set of keys a
service trusts, given inline (LINLI_JWKS) or fetched from a JWKS URL (LINLI_JWKS_URL) and cached."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

log = logging.getLogger(__name__)

SIGNED_ALGORITHM = "EdDSA"  # the registry's tokens


def new_signing_key_pem() -> str:
    """A fresh Ed25519 private key in PEM, as LINLI_REGISTRY_SIGNING_KEY takes it (never committed)."""
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """The RFC 7638 thumbprint of the key: the same key always has the same `kid`."""
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": b64(public_bytes(key))}, separators=(",", ":")
    )
    return b64(hashlib.sha256(canonical.encode()).digest())


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    """The public key as a JWK, for a JWKS document."""
    x = b64(public_bytes(key))
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": key_id(key), "alg": SIGNED_ALGORITHM, "use": "sig"}


def ed25519_key(jwk: Mapping[str, Any]) -> tuple[str, bytes] | None:
    """(kid, raw public key) of an Ed25519 JWK; None for any other kind of key."""
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(jwk.get("x"), str):
        return None
    raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    if len(raw) != 32:
        return None
    kid = jwk.get("kid") or key_id(Ed25519PublicKey.from_public_bytes(raw))
    return str(kid), raw


def keys_of(jwks: Mapping[str, Any] | None) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for jwk in (jwks or {}).get("keys", []):
        if isinstance(jwk, Mapping) and (found := ed25519_key(jwk)) is not None:
            keys[found[0]] = found[1]
    return keys


class TrustedKeys:
    """The public keys tokens may be signed with: given ones, and those of a JWKS URL, fetched when
    first needed and again on an unknown `kid`, at most once per `refetch_seconds`."""

    def __init__(
        self,
        given: Mapping[str, Any] | None = None,
        *,
        url: str | None = None,
        refetch_seconds: float = 30,
        clock: Callable[[], float] = time.monotonic,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._given = keys_of(given)
        self._fetched: dict[str, bytes] = {}
        self._url = url
        self._refetch_seconds = refetch_seconds
        self._clock = clock
        self._client = client
        self._last_fetch: float | None = None
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> bytes | None:
        """The raw public key of this kid, or None if it is trusted nowhere."""
        if (key := self._given.get(kid) or self._fetched.get(kid)) is not None:
            return key
        if self._url is None:
            return None
        async with self._lock:  # many requests with one new kid wait for one fetch
            if kid not in self._fetched and self._may_fetch():
                await self._fetch(self._url)
        return self._fetched.get(kid)

    def _may_fetch(self) -> bool:
        return self._last_fetch is None or self._clock() - self._last_fetch >= self._refetch_seconds

    async def _fetch(self, url: str) -> None:
        self._last_fetch = self._clock()
        try:
            if self._client is not None:
                response = await self._client.get(url, timeout=5)
            else:
                async with httpx.AsyncClient(timeout=5) as client:
                    response = await client.get(url)
            response.raise_for_status()
            self._fetched = keys_of(response.json())
        except (httpx.HTTPError, ValueError) as error:  # keep the keys we had
            log.warning("could not fetch the trusted keys from %s: %s", url, error)
