"""Preferences, the in-app inbox, acknowledgements and the delivery log: one transaction each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify import schemas
from linli_notify.acklink import token_is_valid, token_notification_id
from linli_notify.contacts import new_contact
from linli_notify.domain import (
    DEFAULT_TIMEZONE,
    INBOX,
    PERSONAL,
    DeliveryStatus,
    resident_recipient,
    role_recipient,
)
from linli_notify.models import Contact, Delivery, Notification
from linli_notify.rendering import Rendered, render
from linli_notify.rules import SAMPLES
from linli_notify.settings import NotifySettings
from linli_shared.auth import Caller, Role
from linli_shared.contracts.notify import NotificationAcknowledged
from linli_shared.database import commit_or_conflict
from linli_shared.errors import Forbidden, NotFound
from linli_shared.outbox import record_event
from linli_shared.paging import Page, page_of
from linli_shared.scoping import get_visible, in_scope

LOG_READERS = (Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.AUDITOR, Role.COMMUNITY_WORKER)
FOR_OTHERS = (*PERSONAL, "role:")  # whose preferences a community worker manages


def caller_recipients(caller: Caller) -> list[str]:
    """Whom the caller reads as: their own subject, and their role's mailbox in their community.

    A resident's token subject is their registry id, and their messages are addressed resident:<id>.
    """
    recipients = [caller.subject]
    if caller.role is Role.RESIDENT:
        recipients.append(resident_recipient(caller.subject))
    if caller.community:
        recipients.append(role_recipient(caller.role.value, caller.community))
    return recipients


async def recipients_of(session: AsyncSession, caller: Caller) -> list[str]:
    """caller_recipients, plus the volunteer:<id> addresses whose enrolment named the caller's subject."""
    recipients = caller_recipients(caller)
    if caller.role is Role.VOLUNTEER and caller.district is not None:
        statement = select(Contact.recipient).where(
            Contact.district == caller.district,
            Contact.token_subject == caller.subject,
            col(Contact.recipient).startswith("volunteer:"),
        )
        recipients.extend((await session.exec(statement)).all())
    return recipients


async def check_manages(session: AsyncSession, caller: Caller, contact: Contact) -> None:
    """Anyone may manage their own preferences; a community worker those of their community's people."""
    caller.check_sees(contact.district, contact.community, "contact")
    if contact.recipient in await recipients_of(session, caller):
        return
    if caller.role is Role.COMMUNITY_WORKER and contact.recipient.startswith(FOR_OTHERS):
        return
    raise Forbidden("you may change only your own preferences, or a community worker those of residents")


async def get_preferences(
    session: AsyncSession, caller: Caller, recipient: str, *, settings: NotifySettings, now: datetime
) -> Contact:
    contact = await find_contact(session, caller, recipient, settings=settings, now=now)
    await check_manages(session, caller, contact)
    return contact


async def find_contact(
    session: AsyncSession, caller: Caller, recipient: str, *, settings: NotifySettings, now: datetime
) -> Contact:
    """The contact in the caller's district; the caller's own one is made on first use, with the
    same defaults (the deployment's quiet hours) as one made from an event."""
    if caller.district is None:
        raise NotFound("contact not found")  # a city admin has no district to look in
    contact = await session.get(Contact, (caller.district, recipient))
    if contact is not None:
        return contact
    if recipient != caller.subject:
        raise NotFound("contact not found")
    contact = new_contact(caller.district, caller.community, recipient, now, settings)
    contact.display_name = recipient[:100]
    return contact


async def set_preferences(
    session: AsyncSession,
    caller: Caller,
    recipient: str,
    data: schemas.PreferencesIn,
    *,
    settings: NotifySettings,
    now: datetime,
) -> Contact:
    contact = await find_contact(session, caller, recipient, settings=settings, now=now)
    await check_manages(session, caller, contact)
    changes = data.model_dump(exclude={"display_name"})
    changes["language"] = data.language.value
    for name, value in changes.items():
        setattr(contact, name, value)
    if data.display_name:
        contact.display_name = data.display_name
    contact.updated_at = now
    session.add(contact)
    await commit_or_conflict(session, "these preferences were just created by another request; try again")
    return contact


def preview(name: str, data: schemas.PreviewIn) -> Rendered:
    return render(name, data.language.value, {**SAMPLES.get(name, {}), **data.data})


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


