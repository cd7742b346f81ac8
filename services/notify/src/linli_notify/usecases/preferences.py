"""Preferences: how and when each contact likes to be reached."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify.access import check_manages
from linli_notify.models import Contact
from linli_notify.settings import NotifySettings
from linli_notify.usecases.contacts import new_contact
from linli_shared.auth import Caller
from linli_shared.database import flush_or_conflict
from linli_shared.errors import not_found
from linli_shared.unit_of_work import Work

if TYPE_CHECKING:  # the request model lives beside its route, which imports this module
    from linli_notify.api.preferences import PreferencesIn


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
        raise not_found("contact")  # a city admin has no district to look in
    contact = await session.get(Contact, (caller.district, recipient))
    if contact is not None:
        return contact
    if recipient != caller.subject:
        raise not_found("contact")
    contact = new_contact(caller.district, caller.community, recipient, now, settings)
    contact.display_name = recipient[:100]
    return contact


async def set_preferences(
    uow: Work, caller: Caller, recipient: str, data: PreferencesIn, *, settings: NotifySettings
) -> Contact:
    """Replace the contact's preferences. A PUT: sent again with its Idempotency-Key it answers with
    the preferences as they stand (the key records no id to replay, since the path names the contact);
    the key with another body is a 409."""
    async with uow:
        if await uow.previous() is not None:
            return await get_preferences(uow.session, caller, recipient, settings=settings, now=uow.now)
        contact = await get_preferences(uow.session, caller, recipient, settings=settings, now=uow.now)
        changes = data.model_dump(exclude={"display_name"})
        changes["language"] = data.language.value
        for name, value in changes.items():
            setattr(contact, name, value)
        if data.display_name:
            contact.display_name = data.display_name
        contact.updated_at = uow.now
        uow.session.add(contact)
        await flush_or_conflict(
            uow.session,
            "these preferences were just created by another request; try again",
            zh="这些通知设置刚被另一个请求创建，请重试",
        )
        if await uow.commit() is not None:  # its twin (same key and body) committed first: the same state
            return await get_preferences(uow.session, caller, recipient, settings=settings, now=uow.now)
        return contact
