"""The registry's HTTP API, one module per topic with its request and response models beside it."""

from __future__ import annotations

from linli_registry.api import (
    accounts,
    care,
    corrections,
    health,
    imports,
    places,
    reports,
    residents,
    sign_in,
    statistics,
)

routers = [
    places.router,
    residents.router,
    corrections.router,
    health.router,
    care.router,
    statistics.router,
    reports.router,
    imports.router,
    accounts.router,
    sign_in.router,
]
"""Every router of the registry, in the order the OpenAPI document lists their topics."""