async def own_notification(session: AsyncSession, caller: Caller, notification_id: int) -> Notification:
    notification = await get_visible(session, Notification, notification_id, caller, "notification")
    if notification.recipient not in await recipients_of(session, caller):
        raise NotFound("notification not found")  # someone else's messages do not exist for you
    return notification


async def mark_read(
    session: AsyncSession, caller: Caller, notification_id: int, *, now: datetime
) -> Notification:
    notification = await own_notification(session, caller, notification_id)
    if notification.read_at is None:
        notification.read_at = now
        session.add(notification)
        await session.commit()
    return notification


async def acknowledge(
    session: AsyncSession, caller: Caller, notification_id: int, *, now: datetime
) -> Notification:
    """Acknowledge once: the first acknowledgement stops the escalation and records an event."""
    statement = select(Notification).where(Notification.id == notification_id).with_for_update()
    if (await session.exec(statement)).first() is None:
        raise NotFound("notification not found")
    notification = await own_notification(session, caller, notification_id)
    return await record_acknowledgement(session, notification, caller.subject, now=now)


async def notification_by_link(
    session: AsyncSession, token: str, *, secret: str, for_update: bool = False
) -> Notification:
    """The notification a signed link names; NotFound unless the signature holds."""
    notification_id = token_notification_id(token)
    notification = None
    if notification_id is not None:
        statement = select(Notification).where(Notification.id == notification_id)
        if for_update:
            statement = statement.with_for_update()
        notification = (await session.exec(statement)).first()
    if notification is None or not token_is_valid(
        secret, token, notification_id or 0, notification.recipient
    ):
        raise NotFound("this acknowledgement link is not valid")
    return notification


async def recipient_timezone(session: AsyncSession, notification: Notification) -> str:
    """The zone the recipient reads times in (China's, if they have no contact)."""
    contact = await session.get(Contact, (notification.district, notification.recipient))
    return contact.timezone if contact is not None else DEFAULT_TIMEZONE


async def acknowledge_by_link(
    session: AsyncSession, token: str, *, secret: str, now: datetime
) -> Notification:
    """The confirmation page's button: no login, the signed token is the proof; recorded once."""
    notification = await notification_by_link(session, token, secret=secret, for_update=True)
    return await record_acknowledgement(
        session, notification, f"link:{notification.recipient}"[:100], now=now
    )


async def record_acknowledgement(
    session: AsyncSession, notification: Notification, by: str, *, now: datetime
) -> Notification:
    if notification.acknowledged_at is not None:
        return notification
    assert notification.id is not None
    notification_id = notification.id
    notification.acknowledged_at = now
    notification.acknowledged_by = by
    notification.read_at = notification.read_at or now
    session.add(notification)
    record_event(
        session,
        NotificationAcknowledged(
            notification_id=notification_id,
            source_event_id=notification.source_event_id,
            recipient=notification.recipient,
            acknowledged_by=by,
        ),
        district=notification.district,
        community=notification.community,
        now=now,
    )
    await session.commit()
    return notification


async def list_deliveries(
    session: AsyncSession, caller: Caller, *, status: DeliveryStatus | None, cursor: str | None, limit: int
) -> Page[dict[str, object]]:
    """Workers and admins see their scope's log; everyone else only deliveries addressed to them.
    Each row names the template, and its version, that its message was rendered from."""
    statement = in_scope(select(Delivery), Delivery, caller)
    if caller.role not in LOG_READERS:
        statement = statement.where(col(Delivery.recipient).in_(await recipients_of(session, caller)))
    if status is not None:
        statement = statement.where(Delivery.status == status.value)
    page = await page_of(session, statement, col(Delivery.id), cursor=cursor, limit=limit)
    ids = {delivery.notification_id for delivery in page.items}
    templates = select(Notification.id, Notification.template, Notification.template_version).where(
        col(Notification.id).in_(ids)
    )
    names = {row[0]: row[1:] for row in (await session.exec(templates)).all()}
    items: list[dict[str, object]] = [
        {
            **delivery.model_dump(),
            "template": names[delivery.notification_id][0],
            "template_version": names[delivery.notification_id][1],
        }
        for delivery in page.items
    ]
    return Page(items=items, next_cursor=page.next_cursor)
