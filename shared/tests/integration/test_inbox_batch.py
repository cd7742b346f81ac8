"""A fetched batch applied in one transaction: in order, once each, its failures kept apart."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from nats.aio.msg import Msg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.contracts.registry import ResidentTagsChanged
from linli_shared.events import Envelope
from linli_shared.inbox import (
    Delivery,
    EventArrivedEarly,
    Inbox,
    InboxEntry,
    Outcome,
    apply_once,
    delivery_of,
    nack_delay_seconds,
    subscribe_inbox,
)
from linli_shared.jetstream import DurableConsumer
from linli_shared.subscribers import EventHandlers
from linli_shared.testing.effects import AppliedEffect
from linli_shared.unit_of_work import Work

pytestmark = pytest.mark.integration

APPLIED, DUPLICATE, RETRY, DEAD = Outcome.APPLIED, Outcome.DUPLICATE, Outcome.RETRY, Outcome.DEAD_LETTERED


def tags_changed() -> Envelope:
    return Envelope.wrap(
        ResidentTagsChanged(resident_id="r1", tags=["dibao"]),
        district="d1",
        community="c1",
        occurred_at=datetime.now(UTC),
    )


def deliver(*items: Envelope | bytes, deliveries: int = 1) -> list[Delivery]:
    return [
        Delivery(
            item if isinstance(item, bytes) else item.model_dump_json().encode(),
            subject="linli.d1.registry.resident.tags_changed",
            deliveries=deliveries,
            stream_sequence=sequence,
        )
        for sequence, item in enumerate(items, start=1)
    ]


def failing_on(bad: set[str], error: Callable[[], Exception]) -> Callable[[Work, Envelope], Awaitable[None]]:
    """Records an effect per event, and raises `error` for the events in `bad` after writing."""
    handlers = EventHandlers()

    @handlers.on(ResidentTagsChanged)
    async def record(uow: Work, _: ResidentTagsChanged, envelope: Envelope) -> None:
        uow.session.add(AppliedEffect(event_id=envelope.event_id))
        await uow.session.flush()
        if envelope.event_id in bad:
            raise error()

    return handlers


def inbox_of(apply: Any, factory: async_sessionmaker[AsyncSession]) -> tuple[Inbox, list[str]]:  # noqa: ANN401
    dead_letters: list[str] = []

    async def publish_dead_letter(subject: str, data: bytes, headers: dict[str, str]) -> None:
        dead_letters.append(headers["Linli-Error"])

    consumer = DurableConsumer(stream="S", durable="batch", filter_subject="x", max_deliver=3)
    return Inbox(consumer, lambda: factory, apply, publish_dead_letter), dead_letters


async def effects_in_order(factory: async_sessionmaker[AsyncSession]) -> list[str]:
    async with factory() as session:
        return list((await session.exec(select(AppliedEffect.event_id).order_by(AppliedEffect.id))).all())


async def inbox_keys(factory: async_sessionmaker[AsyncSession]) -> set[str]:
    async with factory() as session:
        return set((await session.exec(select(InboxEntry.event_id))).all())


def count_commits(factory: async_sessionmaker[AsyncSession]) -> list[int]:
    commits: list[int] = []
    engine = factory.kw["bind"]
    event.listen(engine.sync_engine, "commit", lambda _connection: commits.append(1))
    return commits


async def test_a_batch_is_applied_in_order_in_one_transaction(session_factory) -> None:
    envelopes = [tags_changed() for _ in range(40)]
    inbox, dead_letters = inbox_of(failing_on(set(), RuntimeError), session_factory)
    commits = count_commits(session_factory)

    outcomes = await inbox.handle_batch(deliver(*envelopes))

    assert outcomes == [APPLIED] * 40
    assert len(commits) == 1, "one commit for the whole batch"
    assert await effects_in_order(session_factory) == [e.event_id for e in envelopes]
    assert await inbox_keys(session_factory) == {e.event_id for e in envelopes}
    assert dead_letters == []


async def test_a_poison_event_in_the_middle_is_dead_lettered_and_the_rest_applied_once_in_order(
    session_factory,
) -> None:
    before, after = [tags_changed() for _ in range(5)], [tags_changed() for _ in range(5)]
    broken = tags_changed().model_copy(update={"payload": {"resident_id": "r1"}})  # breaks its contract
    inbox, dead_letters = inbox_of(failing_on(set(), RuntimeError), session_factory)
    commits = count_commits(session_factory)

    outcomes = await inbox.handle_batch(deliver(*before, b"{not json", broken, *after))

    assert outcomes == [APPLIED] * 5 + [DEAD, DEAD] + [APPLIED] * 5
    assert await effects_in_order(session_factory) == [e.event_id for e in before + after]
    assert len(commits) == 1, "the good events commit together, once"
    assert "ValidationError" in dead_letters[0] and "PermanentEventError" in dead_letters[1]
    assert broken.event_id not in await inbox_keys(session_factory)


async def test_a_batch_of_nothing_but_poison_is_dead_lettered(session_factory) -> None:
    inbox, dead_letters = inbox_of(failing_on(set(), RuntimeError), session_factory)

    assert await inbox.handle_batch(deliver(b"{not json", b"[]")) == [DEAD, DEAD]
    assert len(dead_letters) == 2


@pytest.mark.parametrize("error", [ConnectionError, lambda: EventArrivedEarly("r1")])
async def test_a_failing_event_is_rolled_back_alone_and_retried_then_applied(session_factory, error) -> None:
    envelopes = [tags_changed() for _ in range(6)]
    failing = envelopes[2]
    inbox, dead_letters = inbox_of(failing_on({failing.event_id}, error), session_factory)

    outcomes = await inbox.handle_batch(deliver(*envelopes))

    assert outcomes == [APPLIED, APPLIED, RETRY, APPLIED, APPLIED, APPLIED]
    assert await effects_in_order(session_factory) == [e.event_id for e in envelopes if e is not failing]
    assert failing.event_id not in await inbox_keys(session_factory), "its key was rolled back with it"
    assert dead_letters == []

    retry = inbox_of(failing_on(set(), RuntimeError), session_factory)[0]
    assert (
        await retry.handle_batch(deliver(*envelopes, deliveries=2))
        == [DUPLICATE] * 2 + [APPLIED] + [DUPLICATE] * 3
    )
    assert sorted(await effects_in_order(session_factory)) == sorted(e.event_id for e in envelopes)


async def test_an_event_failing_on_its_last_delivery_is_dead_lettered_and_the_rest_applied(
    session_factory,
) -> None:
    envelopes = [tags_changed() for _ in range(3)]
    inbox, dead_letters = inbox_of(failing_on({envelopes[1].event_id}, ConnectionError), session_factory)

    assert await inbox.handle_batch(deliver(*envelopes, deliveries=3)) == [APPLIED, DEAD, APPLIED]
    assert len(dead_letters) == 1 and "ConnectionError" in dead_letters[0]
    assert await effects_in_order(session_factory) == [envelopes[0].event_id, envelopes[2].event_id]


async def test_events_applied_before_and_repeats_within_a_batch_are_duplicates(session_factory) -> None:
    first, second = tags_changed(), tags_changed()
    apply = failing_on(set(), RuntimeError)
    assert await apply_once(session_factory, "batch", first, apply)
    inbox, _ = inbox_of(apply, session_factory)

    outcomes = await inbox.handle_batch(deliver(first, second, second))

    assert outcomes == [DUPLICATE, APPLIED, DUPLICATE]
    assert await effects_in_order(session_factory) == [first.event_id, second.event_id]


async def test_overlapping_batches_delivered_concurrently_apply_each_event_once(session_factory) -> None:
    """Two replicas handed the same events (a redelivery after the ack wait): nothing lost, nothing twice."""
    envelopes = [tags_changed() for _ in range(30)]
    apply = failing_on(set(), RuntimeError)
    inboxes = [inbox_of(apply, session_factory)[0] for _ in range(3)]
    batches = [envelopes[:20], envelopes[10:], envelopes[5:25]]

    results = await asyncio.gather(
        *(inbox.handle_batch(deliver(*batch)) for inbox, batch in zip(inboxes, batches, strict=True))
    )

    assert all(outcome in (APPLIED, DUPLICATE) for outcomes in results for outcome in outcomes)
    assert sum(outcome is APPLIED for outcomes in results for outcome in outcomes) == 30
    assert sorted(await effects_in_order(session_factory)) == sorted(e.event_id for e in envelopes)


class FakeMessage:
    """A JetStream message that records how it was settled."""

    class Metadata:
        def __init__(self, delivered: int, sequence: int) -> None:
            self.num_delivered = delivered
            self.sequence = type("Sequence", (), {"stream": sequence})()

    def __init__(self, envelope: Envelope, delivered: int, sequence: int) -> None:
        self.data = envelope.model_dump_json().encode()
        self.subject = envelope.subject
        self.metadata = self.Metadata(delivered, sequence)
        self.reply = ""  # not the short ack subject: read through metadata
        self.settled: tuple[str, float | None] | None = None

    async def ack(self) -> None:
        self.settled = ("ack", None)

    async def nak(self, delay: float | None = None) -> None:
        self.settled = ("nak", delay)

    async def term(self) -> None:
        self.settled = ("term", None)


class FakeBus:
    def __init__(self) -> None:
        self.handlers: list[Any] = []

    def consume(self, consumer: DurableConsumer, handle: Any, *, batch_size: int, description: str) -> None:  # noqa: ANN401
        self.handlers.append((handle, batch_size))


async def test_a_batch_is_settled_after_its_commit_with_a_growing_delay_for_each_retry(
    session_factory,
) -> None:
    envelopes = [tags_changed() for _ in range(4)]
    failing = {envelopes[1].event_id, envelopes[2].event_id}
    inbox, _ = inbox_of(failing_on(failing, ConnectionError), session_factory)
    inbox.batch_size = 321
    bus = FakeBus()
    subscribe_inbox(bus, inbox)  # type: ignore[arg-type]
    [(handle, batch_size)] = bus.handlers
    messages = [
        FakeMessage(e, delivered, seq)
        for seq, (e, delivered) in enumerate(zip(envelopes, [1, 1, 2, 1], strict=True))
    ]

    await handle(messages)

    assert batch_size == 321
    assert [m.settled for m in messages] == [
        ("ack", None),
        ("nak", nack_delay_seconds(1)),
        ("nak", nack_delay_seconds(2)),
        ("ack", None),
    ]
    assert nack_delay_seconds(2) > nack_delay_seconds(1)


async def test_a_batch_whose_transaction_cannot_commit_is_applied_one_at_a_time(session_factory) -> None:
    envelopes = [tags_changed() for _ in range(3)]
    inbox, _ = inbox_of(failing_on(set(), RuntimeError), session_factory)
    batch_transactions = {"left": 2}
    real_apply = inbox._apply_together

    async def batch_fails(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        if batch_transactions["left"]:
            batch_transactions["left"] -= 1
            raise ConnectionError(f"database away {uuid.uuid4()}")
        return await real_apply(*args, **kwargs)

    inbox._apply_together = batch_fails  # type: ignore[method-assign]

    assert await inbox.handle_batch(deliver(*envelopes)) == [APPLIED] * 3
    assert batch_transactions["left"] == 0
    assert await effects_in_order(session_factory) == [e.event_id for e in envelopes]


@pytest.mark.parametrize(
    "reply",
    [
        "$JS.ACK.LINLI_REGISTRY.points-registry.3.42.40.1700000000000000000.7",
        "$JS.ACK.hub.ACCOUNTHASH.LINLI_REGISTRY.points-registry.3.42.40.1700000000000000000.7.token",
    ],
)
def test_a_delivery_reads_its_count_and_sequence_as_nats_py_does(reply: str) -> None:
    message = Msg(_client=None, subject="linli.d1.registry.x", reply=reply, data=b"{}")  # type: ignore[arg-type]

    delivery = delivery_of(message)

    assert (delivery.deliveries, delivery.stream_sequence) == (3, 42)
    assert (message.metadata.num_delivered, message.metadata.sequence.stream) == (3, 42)
