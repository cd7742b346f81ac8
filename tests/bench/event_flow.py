"""Events per second: outbox → OutboxRelay → JetStream → subscribe_inbox → Inbox.handle_batch, beside raw
nats-py with its publishes in flight and batched pulls; and a backlog replayed into a fresh read model."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import nats
import nats.errors
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.bus import Bus
from linli_shared.contracts.registry import ResidentTagsChanged
from linli_shared.database import make_engine, make_session_factory
from linli_shared.events import Envelope
from linli_shared.inbox import DEFAULT_BATCH_SIZE, Inbox, InboxEntry, subscribe_inbox
from linli_shared.jetstream import (
    DurableConsumer,
    dead_letter_stream_config,
    ensure_consumer,
    ensure_stream,
    event_stream_config,
    stream_name,
)
from linli_shared.outbox import OutboxMessage, OutboxRelay, insert_events
from linli_shared.unit_of_work import Work
from tests.bench.infra import nats_server, pg_database, temp_dir
from tests.bench.registry_http import Timing

DISTRICT = "bench"
RAW_FETCH_BATCH = DEFAULT_BATCH_SIZE  # the raw consumer pulls what the inbox pulls
IN_FLIGHT = 500  # the relay's batch, and how many publishes the raw baseline keeps awaiting acks


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


async def apply_tags_changed(uow: Work, envelope: Envelope) -> None:
    """The consumer's effect: read the contract; the inbox row the inbox writes is the database work."""
    envelope.open(ResidentTagsChanged)


class ResidentTagsView(SQLModel, table=True):
    """The read model a backlog is replayed into: each resident's tags."""

    __tablename__ = "bench_resident_tags"

    resident_id: str = Field(primary_key=True, max_length=64)
    tags: str


async def apply_to_view(uow: Work, envelope: Envelope) -> None:
    """A read model's effect: one row per event besides the inbox row."""
    event = envelope.open(ResidentTagsChanged)
    uow.session.add(ResidentTagsView(resident_id=event.resident_id, tags=",".join(event.tags)))


async def create_tables(engine: AsyncEngine, *tables: object) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all, tables=list(tables))


async def stage(
    factory: async_sessionmaker[AsyncSession], envelopes: list[Envelope], chunk: int = 500
) -> None:
    for start in range(0, len(envelopes), chunk):
        async with factory() as session:
            await insert_events(session, envelopes[start : start + chunk])
            await session.commit()


async def count_rows(factory: async_sessionmaker[AsyncSession], statement: object) -> int:
    async with factory() as session:
        return int((await session.exec(statement)).one())  # type: ignore[call-overload]


