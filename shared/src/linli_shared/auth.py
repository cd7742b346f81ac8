"""Bearer JWT auth: who is calling, with which role, over which district and community.

The registry signs tokens with an Ed25519 key (EdDSA, `kid` in the header); every service verifies
them with the public keys it trusts (`LINLI_JWKS` inline, `LINLI_JWKS_URL` fetched and cached), so no
service but the registry holds a key that can mint one. HS256 tokens (`issue_token`, `linli token`)
are for development and tests only: accepted only where `LINLI_JWT_SECRET` is set.
"""

from __future__ import annotations

import enum
import functools
import time
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, ValidationError

from linli_shared.clock import utc_now
from linli_shared.errors import Forbidden, Unauthorized, not_found
from linli_shared.field_labels import ROLE_NAMES
from linli_shared.token_keys import SIGNED_ALGORITHM, TrustedKeys, key_id

INVALID_ZH = "登录凭证无效，请重新登录"
ISSUER = "linli"
AUDIENCE = "linli"
ALGORITHM = "HS256"  # development and test tokens only


class Role(enum.StrEnum):
    CITY_ADMIN = "city_admin"
    DISTRICT_ADMIN = "district_admin"
    COMMUNITY_WORKER = "community_worker"
    GRID_WORKER = "grid_worker"
    FUND_OFFICER = "fund_officer"
    VOLUNTEER = "volunteer"
    AUDITOR = "auditor"
    RESIDENT = "resident"  # subject is the resident's registry id: they confirm their own wishes


DISTRICT_WIDE = {Role.DISTRICT_ADMIN, Role.AUDITOR}
COMMUNITY_LEVEL = {
    Role.COMMUNITY_WORKER,
    Role.GRID_WORKER,
    Role.FUND_OFFICER,
    Role.VOLUNTEER,
    Role.RESIDENT,
}


class Caller(BaseModel):
    """The authenticated caller; `community` is set exactly for community-level roles. `subject` is
    the resident id for RESIDENT and the volunteer id for VOLUNTEER; `account` the signed-in account
    (None for development tokens)."""

    model_config = ConfigDict(frozen=True)  # one verified token's caller serves all its requests

    subject: str
    role: Role
    district: str | None = None
    community: str | None = None
    account: str | None = None

    def can_see(self, district: str, community: str | None) -> bool:
        """Whether a record of this district/community lies within the caller's scope."""
        if self.role is Role.CITY_ADMIN:
            return True
        if district != self.district:
            return False
        if self.role in DISTRICT_WIDE:
            return True
        return community == self.community

    def check_sees(self, district: str, community: str | None, what: str = "record") -> None:
        """Out-of-scope records are reported missing, so callers learn nothing of them."""
        if not self.can_see(district, community):
            raise not_found(what)

    def check_role(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = ", ".join(sorted(r.value for r in roles))
            allowed_zh = "、".join(ROLE_NAMES[r.value] for r in sorted(roles))
            raise Forbidden(
                f"role {self.role.value} may not do this (needs one of: {allowed})",
                zh=f"{ROLE_NAMES[self.role.value]}不能做这件事（需要：{allowed_zh}）",
            )


def token_claims(
    *,
    role: Role,
    district: str | None,
    community: str | None,
    subject: str,
    lifetime: timedelta,
    now: datetime | None,
    account: str | None = None,
) -> dict[str, Any]:
    check_scope(role, district, community)
    issued = now or utc_now()
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "role": role.value,
        "district": district,
        "community": community,
        "iat": issued,
        "exp": issued + lifetime,
        "jti": uuid.uuid4().hex,
    }
    if account is not None:
        claims["acc"] = account
    return claims


def issue_token(
    secret: str,
    *,
    role: Role,
    district: str | None,
    community: str | None = None,
    subject: str = "dev",
    lifetime: timedelta = timedelta(hours=12),
    now: datetime | None = None,
) -> str:
    """Sign an HS256 development token (for `linli token` and tests only); refuses scopes that do
    not fit the role."""
    claims = token_claims(
        role=role, district=district, community=community, subject=subject, lifetime=lifetime, now=now
    )
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def sign_token(
    private_key: Ed25519PrivateKey,
    *,
    role: Role,
    district: str | None,
    community: str | None,
    subject: str,
    account: str | None,
    lifetime: timedelta,
    now: datetime | None = None,
) -> str:
    """An EdDSA access token, its `kid` the thumbprint of the key that signed it."""
    claims = token_claims(
        role=role,
        district=district,
        community=community,
        subject=subject,
        lifetime=lifetime,
        now=now,
        account=account,
    )
    kid = key_id(private_key.public_key())
    return jwt.encode(claims, private_key, algorithm=SIGNED_ALGORITHM, headers={"kid": kid})


