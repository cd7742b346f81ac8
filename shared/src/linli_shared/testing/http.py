"""A service app in the test's own process, and tokens to call it with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from linli_shared.auth import DISTRICT_WIDE, Role, issue_token

TEST_JWT_SECRET = "test-jwt-secret-" + "x" * 32


def bearer(
    role: Role, district: str | None, community: str | None = None, subject: str = "tester"
) -> dict[str, str]:
    """Authorization header for a test caller; scope narrowed to what the role carries."""
    if role is Role.CITY_ADMIN:
        district = None
    if role is Role.CITY_ADMIN or role in DISTRICT_WIDE:
        community = None
    token = issue_token(TEST_JWT_SECRET, role=role, district=district, community=community, subject=subject)
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def running_app(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan (migrations, bus, relay) and talk to it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client
