"""Registry use cases: the only place a transaction opens (load, decide, add events, commit)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_registry import domain, schemas
from linli_registry.domain import Status, Tag
from linli_registry.models import (
    CareGroup,
    Community,
    District,
    Grid,
    HealthRecord,
    HealthRecordRead,
    Household,
    Resident,
)
from linli_shared.auth import Caller, Role
from linli_shared.contracts.registry import (
    ResidentContactChanged,
    ResidentDied,
    ResidentMovedOut,
    ResidentRegistered,
    ResidentTagsChanged,
)
from linli_shared.database import commit_or_conflict
from linli_shared.errors import Conflict, Forbidden, Invalid, NotFound
from linli_shared.events import Event
from linli_shared.outbox import record_event
from linli_shared.paging import Page, page_of
from linli_shared.scoping import in_scope

REGISTRY_WRITERS = (Role.DISTRICT_ADMIN, Role.COMMUNITY_WORKER, Role.GRID_WORKER)
REGISTRY_READERS = (*REGISTRY_WRITERS, Role.FUND_OFFICER)
HEALTH_RECORD_WRITERS = (Role.DISTRICT_ADMIN, Role.COMMUNITY_WORKER)
HEALTH_READ_AUDITORS = (Role.DISTRICT_ADMIN, Role.AUDITOR)


# --- places -------------------------------------------------------------------------------------


async def create_district(session: AsyncSession, caller: Caller, data: schemas.DistrictIn) -> District:
    caller.check_role(Role.CITY_ADMIN)
    if await session.get(District, data.code):
        raise Conflict(f"district {data.code} already exists")
    district = District(code=data.code, name=data.name)
    session.add(district)
    await session.commit()
    return district


async def list_districts(session: AsyncSession, caller: Caller) -> list[District]:
    statement = select(District).order_by(col(District.code))
    if caller.role is not Role.CITY_ADMIN:
        statement = statement.where(District.code == caller.district)
    return list((await session.exec(statement)).all())


async def create_community(session: AsyncSession, caller: Caller, data: schemas.CommunityIn) -> Community:
    caller.check_role(Role.CITY_ADMIN, Role.DISTRICT_ADMIN)
    caller.check_sees(data.district, None, "district")
    if not await session.get(District, data.district):
        raise NotFound(f"district {data.district} not found")
    community = Community(district=data.district, code=data.code, name=data.name)
    session.add(community)
    await commit_or_conflict(session, f"community {data.code} already exists in {data.district}")
    return community


async def list_communities(session: AsyncSession, caller: Caller, district: str) -> list[Community]:
    caller.check_sees(district, caller.community if caller.community else None, "district")
    statement = select(Community).where(Community.district == district).order_by(col(Community.code))
    if caller.community:
        statement = statement.where(Community.code == caller.community)
    return list((await session.exec(statement)).all())


async def create_grid(session: AsyncSession, caller: Caller, data: schemas.GridIn) -> Grid:
    caller.check_role(Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.COMMUNITY_WORKER)
    caller.check_sees(data.district, data.community, "community")
    await load_community(session, data.district, data.community)
    grid = Grid(**data.model_dump())
    session.add(grid)
    await commit_or_conflict(session, f"grid {data.code} already exists in {data.community}")
    return grid


async def list_grids(session: AsyncSession, caller: Caller, district: str, community: str) -> list[Grid]:
    caller.check_sees(district, community, "community")
    statement = (
        select(Grid).where(Grid.district == district, Grid.community == community).order_by(col(Grid.code))
    )
    return list((await session.exec(statement)).all())


async def load_community(session: AsyncSession, district: str, community: str) -> Community:
    found = (
        await session.exec(
            select(Community).where(Community.district == district, Community.code == community)
        )
    ).first()
    if found is None:
        raise NotFound(f"community {community} not found in {district}")
    return found


async def check_grid_exists(
    session: AsyncSession, district: str, community: str, grid_code: str | None
) -> None:
    if grid_code is None:
        return
    statement = select(Grid).where(
        Grid.district == district, Grid.community == community, Grid.code == grid_code
    )
    if (await session.exec(statement)).first() is None:
        raise Invalid(f"grid {grid_code} does not exist in {community}")


# --- households and residents -------------------------------------------------------------------


async def create_household(session: AsyncSession, caller: Caller, data: schemas.HouseholdIn) -> Household:
    caller.check_role(*REGISTRY_WRITERS)
    caller.check_sees(data.district, data.community, "community")
    await load_community(session, data.district, data.community)
    await check_grid_exists(session, data.district, data.community, data.grid_code)
    household = Household(id=str(uuid.uuid4()), **data.model_dump())
    session.add(household)
    await session.commit()
    return household


async def register_resident(
    session: AsyncSession, caller: Caller, data: schemas.ResidentIn, *, id_key: bytes, now: datetime
) -> Resident:
    """Register a resident and announce it; the ID number is kept only hashed and masked."""
    caller.check_role(*REGISTRY_WRITERS)
    caller.check_sees(data.district, data.community, "community")
    id_number = domain.normalise_id_number(data.id_number)
    birth_date = data.birth_date or domain.birth_date_from_id(id_number)
    domain.check_birth_date(birth_date, now.date())
    await load_community(session, data.district, data.community)
    await check_grid_exists(session, data.district, data.community, data.grid_code)
    if data.household_id is not None:
        household = await session.get(Household, data.household_id)
        if household is None or (household.district, household.community) != (data.district, data.community):
            raise Invalid(f"household {data.household_id} does not exist in {data.community}")
    tag_flags: dict[str, Any] = {tag.value: True for tag in data.tags}  # each Tag is a bool column
    resident = Resident(
        id=str(uuid.uuid4()),
        district=data.district,
        community=data.community,
        grid_code=data.grid_code,
        household_id=data.household_id,
        full_name=data.full_name,
        gender=data.gender,
        birth_date=birth_date,
        id_number_hash=domain.hash_id_number(id_number, id_key),
        id_number_masked=domain.mask_id_number(id_number),
        phone=data.phone,
        guardian_name=data.guardian_name,
        guardian_relation=data.guardian_relation,
        guardian_phone=data.guardian_phone,
        registered_at=now,
        **tag_flags,
    )
    session.add(resident)
    record_event(
        session,
        ResidentRegistered(
            resident_id=resident.id,
            community=resident.community,
            grid_code=resident.grid_code,
            full_name=resident.full_name,
            birth_date=resident.birth_date,
            id_number_masked=resident.id_number_masked,
            tags=sorted(tag.value for tag in data.tags),
        ),
        district=resident.district,
        community=resident.community,
        now=now,
    )
    # Always, even with nothing on record: a consumer learns the contact from this event alone.
    record_event(
        session, contact_changed(resident), district=resident.district, community=resident.community, now=now
    )
    await commit_or_conflict(session, "a resident with this ID number is already registered in the district")
    return resident


CONTACT_FIELDS = ("phone", "guardian_name", "guardian_relation", "guardian_phone")


def contact_changed(resident: Resident) -> ResidentContactChanged:
    """The resident's whole contact as it stands, for those who must reach them."""
    return ResidentContactChanged(
        resident_id=resident.id,
        community=resident.community,
        grid_code=resident.grid_code,
        full_name=resident.full_name,
        phone=resident.phone,
        guardian_name=resident.guardian_name,
        guardian_relation=resident.guardian_relation,
        guardian_phone=resident.guardian_phone,
    )


