"""The outbox relay against a real NATS server, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import SQLModel, col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared import outbox
from linli_shared.contracts.registry import ResidentTagsChanged
from linli_shared.database import make_engine, make_session_factory
from linli_shared.events import Envelope
from linli_shared.jetstream import ensure_stream, event_stream_config, stream_name
from linli_shared.outbox import OutboxMessage, OutboxRelay, insert_events
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

    async def send(self, subject: str, data: bytes, message_id: str) -> asyncio.Future[Any]:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("broker away")
        headers = {"Nats-Msg-Id": message_id}
        ack: asyncio.Future[Any] = await self.js.publish_async(subject, data, headers=headers)
        self.sent.append(message_id)
        return ack


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
        await insert_events(session, envelopes)
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
        await insert_events(session, [make_envelope(district, "r1")])
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


class InFlightPublisher(JetStreamPublisher):
    """Counts how many publishes wait on their ack at once; fails the publishes of chosen ids."""

    def __init__(self, js: JetStreamContext, failing: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        super().__init__(js)
        self.failing = set(failing)
        self.in_flight = 0
        self.most_in_flight = 0

    async def send(self, subject: str, data: bytes, message_id: str) -> asyncio.Future[Any]:
        if message_id in self.failing:
            raise ConnectionError("broker away")
        ack = await super().send(subject, data, message_id)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        ack.add_done_callback(self._acked)
        return ack

    def _acked(self, _ack: asyncio.Future[Any]) -> None:
        self.in_flight -= 1


def count_updates(factory: async_sessionmaker[AsyncSession]) -> list[str]:
    updates: list[str] = []

    def seen(_conn, _cursor, statement: str, *_args) -> None:  # noqa: ANN001, ANN002
        if statement.lstrip().upper().startswith("UPDATE"):
            updates.append(statement)

    event.listen(factory.kw["bind"].sync_engine, "before_cursor_execute", seen)
    return updates


async def test_a_batch_is_published_with_its_acks_in_flight_and_marked_sent_in_one_statement(
    session_factory, js, district
) -> None:
    envelopes = [make_envelope(district, f"r{i}") for i in range(50)]
    await stage(session_factory, envelopes)
    publisher = InFlightPublisher(js)
    updates = count_updates(session_factory)

    assert await OutboxRelay(session_factory, publisher, service="test").publish_pending() == 50

    assert publisher.most_in_flight == 50, "every publish of the batch awaits its ack at once"
    assert len(updates) == 1, "the whole batch marked sent by one UPDATE"
    assert publisher.sent == [e.event_id for e in envelopes]
    async with session_factory() as session:
        unsent = (await session.exec(select(OutboxMessage).where(col(OutboxMessage.sent_at).is_(None)))).all()
    assert unsent == []


async def test_a_failed_publish_stops_the_batch_at_its_row_and_the_rest_follow_in_order(
    session_factory, js, district
) -> None:
    envelopes = [make_envelope(district, f"r{i}") for i in range(6)]
    await stage(session_factory, envelopes)
    publisher = InFlightPublisher(js, failing={envelopes[2].event_id})
    clock_now = [datetime.now(UTC)]
    relay = OutboxRelay(session_factory, publisher, service="test", clock=lambda: clock_now[0])

    assert await relay.publish_pending() == 2, "the rows before the failed one"
    assert publisher.sent == [e.event_id for e in envelopes[:2]], "nothing after the failed row is sent"
    async with session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    assert [row.sent_at is not None for row in rows] == [True, True, False, False, False, False]
    assert [row.attempts for row in rows] == [0, 0, 1, 0, 0, 0]

    publisher.failing.clear()
    publisher.sent.clear()
    assert await relay.publish_pending() == 3, "the rows after it, in order, while it backs off"
    assert publisher.sent == [e.event_id for e in envelopes[3:]]
    clock_now[0] = rows[2].next_attempt_at
    assert await relay.publish_pending() == 1
    assert await messages_in_stream(js, district) == 6, "the rows published twice are stored once"


class HeldAcksPublisher(JetStreamPublisher):
    """Sends at once but holds every ack until released, recording the order publishes were made."""

    def __init__(self, js: JetStreamContext) -> None:
        super().__init__(js)
        self.started: list[str] = []
        self.release = asyncio.Event()

    async def send(self, subject: str, data: bytes, message_id: str) -> asyncio.Future[Any]:
        self.started.append(message_id)
        return asyncio.ensure_future(self._send_when_released(subject, data, message_id))

    async def _send_when_released(self, subject: str, data: bytes, message_id: str) -> object:
        await self.release.wait()
        return await (await super().send(subject, data, message_id))


async def test_the_next_batch_is_sent_while_the_acks_of_the_one_before_are_awaited(
    session_factory, js, district
) -> None:
    """On PostgreSQL JetStream is kept busy across batches; SQLite, one writer, has one batch at a time."""
    envelopes = [make_envelope(district, f"r{i}") for i in range(30)]
    await stage(session_factory, envelopes)
    publisher = HeldAcksPublisher(js)
    relay = OutboxRelay(session_factory, publisher, service="test", batch_size=10, poll_seconds=0.01)
    running = asyncio.create_task(relay.run())
    overlaps = session_factory.kw["bind"].dialect.name == "postgresql"

    async def sent_before_any_ack() -> bool:
        return len(publisher.started) >= (20 if overlaps else 10)

    await eventually(sent_before_any_ack)
    await asyncio.sleep(0.05)
    assert len(publisher.started) == (20 if overlaps else 10), "never more than two batches unacknowledged"
    publisher.release.set()

    async def all_sent() -> bool:
        return len(publisher.sent) == 30

    await eventually(all_sent)
    relay.stop()
    async with asyncio.timeout(5):
        await running
    assert publisher.started == [e.event_id for e in envelopes], "published in row order, each once"
    async with session_factory() as session:
        unsent = (await session.exec(select(OutboxMessage).where(col(OutboxMessage.sent_at).is_(None)))).all()
    assert unsent == []


@pytest.mark.postgres
async def test_of_two_running_relays_one_leads_and_the_other_takes_over_when_it_stops(
    pg_database_url: str, js, district
) -> None:
    engine = make_engine(pg_database_url)
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all, tables=[OutboxMessage.__table__])
    factory = make_session_factory(engine)
    publishers = [JetStreamPublisher(js), JetStreamPublisher(js)]
    relays = [OutboxRelay(factory, p, service="test", poll_seconds=0.01, batch_size=10) for p in publishers]
    running = [asyncio.create_task(relay.run()) for relay in relays]
    try:
        await stage(factory, [make_envelope(district, f"r{i}") for i in range(50)])

        async def all_sent() -> bool:
            return len(publishers[0].sent) + len(publishers[1].sent) == 50

        await eventually(all_sent)
        leader = 0 if publishers[0].sent else 1
        assert publishers[1 - leader].sent == [], "the relay that does not lead publishes nothing"

        relays[leader].stop()
        await running[leader]
        later = [make_envelope(district, f"s{i}") for i in range(5)]
        await stage(factory, later)

        async def taken_over() -> bool:
            return len(publishers[1 - leader].sent) == 5

        await eventually(taken_over)
        assert publishers[1 - leader].sent == [e.event_id for e in later], "the other took over, in order"
    finally:
        for relay in relays:
            relay.stop()
        await asyncio.gather(*running)
        await engine.dispose()


@pytest.mark.postgres
async def test_a_leader_whose_lock_the_server_ended_stops_publishing_at_once(
    pg_database_url: str, js, district
) -> None:
    """Between passes the lead is checked without a round trip; a lock connection the server ended
    must still end the lead on the next pass, not at the next real ping seconds later."""
    engine = make_engine(pg_database_url)
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all, tables=[OutboxMessage.__table__])
    factory = make_session_factory(engine)
    first, second = JetStreamPublisher(js), JetStreamPublisher(js)
    leading = OutboxRelay(factory, first, service="test", poll_seconds=0.01, batch_size=10)
    running = [asyncio.create_task(leading.run())]
    standing_by = OutboxRelay(factory, second, service="test", poll_seconds=0.01, batch_size=10)
    try:
        before = make_envelope(district, "r0")
        await stage(factory, [before])

        async def first_sent() -> bool:
            return len(first.sent) == 1

        await eventually(first_sent)
        running.append(asyncio.create_task(standing_by.run()))
        async with engine.connect() as admin:
            holders = await admin.scalars(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory'"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            )
            (holder,) = holders.all()
            assert await admin.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": holder})

            async def lock_released() -> bool:  # the server ended the session, not only asked it to
                gone = text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid")
                async with engine.connect() as probe:  # a transaction of its own: the view is a
                    return bool(await probe.scalar(gone, {"pid": holder}))  # snapshot per transaction

            # Until the backend has exited it still holds the lock, and the leader still leads.
            await eventually(lock_released)
        later = [make_envelope(district, f"s{i}") for i in range(20)]
        for envelope in later:  # one at a time: each gives both relays a pass
            await stage(factory, [envelope])

        async def all_sent() -> bool:
            return len(first.sent) + len(second.sent) == 21

        await eventually(all_sent)
        taken_by_first = [e for e in first.sent if e != before.event_id]
        assert sorted([*taken_by_first, *second.sent]) == sorted(e.event_id for e in later)
        assert taken_by_first == [] or second.sent == [], "never two relays publishing at once"
    finally:
        for relay in (leading, standing_by):
            relay.stop()
        await asyncio.gather(*running)
        await engine.dispose()


class SilentPublisher(JetStreamPublisher):
    """Sends, but no ack ever comes back (a server that stored nothing and said nothing)."""

    def __init__(self, js: JetStreamContext) -> None:
        super().__init__(js)
        self.acks: list[asyncio.Future[Any]] = []

    async def send(self, subject: str, data: bytes, message_id: str) -> asyncio.Future[Any]:
        self.acks.append(asyncio.get_running_loop().create_future())
        return self.acks[-1]


async def test_acks_missing_at_the_batchs_deadline_fail_their_rows_and_are_forgotten(
    session_factory, js, district, monkeypatch
) -> None:
    monkeypatch.setattr(outbox, "ACK_SECONDS", 0.05)
    await stage(session_factory, [make_envelope(district, "r1"), make_envelope(district, "r2")])
    publisher = SilentPublisher(js)

    assert await OutboxRelay(session_factory, publisher, service="test").publish_pending() == 0

    async with session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    assert [(row.sent_at, row.attempts) for row in rows] == [(None, 1), (None, 0)]
    assert "did not ack" in (rows[0].last_error or "")
    assert all(ack.cancelled() for ack in publisher.acks), "nothing left waiting on the client"
