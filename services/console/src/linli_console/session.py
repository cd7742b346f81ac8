"""The signed-in person: their own access and refresh token in HttpOnly, SameSite=Strict cookies,
renewed through the registry's refresh endpoint; every service call carries their access token."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request, Response

from linli_console.services import Refusal, Services, SignInNeeded, refusal_of
from linli_console.settings import ConsoleSettings
from linli_shared.field_labels import ROLE_NAMES

RENEW_MARGIN_SECONDS = 30
"""An access token this close to its end is renewed before use, so a call never fails half-way."""
RENEWAL_MEMORY_SECONDS = 60.0
"""How long a used refresh token's successor is remembered: two tabs renewing at once share one
renewal (the registry ends every token of a sign-in whose refresh token is used twice)."""
MAX_PAGES = 20


@dataclass(frozen=True)
class Person:
    """Who the access token says the person is: read to choose pages, never to grant anything
    (each service verifies the token itself and decides what to show)."""

    subject: str
    role: str
    district: str | None
    community: str | None
    expires_at: float

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)

    def expiring(self, now: float) -> bool:
        return self.expires_at - RENEW_MARGIN_SECONDS <= now


def person_of(token: str | None) -> Person | None:
    """The claims of a JWT, unverified (the console holds no key; the services check the signature)."""
    if not token or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return Person(
            subject=str(claims["sub"]),
            role=str(claims["role"]),
            district=claims.get("district"),
            community=claims.get("community"),
            expires_at=float(claims["exp"]),
        )
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    display_name: str = ""
    """The person's name as the registry answers sign-in and renewal: shown in the header, kept in
    its own cookie beside the tokens (the tokens carry no name)."""


def tokens_of(body: dict[str, Any]) -> Tokens | None:
    if not body.get("access_token") or not body.get("refresh_token"):
        return None
    name = str(body.get("display_name") or "")[:100]
    return Tokens(
        str(body["access_token"]), str(body["refresh_token"]), int(body.get("expires_in") or 900), name
    )


def name_cookie(settings: ConsoleSettings) -> str:
    return f"{settings.cookie_prefix}_name"


def set_session_cookies(response: Response, settings: ConsoleSettings, tokens: Tokens) -> None:
    common: dict[str, Any] = {"httponly": True, "samesite": "strict", "secure": settings.cookie_secure}
    response.set_cookie(settings.access_cookie, tokens.access_token, max_age=tokens.expires_in, **common)
    days = settings.refresh_cookie_days * 86400
    response.set_cookie(settings.refresh_cookie, tokens.refresh_token, max_age=days, **common)
    if tokens.display_name:
        response.set_cookie(
            name_cookie(settings), quote(tokens.display_name, safe=""), max_age=days, **common
        )


def clear_session_cookies(response: Response, settings: ConsoleSettings) -> None:
    for name in (settings.access_cookie, settings.refresh_cookie, name_cookie(settings)):
        response.delete_cookie(name, httponly=True, samesite="strict", secure=settings.cookie_secure)


class Renewals:
    """One renewal per refresh token in this process, its result shared for a minute."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.recent: dict[str, tuple[float, Tokens]] = {}

    async def renew(self, services: Services, refresh_token: str) -> Tokens | None:
        async with self.lock:
            now = time.monotonic()
            self.recent = {k: v for k, v in self.recent.items() if now - v[0] < RENEWAL_MEMORY_SECONDS}
            if refresh_token in self.recent:
                return self.recent[refresh_token][1]
            response = await services.send(
                "registry", "POST", "/v1/tokens/refresh", json={"refresh_token": refresh_token}
            )
            tokens = tokens_of(response.json()) if response.status_code == 200 else None
            if tokens is not None:
                self.recent[refresh_token] = (now, tokens)
            return tokens


class Desk:
    """One request's conversation with the services, as the signed-in person."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.settings: ConsoleSettings = request.app.state.settings
        self.services: Services = request.app.state.services
        self.renewals: Renewals = request.app.state.renewals
        self.access = request.cookies.get(self.settings.access_cookie)
        self.refresh = request.cookies.get(self.settings.refresh_cookie)
        self.person_or_none = person_of(self.access)
        self.display_name = unquote(request.cookies.get(name_cookie(self.settings), ""))[:100]

    async def person(self) -> Person:
        """The signed-in person, their token renewed if it is about to end; SignInNeeded if none."""
        if self.person_or_none is None or self.person_or_none.expiring(time.time()):
            await self.renew()
        assert self.person_or_none is not None
        return self.person_or_none

    async def renew(self) -> None:
        if not self.refresh:
            raise SignInNeeded
        tokens = await self.renewals.renew(self.services, self.refresh)
        if tokens is None:
            raise SignInNeeded
        self.access, self.refresh = tokens.access_token, tokens.refresh_token
        self.person_or_none = person_of(tokens.access_token)
        self.display_name = tokens.display_name or self.display_name
        self.request.state.renewed = tokens  # the middleware hands the new cookies to the browser

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """The service's JSON answer; Refusal for a 4xx, SignInNeeded if the token is not honoured."""
        await self.person()
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        response = await self.services.send(
            service, method, path, token=self.access, json=json, params=params, headers=headers
        )
        if response.status_code == 401:
            await self.renew()
            response = await self.services.send(
                service, method, path, token=self.access, json=json, params=params, headers=headers
            )
            if response.status_code == 401:
                raise SignInNeeded
        if response.status_code >= 400:
            raise refusal_of(response)
        return response.json() if response.content else None

    async def get_all(self, service: str, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        """Every item of a paged list (at most MAX_PAGES pages of 500)."""
        items: list[Any] = []
        query = {**(params or {}), "limit": 500}
        for _ in range(MAX_PAGES):
            page = await self.call(service, "GET", path, params=query)
            items.extend(page["items"])
            if not page.get("next_cursor"):
                break
            query["cursor"] = page["next_cursor"]
        return items


__all__ = ["Desk", "Person", "Refusal", "Renewals", "SignInNeeded", "Tokens"]
