"""The service's NATS connection: started in the background, provisioned, never fatal to HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import StreamConfig

from linli_shared.jetstream import (
    DurableConsumer,
    ensure_consumer,
    ensure_stream,
    replay_consumer,
    stream_name,
)

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT_SECONDS = 5.0
GRACEFUL_SECONDS = 10  # handlers in flight get this long to finish at shutdown
# nats-py can wait for ever on a dead socket while closing (nats.py#671); shutdown must end.
STOP_TIMEOUT_SECONDS = GRACEFUL_SECONDS + 5
READY_TIMEOUT_SECONDS = 2.0  # a readiness probe's wait for JetStream
FETCH_WAIT_SECONDS = 5.0  # how long one pull request waits on an idle stream

BatchHandler = Callable[[list[Msg]], Awaitable[None]]
"""Settles (acks, naks or terminates) every message of one fetched batch."""


@dataclass
class Puller:
    """One durable consumer read a batch at a time, the batches handled one after another in stream
    order; the next batch is fetched while the one before is handled, so neither waits on the other."""

    consumer: DurableConsumer
    handle: BatchHandler
    batch_size: int
    fetching: bool = False  # waiting on a fetch, not handling: stopping may cancel it
    task: asyncio.Task[None] | None = None

    async def run(self, js: JetStreamContext, stopping: Callable[[], bool]) -> None:
        subscription = await js.pull_subscribe_bind(
            durable=self.consumer.durable, stream=self.consumer.stream
        )
        next_batch = asyncio.create_task(self._fetch(subscription))
        try:
            while not stopping():
                self.fetching = True
                try:
                    messages = await next_batch
                finally:
                    self.fetching = False
                if stopping():
                    await _give_back(messages)
                    return
                next_batch = asyncio.create_task(self._fetch(subscription))
                if messages:
                    await self._handle(messages)
        finally:
            next_batch.cancel()
            # A pull request still open may yet deliver into the subscription's queue; nothing
            # reads it any more, and the connection's drain at shutdown would wait on it for ever.
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

    async def _fetch(self, subscription: JetStreamContext.PullSubscription) -> list[Msg]:
        try:
            return await subscription.fetch(self.batch_size, timeout=FETCH_WAIT_SECONDS)
        except TimeoutError:  # nothing new (nats-py's timeouts are TimeoutErrors)
            return []
        except Exception as error:  # disconnected, or the server busy: wait, never spin
            log.warning("%s: fetch failed: %r", self.consumer.durable, error)
            await asyncio.sleep(1)
            return []

    async def _handle(self, messages: list[Msg]) -> None:
        try:
            await self.handle(messages)
        except Exception:  # what was not settled is redelivered once its ack wait runs out
            log.exception("%s: a batch of %d was not settled", self.consumer.durable, len(messages))


async def _give_back(messages: list[Msg]) -> None:
    """Messages fetched but not handled at shutdown: redeliver them now, not after the ack wait."""
    for message in messages:
        try:
            await message.nak()
        except Exception:  # the connection is going: the ack wait brings them back
            return


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
        names = [config.name for config in streams if config.name]
        own = stream_name(service)
        self._probed_stream = own if own in names or not names else names[0]  # readiness asks it
        self.broker = NatsBroker(
            nats_url.split(","),
            name=f"linli-{service}",
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            connect_timeout=2,
            # A frozen server keeps the socket open: without short pings the client would wait
            # minutes (nats-py's default, 3 × 120 s) before it reconnects to another node.
            ping_interval=2,
            max_outstanding_pings=3,
            reconnected_cb=self._reconnected,
            closed_cb=self._closed,
            ack_policy=AckPolicy.MANUAL,
            graceful_timeout=GRACEFUL_SECONDS,
            log_level=logging.DEBUG,
        )
        # The AsyncAPI document's broker: never connected, it lists what is published and consumed.
        self.spec_broker = NatsBroker(nats_url.split(","))
        self._pullers: list[Puller] = []
        self._started = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def consume(
        self, consumer: DurableConsumer, handle: BatchHandler, *, batch_size: int, description: str = ""
    ) -> None:
        """Read `consumer` (provisioned with the others) in batches of up to `batch_size` once started."""
        if consumer not in self.consumers:
            self.consumers.append(consumer)
        self._pullers.append(Puller(consumer, handle, batch_size))
        self.spec_broker.subscriber(
            consumer.filter_subject,
            stream=JStream(consumer.stream, declare=False),
            durable=consumer.durable,
            pull_sub=PullSub(batch_size=batch_size),
            title=consumer.durable,
            description=description or None,
        )

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

    async def answers(self, timeout: float = READY_TIMEOUT_SECONDS) -> str:
        """ "ok" if JetStream answers for this service's own stream within `timeout`, else why not.

        A connection alone says little on a cluster: with the stream's servers frozen or without a
        quorum the socket stays up while every publish times out."""
        if not self.is_connected():
            return "disconnected"
        try:
            await asyncio.wait_for(self.js.stream_info(self._probed_stream), timeout)
        except TimeoutError:
            return "jetstream not answering"
        except Exception as error:
            return f"jetstream error: {type(error).__name__}"
        return "ok"

    def start_in_background(self) -> None:
        self._task = asyncio.create_task(self._start(), name="bus-start")

    async def wait_started(self, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            await self._started.wait()

    async def _start(self) -> None:
        delay = 0.5
        while not self._stopping:
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
                if self._stopping:  # a cancel that nats-py's wait_for turned into a TimeoutError (3.11)
                    return
                wait = delay * random.uniform(0.5, 1.5)  # replicas started together fall out of step
                log.warning("NATS not ready (%r); retrying in %.1fs", error, wait)
                await asyncio.sleep(wait)
                delay = min(delay * 2, 10)
                continue
            for puller in self._pullers:
                puller.task = asyncio.create_task(
                    puller.run(self.js, lambda: self._stopping), name=f"pull-{puller.consumer.durable}"
                )
            self._started.set()
            self._notify_reconnect()
            log.info("NATS connected and provisioned")
            return

    async def send(self, subject: str, data: bytes, message_id: str) -> asyncio.Future[Any]:
        """Hand one message to JetStream; the future resolves once it is stored (a duplicate's ack
        also means stored). The relay sends a batch so, with one deadline for all its acks: a
        `js.publish` each cost a request, a task and a timer per message."""
        ack: asyncio.Future[Any] = await self.js.publish_async(
            subject, data, headers={"Nats-Msg-Id": message_id}
        )
        return ack

    async def publish_with_headers(self, subject: str, data: bytes, headers: dict[str, str]) -> None:
        await self.js.publish(subject, data, timeout=PUBLISH_TIMEOUT_SECONDS, headers=headers)

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None and not self._task.done():
            self._task.cancel()
        await self._stop_pulling()
        try:
            async with asyncio.timeout(STOP_TIMEOUT_SECONDS):
                await self.broker.stop()
        except Exception as error:  # NATS away at shutdown: nothing left to drain to
            log.warning("NATS connection not drained at shutdown: %r", error)

    async def _stop_pulling(self) -> None:
        """Cancel the pullers waiting on a fetch; give those handling a batch time to settle it."""
        tasks = [p.task for p in self._pullers if p.task is not None and not p.task.done()]
        for puller in self._pullers:
            if puller.task is not None and puller.fetching:
                puller.task.cancel()
        if not tasks:
            return
        _, stuck = await asyncio.wait(tasks, timeout=GRACEFUL_SECONDS)
        for task in stuck:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
