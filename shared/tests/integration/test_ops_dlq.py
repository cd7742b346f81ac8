"""`linli dlq list|show|replay` on a real NATS server: a dead-lettered event is found, replayed once
and applied once, however often it is replayed."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import nats
import pytest
from nats.js import JetStreamContext
from prometheus_client import REGISTRY

from linli_shared.bus import Bus
from linli_shared.cli import main
from linli_shared.events import Envelope
from linli_shared.inbox import Inbox, subscribe_inbox
from linli_shared.jetstream import (
    DEAD_LETTER_STREAM,
    DurableConsumer,
    dead_letter_stream_config,
    dead_letter_subject,
    event_stream_config,
    stream_name,
)
from linli_shared.ops.gauges import keep_gauges_fresh, refresh_consumer_gauges
from linli_shared.ops.status import Limits, gather_status
from linli_shared.ops.targets import Targets
from linli_shared.testing.effects import AppliedEffect, effects, tags_changed
from linli_shared.testing.waiting import eventually
from linli_shared.unit_of_work import Work

pytestmark = [pytest.mark.integration, pytest.mark.nats]


class Breakable:
    """An event handler that fails while `broken`: what a bug does until its fix is deployed."""

    def __init__(self) -> None:
        self.broken = True

    async def __call__(self, uow: Work, envelope: Envelope) -> None:
        if self.broken:
            raise RuntimeError("handler bug")
        uow.session.add(AppliedEffect(event_id=envelope.event_id))


@pytest.fixture
async def js(nats_url: str) -> AsyncIterator[JetStreamContext]:
    client = await nats.connect(nats_url)
    yield client.jetstream()
    await client.drain()


@pytest.fixture
async def consumer_running(
    nats_url: str, session_factory, district
) -> AsyncIterator[tuple[DurableConsumer, Breakable, Bus]]:  # noqa: ANN001
    """A consuming service whose handler fails at first, dead-lettering on the first failure."""
    consumer = DurableConsumer(
        stream=stream_name("registry"),
        durable=f"ops-{uuid.uuid4().hex[:8]}",
        filter_subject=f"linli.{district}.registry.>",
        max_deliver=1,
    )
    bus = Bus(
        nats_url,
        service="test",
        streams=[event_stream_config("registry"), dead_letter_stream_config()],
        consumers=[consumer],
    )
    handler = Breakable()
    subscribe_inbox(bus, Inbox(consumer, lambda: session_factory, handler, bus.publish_with_headers))
    bus.start_in_background()
    await bus.wait_started(timeout=20)
    yield consumer, handler, bus
    await bus.stop()


async def linli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the `linli` command in a thread (it runs its own event loop): exit status, stdout, stderr."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_dead_letter_listed_shown_replayed_and_applied_once(
    consumer_running, js, session_factory, nats_url, district, capsys
) -> None:
    consumer, handler, _ = consumer_running
    envelope = tags_changed(district)
    await js.publish(
        envelope.subject, envelope.model_dump_json().encode(), headers={"Nats-Msg-Id": envelope.event_id}
    )

    async def listed() -> list[dict[str, object]]:
        code, out, err = await linli(
            capsys, "dlq", "list", "--consumer", consumer.durable, "--json", "--nats", nats_url
        )
        assert code == 0, err
        return list(json.loads(out))

    [letter] = await eventually(listed)
    code, out, _ = await linli(capsys, "dlq", "list", "--nats", nats_url)
    assert code == 0 and consumer.durable in out and "handler bug" in out, "the table a person reads"
    assert letter["consumer"] == consumer.durable
    assert letter["original_subject"] == envelope.subject
    assert "handler bug" in str(letter["error"])
    await refresh_consumer_gauges(js, [consumer])
    assert REGISTRY.get_sample_value("linli_dead_letters", {"consumer": consumer.durable}) == 1
    status = await gather_status(Targets(nats_url), Limits())
    assert status.problems == [f"{consumer.durable}: 1 dead letters"]
    [row] = [row for row in status.consumers if row.durable == consumer.durable]
    assert (row.stream, row.pending, row.dead_letters) == (stream_name("registry"), 0, 1)

    code, out, _ = await linli(capsys, "dlq", "show", str(letter["sequence"]), "--json", "--nats", nats_url)
    assert code == 0
    assert Envelope.model_validate_json(json.loads(out)["data"]).event_id == envelope.event_id

    handler.broken = False  # the fix is deployed
    code, out, err = await linli(
        capsys, "dlq", "replay", str(letter["sequence"]), "--json", "--nats", nats_url
    )
    assert code == 0, err
    assert json.loads(out)[0]["subject"] == envelope.subject
    await eventually(lambda: effects(session_factory, envelope.event_id))
    assert await listed() == [], "a replayed letter leaves the dead-letter stream"
    await refresh_consumer_gauges(js, [consumer])
    assert REGISTRY.get_sample_value("linli_dead_letters", {"consumer": consumer.durable}) == 0
    assert (await gather_status(Targets(nats_url), Limits())).healthy


async def test_replaying_an_event_twice_applies_it_once(
    consumer_running, js, session_factory, nats_url, district, capsys
) -> None:
    consumer, handler, _ = consumer_running
    handler.broken = False
    envelope = tags_changed(district)
    await js.publish(envelope.subject, envelope.model_dump_json().encode())
    await eventually(lambda: effects(session_factory, envelope.event_id))
    # Twice in the dead-letter stream: a replay cut short before its delete, then replayed again.
    for _ in range(2):
        await js.publish(
            dead_letter_subject(consumer.durable),
            envelope.model_dump_json().encode(),
            headers={"Linli-Original-Subject": envelope.subject, "Linli-Error": "RuntimeError: handler bug"},
        )

    code, out, err = await linli(
        capsys, "dlq", "replay", "--consumer", consumer.durable, "--json", "--nats", nats_url
    )

    assert code == 0, err
    assert len(json.loads(out)) == 2
    marker = tags_changed(district)  # applied after both replays: they have been handled by then
    await js.publish(marker.subject, marker.model_dump_json().encode())
    await eventually(lambda: effects(session_factory, marker.event_id))
    assert await effects(session_factory, envelope.event_id) == 1
    assert (await js.stream_info(DEAD_LETTER_STREAM)).state.messages == 0


async def test_show_of_a_missing_letter_is_one_line(nats_url, js, capsys) -> None:
    await js.add_stream(dead_letter_stream_config())
    code, out, err = await linli(capsys, "dlq", "show", "999999", "--nats", nats_url)
    assert code == 1
    assert err.strip().splitlines() == ["linli dlq show: NoSuchDeadLetter: no dead letter at sequence 999999"]


async def test_a_service_keeps_its_gauges_fresh(consumer_running, js, session_factory, district) -> None:
    """What each service runs beside its relay: the hook's own expression for the JetStream context."""
    consumer, _, bus = consumer_running
    service = f"gauged-{uuid.uuid4().hex[:6]}"
    envelope = tags_changed(district)
    await js.publish(envelope.subject, envelope.model_dump_json().encode())
    refreshing = asyncio.create_task(
        keep_gauges_fresh(
            service,
            session_factory,
            lambda: bus.js if bus.is_connected() else None,
            bus.consumers,
            every_seconds=0.1,
        )
    )
    try:

        def gauge(name: str) -> float | None:
            return REGISTRY.get_sample_value(name, {"consumer": consumer.durable})

        async def settled() -> bool:
            # a refresh may read the dead letter before the server has taken the original's
            # termination: the gauges are right once a later refresh has seen both
            dead = gauge("linli_dead_letters") == 1
            return dead and gauge("linli_consumer_pending") == 0 and gauge("linli_consumer_ack_pending") == 0

        await eventually(settled)
        assert REGISTRY.get_sample_value("linli_outbox_backlog", {"service": service}) == 0
    finally:
        refreshing.cancel()
