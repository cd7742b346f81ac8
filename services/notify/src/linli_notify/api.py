"""HTTP routes: translate requests to use cases and results to responses, nothing more."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_notify import schemas, usecases
from linli_notify.domain import DeliveryStatus
from linli_notify.models import Notification
from linli_notify.rendering import render_page, template_names
from linli_shared.auth import CallerDep
from linli_shared.clock import utc_now
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.service import SessionDep

router = APIRouter(prefix="/v1")

RecipientPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=120,
        description="A token subject, or resident:<id>, volunteer:<id>, role:<community>:<role>.",
    ),
]
TemplateName = Annotated[str, Path(pattern=r"^[a-z_]{1,60}$")]


@router.get("/contacts/{recipient}/preferences", response_model=schemas.PreferencesOut, tags=["preferences"])
async def get_preferences(
    recipient: RecipientPath, session: SessionDep, caller: CallerDep, request: Request
) -> object:
    settings = request.app.state.settings
    contact = await usecases.get_preferences(session, caller, recipient, settings=settings, now=utc_now())
    return contact.model_dump()


@router.put("/contacts/{recipient}/preferences", response_model=schemas.PreferencesOut, tags=["preferences"])
async def set_preferences(
    recipient: RecipientPath,
    data: schemas.PreferencesIn,
    session: SessionDep,
    caller: CallerDep,
    request: Request,
) -> object:
    settings = request.app.state.settings
    contact = await usecases.set_preferences(
        session, caller, recipient, data, settings=settings, now=utc_now()
    )
    return contact.model_dump()


@router.get("/templates", response_model=list[str], tags=["templates"])
async def list_templates(caller: CallerDep) -> object:
    return template_names()


@router.post("/templates/{name}/preview", response_model=schemas.PreviewOut, tags=["templates"])
async def preview_template(name: TemplateName, data: schemas.PreviewIn, caller: CallerDep) -> object:
    rendered = usecases.preview(name, data)
    return schemas.PreviewOut(
        template=name,
        version=rendered.version,
        language=data.language.value,
        title=rendered.title,
        body=rendered.body,
    )


@router.get("/inbox", response_model=Page[schemas.NotificationOut], tags=["inbox"])
async def my_inbox(
    session: SessionDep, caller: CallerDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> object:
    page = await usecases.list_inbox(session, caller, cursor=cursor, limit=limit)
    return Page(items=[n.model_dump() for n in page.items], next_cursor=page.next_cursor)


@router.post("/inbox/{notification_id}/read", response_model=schemas.NotificationOut, tags=["inbox"])
async def mark_read(notification_id: int, session: SessionDep, caller: CallerDep) -> object:
    return (await usecases.mark_read(session, caller, notification_id, now=utc_now())).model_dump()


@router.post(
    "/notifications/{notification_id}/acknowledgement", response_model=schemas.NotificationOut, tags=["inbox"]
)
async def acknowledge(notification_id: int, session: SessionDep, caller: CallerDep) -> object:
    return (await usecases.acknowledge(session, caller, notification_id, now=utc_now())).model_dump()


AckToken = Annotated[str, Path(min_length=3, max_length=100)]
NOT_CACHED = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


@router.get(
    "/acknowledgements/{token}",
    response_class=HTMLResponse,
    tags=["inbox"],
    description="The link in an urgent message: a confirmation page (no login) that changes nothing; "
    "its button POSTs to the same address. Link previews and mail scanners open links too.",
)
async def acknowledgement_page(token: AckToken, session: SessionDep, request: Request) -> HTMLResponse:
    secret = request.app.state.settings.jwt_secret.get_secret_value()
    return await link_page(session, await usecases.notification_by_link(session, token, secret=secret))


@router.post(
    "/acknowledgements/{token}",
    response_model=schemas.AcknowledgedOut,
    tags=["inbox"],
    description="Acknowledges the urgent message the link names, without a login: the token is the proof. "
    "A browser (Accept: text/html) gets the page back, saying it is acknowledged.",
)
async def acknowledge_by_link(token: AckToken, session: SessionDep, request: Request) -> object:
    secret = request.app.state.settings.jwt_secret.get_secret_value()
    notification = await usecases.acknowledge_by_link(session, token, secret=secret, now=utc_now())
    assert notification.id is not None and notification.acknowledged_at is not None  # stored and acknowledged
    if "text/html" in request.headers.get("accept", ""):
        return await link_page(session, notification)
    return schemas.AcknowledgedOut(
        notification_id=notification.id,
        title=notification.title,
        acknowledged_at=notification.acknowledged_at,
    )


async def link_page(session: AsyncSession, notification: Notification) -> HTMLResponse:
    """The confirmation page (it changes nothing: chat previews and mail scanners open links too)."""
    data = {"title": notification.title, "acknowledged_at": notification.acknowledged_at}
    timezone = await usecases.recipient_timezone(session, notification)
    page = render_page("acknowledgement", notification.language, data, timezone=timezone)
    return HTMLResponse(page, headers=NOT_CACHED)


@router.get("/deliveries", response_model=Page[schemas.DeliveryOut], tags=["deliveries"])
async def list_deliveries(
    session: SessionDep,
    caller: CallerDep,
    status: Annotated[
        DeliveryStatus | None, Query(description="pending, sent, failed, cancelled or unreachable")
    ] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    return await usecases.list_deliveries(session, caller, status=status, cursor=cursor, limit=limit)
