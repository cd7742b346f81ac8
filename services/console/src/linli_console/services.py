"""Calls to the four services: one httpx client per app, answers in Chinese, refusals kept for the page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from linli_console.settings import ConsoleSettings

SERVICE_NAMES_ZH = {"registry": "居民登记", "points": "积分超市", "fund": "爱心基金", "notify": "消息提醒"}


class ServiceDown(Exception):
    """A service did not answer, or failed on its side (5xx): the page says what to do, not why."""

    def __init__(self, service: str) -> None:
        super().__init__(f"{service} does not answer")
        self.service = service

    @property
    def name_zh(self) -> str:
        return SERVICE_NAMES_ZH.get(self.service, self.service)


class SignInNeeded(Exception):
    """No session, or one the registry no longer honours: the person signs in again."""


@dataclass
class Refusal(Exception):
    """A 4xx from a service: its Chinese detail, and per form field the messages that concern it."""

    status: int
    detail: str
    fields: dict[str, list[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status}: {self.detail}"

    def about(self, name: str) -> list[str]:
        return self.fields.get(name, [])


def refusal_of(response: httpx.Response) -> Refusal:
    """problem+json as the services write it (linli_shared.errors): `detail`, and `errors` whose `loc`
    ends with the field's JSON name; a body that is not a problem still gives a sentence."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    fields: dict[str, list[str]] = {}
    for error in body.get("errors") or []:
        location = [str(part) for part in error.get("loc", [])]
        name = location[-1] if location else ""
        fields.setdefault(name, []).append(str(error.get("msg", "")))
    detail = str(body.get("detail") or body.get("title") or f"请求未被接受（{response.status_code}）")
    return Refusal(response.status_code, detail, fields)


class Services:
    """The four services' HTTP APIs over one shared client; every call speaks Chinese."""

    def __init__(self, settings: ConsoleSettings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client

    async def send(
        self,
        service: str,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """The service's answer, whatever its status below 500; ServiceDown if it gives none."""
        sent = {"Accept-Language": "zh", "Accept": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        try:
            response = await self.client.request(
                method, self.settings.url_of(service) + path, json=json, params=params, headers=sent
            )
        except httpx.HTTPError as error:
            raise ServiceDown(service) from error
        if response.status_code >= 500:
            raise ServiceDown(service)
        return response


def new_client(settings: ConsoleSettings) -> httpx.AsyncClient:
    timeout = httpx.Timeout(
        settings.service_timeout_seconds, connect=min(3.0, settings.service_timeout_seconds)
    )
    return httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=50))
