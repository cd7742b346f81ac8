"""The outbox relay against a real NATS server, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import nats
import pytest
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.contracts.registry import ResidentTagsChanged
from linli_shared.events import Envelope
from linli_shared.jetstream import ensure_stream, event_stream_config, stream_name
from linli_shared.outbox import OutboxMessage, OutboxRelay, add_event
from linli_shared.testing.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.nats]


class JetStreamPublisher:
    """The relay's publisher over a plain nats-py client, counting what it sends."""

    def __init__(self, js: JetStreamContext) -> None:
        self.js = js
        self.sent: list[str] = []
        self.fail_next = 0

    def ready(self) -> bool:
        return True

    async def publish(self, subject: str, data: bytes, message_id: str) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("broker away")
        await self.js.publish(subject, data, headers={"Nats-Msg-Id": message_id}, timeout=5)
        self.sent.append(message_id)


@pytest.fixture
async def js(nats_url: str) -> JetStreamContext:
    client = await nats.connect(nats_url)
    context = client.jetstream()
    await ensure_stream(context, event_stream_config("registry"))
    yield context
    await client.drain()


def make_envelope(district: str, resident_id: str) -> Envelope:
    return Envelope.wrap(
        ResidentTagsChanged(resident_id=resident_id, tags=["living_alone"]),
        district=district,
        community="c1",
        occurred_at=datetime.now(UTC),
    )


async def stage(factory: async_sessionmaker[AsyncSession], envelopes: list[Envelope]) -> None:
    async with factory() as session:
        for envelope in envelopes:
            add_event(session, envelope)
        await session.commit()


async def messages_in_stream(js: JetStreamContext, district: str) -> int:
    info = await js.stream_info(stream_name("registry"), subjects_filter=f"linli.{district}.>")
    return sum((info.state.subjects or {}).values())


async def test_committed_event_is_published_once_with_its_id(session_factory, js, district) -> None:
    envelope = make_envelope(district, "r1")
    await stage(session_factory, [envelope])
    relay = OutboxRelay(session_factory, JetStreamPublisher(js), service="test")

    assert await relay.publish_pending() == 1
    assert await relay.publish_pending() == 0

    message = await js.get_last_msg(stream_name("registry"), envelope.subject)
    assert message.headers and message.headers["Nats-Msg-Id"] == envelope.event_id
    assert Envelope.model_validate_json(message.data) == envelope
    assert await messages_in_stream(js, district) == 1


async def test_rolled_back_event_is_never_published(session_factory, js, district) -> None:
    async with session_factory() as session:
        add_event(session, make_envelope(district, "r1"))
        await session.rollback()
    publisher = JetStreamPublisher(js)
    assert await OutboxRelay(session_factory, publisher, service="test").publish_pending() == 0
    assert publisher.sent == []


async def test_row_republished_after_crash_before_mark_is_dropped_by_jetstream(
    session_factory, js, district
) -> None:
    """A relay that dies after the ack but before its commit publishes again on restart."""
    await stage(session_factory, [make_envelope(district, "r1")])
    publisher = JetStreamPublisher(js)
    relay = OutboxRelay(session_factory, publisher, service="test")
    await relay.publish_pending()
    async with session_factory() as session:  # as if the mark-sent commit had been lost
        await session.exec(update(OutboxMessage).values(sent_at=None))
        await session.commit()

    assert await relay.publish_pending() == 1
    assert len(publisher.sent) == 2
    assert await messages_in_stream(js, district) == 1


async def test_failed_publish_keeps_row_and_backs_off_then_succeeds(session_factory, js, district) -> None:
    await stage(session_factory, [make_envelope(district, "r1"), make_envelope(district, "r2")])
    publisher = JetStreamPublisher(js)
    publisher.fail_next = 1
    start = datetime.now(UTC)
    clock_now = [start]
    relay = OutboxRelay(session_factory, publisher, service="test", clock=lambda: clock_now[0])

    assert await relay.publish_pending() == 0
    async with session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    assert [row.attempts for row in rows] == [1, 0]
    assert rows[0].next_attempt_at > start and "broker away" in (rows[0].last_error or "")
    assert await relay.publish_pending() == 1, "a row in backoff does not hold back the others"
    assert await relay.publish_pending() == 0, "the failed row waits out its backoff"

    clock_now[0] = rows[0].next_attempt_at
    assert await relay.publish_pending() == 1
    assert await messages_in_stream(js, district) == 2


async def test_two_relays_together_publish_every_row_exactly_once(session_factory, js, district) -> None:
    envelopes = [make_envelope(district, f"r{i}") for i in range(300)]
    await stage(session_factory, envelopes)
    first, second = JetStreamPublisher(js), JetStreamPublisher(js)
    relays = [
        OutboxRelay(session_factory, first, service="test", batch_size=10),
        OutboxRelay(session_factory, second, service="test", batch_size=10),
    ]

    async def drain(relay: OutboxRelay) -> None:
        while await relay.publish_pending():
            await asyncio.sleep(0)

    await asyncio.gather(*(drain(r) for r in relays))
    await asyncio.gather(*(drain(r) for r in relays))

    sent = first.sent + second.sent
    assert sorted(sent) == sorted(e.event_id for e in envelopes), "each row published by exactly one relay"
    assert await messages_in_stream(js, district) == 300


async def test_a_stopped_relay_finishes_its_pass_and_returns(session_factory, js, district) -> None:
    publisher = JetStreamPublisher(js)
    relay = OutboxRelay(session_factory, publisher, service="test", poll_seconds=0.01)
    running = asyncio.create_task(relay.run())
    envelope = make_envelope(district, "r1")
    await stage(session_factory, [envelope])

    async def sent() -> bool:
        return publisher.sent == [envelope.event_id]

    await eventually(sent)
    relay.stop()

    async with asyncio.timeout(5):
        await running  # returns, not cancelled
    async with session_factory() as session:
        row = (await session.exec(select(OutboxMessage))).one()
    assert row.sent_at is not None
