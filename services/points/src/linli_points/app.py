"""The points process: its HTTP API and its bus wiring, built by the shared app factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points.api import ROUTERS
from linli_points.settings import PointsSettings, get_settings
from linli_points.subscribers import REGISTRY
from linli_points.usecases import expiry
from linli_shared.clock import utc_now
from linli_shared.contracts import points as points_contracts  # noqa: F401 - registers them
from linli_shared.events import events_of
from linli_shared.service import ServiceSpec, create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: PointsSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(
        ServiceSpec(
            name="points",
            title="Linli points",
            settings=settings,
            migrations=MIGRATIONS,
            routers=ROUTERS,
            periodic_jobs=[
                (expire_wish_claims, settings.wish_check_seconds),
                (expire_points, settings.points_expiry_check_seconds),
            ],
            subscriptions=[REGISTRY],
            publishes=events_of("points"),
        )
    )


async def expire_wish_claims(session_factory: async_sessionmaker[AsyncSession]) -> int:
    return await expiry.expire_claims(session_factory, utc_now())


async def expire_points(session_factory: async_sessionmaker[AsyncSession]) -> int:
    return await expiry.expire_points(session_factory, utc_now())
