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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import apprise
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify.domain import APPRISE, FILE, INBOX, SMS, DeliveryStatus, retry_delay
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
BATCH = 100


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
    with apprise.LogCapture(level=logging.WARNING) as captured:
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
) -> int:
    """Send every due delivery once; return how many went out. Failures retry, then fail with an event."""
    sent = 0
    for claim in await claim_due(session_factory, settings=settings, now=now):
        error: Exception | None = None
        try:
            await sender.send(claim)
        except Exception as failure:  # any failure of a channel is a failed attempt, never a crash
            error = failure
        async with session_factory() as session:
            delivery = await session.get(Delivery, claim.delivery_id)
            assert delivery is not None
            if error is None:
                delivery.status = DeliveryStatus.SENT.value
                delivery.sent_at = now
                SENT.labels(claim.channel).inc()
                sent += 1
            else:
                record_failure(session, delivery, error, settings=settings, now=now, jitter=jitter())
            session.add(delivery)
            await session.commit()
    return sent


def record_failure(
    session: AsyncSession,
    delivery: Delivery,
    error: Exception,
    *,
    settings: NotifySettings,
    now: datetime,
    jitter: float,
) -> None:
    delivery.last_error = f"{type(error).__name__}: {error}"[:1000]
    if delivery.attempts < settings.max_attempts:
        delay = retry_delay(
            delivery.attempts,
            base_seconds=settings.retry_base_seconds,
            cap_seconds=settings.retry_cap_seconds,
            jitter=jitter,
        )
        delivery.next_attempt_at = now + delay
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
