"""The idempotent inbox and dead-lettering, through FastStream on a real NATS server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.bus import Bus
from linli_shared.contracts.registry import ResidentTagsChanged
from linli_shared.correlation import current_correlation_id
from linli_shared.events import Envelope
from linli_shared.inbox import EventArrivedEarly, Inbox, InboxEntry, Outcome, apply_once, subscribe_inbox
from linli_shared.jetstream import (
    DEAD_LETTER_STREAM,
    DurableConsumer,
    dead_letter_stream_config,
    dead_letter_subject,
    event_stream_config,
    stream_name,
)
from linli_shared.subscribers import EventHandlers
from linli_shared.testing.effects import AppliedEffect, effects, record_effect, tags_changed
from linli_shared.testing.waiting import eventually
from linli_shared.unit_of_work import Work

pytestmark = [pytest.mark.integration, pytest.mark.nats]


async def last_dead_letter(js: JetStreamContext, consumer: DurableConsumer) -> RawStreamMsg | None:
    try:
        return await js.get_last_msg(DEAD_LETTER_STREAM, dead_letter_subject(consumer.durable))
    except nats.js.errors.NotFoundError:
        return None


async def test_second_apply_of_an_event_changes_nothing(session_factory) -> None:
    envelope = tags_changed("d1")
    assert await apply_once(session_factory, "notify", envelope, record_effect) is True
    assert await apply_once(session_factory, "notify", envelope, record_effect) is False
    assert await apply_once(session_factory, "points", envelope, record_effect) is True, "consumers are apart"
    assert await effects(session_factory, envelope.event_id) == 2


async def test_concurrent_applies_of_one_event_apply_it_once(session_factory) -> None:
    envelope = tags_changed("d1")
    results = await asyncio.gather(
        *(apply_once(session_factory, "notify", envelope, record_effect) for _ in range(5))
    )
    assert sorted(results) == [False] * 4 + [True]
    assert await effects(session_factory, envelope.event_id) == 1


async def test_failed_apply_leaves_no_inbox_row(session_factory) -> None:
    async def explode(uow: Work, envelope: Envelope) -> None:
        uow.session.add(AppliedEffect(event_id=envelope.event_id))
        raise RuntimeError("database hiccup")

    envelope = tags_changed("d1")
    with pytest.raises(RuntimeError):
        await apply_once(session_factory, "notify", envelope, explode)
    async with session_factory() as session:
        assert (await session.exec(select(InboxEntry))).all() == []
    assert await effects(session_factory, envelope.event_id) == 0


async def applied_in_order(factory: async_sessionmaker[AsyncSession]) -> list[str]:
    async with factory() as session:
        return list((await session.exec(select(AppliedEffect.event_id).order_by(AppliedEffect.id))).all())


@pytest.fixture
async def js(nats_url: str) -> AsyncIterator[JetStreamContext]:
    client = await nats.connect(nats_url)
    yield client.jetstream()
    await client.drain()


@pytest.fixture
async def running_consumer(nats_url: str, session_factory, district) -> AsyncIterator[Callable[..., object]]:
    """Start a consuming service (FastStream subscriber + inbox) on this test's district."""
    buses: list[Bus] = []

    async def start(apply=record_effect, max_deliver: int = 3, serves: str | None = None) -> DurableConsumer:
        consumer = DurableConsumer(
            stream=stream_name("registry"),
            durable=f"test-{uuid.uuid4().hex[:8]}",
            filter_subject=f"linli.{district}.registry.>",
            max_deliver=max_deliver,
        )
        bus = Bus(
            nats_url,
            service="test",
            streams=[event_stream_config("registry"), dead_letter_stream_config()],
            consumers=[consumer],
        )
        inbox = Inbox(consumer, lambda: session_factory, apply, bus.publish_with_headers, district=serves)
        subscribe_inbox(bus, inbox)
        bus.start_in_background()
        await bus.wait_started(timeout=20)
        buses.append(bus)
        return consumer

    yield start
    for bus in buses:
        await bus.stop()


async def test_a_backlog_is_applied_once_each_in_stream_order(
    running_consumer, js, session_factory, district
) -> None:
    """What a consumer on a fresh database meets: far more events waiting than one fetch takes."""
    await js.add_stream(event_stream_config("registry"))
    backlog = [tags_changed(district) for _ in range(130)]
    for envelope in backlog:
        await js.publish(envelope.subject, envelope.model_dump_json().encode())

    await running_consumer()

    async def all_applied() -> list[str] | None:
        order = await applied_in_order(session_factory)
        return order if len(order) >= len(backlog) else None

    assert await eventually(all_applied) == [envelope.event_id for envelope in backlog]


