"""The delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from linli_notify.domain import DeliveryStatus
from linli_notify.usecases import deliveries
from linli_shared.auth import CallerDep
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.service import SessionDep

router = APIRouter(prefix="/v1", tags=["deliveries"])


class DeliveryOut(BaseModel):
    id: int
    district: str
    community: str | None
    notification_id: int
    source_event_id: str
    recipient: str
    template: str = Field(description="The template the message was rendered from…")
    template_version: int | None = Field(description="…and the version that template declared then.")
    channel: str
    urgent: bool
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


@router.get("/deliveries", response_model=Page[DeliveryOut])
async def list_deliveries(
    session: SessionDep,
    caller: CallerDep,
    status: Annotated[
        DeliveryStatus | None, Query(description="pending, sent, failed, cancelled or unreachable")
    ] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    return await deliveries.list_deliveries(session, caller, status=status, cursor=cursor, limit=limit)
