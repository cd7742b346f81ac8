"""The points HTTP API: one router per topic, each module with the models it accepts and returns."""

from __future__ import annotations

from fastapi import APIRouter

from linli_points.api import (
    activities,
    certificates,
    corrections,
    neighbours,
    reports,
    rules,
    service_hours,
    supermarket,
    volunteers,
    wishes,
)

ROUTERS: list[APIRouter] = [
    volunteers.router,
    supermarket.router,
    rules.router,
    activities.router,
    service_hours.router,
    certificates.router,
    wishes.router,
    neighbours.router,
    reports.router,
    corrections.router,
]