async def test_a_poison_event_inside_a_fetched_batch_holds_back_none_of_it(
    running_consumer, js, session_factory, district
) -> None:
    """The backlog arrives in fetched batches; the poison in the middle of one is dead-lettered alone."""
    await js.add_stream(event_stream_config("registry"))
    before, after = [tags_changed(district) for _ in range(40)], [tags_changed(district) for _ in range(40)]
    for envelope in before:
        await js.publish(envelope.subject, envelope.model_dump_json().encode())
    await js.publish(f"linli.{district}.registry.resident.tags_changed", b"{not json")
    for envelope in after:
        await js.publish(envelope.subject, envelope.model_dump_json().encode())

    consumer = await running_consumer()

    async def all_applied() -> list[str] | None:
        order = await applied_in_order(session_factory)
        return order if len(order) >= len(before) + len(after) else None

    assert await eventually(all_applied) == [envelope.event_id for envelope in before + after]
    letter = await eventually(lambda: last_dead_letter(js, consumer))
    assert letter.data == b"{not json"


async def test_event_redelivered_past_the_dedup_window_is_applied_once(
    running_consumer, js, session_factory, district
) -> None:
    await running_consumer()
    envelope = tags_changed(district)
    # Two publishes with distinct message ids: what a relay republishing after a long outage does.
    await js.publish(
        envelope.subject,
        envelope.model_dump_json().encode(),
        headers={"Nats-Msg-Id": f"{envelope.event_id}-a"},
    )
    await js.publish(
        envelope.subject,
        envelope.model_dump_json().encode(),
        headers={"Nats-Msg-Id": f"{envelope.event_id}-b"},
    )
    marker = tags_changed(district)
    await js.publish(marker.subject, marker.model_dump_json().encode())

    await eventually(lambda: effects(session_factory, marker.event_id))
    assert await effects(session_factory, envelope.event_id) == 1


async def test_poison_event_is_dead_lettered_and_the_next_event_applied(
    running_consumer, js, session_factory, district
) -> None:
    consumer = await running_consumer()
    subject = f"linli.{district}.registry.resident.tags_changed"
    await js.publish(subject, b"{not json", headers={"Nats-Msg-Id": uuid.uuid4().hex})
    good = tags_changed(district)
    await js.publish(good.subject, good.model_dump_json().encode())

    await eventually(lambda: effects(session_factory, good.event_id))

    letter = await eventually(lambda: last_dead_letter(js, consumer))
    assert letter.data == b"{not json"
    assert letter.headers["Linli-Original-Subject"] == subject
    assert "ValidationError" in letter.headers["Linli-Error"]


async def test_transient_failure_is_retried_then_applied(
    running_consumer, js, session_factory, district
) -> None:
    failures = {"left": 1}

    async def flaky(uow: Work, envelope: Envelope) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("database away")
        await record_effect(uow, envelope)

    await running_consumer(apply=flaky)
    envelope = tags_changed(district)
    await js.publish(envelope.subject, envelope.model_dump_json().encode())
    assert await eventually(lambda: effects(session_factory, envelope.event_id)) == 1


async def test_event_failing_every_try_is_dead_lettered_after_max_deliver(
    running_consumer, js, district
) -> None:
    async def always_fails(uow: Work, envelope: Envelope) -> None:
        raise ConnectionError("never works")

    consumer = await running_consumer(apply=always_fails, max_deliver=2)
    envelope = tags_changed(district)
    await js.publish(envelope.subject, envelope.model_dump_json().encode())

    letter = await eventually(lambda: last_dead_letter(js, consumer))
    assert letter.headers["Linli-Deliveries"] == "2"
    assert "never works" in letter.headers["Linli-Error"]


