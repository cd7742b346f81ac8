"""Transactional outbox: events are rows written with the data they describe, then relayed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import Column, Row, Text, bindparam, event, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Field, Session, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared import metrics
from linli_shared.bulk import insert_rows, table_of
from linli_shared.clock import UtcDateTime, utc_now
from linli_shared.database import on_postgresql
from linli_shared.events import Envelope
from linli_shared.leadership import Leadership

log = logging.getLogger(__name__)

WAKE_RELAY = "linli_wake_relay"
T = TypeVar("T")


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


OUTBOX = table_of(OutboxMessage)
# Built once, run as Core on the connection: every relay pass runs them, and loading each claimed
# row as an ORM object cost more than publishing it.
CLAIM = (
    select(OUTBOX.c.position, OUTBOX.c.event_id, OUTBOX.c.subject, OUTBOX.c.envelope, OUTBOX.c.attempts)
    .where(OUTBOX.c.sent_at.is_(None))
    .where(OUTBOX.c.next_attempt_at <= bindparam("now"))
    .order_by(OUTBOX.c.position)
    .limit(bindparam("batch_size"))
    .with_for_update(skip_locked=True)
)
MARK_SENT = (
    update(OUTBOX)
    .where(OUTBOX.c.position.in_(bindparam("positions", expanding=True)))
    .values(sent_at=bindparam("sent_at"))
)
BACK_OFF = (
    update(OUTBOX)
    .where(OUTBOX.c.position == bindparam("of_position"))
    .values(
        attempts=bindparam("attempts"), next_attempt_at=bindparam("retry_at"), last_error=bindparam("error")
    )
)


def outbox_row(envelope: Envelope) -> dict[str, Any]:
    return {
        "event_id": envelope.event_id,
        "subject": envelope.subject,
        "envelope": envelope.model_dump_json(),
        "created_at": envelope.occurred_at,
        "attempts": 0,
        "next_attempt_at": envelope.occurred_at,
    }


async def insert_events(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
    """Write events to the outbox in the session's transaction, in one statement and in the order
    given; they are relayed only if that transaction commits."""
    if not envelopes:
        return
    await insert_rows(session, OutboxMessage, [outbox_row(envelope) for envelope in envelopes])
    note_outbox_written(session)


def note_outbox_written(session: AsyncSession) -> None:
    """Have this transaction's commit wake the relay: it wrote outbox rows."""
    session.info["outbox_dirty"] = True


