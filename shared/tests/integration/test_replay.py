"""A consumer's fresh database gets the stream replayed; one that has applied events does not."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import nats
import pytest
from sqlmodel import select

from linli_shared.bus import Bus
from linli_shared.contracts.registry import ResidentDied
from linli_shared.database import make_engine, make_session_factory
from linli_shared.events import Envelope
from linli_shared.inbox import Inbox, InboxEntry, apply_once, has_applied_anything, subscribe_inbox
from linli_shared.jetstream import (
    DurableConsumer,
    dead_letter_stream_config,
    ensure_stream,
    event_stream_config,
    stream_name,
)
from linli_shared.testing.effects import AppliedEffect
from linli_shared.testing.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.nats]


async def record(uow, envelope: Envelope) -> None:  # noqa: ANN001
    uow.session.add(AppliedEffect(event_id=envelope.event_id))


def died(district: str) -> Envelope:
    return Envelope.wrap(
        ResidentDied(resident_id="r1", on=date(2026, 1, 1)),
        district=district,
        community="c1",
        occurred_at=datetime.now(UTC),
    )


@pytest.fixture
async def fresh_database(tmp_path) -> AsyncIterator:  # noqa: ANN001
    """A new SQLite database with the inbox and effect tables, as a just-deployed consumer has."""
    engines = []

    async def make():  # noqa: ANN202
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / uuid.uuid4().hex}.db")
        engines.append(engine)
        async with engine.begin() as connection:
            await connection.run_sync(
                InboxEntry.metadata.create_all, tables=[InboxEntry.__table__, AppliedEffect.__table__]
            )
        return make_session_factory(engine)

    yield make
    for engine in engines:
        await engine.dispose()


async def applied(factory, event_id: str) -> bool:  # noqa: ANN001
    async with factory() as session:
        found = await session.exec(select(AppliedEffect).where(AppliedEffect.event_id == event_id))
        return found.first() is not None


async def consume(nats_url: str, consumer: DurableConsumer, factory, *, replay: bool) -> Bus:  # noqa: ANN001
    bus = Bus(
        nats_url,
        service="test",
        streams=[event_stream_config("registry"), dead_letter_stream_config()],
        consumers=[consumer],
        replay=frozenset([consumer.durable] if replay else []),
    )
    subscribe_inbox(bus, Inbox(consumer, lambda: factory, record, bus.publish_with_headers))
    bus.start_in_background()
    await bus.wait_started(timeout=20)
    return bus


async def test_fresh_database_behind_an_old_consumer_gets_the_stream_replayed(
    nats_url, fresh_database
) -> None:
    district = f"d{uuid.uuid4().hex[:8]}"
    consumer = DurableConsumer(
        stream=stream_name("registry"),
        durable=f"replay-{uuid.uuid4().hex[:8]}",
        filter_subject=f"linli.{district}.registry.>",
    )
    client = await nats.connect(nats_url)
    js = client.jetstream()
    await ensure_stream(js, event_stream_config("registry"))

    async def publish() -> str:
        envelope = died(district)
        await js.publish(envelope.subject, envelope.model_dump_json().encode())
        return envelope.event_id

    try:
        first_database = await fresh_database()
        old_event = await publish()
        bus = await consume(nats_url, consumer, first_database, replay=False)
        await eventually(lambda: applied(first_database, old_event))
        await bus.stop()
        assert await has_applied_anything(first_database, consumer.durable)

        without_replay, with_replay = await fresh_database(), await fresh_database()
        assert not await has_applied_anything(without_replay, consumer.durable)
        bus = await consume(nats_url, consumer, without_replay, replay=False)
        new_event = await publish()
        await eventually(lambda: applied(without_replay, new_event))
        assert not await applied(without_replay, old_event), "without replay the old event is never seen"
        await bus.stop()

        bus = await consume(nats_url, consumer, with_replay, replay=True)
        await eventually(lambda: applied(with_replay, old_event))
        await eventually(lambda: applied(with_replay, new_event))
        await bus.stop()
    finally:
        await client.drain()


async def test_a_database_that_applied_events_is_not_fresh(fresh_database) -> None:
    factory = await fresh_database()
    envelope = Envelope(
        event_id="e1",
        event_type="registry.resident.died",
        schema_version=1,
        occurred_at="2026-01-01T00:00:00Z",
        district="d",
        producer="registry",
        payload={},
    )
    assert not await has_applied_anything(factory, "c1")
    await apply_once(factory, "c1", envelope, record)
    assert await has_applied_anything(factory, "c1")
    assert not await has_applied_anything(factory, "c2"), "each consumer has its own history"
