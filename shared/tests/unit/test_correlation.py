"""The correlation id: taken from the request or made, sent back, put in events and log lines."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from linli_shared.contracts.registry import ResidentTagsChanged
from linli_shared.correlation import (
    HEADER,
    CorrelationFilter,
    CorrelationMiddleware,
    correlated,
    current_correlation_id,
)
from linli_shared.unit_of_work import UnitOfWork


def app() -> FastAPI:
    application = FastAPI()
    application.add_middleware(CorrelationMiddleware)

    @application.get("/id")
    async def seen() -> dict[str, str | None]:
        return {"id": current_correlation_id()}

    return application


async def get(headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get("/id", headers=headers)


async def test_a_request_keeps_the_id_it_brings_and_gets_it_back() -> None:
    response = await get({HEADER: "gateway-42"})
    assert response.json() == {"id": "gateway-42"}
    assert response.headers[HEADER] == "gateway-42"


async def test_a_request_without_one_or_with_a_bad_one_is_given_a_new_id() -> None:
    for headers in ({}, {HEADER: "x" * 65}, {HEADER: "two words"}):
        response = await get(headers)
        given = response.json()["id"]
        assert len(given) == 32 and given == response.headers[HEADER]


def test_events_recorded_during_the_work_carry_its_id() -> None:
    uow = UnitOfWork(session_factory=None)  # type: ignore[arg-type]  # record() needs no database
    event = ResidentTagsChanged(resident_id="r1", tags=[])
    with correlated("abc"):
        inside = uow.record(event, district="d1", community="c1", occurred_at=datetime.now(UTC))
    outside = uow.record(event, district="d1", community="c1", occurred_at=datetime.now(UTC))
    assert (inside.correlation_id, outside.correlation_id) == ("abc", None)


def test_log_records_carry_the_id_or_a_dash() -> None:
    record = logging.LogRecord("linli", logging.INFO, __file__, 1, "hello", None, None)
    with correlated("abc"):
        CorrelationFilter().filter(record)
    assert record.correlation_id == "abc"  # type: ignore[attr-defined]
    CorrelationFilter().filter(record)
    assert record.correlation_id == "-"  # type: ignore[attr-defined]
