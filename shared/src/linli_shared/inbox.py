"""Idempotent inbox: apply each event once, retry transient failures, dead-letter the rest."""

from __future__ import annotations

import enum
import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared import metrics
from linli_shared.clock import UtcDateTime, utc_now
from linli_shared.events import Envelope
from linli_shared.jetstream import DurableConsumer, dead_letter_subject
from linli_shared.unit_of_work import UnitOfWork, Work

log = logging.getLogger(__name__)

ApplyEvent = Callable[[Work, Envelope], Awaitable[None]]
"""Applies one event inside the given unit of work; must not commit (the inbox does)."""


class InboxEntry(SQLModel, table=True):
    """One applied event per consumer; the primary key makes a second apply impossible."""

    __tablename__ = "inbox_entry"

    consumer: str = Field(primary_key=True, max_length=100)
    event_id: str = Field(primary_key=True, max_length=64)
    applied_at: datetime = Field(sa_type=UtcDateTime)


class PermanentEventError(Exception):
    """The event breaks its contract and can never be applied: dead-letter it now.

    Anything else a handler raises (a bug included) is retried up to the consumer's max_deliver
    and then dead-lettered with its traceback, since a fix and a redeploy may still apply it."""


class EventArrivedEarly(Exception):
    """A change arrived before the event that creates what it changes (JetStream keeps no order
    across replicas): retried with a delay, not dead-lettered, since the earlier event is coming."""


class Outcome(enum.Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    RETRY = "retry"
    DEAD_LETTERED = "dead_lettered"


async def apply_once(
    session_factory: async_sessionmaker[AsyncSession],
    consumer: str,
    envelope: Envelope,
    apply: ApplyEvent,
) -> bool:
    """Apply the event and record it in one transaction; False if it was applied before.

    The inbox row goes in first: a concurrent delivery of the same event (another replica,
    an ack-wait redelivery) waits on the key and then finds it taken.
    """
    async with UnitOfWork(session_factory) as uow:
        uow.session.add(InboxEntry(consumer=consumer, event_id=envelope.event_id, applied_at=utc_now()))
        try:
            await uow.session.flush()
        except IntegrityError:
            return False
        await apply(uow, envelope)
        await uow.commit()
        return True


async def has_applied_anything(session_factory: async_sessionmaker[AsyncSession], consumer: str) -> bool:
    async with session_factory() as session:
        statement = select(InboxEntry.event_id).where(InboxEntry.consumer == consumer).limit(1)
        return (await session.exec(statement)).first() is not None


def nack_delay_seconds(deliveries: int) -> float:
    """JetStream's backoff does not apply to naks, so each nak carries its own delay."""
    return float(min(30, 2 ** max(0, deliveries - 1)))


DeadLetterPublish = Callable[[str, bytes, dict[str, str]], Awaitable[None]]


@dataclass
class Inbox:
    """What one consuming service does with one delivery, independent of the broker library."""

    consumer: DurableConsumer
    session_factory: Callable[[], async_sessionmaker[AsyncSession]]
    apply: ApplyEvent
    publish_dead_letter: DeadLetterPublish

    async def handle(self, data: bytes, *, subject: str, deliveries: int, stream_sequence: int) -> Outcome:
        name = self.consumer.durable
        try:
            envelope = Envelope.model_validate_json(data)
            applied = await apply_once(self.session_factory(), name, envelope, self.apply)
        except (ValidationError, PermanentEventError) as error:  # a contract violation: poison
            return await self._dead_letter(data, subject, deliveries, stream_sequence, error)
        except Exception as error:  # transient, or a bug that a fix may cure: retry, then dead-letter
            if deliveries >= self.consumer.max_deliver:
                return await self._dead_letter(data, subject, deliveries, stream_sequence, error)
            log.warning(
                "%s: delivery %d of %s failed, will retry: %r",
                name,
                deliveries,
                subject,
                error,
                exc_info=True,
            )
            return Outcome.RETRY
        if applied:
            metrics.INBOX_APPLIED.labels(name).inc()
            return Outcome.APPLIED
        metrics.INBOX_DUPLICATES.labels(name).inc()
        return Outcome.DUPLICATE

    async def _dead_letter(
        self, data: bytes, subject: str, deliveries: int, stream_sequence: int, error: Exception
    ) -> Outcome:
        name = self.consumer.durable
        headers = {
            "Nats-Msg-Id": f"{name}:{self.consumer.stream}:{stream_sequence}",
            "Linli-Original-Subject": subject,
            "Linli-Deliveries": str(deliveries),
            "Linli-Error": f"{type(error).__name__}: {error}"[:2000],
            "Linli-Traceback": one_line_traceback(error),
        }
        await self.publish_dead_letter(dead_letter_subject(name), data, headers)
        metrics.DEAD_LETTERED.labels(name).inc()
        log.error("%s: dead-lettered %s after %d deliveries: %r", name, subject, deliveries, error)
        return Outcome.DEAD_LETTERED


def one_line_traceback(error: Exception, limit: int = 4000) -> str:
    """The error's traceback on one line (a NATS header cannot hold a newline), its end kept."""
    text = "".join(traceback.format_exception(error)).strip()
    return " | ".join(line.strip() for line in text.splitlines() if line.strip())[-limit:]


def subscribe_inbox(broker: NatsBroker, inbox: Inbox, *, description: str = "") -> None:
    """Register a pull subscriber on the durable consumer that feeds `inbox`, acking by hand."""
    consumer = inbox.consumer

    @broker.subscriber(
        consumer.filter_subject,
        stream=JStream(consumer.stream, declare=False),
        durable=consumer.durable,
        config=consumer.config(),
        pull_sub=PullSub(batch_size=1, timeout=5.0),
        ack_policy=AckPolicy.MANUAL,
        title=consumer.durable,
        description=description or None,
    )
    async def on_delivery(message: NatsMessage) -> None:
        metadata = message.raw_message.metadata
        outcome = await inbox.handle(
            message.raw_message.data,
            subject=message.raw_message.subject,
            deliveries=metadata.num_delivered,
            stream_sequence=metadata.sequence.stream,
        )
        if outcome is Outcome.RETRY:
            await message.nack(delay=nack_delay_seconds(metadata.num_delivered))
        elif outcome is Outcome.DEAD_LETTERED:
            await message.reject()
        else:
            await message.ack()
