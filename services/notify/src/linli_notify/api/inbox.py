"""The in-app inbox, read marks and acknowledgements, in the app or by the signed link in a message."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify.access import load_notification_by_link, recipient_timezone
from linli_notify.models import Notification
from linli_notify.rendering import render_page
from linli_notify.usecases import inbox
from linli_shared.auth import CallerDep
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.schema_types import RowIdPath
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import KeylessUnitOfWorkDep, UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["inbox"])

AckToken = Annotated[str, Path(min_length=3, max_length=100)]
NOT_CACHED = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


class NotificationOut(BaseModel):
    id: int
    district: str
    community: str | None
    source_event_id: str
    event_type: str
    recipient: str
    template: str
    template_version: int | None
    language: str
    urgency: str
    rung: str | None
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    escalated_at: datetime | None
    escalation_of: int | None


class RungOut(BaseModel):
    """One copy of an alert on its ladder."""

    notification_id: int
    rung: str = Field(description="neighbour, grid_worker or community_worker")
    recipient_name: str = Field(description="Their name where notify knows it, else the rung's role.")
    named: bool = Field(description="False when recipient_name is the role, not a name.")
    you: bool = Field(description="This copy is the caller's own.")
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None = Field(description="Who acknowledged: a name, or the rung's role.")
    acknowledged_by_you: bool
    acknowledged_by_link: bool = Field(description="Acknowledged by the signed link in a message.")
    escalated_at: datetime | None = Field(description="When it climbed to the next rung, unanswered.")


class AcknowledgedOut(BaseModel):
    notification_id: int
    title: str
    acknowledged_at: datetime


@router.get("/inbox", response_model=Page[NotificationOut])
async def my_inbox(
    session: SessionDep, caller: CallerDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> object:
    page = await inbox.list_inbox(session, caller, cursor=cursor, limit=limit)
    return Page(items=[n.model_dump() for n in page.items], next_cursor=page.next_cursor)


@router.post("/inbox/{notification_id}/read", response_model=NotificationOut)
async def mark_read(notification_id: RowIdPath, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await inbox.mark_read(uow, caller, notification_id)).model_dump()


@router.post("/notifications/{notification_id}/acknowledgement", response_model=NotificationOut)
async def acknowledge(notification_id: RowIdPath, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await inbox.acknowledge(uow, caller, notification_id)).model_dump()


@router.get(
    "/notifications/{notification_id}/ladder",
    response_model=list[RungOut],
    description="Every copy of this alert on its escalation ladder, oldest first: who had it on which "
    "rung, who acknowledged it and when, what climbed. Readable by any recipient of the alert; "
    "a 404 for anyone else.",
)
async def ladder(notification_id: RowIdPath, session: SessionDep, caller: CallerDep) -> object:
    return [asdict(rung) for rung in await inbox.ladder_of(session, caller, notification_id)]


@router.get(
    "/acknowledgements/{token}",
    response_class=HTMLResponse,
    description="The link in an urgent message: a confirmation page (no login) that changes nothing; "
    "its button POSTs to the same address. Link previews and mail scanners open links too.",
)
async def acknowledgement_page(token: AckToken, session: SessionDep, request: Request) -> HTMLResponse:
    secret = request.app.state.settings.ack_key()
    return await link_page(session, await load_notification_by_link(session, token, secret=secret))


@router.post(
    "/acknowledgements/{token}",
    response_model=AcknowledgedOut,
    description="Acknowledges the urgent message the link names, without a login: the token is the proof. "
    "A browser (Accept: text/html) gets the page back, saying it is acknowledged.",
)
async def acknowledge_by_link(
    token: AckToken, uow: KeylessUnitOfWorkDep, session: SessionDep, request: Request
) -> object:
    secret = request.app.state.settings.ack_key()
    notification = await inbox.acknowledge_by_link(uow, token, secret=secret)
    assert notification.id is not None and notification.acknowledged_at is not None  # stored and acknowledged
    if "text/html" in request.headers.get("accept", ""):
        return await link_page(session, notification)
    return AcknowledgedOut(
        notification_id=notification.id,
        title=notification.title,
        acknowledged_at=notification.acknowledged_at,
    )


async def link_page(session: AsyncSession, notification: Notification) -> HTMLResponse:
    """The confirmation page (it changes nothing: chat previews and mail scanners open links too)."""
    data = {"title": notification.title, "acknowledged_at": notification.acknowledged_at}
    timezone = await recipient_timezone(session, notification)
    page = render_page("acknowledgement", notification.language, data, timezone=timezone)
    return HTMLResponse(page, headers=NOT_CACHED)
