"""The in-app inbox: a caller's delivered messages, read marks and acknowledgements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify.access import load_notification_by_link, load_own_notification, recipients_of
from linli_notify.domain import INBOX, DeliveryStatus
from linli_notify.models import Contact, Delivery, Notification
from linli_shared.auth import Caller
from linli_shared.contracts.notify import NotificationAcknowledged
from linli_shared.errors import not_found
from linli_shared.paging import Page, page_of
from linli_shared.schema_types import MAX_ROW_ID
from linli_shared.scoping import get_visible, in_scope
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


@dataclass(frozen=True)
class Rung:
    """One copy of an alert on its ladder, as a recipient of the alert may see it."""

    notification_id: int
    rung: str
    recipient_name: str
    named: bool  # False: notify knows no name for them, `recipient_name` is the rung's role
    you: bool
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None  # a name, or the rung's role: never an account id
    acknowledged_by_you: bool
    acknowledged_by_link: bool  # by the signed link in an SMS or mail, not in the app
    escalated_at: datetime | None


async def ladder_of(session: AsyncSession, caller: Caller, notification_id: int) -> list[Rung]:
    """Every copy of the caller's alert on the ladder, oldest first: who had it on which rung, who
    acknowledged and when, what climbed. Anyone who is not a recipient of the alert finds nothing."""
    if not 1 <= notification_id <= MAX_ROW_ID:
        raise not_found("notification")
    own = await get_visible(session, Notification, notification_id, caller, "notification")
    statement = (
        select(Notification)
        .where(Notification.source_event_id == own.source_event_id, Notification.district == own.district)
        .order_by(col(Notification.id))
    )
    every_copy = list((await session.exec(statement)).all())
    mine = set(await recipients_of(session, caller))
    if not mine & {copy.recipient for copy in every_copy}:
        raise not_found("notification")  # not a recipient of this alert: it does not exist for them
    copies = [copy for copy in every_copy if copy.rung is not None]
    recipients = {copy.recipient for copy in copies}
    contacts = (
        await session.exec(
            select(Contact).where(Contact.district == own.district, col(Contact.recipient).in_(recipients))
        )
    ).all()
    names = {
        c.recipient: c.display_name
        for c in contacts
        if c.display_name not in (c.recipient[:100], c.recipient.split(":", 1)[-1][:100])  # not a made-up one
    }
    rungs = []
    for copy in copies:
        assert copy.id is not None and copy.rung is not None  # stored, and on the ladder by the query
        name = names.get(copy.recipient)
        rungs.append(
            Rung(
                notification_id=copy.id,
                rung=copy.rung,
                recipient_name=name or copy.rung,
                named=name is not None,
                you=copy.recipient in mine,
                created_at=copy.created_at,
                acknowledged_at=copy.acknowledged_at,
                acknowledged_by=acknowledger(copy, names),
                acknowledged_by_you=copy.acknowledged_by is not None
                and copy.acknowledged_by.removeprefix("link:") in mine,
                acknowledged_by_link=(copy.acknowledged_by or "").startswith("link:"),
                escalated_at=copy.escalated_at,
            )
        )
    return rungs


def acknowledger(copy: Notification, names: dict[str, str]) -> str | None:
    """Who acknowledged this copy, in words: by name where notify knows it, else by the copy's rung
    (an acknowledgement is made by the copy's recipient, in the app or by its signed link)."""
    by = copy.acknowledged_by
    if by is None:
        return None
    return names.get(by.removeprefix("link:")) or names.get(copy.recipient) or copy.rung
