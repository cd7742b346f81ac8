"""Health records: written by those who care for the resident, every read recorded with it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_registry.access import (
    HEALTH_READ_AUDITORS,
    HEALTH_RECORD_READERS,
    HEALTH_RECORD_WRITERS,
    load_resident,
)
from linli_registry.models import CareGroup, HealthRecord, HealthRecordRead
from linli_shared.auth import Caller, Role
from linli_shared.errors import Forbidden, NotFound
from linli_shared.paging import Page, page_of
from linli_shared.unit_of_work import Made, Work, write

if TYPE_CHECKING:
    from linli_registry.api.health import HealthRecordIn


NO_HEALTH_RECORD = "this resident has no health record"
NO_HEALTH_RECORD_ZH = "这位居民还没有健康档案"


async def load_health_record(session: AsyncSession, caller: Caller, resident_id: str) -> HealthRecord:
    """The record of a resident the caller may see (a replay: the read was recorded the first time)."""
    resident = await load_resident(session, caller, resident_id)
    record = await session.get(HealthRecord, resident.id)
    if record is None:
        raise NotFound(NO_HEALTH_RECORD, zh=NO_HEALTH_RECORD_ZH)
    return record


@write(replay=load_health_record)
async def put_health_record(
    uow: Work, caller: Caller, resident_id: str, data: HealthRecordIn
) -> Made[HealthRecord]:
    caller.check_role(*HEALTH_RECORD_WRITERS)
    resident = await load_resident(uow.session, caller, resident_id)
    record = await uow.session.get(HealthRecord, resident_id) or HealthRecord(
        resident_id=resident.id,
        district=resident.district,
        community=resident.community,
        address=data.address,
        updated_at=uow.now,
    )
    for key, value in data.model_dump().items():
        setattr(record, key, value)
    record.updated_at = uow.now
    uow.session.add(record)
    return Made(resident.id, record)


@write(replay=load_health_record)
async def read_health_record(uow: Work, caller: Caller, resident_id: str) -> Made[HealthRecord]:
    """Only roles that care for the resident may read; every read is recorded with it."""
    caller.check_role(*HEALTH_RECORD_READERS)
    resident = await load_resident(uow.session, caller, resident_id)
    if caller.role is Role.GRID_WORKER:
        group = (
            await uow.session.exec(
                select(CareGroup).where(
                    CareGroup.resident_id == resident.id,
                    CareGroup.grid_worker == caller.subject,
                    col(CareGroup.active).is_(True),
                )
            )
        ).first()
        if group is None:
            raise Forbidden(
                "grid workers read health records only of the elders in their care groups",
                zh="网格员只能查看自己关爱小组里老人的健康档案",
            )
    record = await uow.session.get(HealthRecord, resident_id)
    if record is None:
        raise NotFound(NO_HEALTH_RECORD, zh=NO_HEALTH_RECORD_ZH)
    uow.session.add(
        HealthRecordRead(
            district=resident.district,
            community=resident.community,
            resident_id=resident.id,
            reader=caller.subject,
            reader_role=caller.role.value,
            read_at=uow.now,
        )
    )
    return Made(resident.id, record)


async def list_health_record_reads(
    session: AsyncSession, caller: Caller, *, resident_id: str | None, cursor: str | None, limit: int
) -> Page[HealthRecordRead]:
    caller.check_role(*HEALTH_READ_AUDITORS)
    statement = select(HealthRecordRead).where(HealthRecordRead.district == caller.district)
    if resident_id:
        statement = statement.where(HealthRecordRead.resident_id == resident_id)
    return await page_of(session, statement, col(HealthRecordRead.id), cursor=cursor, limit=limit)
