"""Transactional outbox: events are rows written with the data they describe, then relayed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Column, Text, event
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Field, Session, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared import metrics
from linli_shared.clock import UtcDateTime, utc_now
from linli_shared.events import Envelope

log = logging.getLogger(__name__)

WAKE_RELAY = "linli_wake_relay"


class OutboxMessage(SQLModel, table=True):
    """An event waiting to be published, or already published (sent_at set)."""

    __tablename__ = "outbox_message"

    position: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=64)
    subject: str = Field(max_length=255)
    envelope: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UtcDateTime)
    last_error: str | None = Field(default=None, max_length=1000)


def add_event(session: AsyncSession, envelope: Envelope) -> None:
    """Stage an event in the caller's transaction; it is relayed only if that transaction commits."""
    session.add(
        OutboxMessage(
            event_id=envelope.event_id,
            subject=envelope.subject,
            envelope=envelope.model_dump_json(),
            created_at=envelope.occurred_at,
            next_attempt_at=envelope.occurred_at,
        )
    )
    session.info["outbox_dirty"] = True


@event.listens_for(Session, "after_commit")
def _wake_relay_after_commit(session: Session) -> None:
    if session.info.pop("outbox_dirty", False) and (wake := session.info.get(WAKE_RELAY)):
        wake()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_events(session: Session) -> None:
    session.info.pop("outbox_dirty", None)


class Publisher(Protocol):
    """Publishes one message to JetStream and returns only once the server stored it."""

    def ready(self) -> bool: ...

    async def publish(self, subject: str, data: bytes, message_id: str) -> None: ...


def retry_delay(attempts: int, *, cap_seconds: float = 30.0) -> timedelta:
    """Exponential backoff for a row that failed to publish: 0.5 s, 1 s, 2 s … up to the cap."""
    return timedelta(seconds=min(cap_seconds, 0.5 * 2 ** max(0, attempts - 1)))


class OutboxRelay:
    """Publishes unsent outbox rows in order and marks each sent only after JetStream's ack.

    Rows are claimed with FOR UPDATE SKIP LOCKED and stay locked while published, so two
    replicas on PostgreSQL never publish the same row at the same time. A crash after the
    publish and before the commit republishes the row with the same Nats-Msg-Id: JetStream
    drops it inside its duplicate window, the consumers' inbox drops it after.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        publisher: Publisher,
        *,
        service: str,
        poll_seconds: float = 0.5,
        batch_size: int = 100,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._session_factory = session_factory
        self._publisher = publisher
        self._service = service
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._clock = clock
        self._wakeup = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Ask the relay to look now rather than at its next poll."""
        self._wakeup.set()

    def stop(self) -> None:
        """Let run() return once the pass under way is committed.

        Cancelling is not enough on Python 3.11: a cancel that lands as the poll's timeout expires
        could be swallowed, and the relay polled on until shutdown gave up on it."""
        self._stopping = True
        self._wakeup.set()

    async def publish_pending(self) -> int:
        """Publish one batch; return how many rows were published."""
        if not self._publisher.ready():
            return 0
        now = self._clock()
        published = 0
        async with self._session_factory() as session:
            statement = (
                select(OutboxMessage)
                .where(col(OutboxMessage.sent_at).is_(None))
                .where(col(OutboxMessage.next_attempt_at) <= now)
                .order_by(col(OutboxMessage.position))
                .limit(self._batch_size)
                .with_for_update(skip_locked=True)
            )
            for row in (await session.exec(statement)).all():
                try:
                    await self._publisher.publish(row.subject, row.envelope.encode(), row.event_id)
                except Exception as error:  # any failure: keep the row, retry later, keep order
                    row.attempts += 1
                    row.next_attempt_at = now + retry_delay(row.attempts)
                    row.last_error = repr(error)[:1000]
                    metrics.OUTBOX_FAILURES.labels(self._service).inc()
                    log.warning("outbox publish of %s failed: %r", row.event_id, error)
                    break
                row.sent_at = self._clock()
                published += 1
            await session.commit()
        metrics.OUTBOX_PUBLISHED.labels(self._service).inc(published)
        return published

    async def run(self) -> None:
        """Relay until stopped (or cancelled); a failed pass is logged and retried, never fatal."""
        while not self._stopping:
            try:
                published = await self.publish_pending()
            except Exception:
                log.exception("outbox relay pass failed")
                published = 0
            if published or self._stopping:
                continue
            self._wakeup.clear()
            try:  # not wait_for: on 3.11 it can swallow a cancel that races its timeout
                async with asyncio.timeout(self._poll_seconds):
                    await self._wakeup.wait()
            except TimeoutError:
                pass


def relay_session_info(relay: OutboxRelay) -> dict[str, Any]:
    """Session info that makes every commit with new events wake the relay at once."""
    return {WAKE_RELAY: relay.wake}
