"""The service's NATS connection: started in the background, provisioned, never fatal to HTTP."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

from faststream.middlewares import AckPolicy
from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from nats.js.api import StreamConfig

from linli_shared.jetstream import DurableConsumer, ensure_consumer, ensure_stream, replay_consumer

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT_SECONDS = 5.0
GRACEFUL_SECONDS = 10  # handlers in flight get this long to finish at shutdown
# nats-py can wait for ever on a dead socket while closing (nats.py#671); shutdown must end.
STOP_TIMEOUT_SECONDS = GRACEFUL_SECONDS + 5


class Bus:
    """Owns the broker; HTTP keeps serving while NATS is away, the relay waits for it.

    The client reconnects forever (a closed client would spin the pull loop and freeze the
    event loop), and if it is ever closed all the same the process exits so that its
    supervisor restarts it.
    """

    def __init__(
        self,
        nats_url: str,
        *,
        service: str,
        streams: list[StreamConfig],
        consumers: list[DurableConsumer],
        replay: frozenset[str] = frozenset(),
    ) -> None:
        self._stopping = False
        self._reconnect_listeners: list[Callable[[], None]] = []
        self.streams = streams
        self.consumers = consumers
        self.replay = replay  # durables to restart from the stream's start (see replay_consumer)
        self.broker = NatsBroker(
            nats_url.split(","),
            name=f"linli-{service}",
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            connect_timeout=2,
            reconnected_cb=self._reconnected,
            closed_cb=self._closed,
            ack_policy=AckPolicy.MANUAL,
            graceful_timeout=GRACEFUL_SECONDS,
            log_level=logging.DEBUG,
        )
        self._started = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def on_reconnect(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever the connection comes (back) up."""
        self._reconnect_listeners.append(listener)

    def _notify_reconnect(self) -> None:
        for listener in self._reconnect_listeners:
            listener()

    async def _reconnected(self) -> None:
        log.info("NATS reconnected")
        self._notify_reconnect()

    async def _closed(self) -> None:
        if not self._stopping:
            log.critical("NATS connection closed for good; exiting so the supervisor restarts us")
            os._exit(3)

    @property
    def js(self) -> JetStreamContext:
        stream: JetStreamContext = self.broker.config.connection_state.stream
        return stream

    def is_connected(self) -> bool:
        return self._started.is_set() and self.broker.connection.is_connected

    def ready(self) -> bool:
        return self.is_connected()

    def start_in_background(self) -> None:
        self._task = asyncio.create_task(self._start(), name="bus-start")

    async def wait_started(self, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            await self._started.wait()

    async def _start(self) -> None:
        delay = 0.5
        while True:
            try:
                await self.broker.connect()
                for config in self.streams:
                    await ensure_stream(self.js, config)
                for consumer in self.consumers:
                    if consumer.durable in self.replay:
                        await replay_consumer(self.js, consumer)
                    else:
                        await ensure_consumer(self.js, consumer)
                await self.broker.start()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("NATS not ready (%r); retrying in %.1fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
                continue
            self._started.set()
            self._notify_reconnect()
            log.info("NATS connected and provisioned")
            return

    async def publish(self, subject: str, data: bytes, message_id: str) -> None:
        """Publish to JetStream; returns once stored (a duplicate ack also means stored)."""
        await self.js.publish(
            subject, data, timeout=PUBLISH_TIMEOUT_SECONDS, headers={"Nats-Msg-Id": message_id}
        )

    async def publish_with_headers(self, subject: str, data: bytes, headers: dict[str, str]) -> None:
        await self.js.publish(subject, data, timeout=PUBLISH_TIMEOUT_SECONDS, headers=headers)

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None and not self._task.done():
            self._task.cancel()
        try:
            async with asyncio.timeout(STOP_TIMEOUT_SECONDS):
                await self.broker.stop()
        except Exception as error:  # NATS away at shutdown: nothing left to drain to
            log.warning("NATS connection not drained at shutdown: %r", error)