async def linli_event_flow(
    workdir: Path,
    *,
    producer_url: str,
    consumer_url: str,
    envelopes: list[Envelope],
    timeout: float = 150.0,
    relay_batch: int = IN_FLIGHT,
    inbox_batch: int = DEFAULT_BATCH_SIZE,
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
            inbox = Inbox(
                consumer,
                lambda: consumers,
                apply_tags_changed,
                consumer_bus.publish_with_headers,
                inbox_batch,
            )
            subscribe_inbox(consumer_bus, inbox)
            producer_bus = Bus(server.url, service="registry", streams=streams, consumers=[])
            buses += [consumer_bus, producer_bus]
            for bus in buses:
                bus.start_in_background()
            for bus in buses:
                await bus.wait_started(timeout=30)
            relay = OutboxRelay(producers, producer_bus, service="registry", batch_size=relay_batch)

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


async def publish_in_flight(client: nats.NATS, envelopes: list[Envelope], window: int = IN_FLIGHT) -> None:
    """Publish with up to `window` PubAcks awaited at once (same subjects, payloads, Nats-Msg-Id):
    nats-py's publish_async, its own semaphore keeping the window."""
    js = client.jetstream(publish_async_max_pending=window)
    futures = [
        await js.publish_async(e.subject, e.model_dump_json().encode(), headers={"Nats-Msg-Id": e.event_id})
        for e in envelopes
    ]
    for future in futures:
        await future  # raises if the server refused one


async def raw_event_flow(
    workdir: Path, *, envelopes: list[Envelope], fetch_batch: int = RAW_FETCH_BATCH, timeout: float = 150.0
) -> Timing:
    """Bare nats-py: publishes with IN_FLIGHT acks awaited at once while a pull consumer with the same
    configuration fetches `fetch_batch` at a time and acks each; time until the last ack."""
    count = len(envelopes)
    with nats_server(workdir / f"nats-raw-{fetch_batch}", f"bench-raw-{fetch_batch}") as server:
        client = await nats.connect(server.url)
        try:
            js = client.jetstream()
            await ensure_stream(js, event_stream_config("registry"))
            consumer = bench_consumer()
            await ensure_consumer(js, consumer)
            subscription = await js.pull_subscribe_bind(durable=consumer.durable, stream=consumer.stream)

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
            await asyncio.gather(publish_in_flight(client, envelopes), consume())
            seconds = time.perf_counter() - started
        finally:
            await client.close()
    return Timing(count, seconds)


async def backlog_replay(
    workdir: Path,
    *,
    consumer_url: str,
    count: int = 100_000,
    inbox_batch: int = DEFAULT_BATCH_SIZE,
    timeout: float = 1800.0,
) -> Timing:
    """`count` events already in the stream, a fresh database: time from the consumer's start until
    its read model holds every event (inbox row + read-model row each, applied in fetched batches)."""
    envelopes = tags_changed_envelopes(count)
    streams = [event_stream_config("registry"), dead_letter_stream_config()]
    with nats_server(workdir / "nats-replay", "bench-replay") as server:
        client = await nats.connect(server.url)
        try:
            await ensure_stream(client.jetstream(), streams[0])
            await publish_in_flight(client, envelopes)
        finally:
            await client.close()
        engine = make_engine(consumer_url)
        consumer = bench_consumer()
        bus = Bus(server.url, service="bench-replay", streams=streams, consumers=[consumer])
        try:
            await create_tables(engine, InboxEntry.__table__, ResidentTagsView.__table__)
            factory = make_session_factory(engine)
            inbox = Inbox(consumer, lambda: factory, apply_to_view, bus.publish_with_headers, inbox_batch)
            subscribe_inbox(bus, inbox)
            view_rows = select(func.count()).select_from(ResidentTagsView)
            started = time.perf_counter()
            bus.start_in_background()
            while (done := await count_rows(factory, view_rows)) < count:
                if time.perf_counter() - started > timeout:
                    raise TimeoutError(f"replayed {done} of {count} events within {timeout}s")
                await asyncio.sleep(0.1)
            return Timing(count, time.perf_counter() - started)
        finally:
            await bus.stop()
            await engine.dispose()


async def main() -> None:
    """Run the event row and the backlog replay alone: python -m tests.bench.event_flow --help."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--pg", default=os.environ.get("LINLI_BENCH_PG_URL"), help="PostgreSQL admin URL")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--replay", type=int, default=0, help="backlog size to replay (0: skip)")
    parser.add_argument("--inbox-batch", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--relay-batch", type=int, default=IN_FLIGHT)
    parser.add_argument("--skip-raw", action="store_true")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}")
    with temp_dir("linli-events-") as root:
        envelopes = tags_changed_envelopes(args.events)
        async with (
            pg_database(args.pg, "outbox") as producer_url,
            pg_database(args.pg, "inbox") as consumer_url,
        ):
            linli, relay_done = await linli_event_flow(
                root,
                producer_url=producer_url,
                consumer_url=consumer_url,
                envelopes=envelopes,
                relay_batch=args.relay_batch,
                inbox_batch=args.inbox_batch,
            )
        print(
            f"linli outbox→JS→inbox on PostgreSQL: {linli.count} in {linli.seconds:.2f}s = "
            f"{linli.rate:,.0f}/s (relay done at {relay_done:.2f}s)"
        )
        if not args.skip_raw:
            raw = await raw_event_flow(root, envelopes=envelopes)
            print(f"raw nats-py: {raw.rate:,.0f}/s; Linli = {linli.rate / raw.rate:.2f}x raw")
        if args.replay:
            async with pg_database(args.pg, "replay") as url:
                replay = await backlog_replay(
                    root, consumer_url=url, count=args.replay, inbox_batch=args.inbox_batch
                )
            print(
                f"backlog of {replay.count} replayed into a fresh read model in {replay.seconds:.1f}s "
                f"= {replay.rate:,.0f}/s"
            )
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    asyncio.run(main())
