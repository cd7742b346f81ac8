"""The fund process: its HTTP API and its bus wiring, built by the shared app factory."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund.api import routers
from linli_fund.settings import FundSettings, get_settings
from linli_fund.subscribers import REGISTRY
from linli_fund.usecases import instalments
from linli_shared.clock import utc_now
from linli_shared.contracts import fund as fund_contracts  # noqa: F401 - registers them
from linli_shared.events import events_of
from linli_shared.service import ServiceSpec, create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: FundSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(
        ServiceSpec(
            name="fund",
            title="Linli love fund",
            settings=settings,
            migrations=MIGRATIONS,
            routers=routers,
            subscriptions=[REGISTRY],
            periodic_jobs=(
                [(partial(request_due_instalments, settings), settings.instalment_check_seconds)]
                if settings.request_instalments
                else []
            ),
            publishes=events_of("fund"),
        )
    )


async def request_due_instalments(
    settings: FundSettings, session_factory: async_sessionmaker[AsyncSession]
) -> int:
    return await instalments.request_due_instalments(
        session_factory, second_approval_above=settings.second_approval_above_fen, now=utc_now()
    )
