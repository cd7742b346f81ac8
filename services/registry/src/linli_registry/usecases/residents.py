"""Households and residents: registration, search, tags, contact, moving out and death."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_registry import domain, tally  # noqa: F401 - tally keeps the statistics rollup on each flush
from linli_registry.access import (
    REGISTRY_READERS,
    REGISTRY_WRITERS,
    check_community_exists,
    check_grid_exists,
    load_resident,
)
from linli_registry.domain import Status, Tag
from linli_registry.models import CareGroup, Household, Resident
from linli_registry.usecases import resident_filters
from linli_shared.auth import Caller
from linli_shared.contracts.registry import (
    ResidentContactChanged,
    ResidentDied,
    ResidentMovedOut,
    ResidentRegistered,
    ResidentTagsChanged,
)
from linli_shared.database import on_postgresql
from linli_shared.errors import Conflict, Invalid, not_found
from linli_shared.events import Event
from linli_shared.paging import Page, page_of
from linli_shared.scoping import in_scope
from linli_shared.together import Part
from linli_shared.unit_of_work import Made, Work, write
from linli_shared.versions import differences, keep_change, snapshot

if TYPE_CHECKING:
    from linli_registry.api.residents_schemas import ContactIn, HouseholdIn, ResidentIn

CONTACT_FIELDS = ("phone", "guardian_name", "guardian_relation", "guardian_phone")
SHORTEST_TRIGRAM = 3
"""Names searched with fewer characters (most Chinese given names, many whole names) are found
through the index of each name's one- and two-character pieces (migration 0004)."""
SEARCH_PLANNING = (
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
    "set_config('max_parallel_workers_per_gather', '0', true)"
)
"""For this transaction: plan each search for its values (a surname shared by a tenth of the city
or a rare name), never the generic plan a prepared statement turns to after five runs; and no
parallel workers for a query that stops after one page."""


async def load_household(session: AsyncSession, caller: Caller, household_id: str) -> Household:
    household = await session.get(Household, household_id)
    if household is None:
        raise not_found("household")
    caller.check_sees(household.district, household.community, "household")
    return household


async def household_with_members(
    session: AsyncSession, caller: Caller, household_id: str
) -> tuple[Household, list[Resident]]:
    """A household and its residents (those who left included, with their status), for its workers."""
    caller.check_role(*REGISTRY_WRITERS)
    household = await load_household(session, caller, household_id)
    statement = (
        select(Resident).where(Resident.household_id == household.id).order_by(col(Resident.full_name))
    )
    return household, list((await session.exec(statement)).all())


@write(replay=load_household)
async def create_household(uow: Work, caller: Caller, data: HouseholdIn) -> Made[Household]:
    caller.check_role(*REGISTRY_WRITERS)
    caller.check_sees(data.district, data.community, "community")
    await check_community_exists(uow.session, data.district, data.community)
    await check_grid_exists(uow.session, data.district, data.community, data.grid_code)
    household = Household(id=str(uuid.uuid4()), **data.model_dump())
    uow.session.add(household)
    return Made(household.id, household)


@write(replay=load_resident)
async def register_resident(uow: Work, caller: Caller, data: ResidentIn, *, id_key: bytes) -> Made[Resident]:
    """Register a resident and announce it; the ID number is kept only hashed and masked."""
    caller.check_role(*REGISTRY_WRITERS)
    caller.check_sees(data.district, data.community, "community")
    id_number = domain.normalise_id_number(data.id_number)
    birth_date = data.birth_date or domain.birth_date_from_id(id_number)
    domain.check_birth_date(birth_date, uow.now.date())
    await check_community_exists(uow.session, data.district, data.community)
    await check_grid_exists(uow.session, data.district, data.community, data.grid_code)
    if data.household_id is not None:
        household = await uow.session.get(Household, data.household_id)
        if household is None or (household.district, household.community) != (data.district, data.community):
            raise Invalid(
                f"household {data.household_id} does not exist in {data.community}",
                zh=f"社区 {data.community} 没有这个户（{data.household_id}）",
            )
    resident = new_resident(data, id_number, birth_date, id_key=id_key, now=uow.now)
    district, community = resident.district, resident.community
    uow.record(registered(resident), district=district, community=community)
    # Always, even with nothing on record: a consumer learns the contact from this event alone.
    uow.record(contact_changed(resident), district=district, community=community)
    # The row past the ORM (its flush machinery was a fifth of a registration's CPU), its count in
    # the statistics rollup and its events: one statement on PostgreSQL.
    row = Part.insert(tally.RESIDENTS, resident.model_dump(), "r_")
    try:
        await uow.write_with_events(row, *tally.counting_new(resident))
    except IntegrityError as error:
        raise Conflict(
            "a resident with this ID number is already registered in the district",
            zh="本区已有登记了这个身份证号的居民",
        ) from error
    return Made(resident.id, resident)


