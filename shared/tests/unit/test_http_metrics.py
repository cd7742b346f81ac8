"""Requests are counted and timed by route template, status included."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, HTTPException
from prometheus_client import REGISTRY

from linli_shared.http_metrics import RequestMetrics


def app() -> FastAPI:
    application = FastAPI()
    application.add_middleware(RequestMetrics, service="metrics-test")

    @application.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        if item_id == 0:
            raise HTTPException(404)
        return {"id": item_id}

    return application


def count(route: str, status: str) -> float:
    labels = {"service": "metrics-test", "method": "GET", "route": route, "status": status}
    return REGISTRY.get_sample_value("linli_http_requests_total", labels) or 0.0


async def test_requests_are_counted_by_route_template_and_status() -> None:
    ok, missing = count("/items/{item_id}", "200"), count("/items/{item_id}", "404")
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for path in ("/items/1", "/items/2", "/items/0", "/nowhere"):
            await client.get(path)
    assert count("/items/{item_id}", "200") == ok + 2
    assert count("/items/{item_id}", "404") == missing + 1
    assert count("unmatched", "404") >= 1
    labels = {"service": "metrics-test", "method": "GET", "route": "/items/{item_id}"}
    assert (REGISTRY.get_sample_value("linli_http_request_seconds_count", labels) or 0) >= 3
