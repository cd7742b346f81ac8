"""Corrections of the records workers keep: checked against the version the worker saw, kept in
the record's history, announced to the services that follow them.

A register copied by hand has misspelt names, wrong grids, a digit wrong in an ID number; people
move between households; a care group's neighbour moves away. A correction changes only the fields
it names, on the version the worker last read: if someone changed the record since, nothing is
written and the worker is told what changed, by whom (`linli_shared.versions`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_registry import domain
from linli_registry.access import (
    CARE_GROUP_FORMERS,
    REGISTRY_WRITERS,
    check_grid_exists,
    load_care_group,
    load_resident,
)
from linli_registry.models import CareGroup, Household, Resident
from linli_registry.usecases.care import changed_group
from linli_registry.usecases.residents import CONTACT_FIELDS, contact_changed, facts_of, load_household
from linli_shared.auth import Caller
from linli_shared.contracts.registry import HouseholdCorrected, ResidentCorrected
from linli_shared.database import flush_or_conflict
from linli_shared.errors import Invalid
from linli_shared.unit_of_work import Made, Work, write
from linli_shared.versions import (
    RecordChange,
    Versioned,
    changes_since,
    check_version,
    differences,
    keep_change,
    snapshot,
    stale,
)

if TYPE_CHECKING:
    from linli_registry.api.corrections import CareGroupCorrectionIn, CorrectionIn, HouseholdCorrectionIn

RESIDENT_FIELDS = (
    "full_name",
    "gender",
    "birth_date",
    "id_number_masked",
    "grid_code",
    "household_id",
    *CONTACT_FIELDS,
)
"""What a resident's correction may change, as the history shows it (the ID number only masked)."""
HOUSEHOLD_FIELDS = ("address", "grid_code", "head_resident_id")
CARE_GROUP_FIELDS = (
    "community_worker",
    "grid_worker",
    "neighbour_name",
    "neighbour_phone",
    "visit_every_hours",
    "call_every_days",
)
ANNOUNCED_IN_CONTACT = {"full_name", "grid_code", *CONTACT_FIELDS}
NOT_FIELDS = {"reason", "version", "id_number"}
"""Members of a correction that are not the record's own fields."""
DUPLICATE = "本区已有登记了这个身份证号的居民"
HISTORY_MODELS: dict[str, type[Versioned]] = {
    "residents": Resident,
    "households": Household,
    "care-groups": CareGroup,
}


async def history(session: AsyncSession, caller: Caller, kind: str, record_id: str) -> list[RecordChange]:
    """A record's changes, oldest first, for those who keep the registry (the history holds phones)."""
    caller.check_role(*REGISTRY_WRITERS)
    model = HISTORY_MODELS[kind]
    if model is Resident:
        await load_resident(session, caller, record_id)
    elif model is Household:
        await load_household(session, caller, record_id)
    else:
        await load_care_group(session, caller, record_id)
    return await changes_since(session, model, record_id)


def named_values(data: Any) -> dict[str, Any]:
    return {name: getattr(data, name) for name in data.model_fields_set - NOT_FIELDS}


async def flushed(uow: Work, record: Versioned, seen: int, duplicate: str | None = None) -> None:
    """Send the change now: a unique key taken is a 409 saying so; on SQLite (no row locks) a
    correction that raced another is caught here, by the version counter, as a stale one."""
    try:
        await flush_or_conflict(uow.session, duplicate or "这条记录与已有的记录冲突")
    except StaleDataError:
        await uow.rollback()
        raise await stale(uow.session, record, seen) from None


@write(replay=load_resident)
async def correct_resident(
    uow: Work, caller: Caller, resident_id: str, data: CorrectionIn, *, seen: int | None, id_key: bytes
) -> Made[Resident]:
    """Change the fields `data` names, if the record is still at version `seen`."""
    caller.check_role(*REGISTRY_WRITERS)
    # Locked: a second correction waits here, then finds the version moved on.
    resident = await load_resident(uow.session, caller, resident_id, for_update=True)
    domain.check_can_change_status(resident.status)
    made = await check_version(uow.session, resident, seen)
    before = snapshot(resident, RESIDENT_FIELDS)
    await apply_to_resident(uow, resident, data, id_key=id_key)
    changes = differences(before, snapshot(resident, RESIDENT_FIELDS))
    if not changes:
        return Made(resident.id, resident)
    keep_change(uow, caller, resident, "corrected", changes, version=made, reason=data.reason)
    district, community = resident.district, resident.community
    uow.record(corrected(resident, sorted(changes), version=made), district=district, community=community)
    if changes.keys() & ANNOUNCED_IN_CONTACT:
        uow.record(contact_changed(resident), district=district, community=community)
    await flushed(uow, resident, made - 1, DUPLICATE)
    return Made(resident.id, resident)


