"""Each service's /healthz (the process is alive) and /readyz (its database and JetStream answer)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

PROBE_SECONDS = 3.0


@dataclass(frozen=True)
class ServiceHealth:
    name: str
    url: str
    alive: bool
    ready: bool
    detail: str
    """what /readyz said when not ready, or why the service did not answer"""


async def probe_service(client: httpx.AsyncClient, name: str, url: str) -> ServiceHealth:
    try:
        alive = await client.get(f"{url}/healthz")
        ready = await client.get(f"{url}/readyz")
    except httpx.HTTPError as error:
        return ServiceHealth(name, url, False, False, f"unreachable ({type(error).__name__})")
    detail = "" if ready.status_code == 200 else readiness_detail(ready)
    return ServiceHealth(name, url, alive.status_code == 200, ready.status_code == 200, detail)


def readiness_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    detail = body.get("detail") if isinstance(body, dict) else None
    return f"HTTP {response.status_code}: {detail}" if detail else f"HTTP {response.status_code}"


async def probe_services(services: dict[str, str]) -> list[ServiceHealth]:
    async with httpx.AsyncClient(timeout=PROBE_SECONDS) as client:
        return list(await asyncio.gather(*(probe_service(client, n, u) for n, u in services.items())))
