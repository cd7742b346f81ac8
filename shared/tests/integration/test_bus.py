"""The bus connects in the background, survives NATS going away, and stops cleanly either way."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import nats
import pytest
from nats.aio.msg import Msg

from linli_shared.bus import Bus, Puller
from linli_shared.jetstream import DurableConsumer, ensure_consumer, ensure_stream, event_stream_config
from linli_shared.testing.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.nats]


async def test_bus_reconnects_after_nats_restarts_and_stops_while_it_is_down(own_nats_server) -> None:
    bus = Bus(own_nats_server.url, service="test", streams=[event_stream_config("registry")], consumers=[])
    reconnects: list[int] = []
    bus.on_reconnect(lambda: reconnects.append(1))
    bus.start_in_background()
    await bus.wait_started(timeout=20)
    assert bus.is_connected() and reconnects == [1]

    own_nats_server.stop()

    async def disconnected() -> bool:
        return not bus.is_connected()

    await eventually(disconnected)
    own_nats_server.start()

    async def connected_again() -> bool:
        return bus.is_connected() and len(reconnects) == 2

    await eventually(connected_again)
    own_nats_server.stop()
    await eventually(disconnected)
    await bus.stop()  # must not raise with the server gone


async def test_bus_started_before_nats_exists_connects_when_it_appears(own_nats_server) -> None:
    own_nats_server.stop()
    bus = Bus(own_nats_server.url, service="test", streams=[event_stream_config("registry")], consumers=[])
    bus.start_in_background()
    assert not bus.is_connected()
    own_nats_server.start()
    await bus.wait_started(timeout=30)
    assert bus.is_connected()
    await bus.stop()


async def every_thread_stopped(pid: int) -> bool:
    """Whether each of the process's threads is in state T (the stop is delivered thread by thread)."""
    threads = Path(f"/proc/{pid}/task").iterdir()
    return all((thread / "stat").read_text().rsplit(")", 1)[1].split()[0] == "T" for thread in threads)


async def test_readiness_says_jetstream_is_not_answering_while_the_server_is_frozen(own_nats_server) -> None:
    bus = Bus(
        own_nats_server.url, service="registry", streams=[event_stream_config("registry")], consumers=[]
    )
    bus.start_in_background()
    await bus.wait_started(timeout=20)
    assert await bus.answers() == "ok"
    process = own_nats_server.process
    assert process is not None
    process.send_signal(signal.SIGSTOP)  # as `docker pause` does: the socket stays, nothing answers
    try:
        await eventually(lambda: every_thread_stopped(process.pid))  # a busy thread may answer first
        assert bus.is_connected(), "the connection alone still looks fine"
        assert await bus.answers(timeout=0.5) == "jetstream not answering"
    finally:
        process.send_signal(signal.SIGCONT)
    assert await bus.answers() == "ok"
    await bus.stop()


async def test_a_puller_stopped_while_it_waits_on_a_fetch_leaves_no_subscription(own_nats_server) -> None:
    """Its open pull request may still deliver into the subscription's queue; were the subscription
    left, the connection's drain at shutdown would wait on that queue until its timeout (seen: every
    service's stop took 15 s)."""
    connection = await nats.connect(own_nats_server.url)
    js = connection.jetstream()
    await ensure_stream(js, event_stream_config("registry"))
    consumer = DurableConsumer.of_events("registry", consumer="test")
    await ensure_consumer(js, consumer)

    async def handle(_messages: list[Msg]) -> None:
        raise AssertionError("nothing was published")

    puller = Puller(consumer, handle, batch_size=10)
    idle = len(connection._subs)
    running = asyncio.create_task(puller.run(js, lambda: False))

    async def waiting_on_a_fetch() -> bool:
        return puller.fetching and len(connection._subs) > idle

    try:
        await eventually(waiting_on_a_fetch)
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        assert len(connection._subs) == idle
    finally:
        await connection.close()
