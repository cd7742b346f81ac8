"""The registry process: its HTTP API and its bus wiring, built by the shared app factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_registry.api import routers
from linli_registry.settings import RegistrySettings, get_settings
from linli_registry.usecases import care, sign_in_records
from linli_shared.clock import utc_now
from linli_shared.contracts import registry as registry_contracts  # noqa: F401 - registers them
from linli_shared.events import events_of
from linli_shared.service import ServiceSpec, create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"
SIGN_IN_RECORDS_PURGE_SECONDS = 3600


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(
        ServiceSpec(
            name="registry",
            title="Linli registry",
            settings=settings,
            migrations=MIGRATIONS,
            routers=routers,
            periodic_jobs=[
                (check_overdue_visits, settings.care_check_seconds),
                (forget_sign_in_records, SIGN_IN_RECORDS_PURGE_SECONDS),
            ],
            publishes=events_of("registry"),
        )
    )


async def check_overdue_visits(session_factory: async_sessionmaker[AsyncSession]) -> int:
    return await care.check_overdue_visits(session_factory, utc_now())


async def forget_sign_in_records(session_factory: async_sessionmaker[AsyncSession]) -> int:
    """Sign-in attempts past their window, used or expired codes, expired refresh tokens: gone."""
    return await sign_in_records.forget_old_sign_in_records(session_factory, utc_now())
