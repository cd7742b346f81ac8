"""The dispatcher: due deliveries out, with retries (the escalation ladder is in linli_notify.escalation).

Channels:

- ``inbox``: the in-app inbox (GET /v1/inbox); the notification row is the message, nothing is sent.
- ``apprise``: the community's outside channels, Apprise URLs from LINLI_NOTIFY_CHANNELS (json://,
  mailto://, …), sent from a worker thread.
- ``sms``: one person's phone, through the community's SMS gateway (LINLI_NOTIFY_SMS_GATEWAY, an
  Apprise json:// URL): the JSON body Apprise posts (title, message, …) gains ``phone``, read from
  the contact when the delivery is sent, so a changed number is used by the next try.
- ``file``: a built-in channel for development and demos, on only when LINLI_NOTIFY_OUTBOX_FILE names
  a path. Every notification then also gets a ``file`` delivery, whatever the recipient chose, which
  appends one JSON object per line (delivery_id, district, community, recipient, event_id, urgent,
  title, body, written_at) to that file; its directory is made if missing. ``tail -f`` the file to
  watch messages flow (meant for ``make run`` with the demo community). Each line is one delivery,
  so like every channel it is written once per (event, recipient); a crash between the write and
  the commit can, as with any channel, repeat a line after the claim period.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import apprise
from prometheus_client import Counter, Gauge
from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify.domain import (
    APPRISE,
    DEFAULT_TIMEZONE,
    FILE,
    INBOX,
    SMS,
    DeliveryStatus,
    parse_clock,
    release_time,
    retry_delay,
)
from linli_notify.models import Contact, Delivery, Notification
from linli_notify.settings import NotifySettings
from linli_shared.clock import utc_now
from linli_shared.contracts.notify import NotificationFailed
from linli_shared.outbox import record_event

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


class DeliveryError(Exception):
    """A channel refused or could not take the message."""


@dataclass(frozen=True)
class Claimed:
    """A delivery taken for sending, with what its channel needs to know."""

    delivery_id: int
    channel: str
    district: str
    community: str | None
    recipient: str
    source_event_id: str
    urgent: bool
    title: str
    body: str
    attempt: int  # the attempt this claim made: its outcome is recorded only while it is still the latest
    due_at: datetime  # when it was due before the claim, to hand it back unsent
    phone: str | None = None  # sms only


class Sender(Protocol):
    async def send(self, message: Claimed) -> None: ...


class AppriseSender:
    """The in-app inbox needs no sending; outside channels go through Apprise, in a worker thread;
    the file channel appends a JSON line (see the module docstring)."""

    def __init__(self, settings: NotifySettings) -> None:
        self._settings = settings

    async def send(self, message: Claimed) -> None:
        if message.channel == INBOX:
            return  # the notification row is the in-app message
        if message.channel == FILE:
            if self._settings.outbox_file is None:
                raise DeliveryError("no outbox file is configured (LINLI_NOTIFY_OUTBOX_FILE)")
            await asyncio.to_thread(append_line, self._settings.outbox_file, file_line(message))
            return
        if message.channel == SMS:
            await self.send_sms(message)
            return
        if message.channel != APPRISE:
            raise DeliveryError(f"unknown channel {message.channel!r}")
        urls = self._settings.apprise_urls(message.community)
        if not urls:
            raise DeliveryError(f"no outside channel is configured for community {message.community!r}")
        await asyncio.to_thread(notify_blocking, urls, message.title, message.body)

    async def send_sms(self, message: Claimed) -> None:
        gateway = self._settings.sms_url(message.community)
        if not gateway:
            raise DeliveryError(f"no SMS gateway is configured for community {message.community!r}")
        if not message.phone:
            raise DeliveryError("no phone number is on record for this recipient")
        await asyncio.to_thread(
            notify_blocking, [with_phone(gateway, message.phone)], message.title, message.body
        )


def with_phone(gateway: str, phone: str) -> str:
    """Apprise's json:// adds each `:key=value` query parameter to the JSON body it posts."""
    return f"{gateway}{'&' if '?' in gateway else '?'}:phone={quote(phone, safe='')}"


