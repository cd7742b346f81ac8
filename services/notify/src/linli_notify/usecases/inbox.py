"""The in-app inbox: a caller's delivered messages, read marks and acknowledgements."""

from __future__ import annotations

from sqlalchemy import exists
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify.access import load_notification_by_link, load_own_notification, recipients_of
from linli_notify.domain import INBOX, DeliveryStatus
from linli_notify.models import Delivery, Notification
from linli_shared.auth import Caller
from linli_shared.contracts.notify import NotificationAcknowledged
from linli_shared.paging import Page, page_of
from linli_shared.scoping import in_scope
from linli_shared.unit_of_work import Made, Work, write


async def list_inbox(
    session: AsyncSession, caller: Caller, *, cursor: str | None, limit: int
) -> Page[Notification]:
    """The caller's notifications whose in-app delivery has gone out (quiet hours hold it back)."""
    delivered = exists().where(
        col(Delivery.notification_id) == col(Notification.id),
        col(Delivery.channel) == INBOX,
        col(Delivery.status) == DeliveryStatus.SENT.value,
    )
    statement = in_scope(select(Notification), Notification, caller).where(
        col(Notification.recipient).in_(await recipients_of(session, caller)), delivered
    )
    return await page_of(session, statement, col(Notification.id), cursor=cursor, limit=limit)


async def load_notification(session: AsyncSession, caller: Caller, notification_id: str) -> Notification:
    """What an earlier request with the same Idempotency-Key read or acknowledged, as it is now."""
    return await load_own_notification(session, caller, int(notification_id))


@write(replay=load_notification)
async def mark_read(uow: Work, caller: Caller, notification_id: int) -> Made[Notification]:
    """Mark the caller's message read, once: a second mark keeps the first time."""
    notification = await load_own_notification(uow.session, caller, notification_id)
    if notification.read_at is None:
        notification.read_at = uow.now
        uow.session.add(notification)
    return Made(str(notification_id), notification)


@write(replay=load_notification)
async def acknowledge(uow: Work, caller: Caller, notification_id: int) -> Made[Notification]:
    """Acknowledge once: the first acknowledgement stops the escalation and records an event."""
    notification = await load_own_notification(uow.session, caller, notification_id, for_update=True)
    record_acknowledgement(uow, notification, caller.subject)
    return Made(str(notification_id), notification)


async def acknowledge_by_link(uow: Work, token: str, *, secret: str) -> Notification:
    """The confirmation page's button: no login, the signed token is the proof; recorded once (a second
    press finds it acknowledged, so no Idempotency-Key is needed or read)."""
    async with uow:
        notification = await load_notification_by_link(uow.session, token, secret=secret, for_update=True)
        record_acknowledgement(uow, notification, f"link:{notification.recipient}"[:100])
        await uow.commit()
    return notification


def record_acknowledgement(uow: Work, notification: Notification, by: str) -> None:
    """The first acknowledgement is kept, with an event; later ones change nothing."""
    if notification.acknowledged_at is not None:
        return
    assert notification.id is not None
    notification.acknowledged_at = uow.now
    notification.acknowledged_by = by
    notification.read_at = notification.read_at or uow.now
    uow.session.add(notification)
    uow.record(
        NotificationAcknowledged(
            notification_id=notification.id,
            source_event_id=notification.source_event_id,
            recipient=notification.recipient,
            acknowledged_by=by,
        ),
        district=notification.district,
        community=notification.community,
    )
