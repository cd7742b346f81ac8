"""Bearer JWT auth: who is calling, with which role, over which district and community."""

from __future__ import annotations

import enum
import functools
import time
from datetime import datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, ValidationError

from linli_shared.clock import utc_now
from linli_shared.errors import Forbidden, NotFound, Unauthorized

ISSUER = "linli"
AUDIENCE = "linli"
ALGORITHM = "HS256"


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
    """The authenticated caller; `community` is set exactly for community-level roles."""

    model_config = ConfigDict(frozen=True)  # one verified token's caller serves all its requests

    subject: str
    role: Role
    district: str | None = None
    community: str | None = None

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
            raise NotFound(f"{what} not found")

    def check_role(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = ", ".join(sorted(r.value for r in roles))
            raise Forbidden(f"role {self.role.value} may not do this (needs one of: {allowed})")


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
    """Sign a token; refuses scopes that do not fit the role."""
    check_scope(role, district, community)
    issued = now or utc_now()
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "role": role.value,
        "district": district,
        "community": community,
        "iat": issued,
        "exp": issued + lifetime,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def check_scope(role: Role, district: str | None, community: str | None) -> None:
    if role is not Role.CITY_ADMIN and not district:
        raise ValueError(f"role {role.value} needs a district")
    if role in COMMUNITY_LEVEL and not community:
        raise ValueError(f"role {role.value} needs a community")


def read_token(secret: str, token: str) -> Caller:
    """The token's caller. A phone sends the same token with every request: its signature and
    claims are checked once, its expiry every time."""
    caller, expires = verified_token(secret, token)
    if expires <= time.time():
        raise Unauthorized("invalid token: Signature has expired")
    return caller


@functools.lru_cache(maxsize=4096)
def verified_token(secret: str, token: str) -> tuple[Caller, float]:
    """The caller and expiry of a token whose signature and claims hold (errors are not cached)."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
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
            }
        )
        check_scope(caller.role, caller.district, caller.community)
        expires = float(claims["exp"])
    except (jwt.PyJWTError, ValidationError, ValueError, KeyError) as error:
        raise Unauthorized(f"invalid token: {error}") from error
    return caller, expires


_bearer = HTTPBearer(auto_error=False)


async def current_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """Async although it does no I/O: a plain `def` dependency would run in FastAPI's thread pool."""
    if credentials is None:
        raise Unauthorized("a bearer token is required")
    secret: str = request.app.state.settings.jwt_secret.get_secret_value()
    return read_token(secret, credentials.credentials)


CallerDep = Annotated[Caller, Depends(current_caller)]
