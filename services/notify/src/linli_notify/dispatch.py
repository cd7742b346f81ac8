"""The dispatcher (due deliveries out, with retries) and the escalation of unacknowledged alerts.

Channels:

- ``inbox``: the in-app inbox (GET /v1/inbox); the notification row is the message, nothing is sent.
- ``apprise``: the community's outside channels, Apprise URLs from LINLI_NOTIFY_CHANNELS (json://,
  mailto://, …), sent from a worker thread.
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

import apprise
from prometheus_client import Counter
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify.domain import APPRISE, FILE, INBOX, DeliveryStatus, Urgency, next_rung, retry_delay
from linli_notify.models import Delivery, Notification
from linli_notify.notifications import create_notification
from linli_notify.settings import NotifySettings
from linli_shared.clock import utc_now
from linli_shared.contracts.notify import NotificationEscalated, NotificationFailed
from linli_shared.outbox import record_event

log = logging.getLogger(__name__)

SENT = Counter("linli_notify_deliveries_sent_total", "Deliveries that reached their channel.", ["channel"])
FAILED = Counter(
    "linli_notify_deliveries_failed_total", "Deliveries given up after the last try.", ["channel"]
)
RETRIED = Counter(
    "linli_notify_delivery_retries_total", "Delivery attempts that failed and will retry.", ["channel"]
)
ESCALATED = Counter("linli_notify_escalations_total", "Unacknowledged urgent alerts sent up the ladder.")
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
        if message.channel != APPRISE:
            raise DeliveryError(f"unknown channel {message.channel!r}")
        urls = self._settings.apprise_urls(message.community)
        if not urls:
            raise DeliveryError(f"no outside channel is configured for community {message.community!r}")
        await asyncio.to_thread(notify_blocking, urls, message.title, message.body)


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
                )
            )
        await session.commit()
    return claimed


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


def rung_recipient(rung: str, notification: Notification) -> str | None:
    """Who stands on a rung, from what the alert's event said; the neighbour has no account yet."""
    value = notification.data.get(rung)
    return str(value) if value else None


async def escalate_unacknowledged(
    session_factory: async_sessionmaker[AsyncSession], *, settings: NotifySettings, now: datetime
) -> int:
    """Send each urgent alert left unacknowledged past the limit to the next rung, once; return how many."""
    shortest = min([settings.escalate_after_seconds, *settings.escalate_after_by_community.values()])
    cutoff = now - timedelta(seconds=shortest)
    async with session_factory() as session:
        overdue = select(Notification.id, Notification.community, Notification.created_at).where(
            Notification.urgency == Urgency.URGENT.value,
            col(Notification.acknowledged_at).is_(None),
            col(Notification.escalated_at).is_(None),
            col(Notification.escalation_of).is_(None),
            col(Notification.created_at) <= cutoff,
        )
        candidates = [
            notification_id
            for notification_id, community, created_at in (await session.exec(overdue)).all()
            if created_at <= now - timedelta(seconds=settings.escalate_after(community))  # per community
        ]
    escalated = 0
    for notification_id in candidates:
        try:
            escalated += await escalate_one(session_factory, notification_id, settings=settings, now=now)
        except IntegrityError:  # a replica escalated it at the same moment: its transaction won
            log.info("notification %s was escalated elsewhere", notification_id)
    ESCALATED.inc(escalated)
    return escalated


async def escalate_one(
    session_factory: async_sessionmaker[AsyncSession],
    notification_id: int,
    *,
    settings: NotifySettings,
    now: datetime,
) -> int:
    async with session_factory() as session:
        statement = select(Notification).where(Notification.id == notification_id).with_for_update()
        alert = (await session.exec(statement)).one()
        if alert.acknowledged_at is not None or alert.escalated_at is not None:
            return 0
        alert.escalated_at = now
        session.add(alert)
        for rung in next_rung(settings.ladder(alert.community), alert.rung):
            recipient = rung_recipient(rung, alert)
            if recipient is None or recipient == alert.recipient:
                continue
            escalation = await create_notification(
                session,
                district=alert.district,
                community=alert.community,
                source_event_id=alert.source_event_id,
                event_type=alert.event_type,
                recipient=recipient,
                template=alert.template,
                urgency=Urgency.URGENT,
                rung=rung,
                data={**alert.data, "escalated": True},
                settings=settings,
                now=now,
                escalation_of=alert.id,
            )
            if escalation is None:
                continue
            assert alert.id is not None and escalation.id is not None
            record_event(
                session,
                NotificationEscalated(
                    notification_id=alert.id,
                    escalation_id=escalation.id,
                    source_event_id=alert.source_event_id,
                    from_recipient=alert.recipient,
                    to_recipient=recipient,
                    rung=rung,
                ),
                district=alert.district,
                community=alert.community,
                now=now,
            )
            await session.commit()
            return 1
        log.warning("notification %s has no one left on its ladder to escalate to", notification_id)
        await session.commit()
        return 0