def file_line(message: Claimed) -> str:
    return json.dumps(
        {
            "delivery_id": message.delivery_id,
            "district": message.district,
            "community": message.community,
            "recipient": message.recipient,
            "event_id": message.source_event_id,
            "urgent": message.urgent,
            "title": message.title,
            "body": message.body,
            "written_at": utc_now().isoformat(),
        },
        ensure_ascii=False,
    )


def append_line(path: Path, line: str) -> None:
    """Blocking: one write of one line in append mode, so lines of replicas do not interleave."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as file:
            file.write(line + "\n")
    except OSError as error:
        raise DeliveryError(f"cannot append to the outbox file: {error.strerror}") from error


def notify_blocking(urls: list[str], title: str, body: str) -> None:
    """Apprise's notify blocks on the network: call this only from a worker thread."""
    target = apprise.Apprise()
    for url in urls:
        if not target.add(url):
            raise DeliveryError("an Apprise URL of this community is not valid")  # never echo the URL
    # apprise ships py.typed but leaves LogCapture.__init__ unannotated
    with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
        delivered = target.notify(title=title, body=body)
    if not delivered:
        raise DeliveryError(captured.getvalue().strip()[-900:] or "apprise could not deliver")


async def claim_due(
    session_factory: async_sessionmaker[AsyncSession], *, settings: NotifySettings, now: datetime
) -> list[Claimed]:
    """Take due deliveries in a short transaction: count the attempt and hide them for a claim period.

    FOR UPDATE SKIP LOCKED keeps two replicas off the same rows on PostgreSQL; on SQLite every
    transaction holds the write lock. A crash mid-send makes the row due again after the claim.
    """
    async with session_factory() as session:
        statement = (
            select(Delivery, Notification)
            .join(Notification, col(Notification.id) == col(Delivery.notification_id))
            .where(Delivery.status == DeliveryStatus.PENDING.value, col(Delivery.next_attempt_at) <= now)
            .order_by(col(Delivery.urgent).desc(), col(Delivery.next_attempt_at), col(Delivery.id))
            .limit(BATCH)
            .with_for_update(skip_locked=True, of=Delivery)
        )
        claimed: list[Claimed] = []
        for delivery, notification in (await session.exec(statement)).all():
            due_at = delivery.next_attempt_at
            delivery.attempts += 1
            delivery.next_attempt_at = now + timedelta(seconds=settings.claim_seconds)
            session.add(delivery)
            assert delivery.id is not None
            phone = await phone_of(session, delivery) if delivery.channel == SMS else None
            claimed.append(
                Claimed(
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
                    phone=phone,
                )
            )
        await session.commit()
    return claimed


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
    async with session_factory() as session:
        statement = (
            select(Delivery)
            .where(
                Delivery.id == claim.delivery_id,
                Delivery.attempts == claim.attempt,
                Delivery.status == DeliveryStatus.PENDING.value,
            )
            .with_for_update()
        )
        delivery = (await session.exec(statement)).first()
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
            await record_failure(session, delivery, error, settings=settings, now=now, jitter=jitter)
        session.add(delivery)
        await session.commit()
    return 1 if error is None else 0


async def release(session_factory: async_sessionmaker[AsyncSession], claims: list[Claimed]) -> None:
    """Hand claimed deliveries back unsent, due as before, if their claims still hold."""
    async with session_factory() as session:
        for claim in claims:
            await session.exec(
                update(Delivery)
                .where(
                    col(Delivery.id) == claim.delivery_id,
                    col(Delivery.attempts) == claim.attempt,
                    col(Delivery.status) == DeliveryStatus.PENDING.value,
                )
                .values(attempts=claim.attempt - 1, next_attempt_at=claim.due_at)
            )
            RELEASED.labels(claim.channel).inc()
        await session.commit()
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
    session: AsyncSession,
    delivery: Delivery,
    error: Exception,
    *,
    settings: NotifySettings,
    now: datetime,
    jitter: float,
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
        contact = await session.get(Contact, (delivery.district, delivery.recipient))
        delivery.next_attempt_at = release_time(
            now + delay,
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
    record_event(
        session,
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
        now=now,
    )
