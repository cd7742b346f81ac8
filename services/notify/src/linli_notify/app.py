"""The notify process: its HTTP API and its bus wiring, built by the shared app factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify import api
from linli_notify.digest import send_digests
from linli_notify.dispatch import AppriseSender, dispatch_due
from linli_notify.escalation import escalate_unacknowledged
from linli_notify.notifications import FUND_CONSUMER, POINTS_CONSUMER, REGISTRY_CONSUMER, event_applier
from linli_notify.settings import NotifySettings, get_settings
from linli_shared.clock import utc_now
from linli_shared.contracts import notify as notify_contracts  # noqa: F401 - registers them
from linli_shared.events import events_of
from linli_shared.service import PeriodicJob, ServiceSpec, Subscription, create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    apply = event_applier(settings)
    return create_service_app(
        ServiceSpec(
            name="notify",
            title="Linli notify",
            settings=settings,
            migrations=MIGRATIONS,
            routers=[api.router],
            periodic_jobs=background_jobs(settings) if settings.background_jobs else [],
            subscriptions=[
                Subscription(
                    consumer=REGISTRY_CONSUMER,
                    producer="registry",
                    apply=apply,
                    description="Care-group alerts and the contacts of residents and workers.",
                ),
                Subscription(
                    consumer=POINTS_CONSUMER,
                    producer="points",
                    apply=apply,
                    description="Wish, redemption and low-stock notices.",
                ),
                Subscription(
                    consumer=FUND_CONSUMER,
                    producer="fund",
                    apply=apply,
                    description="Thanks and a receipt number to each donor.",
                ),
            ],
            publishes=events_of("notify"),
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
    return jobs