def tags_of(resident: Resident) -> list[Tag]:
    return [tag for tag in Tag if getattr(resident, tag.value)]


async def load_resident(
    session: AsyncSession, caller: Caller, resident_id: str, *, for_update: bool = False
) -> Resident:
    """The resident, if the caller may see them; otherwise NotFound, whatever the reason."""
    resident = await session.get(Resident, resident_id, with_for_update=for_update)
    if resident is None:
        raise NotFound("resident not found")
    caller.check_sees(resident.district, resident.community, "resident")
    return resident


async def get_resident(session: AsyncSession, caller: Caller, resident_id: str) -> Resident:
    caller.check_role(*REGISTRY_READERS)
    return await load_resident(session, caller, resident_id)


async def search_residents(
    session: AsyncSession,
    caller: Caller,
    *,
    id_key: bytes,
    name: str | None = None,
    tag: Tag | None = None,
    id_number: str | None = None,
    grid_code: str | None = None,
    status: Status | None = Status.ACTIVE,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Resident]:
    """Residents in the caller's scope, by name (substring), tag, grid or exact ID number."""
    caller.check_role(*REGISTRY_READERS)
    statement = in_scope(select(Resident), Resident, caller)
    if name:
        statement = statement.where(col(Resident.full_name).contains(name))
    if tag is not None:
        statement = statement.where(col(getattr(Resident, tag.value)).is_(True))
    if id_number:
        digest = domain.hash_id_number(domain.normalise_id_number(id_number), id_key)
        statement = statement.where(Resident.id_number_hash == digest)
    if grid_code:
        statement = statement.where(Resident.grid_code == grid_code)
    if status is not None:
        statement = statement.where(Resident.status == status.value)
    return await page_of(session, statement, col(Resident.id), cursor=cursor, limit=limit)