async def test_event_that_arrived_early_is_retried_not_dead_lettered(session_factory) -> None:
    async def too_early(uow: Work, envelope: Envelope) -> None:
        raise EventArrivedEarly("r1")

    dead_letters: list[str] = []

    async def publish_dead_letter(subject: str, data: bytes, headers: dict[str, str]) -> None:
        dead_letters.append(subject)

    consumer = DurableConsumer(stream="S", durable="early", filter_subject="x", max_deliver=3)
    inbox = Inbox(consumer, lambda: session_factory, too_early, publish_dead_letter)
    data = tags_changed("d1").model_dump_json().encode()

    assert await inbox.handle(data, subject="x", deliveries=1, stream_sequence=1) is Outcome.RETRY
    assert dead_letters == []
    assert await inbox.handle(data, subject="x", deliveries=3, stream_sequence=1) is Outcome.DEAD_LETTERED


def recording_inbox(apply, session_factory, max_deliver: int = 3) -> tuple[Inbox, list[dict[str, str]]]:  # noqa: ANN001
    dead_letters: list[dict[str, str]] = []

    async def publish_dead_letter(subject: str, data: bytes, headers: dict[str, str]) -> None:
        dead_letters.append(headers)

    consumer = DurableConsumer(stream="S", durable="c", filter_subject="x", max_deliver=max_deliver)
    return Inbox(consumer, lambda: session_factory, apply, publish_dead_letter), dead_letters


async def test_a_bug_in_a_handler_is_retried_then_dead_lettered_with_its_traceback(session_factory) -> None:
    async def buggy(uow: Work, envelope: Envelope) -> None:
        raise ValueError("a bug, not a bad event")

    inbox, dead_letters = recording_inbox(buggy, session_factory)
    data = tags_changed("d1").model_dump_json().encode()

    assert await inbox.handle(data, subject="x", deliveries=1, stream_sequence=1) is Outcome.RETRY
    assert dead_letters == [], "a ValueError may be a bug that a fix cures: not poison"
    assert await inbox.handle(data, subject="x", deliveries=3, stream_sequence=1) is Outcome.DEAD_LETTERED
    assert "a bug, not a bad event" in dead_letters[0]["Linli-Error"]
    assert "in buggy" in dead_letters[0]["Linli-Traceback"]
    assert "\n" not in dead_letters[0]["Linli-Traceback"]


async def test_an_event_that_breaks_its_contract_is_dead_lettered_at_once(session_factory) -> None:
    handlers = EventHandlers()

    @handlers.on(ResidentTagsChanged)
    async def on_tags_changed(uow: Work, event: ResidentTagsChanged, envelope: Envelope) -> None:
        uow.session.add(AppliedEffect(event_id=envelope.event_id))

    inbox, dead_letters = recording_inbox(handlers, session_factory)
    broken = tags_changed("d1").model_copy(update={"payload": {"resident_id": "r1"}})  # no tags

    outcome = await inbox.handle(
        broken.model_dump_json().encode(), subject="x", deliveries=1, stream_sequence=1
    )

    assert outcome is Outcome.DEAD_LETTERED
    assert "PermanentEventError" in dead_letters[0]["Linli-Error"]
    assert await effects(session_factory, broken.event_id) == 0


async def test_a_district_service_never_applies_another_districts_event(
    running_consumer, js, session_factory, district
) -> None:
    """A misrouted event (another district's, on this district's subject) is dead-lettered, not applied."""
    await js.add_stream(event_stream_config("registry"))
    stranger, own = tags_changed("elsewhere"), tags_changed(district)
    await js.publish(own.subject, stranger.model_dump_json().encode())
    await js.publish(own.subject, own.model_dump_json().encode())

    consumer = await running_consumer(serves=district)

    letter = await eventually(lambda: last_dead_letter(js, consumer))
    assert b"elsewhere" in letter.data and "serves only" in (letter.headers or {})["Linli-Error"]
    assert await eventually(lambda: applied_in_order(session_factory)) == [own.event_id]
    assert await effects(session_factory, stranger.event_id) == 0


async def test_an_event_is_applied_under_its_correlation_id_and_passes_it_on(session_factory) -> None:
    seen: list[str | None] = []

    async def apply(uow: Work, envelope: Envelope) -> None:
        seen.append(current_correlation_id())
        uow.record(ResidentTagsChanged(resident_id="r2", tags=[]), district="d1", community="c1")
        seen.append(uow.events[-1].correlation_id)

    caused = tags_changed("d1").model_copy(update={"correlation_id": "request-7"})
    uncorrelated = tags_changed("d1")
    await apply_once(session_factory, "notify", caused, apply)
    await apply_once(session_factory, "notify", uncorrelated, apply)
    assert seen == ["request-7", "request-7", uncorrelated.event_id, uncorrelated.event_id]
