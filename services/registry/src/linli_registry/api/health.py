"""Health records over HTTP, and the audit of who read them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from linli_registry.usecases import health
from linli_shared.auth import CallerDep
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.schema_types import Strict
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import KeylessUnitOfWorkDep, UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["health"])


class HealthRecordIn(Strict):
    address: str = Field(min_length=1, max_length=200)
    children_phones: list[str] = Field(default_factory=list, max_length=10)
    past_illnesses: str = Field(default="", max_length=2000)
    regular_medicines: str = Field(default="", max_length=2000)
    notes: str = Field(default="", max_length=4000)


class HealthRecordOut(HealthRecordIn):
    model_config = ConfigDict(extra="ignore")
    resident_id: str
    updated_at: datetime


class HealthRecordReadOut(BaseModel):
    resident_id: str
    community: str
    reader: str
    reader_role: str
    read_at: datetime


@router.put("/residents/{resident_id}/health-record", response_model=HealthRecordOut)
async def put_health_record(
    resident_id: str, data: HealthRecordIn, uow: UnitOfWorkDep, caller: CallerDep
) -> object:
    return (await health.put_health_record(uow, caller, resident_id, data)).model_dump()


@router.get("/residents/{resident_id}/health-record", response_model=HealthRecordOut)
async def read_health_record(resident_id: str, uow: KeylessUnitOfWorkDep, caller: CallerDep) -> object:
    """A read is a write too: it is recorded, in the same transaction, for the auditors, every time
    (so no Idempotency-Key can spare a read its record)."""
    return (await health.read_health_record(uow, caller, resident_id)).model_dump()


@router.get("/health-record-reads", response_model=Page[HealthRecordReadOut])
async def list_health_record_reads(
    session: SessionDep,
    caller: CallerDep,
    resident_id: Annotated[str | None, Query(max_length=36)] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    page = await health.list_health_record_reads(
        session, caller, resident_id=resident_id, cursor=cursor, limit=limit
    )
    return Page(items=[r.model_dump() for r in page.items], next_cursor=page.next_cursor)
