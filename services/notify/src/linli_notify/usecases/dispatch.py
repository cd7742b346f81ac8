"""The dispatcher: due deliveries out, with retries, in short units of work (the channels are in
linli_notify.channels, the escalation ladder in linli_notify.usecases.escalation).

A pass claims due rows in one short transaction (FOR UPDATE SKIP LOCKED), sends outside any
transaction, and records each outcome in a transaction of its own, so no send holds a lock.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from prometheus_client import Counter, Gauge
from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify.channels import Claimed, Sender
from linli_notify.domain import DEFAULT_TIMEZONE, SMS, DeliveryStatus, parse_clock, release_time, retry_delay
from linli_notify.models import Contact, Delivery, Notification
from linli_notify.settings import NotifySettings
from linli_shared.contracts.notify import NotificationFailed
from linli_shared.unit_of_work import UnitOfWork, Work

log = logging.getLogger(__name__)

SENT = Counter("linli_notify_deliveries_sent_total", "Deliveries that reached their channel.", ["channel"])
FAILED = Counter(
    "linli_notify_deliveries_failed_total", "Deliveries given up after the last try.", ["channel"]
)
RETRIED = Counter(
    "linli_notify_delivery_retries_total", "Delivery attempts that failed and will retry.", ["channel"]
)
LOST = Counter(
    "linli_notify_delivery_claims_lost_total",
    "Sends whose claim had expired and been taken by another pass: their outcome was not recorded.",
    ["channel"],
)
RELEASED = Counter(
    "linli_notify_delivery_claims_released_total",
    "Claimed deliveries handed back unsent because the pass ran out of its share of the claim period.",
    ["channel"],
)
DUE = Gauge(
    "linli_notify_deliveries_due", "Pending deliveries whose time had come, at the last dispatch pass."
)
PENDING = Gauge(
    "linli_notify_deliveries_pending",
    "Pending deliveries (due, held by quiet hours or a retry, or claimed), at the last dispatch pass.",
)
OLDEST_DUE = Gauge(
    "linli_notify_oldest_due_delivery_age_seconds",
    "How long the longest-waiting due delivery had been due, at the last dispatch pass (0 if none).",
)
LAST_PASS = Gauge("linli_notify_dispatch_last_pass_timestamp_seconds", "When the last dispatch pass began.")
BATCH = 100
SEND_WITHIN = 0.5  # a pass starts sends only in the first half of the claim period: no claim outlives it


async def claim_due(
    session_factory: async_sessionmaker[AsyncSession], *, settings: NotifySettings, now: datetime
) -> list[Claimed]:
    """Take due deliveries in a short transaction: count the attempt and hide them for a claim period.

    FOR UPDATE SKIP LOCKED keeps two replicas off the same rows on PostgreSQL; on SQLite every
    transaction holds the write lock. A crash mid-send makes the row due again after the claim.
    """
    async with UnitOfWork(session_factory, clock=lambda: now) as uow:
        statement = (
            select(Delivery, Notification)
            .join(Notification, col(Notification.id) == col(Delivery.notification_id))
            .where(Delivery.status == DeliveryStatus.PENDING.value, col(Delivery.next_attempt_at) <= now)
            .order_by(col(Delivery.urgent).desc(), col(Delivery.next_attempt_at), col(Delivery.id))
            .limit(BATCH)
            .with_for_update(skip_locked=True, of=Delivery)
        )
        rows = (await uow.session.exec(statement)).all()
        claimed = [await claim(uow, delivery, notification, settings) for delivery, notification in rows]
        await uow.commit()
    return claimed


async def claim(
    uow: Work, delivery: Delivery, notification: Notification, settings: NotifySettings
) -> Claimed:
    """Count the attempt and hide the delivery for a claim period; what its channel needs to send it."""
    due_at = delivery.next_attempt_at
    delivery.attempts += 1
    delivery.next_attempt_at = uow.now + timedelta(seconds=settings.claim_seconds)
    uow.session.add(delivery)
    assert delivery.id is not None
    return Claimed(
        delivery_id=delivery.id,
        channel=delivery.channel,
        district=delivery.district,
        community=delivery.community,
        recipient=delivery.recipient,
        source_event_id=delivery.source_event_id,
        urgent=delivery.urgent,
        title=notification.title,
        body=notification.body,
        attempt=delivery.attempts,
        due_at=due_at,
        phone=await phone_of(uow.session, delivery) if delivery.channel == SMS else None,
    )


async def phone_of(session: AsyncSession, delivery: Delivery) -> str | None:
    contact = await session.get(Contact, (delivery.district, delivery.recipient))
    return contact.phone if contact is not None else None


async def dispatch_due(
    session_factory: async_sessionmaker[AsyncSession],
    sender: Sender,
    *,
    settings: NotifySettings,
    now: datetime,
    jitter: Callable[[], float] = random.random,
    clock: Callable[[], datetime] | None = None,
) -> int:
    """Send every due delivery once; return how many went out. Failures retry, then fail with an event.

    A claim hides a delivery for LINLI_NOTIFY_CLAIM_SECONDS. The pass starts sends only in the first
    half of that time (by `clock`, default `now` plus the time the pass has taken) and hands the rest
    back unsent; and it records an outcome only if its claim still holds (the delivery is pending on
    the attempt this pass claimed), so a pass slower than its claim never marks, or retries, a
    delivery another pass has claimed since.
    """
    await measure_backlog(session_factory, now=now)
    started = time.monotonic()

    def current() -> datetime:
        return clock() if clock is not None else now + timedelta(seconds=time.monotonic() - started)

    send_until = now + timedelta(seconds=settings.claim_seconds * SEND_WITHIN)
    claims = await claim_due(session_factory, settings=settings, now=now)
    sent = 0
    for index, claim in enumerate(claims):
        if current() >= send_until:
            await release(session_factory, claims[index:])
            break
        error: Exception | None = None
        try:
            await sender.send(claim)
        except Exception as failure:  # any failure of a channel is a failed attempt, never a crash
            error = failure
        sent += await record_outcome(
            session_factory, claim, error, settings=settings, now=now, jitter=jitter()
        )
    return sent


async def record_outcome(
    session_factory: async_sessionmaker[AsyncSession],
    claim: Claimed,
    error: Exception | None,
    *,
    settings: NotifySettings,
    now: datetime,
    jitter: float,
) -> int:
    """Record a send (1) or a failed attempt (0), if this pass's claim still holds; else nothing."""
    async with UnitOfWork(session_factory, clock=lambda: now) as uow:
        statement = (
            select(Delivery)
            .where(
                Delivery.id == claim.delivery_id,
                Delivery.attempts == claim.attempt,
                Delivery.status == DeliveryStatus.PENDING.value,
            )
            .with_for_update()
        )
        delivery = (await uow.session.exec(statement)).first()
        if delivery is None:
            LOST.labels(claim.channel).inc()
            log.warning(
                "delivery %s: the claim of attempt %d expired and was taken over; %s not recorded",
                claim.delivery_id,
                claim.attempt,
                "its send is" if error is None else "its failure is",
            )
            return 0
        if error is None:
            delivery.status = DeliveryStatus.SENT.value
            delivery.sent_at = now
            SENT.labels(claim.channel).inc()
        else:
            await record_failure(uow, delivery, error, settings=settings, jitter=jitter)
        uow.session.add(delivery)
        await uow.commit()
    return 1 if error is None else 0


