"""The registry's HTTP API, one module per topic with its request and response models beside it."""

from __future__ import annotations

from linli_registry.api import care, health, places, residents, statistics

routers = [places.router, residents.router, health.router, care.router, statistics.router]
"""Every router of the registry, in the order the OpenAPI document lists their topics."""
