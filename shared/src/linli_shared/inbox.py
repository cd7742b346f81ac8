"""Idempotent inbox: apply each event once, retry transient failures, dead-letter the rest."""

from __future__ import annotations

import enum
import logging
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from nats.aio.msg import Msg
from pydantic import ValidationError
from sqlalchemy import delete, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared import metrics
from linli_shared.bus import Bus
from linli_shared.clock import UtcDateTime, utc_now
from linli_shared.correlation import correlated
from linli_shared.events import Envelope
from linli_shared.jetstream import DurableConsumer, dead_letter_subject
from linli_shared.unit_of_work import UnitOfWork, Work

log = logging.getLogger(__name__)

ApplyEvent = Callable[[Work, Envelope], Awaitable[None]]
"""Applies one event inside the given unit of work; must not commit (the inbox does)."""

DEFAULT_BATCH_SIZE = 250
"""How many messages one fetch takes and one transaction applies (100–500 is the useful range)."""


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


@dataclass(frozen=True)
class Delivery:
    """One message as the broker handed it over."""

    data: bytes
    subject: str
    deliveries: int
    stream_sequence: int


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
        with correlated(envelope.correlation_id or envelope.event_id):
            await apply(uow, envelope)
        await uow.commit()
        return True


async def claim_keys(session: AsyncSession, consumer: str, event_ids: list[str]) -> set[str]:
    """Insert the inbox keys of a batch in one statement; return those that were not taken.

    A key another transaction holds makes this wait for it, then skip it if that one committed:
    a concurrent delivery of the same event is applied once and loses nothing else of the batch."""
    if not event_ids:
        return set()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = utc_now()
    rows = [{"consumer": consumer, "event_id": event_id, "applied_at": now} for event_id in sorted(event_ids)]
    statement = dialect.insert(InboxEntry).on_conflict_do_nothing().returning(col(InboxEntry.event_id))
    return set((await session.exec(statement, params=rows)).scalars().all())  # one INSERT … VALUES for all


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
    """What one consuming service does with its deliveries, independent of the broker library."""

    consumer: DurableConsumer
    session_factory: Callable[[], async_sessionmaker[AsyncSession]]
    apply: ApplyEvent
    publish_dead_letter: DeadLetterPublish
    batch_size: int = DEFAULT_BATCH_SIZE
    district: str | None = None
    """The one district this service serves, if it serves one: another's event is never applied."""

    def read(self, data: bytes) -> Envelope:
        """The envelope, if it is one and is this service's to apply (else a permanent error)."""
        envelope = Envelope.model_validate_json(data)
        if self.district is not None and envelope.district != self.district:
            raise PermanentEventError(
                f"event {envelope.event_id} of district {envelope.district} reached a service that"
                f" serves only {self.district}: not applied (check the consumer's filter)"
            )
        return envelope

    async def handle(self, data: bytes, *, subject: str, deliveries: int, stream_sequence: int) -> Outcome:
        """One delivery in its own transaction."""
        delivery = Delivery(data, subject, deliveries, stream_sequence)
        name = self.consumer.durable
        try:
            envelope = self.read(data)
            applied = await apply_once(self.session_factory(), name, envelope, self.apply)
        except Exception as error:
            return await self._failed(delivery, error)
        return self._count(Outcome.APPLIED if applied else Outcome.DUPLICATE)

    async def handle_batch(self, batch: Sequence[Delivery]) -> list[Outcome]:
        """A fetched batch in one transaction, in the order given; an outcome for each delivery.

        The batch is first applied as a whole. If that fails (one of its events, most often), the
        transaction is rolled back and the batch applied again with a savepoint around each event,
        so a failing event alone is undone (then retried or dead-lettered) and the rest commit.
        Should that fail too (the database away), each delivery is handled on its own."""
        parsed: dict[int, Envelope] = {}
        unreadable: dict[int, Exception] = {}
        for index, delivery in enumerate(batch):
            try:
                parsed[index] = self.read(delivery.data)
            except (ValidationError, PermanentEventError) as error:
                unreadable[index] = error
        for isolate in (False, True):
            errors = dict(unreadable)
            try:
                outcomes = await self._apply_together(parsed, errors, isolate=isolate)
            except Exception as error:
                log.info(
                    "%s: batch of %d not applied (isolated: %s): %r",
                    self.consumer.durable,
                    len(batch),
                    isolate,
                    error,
                )
                continue
            return [
                self._count(outcomes[index])
                if index in outcomes
                else await self._failed(delivery, errors[index])
                for index, delivery in enumerate(batch)
            ]
        return [
            await self.handle(
                d.data, subject=d.subject, deliveries=d.deliveries, stream_sequence=d.stream_sequence
            )
            for d in batch
        ]

    async def _apply_together(
        self, parsed: dict[int, Envelope], errors: dict[int, Exception], *, isolate: bool
    ) -> dict[int, Outcome]:
        """Apply the parsed envelopes in one transaction; failures go to `errors` when isolating."""
        name = self.consumer.durable
        outcomes: dict[int, Outcome] = {}
        async with UnitOfWork(self.session_factory()) as uow:
            fresh = await claim_keys(uow.session, name, list({e.event_id for e in parsed.values()}))
            failed: list[str] = []
            for index, envelope in parsed.items():
                if envelope.event_id not in fresh:
                    outcomes[index] = Outcome.DUPLICATE
                    continue
                fresh.discard(envelope.event_id)  # a second copy in the same batch is a duplicate
                if not isolate:  # the first failure ends this attempt
                    with correlated(envelope.correlation_id or envelope.event_id):
                        await self.apply(uow, envelope)
                    outcomes[index] = Outcome.APPLIED
                    continue
                try:
                    async with uow.savepoint():
                        with correlated(envelope.correlation_id or envelope.event_id):
                            await self.apply(uow, envelope)
                except Exception as error:
                    errors[index] = error
                    failed.append(envelope.event_id)
                    continue
                outcomes[index] = Outcome.APPLIED
            if failed:  # their keys go too, so a later delivery applies them
                keys = [(name, event_id) for event_id in failed]
                await uow.session.exec(
                    delete(InboxEntry).where(
                        tuple_(col(InboxEntry.consumer), col(InboxEntry.event_id)).in_(keys)
                    )
                )
            await uow.commit()
        return outcomes

    def _count(self, outcome: Outcome) -> Outcome:
        name = self.consumer.durable
        counter = metrics.INBOX_APPLIED if outcome is Outcome.APPLIED else metrics.INBOX_DUPLICATES
        counter.labels(name).inc()
        return outcome

    async def _failed(self, delivery: Delivery, error: Exception) -> Outcome:
        """Dead-letter a contract violation now, anything else once its deliveries are spent."""
        if isinstance(error, (ValidationError, PermanentEventError)):  # poison
            return await self._dead_letter(delivery, error)
        if delivery.deliveries >= self.consumer.max_deliver:  # transient, or a bug a fix may cure
            return await self._dead_letter(delivery, error)
        log.warning(
            "%s: delivery %d of %s failed, will retry: %r",
            self.consumer.durable,
            delivery.deliveries,
            delivery.subject,
            error,
            exc_info=error,
        )
        return Outcome.RETRY

    async def _dead_letter(self, delivery: Delivery, error: Exception) -> Outcome:
        name = self.consumer.durable
        headers = {
            "Nats-Msg-Id": f"{name}:{self.consumer.stream}:{delivery.stream_sequence}",
            "Linli-Original-Subject": delivery.subject,
            "Linli-Deliveries": str(delivery.deliveries),
            "Linli-Error": f"{type(error).__name__}: {error}"[:2000],
            "Linli-Traceback": one_line_traceback(error),
        }
        await self.publish_dead_letter(dead_letter_subject(name), delivery.data, headers)
        metrics.DEAD_LETTERED.labels(name).inc()
        log.error(
            "%s: dead-lettered %s after %d deliveries: %r", name, delivery.subject, delivery.deliveries, error
        )
        return Outcome.DEAD_LETTERED