async def change_tags(
    session: AsyncSession, caller: Caller, resident_id: str, tags: set[Tag], *, now: datetime
) -> Resident:
    caller.check_role(*REGISTRY_WRITERS)
    resident = await load_resident(session, caller, resident_id)
    domain.check_can_change_status(resident.status)
    for tag in Tag:
        setattr(resident, tag.value, tag in tags)
    session.add(resident)
    record_event(
        session,
        ResidentTagsChanged(resident_id=resident.id, tags=sorted(t.value for t in tags)),
        district=resident.district,
        community=resident.community,
        now=now,
    )
    await session.commit()
    return resident


async def change_contact(
    session: AsyncSession, caller: Caller, resident_id: str, data: schemas.ContactIn, *, now: datetime
) -> Resident:
    """Replace how to reach a resident and their guardian; announced only when something changed."""
    caller.check_role(*REGISTRY_WRITERS)
    # The row lock serialises concurrent changes, so their outbox rows follow the order they were applied.
    resident = await load_resident(session, caller, resident_id, for_update=True)
    domain.check_can_change_status(resident.status)
    contact = data.model_dump(include=set(CONTACT_FIELDS))
    if all(getattr(resident, field) == value for field, value in contact.items()):
        return resident
    for field, value in contact.items():
        setattr(resident, field, value)
    session.add(resident)
    record_event(
        session, contact_changed(resident), district=resident.district, community=resident.community, now=now
    )
    await session.commit()
    return resident


async def record_departure(
    session: AsyncSession, caller: Caller, resident_id: str, status: Status, on: date, *, now: datetime
) -> Resident:
    """A resident moved out or died: kept on record, no longer counted, care groups end."""
    caller.check_role(*REGISTRY_WRITERS)
    resident = await load_resident(session, caller, resident_id)
    domain.check_can_change_status(resident.status)
    if on > now.date():
        raise Invalid("the date is in the future")
    resident.status = status.value
    resident.status_on = on
    session.add(resident)
    group = (await session.exec(select(CareGroup).where(CareGroup.resident_id == resident.id))).first()
    if group is not None:
        group.active = False
        session.add(group)
    event: Event = (
        ResidentMovedOut(resident_id=resident.id, on=on)
        if status is Status.MOVED_OUT
        else ResidentDied(resident_id=resident.id, on=on)
    )
    record_event(session, event, district=resident.district, community=resident.community, now=now)
    await session.commit()
    return resident


# --- health records ----------------------------------------------------------------------------


async def put_health_record(
    session: AsyncSession, caller: Caller, resident_id: str, data: schemas.HealthRecordIn, *, now: datetime
) -> HealthRecord:
    caller.check_role(*HEALTH_RECORD_WRITERS)
    resident = await load_resident(session, caller, resident_id)
    record = await session.get(HealthRecord, resident_id) or HealthRecord(
        resident_id=resident.id,
        district=resident.district,
        community=resident.community,
        address=data.address,
        updated_at=now,
    )
    for key, value in data.model_dump().items():
        setattr(record, key, value)
    record.updated_at = now
    session.add(record)
    await session.commit()
    return record


async def read_health_record(
    session: AsyncSession, caller: Caller, resident_id: str, *, now: datetime
) -> HealthRecord:
    """Only roles that care for the resident may read; every read is recorded with it."""
    caller.check_role(Role.DISTRICT_ADMIN, Role.COMMUNITY_WORKER, Role.GRID_WORKER)
    resident = await load_resident(session, caller, resident_id)
    if caller.role is Role.GRID_WORKER:
        group = (
            await session.exec(
                select(CareGroup).where(
                    CareGroup.resident_id == resident.id,
                    CareGroup.grid_worker == caller.subject,
                    col(CareGroup.active).is_(True),
                )
            )
        ).first()
        if group is None:
            raise Forbidden("grid workers read health records only of the elders in their care groups")
    record = await session.get(HealthRecord, resident_id)
    if record is None:
        raise NotFound("this resident has no health record")
    session.add(
        HealthRecordRead(
            district=resident.district,
            community=resident.community,
            resident_id=resident.id,
            reader=caller.subject,
            reader_role=caller.role.value,
            read_at=now,
        )
    )
    await session.commit()
    return record


async def list_health_record_reads(
    session: AsyncSession, caller: Caller, *, resident_id: str | None, cursor: str | None, limit: int
) -> Page[HealthRecordRead]:
    caller.check_role(*HEALTH_READ_AUDITORS)
    statement = select(HealthRecordRead).where(HealthRecordRead.district == caller.district)
    if resident_id:
        statement = statement.where(HealthRecordRead.resident_id == resident_id)
    return await page_of(session, statement, col(HealthRecordRead.id), cursor=cursor, limit=limit)
