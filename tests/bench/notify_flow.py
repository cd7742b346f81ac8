"""Notifications per second: points events on JetStream → a notify process → in-app deliveries sent,
beside raw nats-py publish plus a pull consumer writing one row per message."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nats
import nats.errors
from nats.js import JetStreamContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from linli_shared.contracts.points import PointsRedeemed
from linli_shared.database import make_engine
from linli_shared.events import Envelope
from linli_shared.jetstream import (
    DurableConsumer,
    ensure_consumer,
    ensure_stream,
    event_stream_config,
    stream_name,
)
from tests.bench.event_flow import RAW_FETCH_BATCH
from tests.bench.infra import Secrets, nats_server, service_process
from tests.bench.points_http import FetchValue, RawConnections, check
from tests.bench.registry_http import Timing

DISTRICT = "bench"
COMMUNITY = "c1"
VOLUNTEERS = 100  # the events name this many volunteers round-robin: contacts are made on first use
NOTIFY_ENV = {
    "LINLI_NOTIFY_DISPATCH_SECONDS": "0.05",
    "LINLI_NOTIFY_QUIET_START": "00:00",  # equal start and end: no quiet hours
    "LINLI_NOTIFY_QUIET_END": "00:00",
    "LINLI_NOTIFY_DIGEST_ENABLED": "false",
}


@dataclass
class NotifyRun:
    timing: Timing
    warnings: list[str] = field(default_factory=list)
    published_at: float | None = None  # seconds after the clock started when the last publish was acked


def redeemed_envelopes(count: int) -> list[Envelope]:
    """PointsRedeemed events: each becomes one points_redeemed notification to volunteer:<id>."""
    now = datetime.now(UTC)
    volunteers = [str(uuid.uuid4()) for _ in range(VOLUNTEERS)]
    return [
        Envelope.wrap(
            PointsRedeemed(
                redemption_id=str(uuid.uuid4()),
                volunteer_id=volunteers[i % VOLUNTEERS],
                item_id="bench-item",
                quantity=1,
                points=10,
                balance=90,
            ),
            district=DISTRICT,
            community=COMMUNITY,
            occurred_at=now,
        )
        for i in range(count)
    ]


@asynccontextmanager
async def jetstream(url: str) -> AsyncIterator[JetStreamContext]:
    client = await nats.connect(url)
    try:
        yield client.jetstream()
    finally:
        await client.close()


async def publish_all(js: JetStreamContext, envelopes: list[Envelope]) -> None:
    """await js.publish one by one with the envelope's id as Nats-Msg-Id, as the outbox relay publishes."""
    for envelope in envelopes:
        await js.publish(
            envelope.subject,
            envelope.model_dump_json().encode(),
            timeout=5,
            headers={"Nats-Msg-Id": envelope.event_id},
        )


async def count(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text(sql))).scalar_one())


SENT = "SELECT count(*) FROM delivery WHERE status = 'sent'"


async def wait_sent(engine: AsyncEngine, expected: int, started: float, timeout: float) -> None:
    sent = 0
    while sent < expected:
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"notify sent {sent} of {expected} deliveries within {timeout}s")
        await asyncio.sleep(0.02)
        sent = await count(engine, SENT)


# --- Linli: a notify process -----------------------------------------------------------------------


async def notify_flow(
    workdir: Path,
    *,
    database_url: str,
    envelopes: list[Envelope],
    warmup: list[Envelope],
    timeout: float = 150.0,
) -> NotifyRun:
    """Publish the warm-up and wait for its deliveries (untimed); then the clock runs from the first
    timed publish until the delivery table holds a `sent` row for every event."""
    total = len(warmup) + len(envelopes)
    with nats_server(workdir / "nats-notify", "bench-notify") as server:
        async with jetstream(server.url) as js:
            await ensure_stream(js, event_stream_config("points"))
        with service_process(
            "notify",
            workdir,
            database_url=database_url,
            nats_url=server.url,
            keys=Secrets.random(),
            extra_env=NOTIFY_ENV,
        ):
            engine = make_engine(database_url)
            try:
                async with jetstream(server.url) as js:
                    started = time.perf_counter()
                    await publish_all(js, warmup)
                    await wait_sent(engine, len(warmup), started, timeout)
                    started = time.perf_counter()
                    await publish_all(js, envelopes)
                    published_at = time.perf_counter() - started
                    await wait_sent(engine, total, started, timeout)
                    seconds = time.perf_counter() - started
                run = NotifyRun(Timing(len(envelopes), seconds), published_at=published_at)
                await asyncio.sleep(0.5)  # anything extra (a second channel, a duplicate) would show now
                await verify_notify(engine, total, run.warnings)
            finally:
                await engine.dispose()
    return run