async def apply_to_resident(uow: Work, resident: Resident, data: CorrectionIn, *, id_key: bytes) -> None:
    """Check the fields the correction names as registration checks them, then set them (checked
    first: a check's query would otherwise flush a half-made change)."""
    values = named_values(data)
    if data.id_number is not None:
        number = domain.normalise_id_number(data.id_number)
        values["id_number_hash"] = domain.hash_id_number(number, id_key)
        values["id_number_masked"] = domain.mask_id_number(number)
        values.setdefault("birth_date", domain.birth_date_from_id(number))
    domain.check_birth_date(values.get("birth_date", resident.birth_date), uow.now.date())
    place = (resident.district, resident.community)
    await check_grid_exists(uow.session, *place, values.get("grid_code", resident.grid_code))
    if values.get("household_id") is not None:
        household = await uow.session.get(Household, values["household_id"])
        if household is None or (household.district, household.community) != place:
            raise Invalid(f"本社区没有这个户（{values['household_id']}）")
    for name, value in values.items():
        setattr(resident, name, value)


def corrected(resident: Resident, changed: list[str], *, version: int) -> ResidentCorrected:
    return ResidentCorrected(
        **facts_of(resident), household_id=resident.household_id, version=version, changed=changed
    )


@write(replay=load_household)
async def correct_household(
    uow: Work, caller: Caller, household_id: str, data: HouseholdCorrectionIn, *, seen: int | None
) -> Made[Household]:
    """The household's address, grid or head (one of its residents), on the version the worker saw.
    Its members are its residents: a resident joins or leaves by a correction of their household."""
    caller.check_role(*REGISTRY_WRITERS)
    household = await load_household(uow.session, caller, household_id)
    await uow.session.refresh(household, with_for_update=True)
    made = await check_version(uow.session, household, seen)
    values = named_values(data)
    place = (household.district, household.community)
    await check_grid_exists(uow.session, *place, values.get("grid_code", household.grid_code))
    if values.get("head_resident_id") is not None:
        head = await uow.session.get(Resident, values["head_resident_id"])
        if head is None or head.household_id != household.id:
            raise Invalid("户主须是这户的居民（先把他/她的所在户改到这户）")
    before = snapshot(household, HOUSEHOLD_FIELDS)
    for name, value in values.items():
        setattr(household, name, value)
    changes = differences(before, snapshot(household, HOUSEHOLD_FIELDS))
    if not changes:
        return Made(household.id, household)
    keep_change(uow, caller, household, "corrected", changes, version=made, reason=data.reason)
    uow.record(
        HouseholdCorrected(
            household_id=household.id,
            community=household.community,
            grid_code=household.grid_code,
            address=household.address,
            head_resident_id=household.head_resident_id,
            version=made,
            changed=sorted(changes),
        ),
        district=household.district,
        community=household.community,
    )
    await flushed(uow, household, made - 1)
    return Made(household.id, household)


@write(replay=load_care_group)
async def correct_care_group(
    uow: Work, caller: Caller, care_group_id: str, data: CareGroupCorrectionIn, *, seen: int | None
) -> Made[CareGroup]:
    """Who is in a care group (a neighbour moved away, the grid worker changed) and how often they
    visit and call, on the version the worker saw; notify follows whom to reach."""
    caller.check_role(*CARE_GROUP_FORMERS)
    group = await load_care_group(uow.session, caller, care_group_id)
    await uow.session.refresh(group, with_for_update=True)
    if not group.active:
        raise Invalid("这个关爱小组已结束（老人已迁出或去世），不能再改")
    made = await check_version(uow.session, group, seen)
    before = snapshot(group, CARE_GROUP_FIELDS)
    for name, value in named_values(data).items():
        setattr(group, name, value)
    changes = differences(before, snapshot(group, CARE_GROUP_FIELDS))
    if not changes:
        return Made(group.id, group)
    keep_change(uow, caller, group, "corrected", changes, version=made, reason=data.reason)
    uow.record(
        changed_group(group, sorted(changes), version=made),
        district=group.district,
        community=group.community,
    )
    await flushed(uow, group, made - 1)
    return Made(group.id, group)
