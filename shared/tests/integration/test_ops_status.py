"""`linli status` and `linli outbox` against a real PostgreSQL, NATS and a service's health routes:
figures counted from the database, the exit status following what is wrong, one line when NATS is away."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import uvicorn
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import update
from sqlmodel import SQLModel

from linli_shared import health
from linli_shared.cli import main
from linli_shared.contracts.registry import ResidentTagsChanged
from linli_shared.database import make_engine, make_session_factory
from linli_shared.events import Envelope
from linli_shared.ops.gauges import refresh_outbox_gauges
from linli_shared.outbox import OutboxMessage, insert_events
from linli_shared.testing.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.nats, pytest.mark.postgres]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class AnsweringBus:
    async def answers(self) -> str:
        return "ok"


@pytest.fixture
async def outbox_database(pg_database_url: str) -> AsyncIterator[str]:
    """A service database with three events in its outbox, ten minutes old, the first one sent."""
    engine = make_engine(pg_database_url)
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all, tables=[OutboxMessage.__table__])
    written = datetime.now(UTC) - timedelta(minutes=10)
    events = [
        Envelope.wrap(
            ResidentTagsChanged(resident_id=f"r{i}", tags=[]),
            district="d1",
            community="c1",
            occurred_at=written,
        )
        for i in range(3)
    ]
    async with make_session_factory(engine)() as session:
        await insert_events(session, events)
        await session.exec(
            update(OutboxMessage).where(OutboxMessage.event_id == events[0].event_id).values(sent_at=written)
        )
        await session.commit()
    yield pg_database_url
    await engine.dispose()


@pytest.fixture
async def service_url(pg_database_url: str) -> AsyncIterator[str]:
    """A service's /healthz and /readyz (the shared routes, on a real database) served by uvicorn."""
    app = FastAPI()
    app.include_router(health.router)
    app.state.engine, app.state.bus = make_engine(pg_database_url), AnsweringBus()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())

    async def started() -> bool:
        assert not serving.done(), "uvicorn stopped at start-up"
        return bool(server.started)

    await eventually(started)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await serving
    await app.state.engine.dispose()


async def linli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_outbox_counts_unsent_rows_and_ages_the_oldest(outbox_database, capsys) -> None:
    code, out, err = await linli(capsys, "outbox", "--db", f"registry={outbox_database}", "--json")

    assert code == 0, err
    [box] = json.loads(out)
    assert box["service"] == "registry" and box["unsent"] == 2
    assert box["oldest"]["position"] == 2
    assert 600 <= box["oldest_age_seconds"] < 700


async def test_outbox_backlog_is_a_gauge(outbox_database) -> None:
    engine = make_engine(outbox_database)
    await refresh_outbox_gauges("registry-gauge-test", make_session_factory(engine))
    await engine.dispose()
    assert REGISTRY.get_sample_value("linli_outbox_backlog", {"service": "registry-gauge-test"}) == 2
    age = REGISTRY.get_sample_value(
        "linli_outbox_oldest_unsent_age_seconds", {"service": "registry-gauge-test"}
    )
    assert age is not None and age >= 600


async def test_status_is_healthy_until_the_outbox_waits_too_long(
    outbox_database, service_url, nats_url, capsys
) -> None:
    where = ["--nats", nats_url, "--url", f"registry={service_url}", "--db", f"registry={outbox_database}"]

    code, out, err = await linli(capsys, "status", *where, "--stale-after", "3600", "--json")
    assert code == 0, err
    status = json.loads(out)
    assert status["healthy"] is True
    assert status["services"] == [
        {"name": "registry", "url": service_url, "alive": True, "ready": True, "detail": ""}
    ]
    assert status["outboxes"][0]["unsent"] == 2

    code, out, err = await linli(capsys, "status", *where, "--stale-after", "60", "--json")
    assert code == 1
    [problem] = json.loads(out)["problems"]
    assert problem.startswith("registry outbox: 2 unsent, the oldest 6")
    assert err.strip().splitlines() == [f"linli status: {problem}"]


async def test_status_says_in_one_line_that_nats_is_away(outbox_database, service_url) -> None:
    away = f"nats://127.0.0.1:{free_port()}"
    command = [
        sys.executable,
        "-m",
        "linli_shared.cli",
        "status",
        "--nats",
        away,
        "--url",
        f"registry={service_url}",
    ]
    command += ["--db", f"registry={outbox_database}", "--stale-after", "3600"]

    finished = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=60)

    assert finished.returncode == 1
    assert finished.stderr.strip().splitlines() == [
        f"linli status: NATS at {away} does not answer within 3 s"
    ]
    assert "Traceback" not in finished.stdout
