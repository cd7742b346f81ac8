"""What the bulk rows share: sizes, the books' checks, posting batches over HTTP `clients` at a
time, and the outbox rows the bare baselines write (see bulk.py for the rows themselves)."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from linli_shared.auth import Role, issue_token
from tests.bench.infra import Secrets, asyncpg_dsn, served_service
from tests.bench.registry_http import Timing
from tests.bench.wrk import profiled

BATCHES = int(os.environ.get("LINLI_BENCH_BATCHES", "50"))
BATCH_LINES = int(os.environ.get("LINLI_BENCH_BATCH_LINES", "1000"))
ATTENDANCE_BATCHES = int(os.environ.get("LINLI_BENCH_ATTENDANCE_BATCHES", "25"))
ATTENDEES = int(os.environ.get("LINLI_BENCH_ATTENDEES", "200"))
CLIENTS = int(os.environ.get("LINLI_BENCH_BULK_CLIENTS", "2"))
DISTRICT, COMMUNITY = "bench", "c1"


@dataclass
class BulkRow:
    measurement: str
    unit: str
    linli: Timing
    baseline: Timing
    warnings: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.linli.rate / self.baseline.rate


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


async def fetch_value(database_url: str, sql: str) -> int:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return int(await connection.fetchval(sql) or 0)
    finally:
        await connection.close()


async def expect(database_url: str, warnings: list[str], checks: dict[str, tuple[str, int]]) -> None:
    """Untimed: each SQL's value must be the expected one, else a warning beside the figure."""
    for what, (sql, expected) in checks.items():
        if (found := await fetch_value(database_url, sql)) != expected:
            warnings.append(f"{what}: found {found}, expected {expected}")


Post = tuple[str, dict[str, Any], dict[str, str]]


def bearer(keys: Secrets, role: Role) -> dict[str, str]:
    token = issue_token(keys.jwt_secret, role=role, district=DISTRICT, community=COMMUNITY, subject="bench")
    return {"Authorization": f"Bearer {token}"}


async def post_many(client: httpx.AsyncClient, requests: Sequence[Post], clients: int) -> float:
    """Post every request, `clients` at a time; seconds taken. Anything but a 2xx stops the run."""

    async def post(path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        response = await client.post(path, json=body, headers=headers)
        if response.status_code >= 300:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")

    return await at_once([partial(post, *request) for request in requests], clients)


async def over_http(
    service: str,
    workdir: Path,
    database_url: str,
    nats_url: str,
    requests: Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[list[Post]]],
    clients: int,
) -> float:
    """Seconds to post all but the first of `requests` (made, with any setup, once the service runs;
    the first is a warm-up) to a process of `service`, `clients` at a time."""
    keys = Secrets.random()
    with served_service(service, workdir, database_url=database_url, nats_url=nats_url, keys=keys) as process:
        async with httpx.AsyncClient(base_url=process.url, timeout=300) as client:
            posts = await requests(client, bearer(keys, Role.COMMUNITY_WORKER))
            await post_many(client, posts[:1], 1)
            assert process.process is not None
            with profiled([process.process.pid], f"bulk-{service}"):
                return await post_many(client, posts[1:], clients)


async def gathered(jobs: Any, at_once: int = 8) -> list[str]:
    """Run the awaitables, `at_once` at a time, keeping their order."""
    pending = list(jobs)
    gate = asyncio.Semaphore(at_once)

    async def one(job: Awaitable[str]) -> str:
        async with gate:
            return await job

    return list(await asyncio.gather(*(one(job) for job in pending)))


async def at_once(jobs: Sequence[Callable[[], Awaitable[None]]], clients: int) -> float:
    """Run the jobs, `clients` at a time; seconds taken."""
    queue = list(reversed(jobs))

    async def worker() -> None:
        while queue:
            await queue.pop()()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - started


OUTBOX = (
    "INSERT INTO outbox_message (event_id, subject, envelope, created_at, attempts, next_attempt_at)"
    " SELECT i, s, v, $1, 0, $1 FROM unnest($2::text[], $3::text[], $4::text[]) AS t(i, s, v)"
)


def envelopes(
    kind: str, payloads: list[dict[str, Any]], now: datetime
) -> tuple[list[str], list[str], list[str]]:
    """Event ids, subjects and JSON envelopes as the outbox holds them."""
    ids = [str(uuid.uuid4()) for _ in payloads]
    subject = f"linli.{DISTRICT}.{kind}"
    bodies = [
        json.dumps({"event_id": i, "event_type": kind, "occurred_at": now.isoformat(), "payload": p})
        for i, p in zip(ids, payloads, strict=True)
    ]
    return ids, [subject] * len(ids), bodies