def check_scope(role: Role, district: str | None, community: str | None) -> None:
    if role is not Role.CITY_ADMIN and not district:
        raise ValueError(f"role {role.value} needs a district")
    if role in COMMUNITY_LEVEL and not community:
        raise ValueError(f"role {role.value} needs a community")


def read_token(secret: str, token: str) -> Caller:
    """The caller of an HS256 token. A phone sends the same token with every request: its
    signature and claims are checked once, its expiry every time."""
    return unexpired(*verified_token(secret, token))


def unexpired(caller: Caller, expires: float) -> Caller:
    if expires <= time.time():
        raise Unauthorized("invalid token: Signature has expired", zh="登录已过期，请重新登录")
    return caller


def verified_token(secret: str, token: str) -> tuple[Caller, float]:
    """The caller and expiry of an HS256 token whose signature and claims hold."""
    return verified_claims(ALGORITHM, secret, token)


@functools.lru_cache(maxsize=4096)
def verified_claims(algorithm: str, key: str | bytes, token: str) -> tuple[Caller, float]:
    """The caller and expiry of a token whose signature and claims hold (errors are not cached).
    The key is part of the cache key: a token is remembered as verified by this key only."""
    try:
        verifying_key: str | Ed25519PublicKey = (
            Ed25519PublicKey.from_public_bytes(key) if isinstance(key, bytes) else key
        )
        claims = jwt.decode(
            token,
            verifying_key,
            algorithms=[algorithm],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
        caller = Caller.model_validate(
            {
                "subject": claims["sub"],
                "role": claims.get("role"),
                "district": claims.get("district"),
                "community": claims.get("community"),
                "account": claims.get("acc"),
            }
        )
        check_scope(caller.role, caller.district, caller.community)
        expires = float(claims["exp"])
    except (jwt.PyJWTError, ValidationError, ValueError, KeyError, TypeError) as error:
        raise Unauthorized(f"invalid token: {error}", zh=INVALID_ZH) from error
    return caller, expires


@functools.lru_cache(maxsize=4096)
def token_header(token: str) -> tuple[Any, Any]:
    """The algorithm and key id a token's header names, unverified. Remembered like its claims: PyJWT
    checks each character of all three parts, every time."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise Unauthorized(f"invalid token: {error}", zh=INVALID_ZH) from error
    return header.get("alg"), header.get("kid")


class TokenVerifier:
    """Reads the caller of an EdDSA token signed by a trusted key or, where a development secret
    is configured, of an HS256 token."""

    def __init__(self, keys: TrustedKeys, secret: str | None = None) -> None:
        self.keys = keys
        self.secret = secret

    async def read(self, token: str) -> Caller:
        algorithm, kid = token_header(token)
        if algorithm == SIGNED_ALGORITHM:
            key = await self.keys.key(kid) if isinstance(kid, str) else None
            if key is None:
                raise Unauthorized(
                    "invalid token: signed by a key this service does not trust", zh=INVALID_ZH
                )
            return unexpired(*verified_claims(SIGNED_ALGORITHM, key, token))
        if algorithm == ALGORITHM and self.secret is not None:
            return read_token(self.secret, token)
        raise Unauthorized(f"invalid token: algorithm {algorithm} is not accepted here", zh=INVALID_ZH)


def verifier_for(settings: Any) -> TokenVerifier:
    """The verifier a service's settings describe: LINLI_JWKS, LINLI_JWKS_URL, LINLI_JWT_SECRET, and
    (in the registry) its own signing key."""
    secret = getattr(settings, "jwt_secret", None)
    trusted = getattr(settings, "trusted_jwks", None)
    keys = TrustedKeys(
        trusted() if callable(trusted) else None,
        url=getattr(settings, "jwks_url", None),
        refetch_seconds=getattr(settings, "jwks_refetch_seconds", 30),
    )
    return TokenVerifier(keys, secret.get_secret_value() if secret is not None else None)


def app_verifier(app: FastAPI) -> TokenVerifier:
    """The app's verifier, made from its settings on first use and kept with the app."""
    verifier: TokenVerifier | None = getattr(app.state, "token_verifier", None)
    if verifier is None:
        verifier = app.state.token_verifier = verifier_for(app.state.settings)
    return verifier


class BearerCaller(HTTPBearer):
    """The caller of the request's bearer token. One dependency, which OpenAPI still shows as HTTP
    bearer security: each level of dependencies costs FastAPI a pass on every request.

    Async: a plain `def` dependency would run in FastAPI's thread pool. It does I/O only to fetch
    the trusted keys when a token names a key not seen before."""

    async def __call__(self, request: Request) -> Caller:  # type: ignore[override]
        credentials = await super().__call__(request)
        if credentials is None:
            raise Unauthorized("a bearer token is required", zh="请先登录")
        return await app_verifier(request.app).read(credentials.credentials)


current_caller = BearerCaller(auto_error=False, scheme_name="HTTPBearer")

CallerDep = Annotated[Caller, Depends(current_caller)]