async def release(session_factory: async_sessionmaker[AsyncSession], claims: list[Claimed]) -> None:
    """Hand claimed deliveries back unsent, due as before, if their claims still hold."""
    async with UnitOfWork(session_factory) as uow:
        for claim in claims:
            await uow.session.exec(
                update(Delivery)
                .where(
                    col(Delivery.id) == claim.delivery_id,
                    col(Delivery.attempts) == claim.attempt,
                    col(Delivery.status) == DeliveryStatus.PENDING.value,
                )
                .values(attempts=claim.attempt - 1, next_attempt_at=claim.due_at)
            )
            RELEASED.labels(claim.channel).inc()
        await uow.commit()
    log.warning("%d claimed deliveries handed back unsent: the pass ran out of claim time", len(claims))


async def measure_backlog(session_factory: async_sessionmaker[AsyncSession], *, now: datetime) -> None:
    """The dispatcher's health, for /metrics: how many wait, how many are due, the oldest due's age."""
    pending = Delivery.status == DeliveryStatus.PENDING.value
    async with session_factory() as session:
        total = (await session.exec(select(func.count()).select_from(Delivery).where(pending))).one()
        due = select(func.count(), func.min(col(Delivery.next_attempt_at))).where(
            pending, col(Delivery.next_attempt_at) <= now
        )
        due_count, oldest = (await session.exec(due)).one()
    PENDING.set(total)
    DUE.set(due_count)
    OLDEST_DUE.set((now - oldest).total_seconds() if oldest is not None else 0)
    LAST_PASS.set(now.timestamp())


async def record_failure(
    uow: Work, delivery: Delivery, error: Exception, *, settings: NotifySettings, jitter: float
) -> None:
    """Retry after a backoff, held like a first try by the recipient's quiet hours unless urgent;
    after the last try, `failed` with an event."""
    delivery.last_error = f"{type(error).__name__}: {error}"[:1000]
    if delivery.attempts < settings.max_attempts:
        delay = retry_delay(
            delivery.attempts,
            base_seconds=settings.retry_base_seconds,
            cap_seconds=settings.retry_cap_seconds,
            jitter=jitter,
        )
        contact = await uow.session.get(Contact, (delivery.district, delivery.recipient))
        delivery.next_attempt_at = release_time(
            uow.now + delay,
            start=parse_clock(contact.quiet_start if contact else settings.quiet_start),
            end=parse_clock(contact.quiet_end if contact else settings.quiet_end),
            timezone=contact.timezone if contact else DEFAULT_TIMEZONE,
            urgent=delivery.urgent,
        )
        RETRIED.labels(delivery.channel).inc()
        log.warning("delivery %s attempt %d failed: %s", delivery.id, delivery.attempts, delivery.last_error)
        return
    delivery.status = DeliveryStatus.FAILED.value
    FAILED.labels(delivery.channel).inc()
    log.error("delivery %s failed after %d attempts: %s", delivery.id, delivery.attempts, delivery.last_error)
    assert delivery.id is not None
    uow.record(
        NotificationFailed(
            notification_id=delivery.notification_id,
            delivery_id=delivery.id,
            source_event_id=delivery.source_event_id,
            recipient=delivery.recipient,
            channel=delivery.channel,
            attempts=delivery.attempts,
            last_error=delivery.last_error,
            urgent=delivery.urgent,
        ),
        district=delivery.district,
        community=delivery.community,
    )
