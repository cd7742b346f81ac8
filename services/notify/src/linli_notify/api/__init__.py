"""Notify's HTTP API, one router per topic, each module with its request and response models."""

from __future__ import annotations

from fastapi import APIRouter

from linli_notify.api import deliveries, inbox, preferences, reports, templates, witness

routers: list[APIRouter] = [
    preferences.router,
    templates.router,
    inbox.router,
    deliveries.router,
    reports.router,
    witness.router,
]
