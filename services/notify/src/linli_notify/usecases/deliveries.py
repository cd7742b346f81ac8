"""The delivery log: every attempt to reach someone, scoped to who may read it."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify.access import LOG_READERS, recipients_of
from linli_notify.domain import DeliveryStatus
from linli_notify.models import Delivery, Notification
from linli_shared.auth import Caller
from linli_shared.paging import Page, page_of
from linli_shared.scoping import in_scope


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
