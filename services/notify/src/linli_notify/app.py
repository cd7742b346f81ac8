"""The notify process: its HTTP API and its bus wiring, built by the shared app factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify.api import routers
from linli_notify.channels import AppriseSender
from linli_notify.settings import NotifySettings, get_settings
from linli_notify.subscribers import applying
from linli_notify.timestamping import TimestampAuthority
from linli_notify.usecases.digest import send_digests
from linli_notify.usecases.dispatch import dispatch_due
from linli_notify.usecases.escalation import escalate_unacknowledged
from linli_notify.usecases.timestamps import timestamp_witnessed
from linli_shared.clock import utc_now
from linli_shared.contracts import notify as notify_contracts  # noqa: F401 - registers them
from linli_shared.events import events_of
from linli_shared.service import PeriodicJob, ServiceSpec, Subscription, create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE = "notify"


def subscriptions(settings: NotifySettings) -> list[Subscription]:
    """Registry, points and fund events, each through notify's own durable consumer."""
    apply = applying(settings)
    return [
        Subscription.to(
            "registry",
            service=SERVICE,
            apply=apply,
            description="Care-group alerts and the contacts of residents and workers.",
        ),
        Subscription.to(
            "points", service=SERVICE, apply=apply, description="Wish, redemption and low-stock notices."
        ),
        Subscription.to(
            "fund",
            service=SERVICE,
            apply=apply,
            description="Donors thanked; each 公示's hash witnessed and announced; its questions, answers.",
        ),
    ]


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(
        ServiceSpec(
            name=SERVICE,
            title="Linli notify",
            settings=settings,
            migrations=MIGRATIONS,
            routers=routers,
            periodic_jobs=background_jobs(settings) if settings.background_jobs else [],
            subscriptions=subscriptions(settings),
            publishes=events_of(SERVICE),
        )
    )


def background_jobs(settings: NotifySettings) -> list[tuple[PeriodicJob, float]]:
    sender = AppriseSender(settings)

    async def dispatch(session_factory: async_sessionmaker[AsyncSession]) -> int:
        return await dispatch_due(session_factory, sender, settings=settings, now=utc_now())

    async def escalate(session_factory: async_sessionmaker[AsyncSession]) -> int:
        return await escalate_unacknowledged(session_factory, settings=settings, now=utc_now())

    async def digest(session_factory: async_sessionmaker[AsyncSession]) -> int:
        return await send_digests(session_factory, settings=settings, now=utc_now())

    jobs: list[tuple[PeriodicJob, float]] = [
        (dispatch, settings.dispatch_seconds),
        (escalate, settings.escalation_check_seconds),
    ]
    if settings.digest_enabled:
        jobs.append((digest, settings.digest_check_seconds))
    if settings.tsa_url:
        authority = TimestampAuthority(settings)

        async def timestamp(session_factory: async_sessionmaker[AsyncSession]) -> int:
            return await timestamp_witnessed(session_factory, authority, settings=settings, now=utc_now())

        jobs.append((timestamp, settings.timestamp_seconds))
    return jobs
