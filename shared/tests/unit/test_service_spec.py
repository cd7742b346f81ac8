"""A service told its district (LINLI_DISTRICT) consumes that district's events only."""

from __future__ import annotations

from pathlib import Path

from linli_shared.events import Envelope
from linli_shared.service import ServiceSpec, Subscription
from linli_shared.settings import ServiceSettings
from linli_shared.unit_of_work import Work


async def ignore(uow: Work, envelope: Envelope) -> None:
    return None


def spec(district: str | None) -> ServiceSpec:
    settings = ServiceSettings(
        database_url="sqlite+aiosqlite://", http_port=8000, jwt_secret="x" * 32, district=district
    )
    subscription = Subscription.to("registry", service="points", apply=ignore)
    return ServiceSpec("points", "Points", settings, Path("."), [], subscriptions=[subscription])


def test_a_district_site_filters_its_consumers_to_its_district() -> None:
    (subscription,) = spec("d01").subscriptions
    assert subscription.consumer.filter_subject == "linli.d01.registry.>"
    assert subscription.consumer.durable == "points-registry-d01"


def test_a_service_for_every_district_reads_them_all() -> None:
    (subscription,) = spec(None).subscriptions
    assert subscription.consumer.filter_subject == "linli.*.registry.>"
