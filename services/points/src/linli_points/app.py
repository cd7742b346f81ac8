"""The points process: its HTTP API and its bus wiring, built by the shared app factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from linli_points import api
from linli_points.residents import REGISTRY_CONSUMER, on_registry_event
from linli_points.settings import PointsSettings, get_settings
from linli_shared.contracts.points import (
    PointsAdjusted,
    PointsEarned,
    PointsRedeemed,
    RedemptionCancelled,
    StockLow,
    VolunteerEnrolled,
)
from linli_shared.service import ServiceSpec, Subscription, create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"
POINTS_EVENTS = [
    VolunteerEnrolled,
    PointsEarned,
    PointsAdjusted,
    PointsRedeemed,
    RedemptionCancelled,
    StockLow,
]


def create_app(settings: PointsSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(
        ServiceSpec(
            name="points",
            title="Linli points",
            settings=settings,
            migrations=MIGRATIONS,
            routers=[api.router],
            subscriptions=[
                Subscription(
                    consumer=REGISTRY_CONSUMER,
                    producer="registry",
                    apply=on_registry_event,
                    description="Keeps the read model of residents from the registry's events.",
                )
            ],
            publishes=POINTS_EVENTS,
        )
    )
