"""The fund process: its HTTP API and its bus wiring, built by the shared app factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from linli_fund import api
from linli_fund.residents import REGISTRY_CONSUMER, on_registry_event
from linli_fund.settings import FundSettings, get_settings
from linli_shared.contracts import fund as fund_contracts  # noqa: F401 - registers them
from linli_shared.events import events_of
from linli_shared.service import ServiceSpec, Subscription, create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: FundSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(
        ServiceSpec(
            name="fund",
            title="Linli love fund",
            settings=settings,
            migrations=MIGRATIONS,
            routers=[api.router],
            subscriptions=[
                Subscription(
                    consumer=REGISTRY_CONSUMER,
                    producer="registry",
                    apply=on_registry_event,
                    description="Keeps the read model of residents (who may receive help) from the registry.",
                )
            ],
            publishes=events_of("fund"),
        )
    )
