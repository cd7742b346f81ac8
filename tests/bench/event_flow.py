"""Events per second: outbox → OutboxRelay → JetStream → subscribe_inbox/apply_once, beside raw nats-py."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import nats
import nats.errors
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.bus import Bus
from linli_shared.contracts.registry import ResidentTagsChanged
from linli_shared.database import make_engine, make_session_factory
from linli_shared.events import Envelope
from linli_shared.inbox import Inbox, InboxEntry, subscribe_inbox
from linli_shared.jetstream import (
    DurableConsumer,
    dead_letter_stream_config,
    ensure_consumer,
    ensure_stream,
    event_stream_config,
    stream_name,
)
from linli_shared.outbox import OutboxMessage, OutboxRelay, add_event
from tests.bench.infra import nats_server
from tests.bench.registry_http import Timing

DISTRICT = "bench"
RAW_FETCH_BATCH = 100


def tags_changed_envelopes(count: int) -> list[Envelope]:
    now = datetime.now(UTC)
    return [
        Envelope.wrap(
            ResidentTagsChanged(resident_id=str(uuid.uuid4()), tags=["living_alone", "dibao"]),
            district=DISTRICT,
            community="c1",
            occurred_at=now,
        )
        for _ in range(count)
    ]


def bench_consumer() -> DurableConsumer:
    """The consumer every measurement uses: the shared defaults (max_ack_pending 1000, ack_wait 30 s)."""
    return DurableConsumer(
        stream=stream_name("registry"),
        durable="bench-consumer",
        filter_subject="linli.*.registry.>",
    )


async def apply_tags_changed(session: AsyncSession, envelope: Envelope) -> None:
    """The consumer's effect: read the contract; the inbox row apply_once writes is the database work."""
    envelope.open(ResidentTagsChanged)


async def create_tables(engine: AsyncEngine, *tables: object) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all, tables=list(tables))


async def stage(
    factory: async_sessionmaker[AsyncSession], envelopes: list[Envelope], chunk: int = 500
) -> None:
    for start in range(0, len(envelopes), chunk):
        async with factory() as session:
            for envelope in envelopes[start : start + chunk]:
                add_event(session, envelope)
            await session.commit()


async def count_rows(factory: async_sessionmaker[AsyncSession], statement: object) -> int:
    async with factory() as session:
        return int((await session.exec(statement)).one())  # type: ignore[call-overload]


async def linli_event_flow(
    workdir: Path, *, producer_url: str, consumer_url: str, envelopes: list[Envelope], timeout: float = 150.0
) -> tuple[Timing, float]:
    """Time from starting the relay until the consumer's inbox holds every event.

    Returns the end-to-end timing and when the relay had marked the last outbox row sent.
    Producer (outbox) and consumer (inbox) have databases of their own, as two services would.
    """
    count = len(envelopes)
    with nats_server(workdir / "nats-linli", "bench-linli") as server:
        producer_engine, consumer_engine = make_engine(producer_url), make_engine(consumer_url)
        buses: list[Bus] = []
        relay_task: asyncio.Task[None] | None = None
        try:
            await create_tables(producer_engine, OutboxMessage.__table__)
            await create_tables(consumer_engine, InboxEntry.__table__)
            producers = make_session_factory(producer_engine)
            consumers = make_session_factory(consumer_engine)
            await stage(producers, envelopes)
            streams = [event_stream_config("registry"), dead_letter_stream_config()]
            consumer = bench_consumer()
            consumer_bus = Bus(server.url, service="bench-consumer", streams=streams, consumers=[consumer])
            inbox = Inbox(consumer, lambda: consumers, apply_tags_changed, consumer_bus.publish_with_headers)
            subscribe_inbox(consumer_bus.broker, inbox)
            producer_bus = Bus(server.url, service="registry", streams=streams, consumers=[])
            buses += [consumer_bus, producer_bus]
            for bus in buses:
                bus.start_in_background()
            for bus in buses:
                await bus.wait_started(timeout=30)
            relay = OutboxRelay(producers, producer_bus, service="registry")

            applied_statement = select(func.count()).select_from(InboxEntry)
            sent_statement = (
                select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.sent_at).is_not(None))
            )
            started = time.perf_counter()
            relay_task = asyncio.create_task(relay.run(), name="bench-relay")
            relay_done: float | None = None
            applied = 0
            while applied < count:
                await asyncio.sleep(0.02)
                if time.perf_counter() - started > timeout:
                    raise TimeoutError(f"consumer applied {applied} of {count} events within {timeout}s")
                if relay_task.done():
                    relay_task.result()  # surfaces the relay's exception
                if relay_done is None and await count_rows(producers, sent_statement) >= count:
                    relay_done = time.perf_counter() - started
                applied = await count_rows(consumers, applied_statement)
            seconds = time.perf_counter() - started
            return Timing(count, seconds), relay_done if relay_done is not None else seconds
        finally:
            if relay_task is not None:
                relay_task.cancel()
                await asyncio.gather(relay_task, return_exceptions=True)
            for bus in buses:
                await bus.stop()
            await producer_engine.dispose()
            await consumer_engine.dispose()


async def raw_event_flow(
    workdir: Path, *, envelopes: list[Envelope], fetch_batch: int = RAW_FETCH_BATCH, timeout: float = 150.0
) -> Timing:
    """Bare nats-py: await js.publish per message (same subjects, payloads and Nats-Msg-Id) while a
    pull consumer with the same configuration fetches and acks; time until the last ack."""
    messages = [(e.subject, e.model_dump_json().encode(), e.event_id) for e in envelopes]
    count = len(messages)
    with nats_server(workdir / f"nats-raw-{fetch_batch}", f"bench-raw-{fetch_batch}") as server:
        client = await nats.connect(server.url)
        try:
            js = client.jetstream()
            await ensure_stream(js, event_stream_config("registry"))
            consumer = bench_consumer()
            await ensure_consumer(js, consumer)
            subscription = await js.pull_subscribe_bind(durable=consumer.durable, stream=consumer.stream)

            async def publish() -> None:
                for subject, data, event_id in messages:
                    await js.publish(subject, data, timeout=5, headers={"Nats-Msg-Id": event_id})

            async def consume() -> None:
                acked = 0
                while acked < count:
                    if time.perf_counter() - started > timeout:
                        raise TimeoutError(f"raw consumer acked {acked} of {count} within {timeout}s")
                    try:
                        batch = await subscription.fetch(fetch_batch, timeout=1)
                    except nats.errors.TimeoutError:
                        continue
                    for message in batch:
                        await message.ack()
                        acked += 1
                await client.flush()

            started = time.perf_counter()
            await asyncio.gather(publish(), consume())
            seconds = time.perf_counter() - started
        finally:
            await client.close()
    return Timing(count, seconds)
