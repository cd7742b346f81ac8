"""Who may read and change what: roles, the addresses a caller reads as, and scoped loaders."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify.acklink import token_is_valid, token_notification_id
from linli_notify.domain import (
    DEFAULT_TIMEZONE,
    PERSONAL,
    account_recipient,
    resident_recipient,
    role_recipient,
)
from linli_notify.models import Contact, Notification
from linli_shared.auth import Caller, Role
from linli_shared.errors import Forbidden, NotFound, not_found
from linli_shared.schema_types import MAX_ROW_ID
from linli_shared.scoping import get_visible

LOG_READERS = (Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.AUDITOR, Role.COMMUNITY_WORKER)
FOR_OTHERS = (*PERSONAL, "role:")  # whose preferences a community worker manages


def caller_recipients(caller: Caller) -> list[str]:
    """Whom the caller reads as: their own subject and account, and their role's mailbox in their
    community.

    A resident's token subject is their registry id, and their messages are addressed resident:<id>.
    """
    recipients = [caller.subject, account_recipient(caller.account or caller.subject)]
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
    raise Forbidden(
        "you may change only your own preferences, or a community worker those of residents",
        zh="只能修改自己的通知设置（社区工作者可修改本社区居民等人的）",
    )


async def load_own_notification(
    session: AsyncSession, caller: Caller, notification_id: int, *, for_update: bool = False
) -> Notification:
    """A notification addressed to the caller; anyone else's does not exist for them.

    With `for_update` the row is locked first, so two acknowledgements of it take turns."""
    if not 1 <= notification_id <= MAX_ROW_ID:
        raise not_found("notification")
    if for_update:
        statement = select(Notification).where(Notification.id == notification_id).with_for_update()
        if (await session.exec(statement)).first() is None:
            raise not_found("notification")
    notification = await get_visible(session, Notification, notification_id, caller, "notification")
    if notification.recipient not in await recipients_of(session, caller):
        raise not_found("notification")  # someone else's messages do not exist for you
    return notification


async def load_notification_by_link(
    session: AsyncSession, token: str, *, secret: str, for_update: bool = False
) -> Notification:
    """The notification a signed link names; NotFound unless the signature holds."""
    notification_id = token_notification_id(token)
    notification = None
    if notification_id is not None and 1 <= notification_id <= MAX_ROW_ID:
        statement = select(Notification).where(Notification.id == notification_id)
        if for_update:
            statement = statement.with_for_update()
        notification = (await session.exec(statement)).first()
    if notification is None or not token_is_valid(
        secret, token, notification_id or 0, notification.recipient
    ):
        raise NotFound("this acknowledgement link is not valid", zh="这个确认链接无效")
    return notification


async def recipient_timezone(session: AsyncSession, notification: Notification) -> str:
    """The zone the recipient reads times in (China's, if they have no contact)."""
    contact = await session.get(Contact, (notification.district, notification.recipient))
    return contact.timezone if contact is not None else DEFAULT_TIMEZONE