def new_resident(
    data: ResidentIn, id_number: str, birth_date: date, *, id_key: bytes, now: datetime
) -> Resident:
    tag_flags: dict[str, Any] = {tag.value: True for tag in data.tags}  # each Tag is a bool column
    return Resident(
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


def registered(resident: Resident) -> ResidentRegistered:
    return ResidentRegistered(**facts_of(resident))


def facts_of(resident: Resident) -> dict[str, Any]:
    """Who the resident is, as registration and correction announce it (the ID number masked)."""
    return {
        "resident_id": resident.id,
        "community": resident.community,
        "grid_code": resident.grid_code,
        "full_name": resident.full_name,
        "birth_date": resident.birth_date,
        "id_number_masked": resident.id_number_masked,
        "tags": sorted(tag.value for tag in tags_of(resident)),
    }


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
    id_tail: str | None = None,
    household_id: str | None = None,
    address: str | None = None,
    status: Status | None = Status.ACTIVE,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Resident]:
    """Residents in the caller's scope, by name (substring), tag, grid, exact ID number, the ID
    number's last four characters, household, or household address (substring)."""
    caller.check_role(*REGISTRY_READERS)
    statement = in_scope(select(Resident), Resident, caller)
    postgresql = on_postgresql(session)
    if postgresql:
        await (await session.connection()).exec_driver_sql(SEARCH_PLANNING)
    if name and postgresql and len(name) < SHORTEST_TRIGRAM:
        # the trigram index cannot find these; the pieces are exactly the one- and two-character
        # substrings, so this is the whole condition, and its estimate is the pieces' own
        grams = func.registry_name_grams(col(Resident.full_name), type_=ARRAY(Text))
        statement = statement.where(grams.contains([name]))
    elif name:
        statement = statement.where(col(Resident.full_name).contains(name, autoescape=True))
    if tag is not None:
        statement = statement.where(col(getattr(Resident, tag.value)).is_(True))
    if id_number:
        digest = domain.hash_id_number(domain.normalise_id_number(id_number), id_key)
        statement = statement.where(Resident.id_number_hash == digest)
    if grid_code:
        statement = statement.where(Resident.grid_code == grid_code)
    if id_tail:
        statement = resident_filters.with_id_tail(statement, id_tail)
    if household_id:
        statement = resident_filters.with_household(statement, household_id)
    if address:
        statement = resident_filters.with_address(statement, caller, address)
    if status is not None:
        statement = statement.where(Resident.status == status.value)
    return await page_of(session, statement, col(Resident.id), cursor=cursor, limit=limit)


@write(replay=load_resident)
async def change_tags(uow: Work, caller: Caller, resident_id: str, tags: set[Tag]) -> Made[Resident]:
    caller.check_role(*REGISTRY_WRITERS)
    # Locked: every change raises the record's version, so a writer must read the row it changes.
    resident = await load_resident(uow.session, caller, resident_id, for_update=True)
    domain.check_can_change_status(resident.status)
    before = sorted(tag.value for tag in tags_of(resident))
    after = sorted(tag.value for tag in tags)
    if before != after:
        keep_change(uow, caller, resident, "tags", {"tags": [before, after]})
    for tag in Tag:
        setattr(resident, tag.value, tag in tags)
    uow.session.add(resident)
    uow.record(
        ResidentTagsChanged(resident_id=resident.id, tags=sorted(t.value for t in tags)),
        district=resident.district,
        community=resident.community,
    )
    return Made(resident.id, resident)


@write(replay=load_resident)
async def change_contact(uow: Work, caller: Caller, resident_id: str, data: ContactIn) -> Made[Resident]:
    """Replace how to reach a resident and their guardian; announced only when something changed."""
    caller.check_role(*REGISTRY_WRITERS)
    # The row lock serialises concurrent changes, so their outbox rows follow the order they were applied.
    resident = await load_resident(uow.session, caller, resident_id, for_update=True)
    domain.check_can_change_status(resident.status)
    contact = data.model_dump(include=set(CONTACT_FIELDS))
    changes = differences(snapshot(resident, CONTACT_FIELDS), contact)
    if not changes:
        return Made(resident.id, resident)
    keep_change(uow, caller, resident, "contact", changes)
    for field, value in contact.items():
        setattr(resident, field, value)
    uow.session.add(resident)
    uow.record(contact_changed(resident), district=resident.district, community=resident.community)
    return Made(resident.id, resident)


@write(replay=load_resident)
async def record_departure(
    uow: Work, caller: Caller, resident_id: str, status: Status, on: date
) -> Made[Resident]:
    """A resident moved out or died: kept on record, no longer counted, care groups end."""
    caller.check_role(*REGISTRY_WRITERS)
    # Locked: every change raises the record's version, so a writer must read the row it changes.
    resident = await load_resident(uow.session, caller, resident_id, for_update=True)
    domain.check_can_change_status(resident.status)
    if on > uow.now.date():
        raise Invalid("the date is in the future", zh="日期不能晚于今天")
    before = snapshot(resident, ("status", "status_on"))
    keep_change(
        uow,
        caller,
        resident,
        status.value,
        differences(before, {"status": status.value, "status_on": on.isoformat()}),
    )
    resident.status = status.value
    resident.status_on = on
    uow.session.add(resident)
    group = (await uow.session.exec(select(CareGroup).where(CareGroup.resident_id == resident.id))).first()
    if group is not None:
        group.active = False
        uow.session.add(group)
    event: Event = (
        ResidentMovedOut(resident_id=resident.id, on=on)
        if status is Status.MOVED_OUT
        else ResidentDied(resident_id=resident.id, on=on)
    )
    uow.record(event, district=resident.district, community=resident.community)
    return Made(resident.id, resident)
