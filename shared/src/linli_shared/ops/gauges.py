"""Outbox backlog, consumer lag and dead letters as Prometheus gauges on each service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared import metrics
from linli_shared.clock import utc_now
from linli_shared.jetstream import DurableConsumer
from linli_shared.ops.broker import REQUEST_SECONDS, dead_letter_counts
from linli_shared.ops.outbox import read_backlog

log = logging.getLogger(__name__)

REFRESH_SECONDS = 15.0


async def refresh_outbox_gauges(service: str, session_factory: async_sessionmaker[AsyncSession]) -> None:
    async with session_factory() as session:
        backlog = await read_backlog(await session.connection())
    metrics.OUTBOX_BACKLOG.labels(service).set(backlog.unsent)
    metrics.OUTBOX_OLDEST_AGE.labels(service).set(backlog.oldest_age_seconds(utc_now()) or 0.0)


async def refresh_consumer_gauges(js: JetStreamContext, consumers: Sequence[DurableConsumer]) -> None:
    letters = await dead_letter_counts(js)
    for consumer in consumers:
        metrics.DEAD_LETTERS.labels(consumer.durable).set(letters.get(consumer.durable, 0))
        try:
            info = await js.consumer_info(consumer.stream, consumer.durable, timeout=REQUEST_SECONDS)
        except NotFoundError:  # not provisioned yet: the next refresh finds it
            continue
        metrics.CONSUMER_PENDING.labels(consumer.durable).set(info.num_pending or 0)
        metrics.CONSUMER_ACK_PENDING.labels(consumer.durable).set(info.num_ack_pending or 0)


async def keep_gauges_fresh(
    service: str,
    session_factory: async_sessionmaker[AsyncSession],
    jetstream: Callable[[], JetStreamContext | None],
    consumers: Sequence[DurableConsumer],
    *,
    every_seconds: float = REFRESH_SECONDS,
) -> None:
    """Refresh the gauges forever; `jetstream` gives None while NATS is away (the outbox's gauges,
    which then matter most, are still refreshed). A failed refresh is logged, the next one runs."""
    while True:
        try:
            await refresh_outbox_gauges(service, session_factory)
            if (js := jetstream()) is not None:
                await refresh_consumer_gauges(js, consumers)
        except Exception as error:
            log.warning("%s: ops gauges not refreshed: %r", service, error)
        await asyncio.sleep(every_seconds)