@event.listens_for(Session, "after_commit")
def _wake_relay_after_commit(session: Session) -> None:
    if session.info.pop("outbox_dirty", False) and (wake := session.info.get(WAKE_RELAY)):
        wake()


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back_events(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the whole transaction, not a savepoint, is over
        session.info.pop("outbox_dirty", None)


class Publisher(Protocol):
    """Hands messages to JetStream in the order sent, without waiting for each to be stored."""

    def ready(self) -> bool: ...

    async def send(self, subject: str, data: bytes, message_id: str) -> asyncio.Future[Any]:
        """Send one message; the future resolves once JetStream stored it (a duplicate counts)."""
        ...


ACK_SECONDS = 5.0
"""How long a batch's acks may take, all together, before those missing count as failed."""


def retry_delay(attempts: int, *, cap_seconds: float = 30.0) -> timedelta:
    """Exponential backoff for a row that failed to publish: 0.5 s, 1 s, 2 s … up to the cap."""
    return timedelta(seconds=min(cap_seconds, 0.5 * 2 ** max(0, attempts - 1)))


class OutboxRelay:
    """Publishes unsent outbox rows in order and marks them sent only after JetStream's acks.

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
        linger_seconds: float = 0.0,
        batch_size: int = 500,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._session_factory = session_factory
        self._publisher = publisher
        self._service = service
        self._poll_seconds = poll_seconds
        self._linger_seconds = linger_seconds
        self._batch_size = batch_size
        self._clock = clock
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._leadership = Leadership(session_factory.kw["bind"], f"outbox relay of {service}")

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
        """Publish one batch; return how many rows were published.

        The batch's publishes go out in row order on one connection with their acks in flight.
        Rows are marked sent up to the first that failed, in one statement; that row backs off, and
        those after it stay unsent, to be published again (JetStream drops the repeats by their id).
        """
        claimed = await self._claim_and_send()
        return 0 if claimed is None else await self._finish(claimed)

    async def _claim_and_send(self) -> Batch | None:
        """Claim the next unsent rows (locked in a transaction left open) and send their publishes."""
        if not self._publisher.ready():
            return None
        now = self._clock()
        session = self._session_factory()
        try:
            connection = await session.connection()
            rows = (await connection.execute(CLAIM, {"now": now, "batch_size": self._batch_size})).all()
        except BaseException:
            await session.close()
            raise
        if not rows:
            await session.close()
            return None
        try:
            acks = await send_in_order(self._publisher, rows)
        except BaseException:
            await session.close()
            raise
        return Batch(session, rows, acks, now, on_postgresql(session))

    async def _finish(self, batch: Batch) -> int:
        """Await the batch's acks, mark what was stored sent, back the first failure off, commit."""
        async with batch.session as session:
            results = await settled(batch.acks, ACK_SECONDS)
            failed = next((i for i, result in enumerate(results) if result is not None), None)
            sent = batch.rows[: len(results) if failed is None else failed]
            connection = await session.connection()
            if sent:
                positions = [row.position for row in sent]
                await connection.execute(MARK_SENT, {"positions": positions, "sent_at": self._clock()})
            if failed is not None:
                retry = self._back_off(batch.rows[failed], results[failed], batch.now)
                await connection.execute(BACK_OFF, retry)
            await session.commit()
        metrics.OUTBOX_PUBLISHED.labels(self._service).inc(len(sent))
        return len(sent)

    def _back_off(self, row: Row[Any], error: object, now: datetime) -> dict[str, Any]:
        """The BACK_OFF of a row whose publish failed: kept for a later pass, after a growing delay."""
        metrics.OUTBOX_FAILURES.labels(self._service).inc()
        log.warning("outbox publish of %s failed: %r", row.event_id, error)
        attempts = row.attempts + 1
        return {
            "of_position": row.position,
            "attempts": attempts,
            "retry_at": now + retry_delay(attempts),
            "error": repr(error)[:1000],
        }

    async def run(self) -> None:
        """Relay until stopped (or cancelled); a failed pass is logged and retried, never fatal.

        On PostgreSQL the next batch is claimed and sent while the acks of the one before are still
        awaited (its rows stay locked, so the claim skips them): JetStream is never left idle between
        batches, and the publishes still leave in row order. SQLite allows one writer, one at a time.
        However many workers and replicas run, only the one that leads (`Leadership`) publishes;
        the others stand by and take over when it stops."""
        try:
            await self._relay()
        finally:
            await self._leadership.release()

    async def _relay(self) -> None:
        in_flight: Batch | None = None
        backlog = False
        while not (self._stopping and in_flight is None):
            if not backlog and not self._stopping and self._linger_seconds:
                # under a steady stream of writes, one pass takes all that committed meanwhile,
                # rather than a pass (three round trips) for each
                await asyncio.sleep(self._linger_seconds)
            # one relay per database at a time, or two would interleave their batches' publishes
            leading = not self._stopping and await self._leadership.held()
            claimed = await self._guarded(self._claim_and_send()) if leading else None
            backlog = claimed is not None and len(claimed.rows) == self._batch_size
            published = await self._guarded(self._finish(in_flight)) if in_flight is not None else 0
            in_flight = None
            if claimed is not None and claimed.overlaps:
                in_flight = claimed
            elif claimed is not None:
                published = (published or 0) + (await self._guarded(self._finish(claimed)) or 0)
            if published or in_flight is not None or self._stopping:
                continue
            self._wakeup.clear()
            try:  # not wait_for: on 3.11 it can swallow a cancel that races its timeout
                async with asyncio.timeout(self._poll_seconds):
                    await self._wakeup.wait()
            except TimeoutError:
                pass

    @staticmethod
    async def _guarded(step: Awaitable[T]) -> T | None:
        try:
            return await step
        except Exception:
            log.exception("outbox relay pass failed")
            return None


@dataclass
class Batch:
    """Rows claimed (and locked) in an open transaction, their publishes sent, acks pending."""

    session: AsyncSession
    rows: Sequence[Row[Any]]  # position, event_id, subject, envelope, attempts
    acks: list[asyncio.Future[Any]]  # one for each row sent, in row order; the last may be a failure
    now: datetime
    overlaps: bool  # whether the next batch may be claimed before this one commits


async def send_in_order(publisher: Publisher, rows: Sequence[Row[Any]]) -> list[asyncio.Future[Any]]:
    """Send the rows' messages in row order, acks left in flight. A send that fails ends the batch
    (its failure stands as that row's ack): the rows after it stay unsent, for a later pass."""
    acks: list[asyncio.Future[Any]] = []
    for row in rows:
        try:
            acks.append(await publisher.send(row.subject, row.envelope.encode(), row.event_id))
        except Exception as error:
            failed = asyncio.get_running_loop().create_future()
            failed.set_exception(error)
            acks.append(failed)
            break
    return acks


async def settled(acks: list[asyncio.Future[Any]], timeout: float) -> list[BaseException | None]:
    """Each ack's outcome, None once stored; one deadline for them all, after which those still
    missing are given up (cancelled, so the client forgets them) as timed out."""
    try:
        if acks:
            await asyncio.wait(acks, timeout=timeout)
    finally:  # on time or cancelled: nothing is left waiting on the client
        for ack in acks:
            ack.cancel()
    return [TimeoutError("JetStream did not ack in time") if a.cancelled() else a.exception() for a in acks]


def relay_session_info(relay: OutboxRelay) -> dict[str, Any]:
    """Session info that makes every commit with new events wake the relay at once."""
    return {WAKE_RELAY: relay.wake}