def one_line_traceback(error: Exception, limit: int = 4000) -> str:
    """The error's traceback on one line (a NATS header cannot hold a newline), its end kept."""
    text = "".join(traceback.format_exception(error)).strip()
    return " | ".join(line.strip() for line in text.splitlines() if line.strip())[-limit:]


def delivery_of(message: Msg) -> Delivery:
    """The delivery count and stream sequence read from the ack subject without nats-py's full parse
    ($JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>)."""
    tokens = message.reply.split(".")
    if len(tokens) == 9 and tokens[:2] == ["$JS", "ACK"]:
        return Delivery(message.data, message.subject, int(tokens[4]), int(tokens[5]))
    metadata = message.metadata  # the longer form, with domain and account hash
    return Delivery(message.data, message.subject, metadata.num_delivered, metadata.sequence.stream)


def subscribe_inbox(bus: Bus, inbox: Inbox, *, description: str = "") -> None:
    """Feed `inbox` from its durable consumer a fetched batch at a time; each message is acked,
    nak'ed with its delay, or terminated (dead-lettered) once its batch has committed."""

    async def on_batch(messages: list[Msg]) -> None:
        deliveries = [delivery_of(message) for message in messages]
        outcomes = await inbox.handle_batch(deliveries)
        for message, delivery, outcome in zip(messages, deliveries, outcomes, strict=True):
            if outcome is Outcome.RETRY:
                await message.nak(delay=nack_delay_seconds(delivery.deliveries))
            elif outcome is Outcome.DEAD_LETTERED:
                await message.term()
            else:
                await message.ack()

    bus.consume(inbox.consumer, on_batch, batch_size=inbox.batch_size, description=description)