async def verify_notify(engine: AsyncEngine, total: int, warnings: list[str]) -> None:
    """Untimed: one notification and one in-app delivery per event, every one sent, nothing else."""
    check(
        warnings,
        "events applied (inbox_entry)",
        await count(engine, "SELECT count(*) FROM inbox_entry"),
        total,
    )
    check(warnings, "notifications", await count(engine, "SELECT count(*) FROM notification"), total)
    check(warnings, "deliveries", await count(engine, "SELECT count(*) FROM delivery"), total)
    check(warnings, "deliveries sent", await count(engine, SENT), total)
    check(
        warnings,
        "deliveries on other channels than inbox",
        await count(engine, "SELECT count(*) FROM delivery WHERE channel <> 'inbox'"),
        0,
    )
    check(
        warnings,
        "notifications of another template than points_redeemed",
        await count(engine, "SELECT count(*) FROM notification WHERE template <> 'points_redeemed'"),
        0,
    )


# --- Baseline: raw nats-py and one insert per message ---------------------------------------------

RAW_COLUMNS = (
    "event_id varchar(64) UNIQUE NOT NULL, recipient varchar(120) NOT NULL, status varchar(10) NOT NULL,"
    " sent_at timestamp NOT NULL"
)
RAW_TABLE = {
    "postgresql": f"CREATE TABLE bench_delivery (id bigserial PRIMARY KEY, {RAW_COLUMNS})",
    "sqlite": f"CREATE TABLE bench_delivery (id INTEGER PRIMARY KEY, {RAW_COLUMNS})",
}
RAW_INSERT = "INSERT INTO bench_delivery (event_id, recipient, status, sent_at) VALUES ($1, $2, 'sent', $3)"


async def raw_notify_flow(
    workdir: Path,
    *,
    database_url: str,
    sqlite_path: Path | None,
    envelopes: list[Envelope],
    warmup: list[Envelope],
    fetch_batch: int = RAW_FETCH_BATCH,
    timeout: float = 150.0,
) -> NotifyRun:
    """Bare: await js.publish per message while a pull consumer (same configuration as notify's)
    fetches, inserts one row per message in its own transaction and acks; time until the last commit."""
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(RAW_TABLE[engine.dialect.name]))
    finally:
        await engine.dispose()
    connections = RawConnections(database_url, sqlite_path)
    await connections.open(1)
    consumer = DurableConsumer(
        stream=stream_name("points"), durable="bench-notify-raw", filter_subject="linli.*.points.>"
    )
    try:
        with nats_server(workdir / "nats-notify-raw", "bench-notify-raw") as server:
            client = await nats.connect(server.url)
            try:
                js = client.jetstream()
                await ensure_stream(js, event_stream_config("points"))
                await ensure_consumer(js, consumer)
                subscription = await js.pull_subscribe_bind(durable=consumer.durable, stream=consumer.stream)

                async def consume(expected: int, started: float) -> None:
                    done = 0
                    while done < expected:
                        if time.perf_counter() - started > timeout:
                            raise TimeoutError(f"raw consumer stored {done} of {expected} within {timeout}s")
                        try:
                            batch = await subscription.fetch(fetch_batch, timeout=1)
                        except nats.errors.TimeoutError:
                            continue
                        for message in batch:
                            envelope = Envelope.model_validate_json(message.data)
                            recipient = f"volunteer:{envelope.payload['volunteer_id']}"
                            stamp = connections.value(datetime.now(UTC))

                            async def body(fetchval: FetchValue) -> None:
                                await fetchval(RAW_INSERT, envelope.event_id, recipient, stamp)  # noqa: B023

                            await connections.run(0, body)
                            await message.ack()
                            done += 1

                async def flow(batch: list[Envelope]) -> tuple[float, float]:
                    started = time.perf_counter()
                    published: list[float] = []

                    async def publish() -> None:
                        await publish_all(js, batch)
                        published.append(time.perf_counter() - started)

                    await asyncio.gather(publish(), consume(len(batch), started))
                    return time.perf_counter() - started, published[0]

                await flow(warmup)
                seconds, published_at = await flow(envelopes)
                await client.flush()
            finally:
                await client.close()
        run = NotifyRun(Timing(len(envelopes), seconds), published_at=published_at)
        engine = make_engine(database_url)
        try:
            stored = await count(engine, "SELECT count(*) FROM bench_delivery")
        finally:
            await engine.dispose()
        check(run.warnings, "raw rows stored", stored, len(warmup) + len(envelopes))
        return run
    finally:
        await connections.close()
