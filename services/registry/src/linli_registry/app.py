"""The registry process: its HTTP API and its bus wiring, built by the shared app factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from linli_registry import api
from linli_registry.settings import RegistrySettings, get_settings
from linli_shared.service import ServiceSpec, create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(
        ServiceSpec(
            name="registry",
            title="Linli registry",
            settings=settings,
            migrations=MIGRATIONS,
            routers=[api.router],
        )
    )
