"""Corrections of volunteers, teams, activities and items: checked against the version the worker
saw, kept in the record's history, announced to the services that follow them; and their ends —
a volunteer leaves, a team is dissolved, an activity called off, an item delisted.

A correction changes only the fields it names, on the version the worker last read: if someone
changed the record since, nothing is written and the worker is told what changed, by whom
(`linli_shared.versions`). An end needs no version (it is the same whatever changed), but is
checked against one if it is given. Every row stays on record, with its history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points.access import (
    ORGANISERS,
    WORKERS,
    balance_of,
    load_activity,
    load_item,
    load_team,
    load_volunteer,
    load_volunteer_with_balance,
)
from linli_points.models import Activity, Item, Team, Volunteer
from linli_shared.auth import Caller
from linli_shared.contracts.points import (
    TeamChanged,
    VolunteerChanged,
)
from linli_shared.database import flush_or_conflict
from linli_shared.errors import Conflict, Invalid
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
    from linli_points.api.corrections import (
        CancellationIn,
        TeamCorrectionIn,
        VolunteerCorrectionIn,
    )

VOLUNTEER_FIELDS = ("full_name", "team_id", "skills", "active", "left_at")
TEAM_FIELDS = ("name", "kind", "active")
ACTIVITY_FIELDS = (
    "title",
    "place",
    "starts_at",
    "ends_at",
    "capacity",
    "points_per_hour",
    "rounding",
    "daily_points_cap",
    "status",
)
ITEM_FIELDS = ("name", "points_price", "monthly_limit", "low_stock_threshold", "active")
EARNING_RULE = {"starts_at", "ends_at", "points_per_hour", "rounding", "daily_points_cap"}
"""An activity's fields that decided the points of hours already confirmed."""
NOT_FIELDS = {"reason", "version"}
CANCELLED = "cancelled"
HISTORY_MODELS: dict[str, type[Versioned]] = {
    "volunteers": Volunteer,
    "teams": Team,
    "activities": Activity,
    "items": Item,
}


async def history(session: AsyncSession, caller: Caller, kind: str, record_id: str) -> list[RecordChange]:
    """A record's changes, oldest first, for the workers of its community."""
    caller.check_role(*WORKERS)
    model = HISTORY_MODELS[kind]
    if model is Volunteer:
        await load_volunteer(session, caller, record_id)
    elif model is Team:
        await load_team(session, caller, record_id)
    elif model is Activity:
        await load_activity(session, caller, record_id)
    else:
        await load_item(session, caller, record_id)
    return await changes_since(session, model, record_id)


def named_values(data: Any) -> dict[str, Any]:
    """The fields a correction names, as the record keeps them (times in UTC, enums as text)."""
    values = {name: getattr(data, name) for name in data.model_fields_set - NOT_FIELDS}
    for name, value in values.items():
        if isinstance(value, datetime):
            try:
                values[name] = value.astimezone(UTC)
            except OverflowError:
                raise Invalid(f"{name} 超出可记录的时间范围") from None
        elif hasattr(value, "value"):
            values[name] = value.value
    return values


async def locked(uow: Work, record: Versioned) -> None:
    """Read the row again under lock: a second change waits here, then finds the version moved on."""
    await uow.session.refresh(record, with_for_update=True)


async def version_to_make(uow: Work, record: Versioned, seen: int | None, *, required: bool = True) -> int:
    """The version the change makes; checked against `seen` (which an end may leave out)."""
    if seen is None and not required:
        return record.version + 1
    return await check_version(uow.session, record, seen)


async def flushed(uow: Work, record: Versioned, seen: int) -> None:
    """Send the change now; on SQLite (no row locks) a change that raced another is caught here, by
    the version counter, as a stale one."""
    try:
        await flush_or_conflict(uow.session, "这条记录与已有的记录冲突")
    except StaleDataError:
        await uow.rollback()
        raise await stale(uow.session, record, seen) from None


def apply(record: Versioned, values: dict[str, Any], fields: tuple[str, ...]) -> dict[str, list[Any]]:
    """Set the values; what changed, as [before, after]."""
    before = snapshot(record, fields)
    for name, value in values.items():
        setattr(record, name, value)
    return differences(before, snapshot(record, fields))


# --- volunteers -------------------------------------------------------------------------------------


def volunteer_changed(volunteer: Volunteer, changed: list[str], *, version: int) -> VolunteerChanged:
    return VolunteerChanged(
        volunteer_id=volunteer.id,
        subject=volunteer.subject,
        full_name=volunteer.full_name,
        resident_id=volunteer.resident_id,
        team_id=volunteer.team_id,
        party_member=volunteer.party_member,
        skills=list(volunteer.skills),
        active=volunteer.active,
        version=version,
        changed=changed,
    )


def check_still_serving(volunteer: Volunteer) -> None:
    if not volunteer.active:
        raise Conflict(f"志愿者{volunteer.full_name}已离开志愿队伍，记录不能再改")


async def check_team_open(session: AsyncSession, volunteer: Volunteer, team_id: str | None) -> None:
    if team_id is None:
        return
    team = await session.get(Team, team_id)
    if team is None or (team.district, team.community) != (volunteer.district, volunteer.community):
        raise Invalid(f"本社区没有这支队伍（{team_id}）")
    if not team.active:
        raise Invalid(f"队伍“{team.name}”已解散，不能再加入")


@write(replay=load_volunteer_with_balance)
async def correct_volunteer(
    uow: Work, caller: Caller, volunteer_id: str, data: VolunteerCorrectionIn, *, seen: int | None
) -> Made[tuple[Volunteer, int]]:
    """A volunteer's name, team or skills, on the version the worker saw."""
    caller.check_role(*ORGANISERS)
    volunteer = await load_volunteer(uow.session, caller, volunteer_id)
    await locked(uow, volunteer)
    check_still_serving(volunteer)
    made = await version_to_make(uow, volunteer, seen)
    values = named_values(data)
    await check_team_open(uow.session, volunteer, values.get("team_id"))  # before any attribute is set
    changes = apply(volunteer, values, VOLUNTEER_FIELDS)
    if changes:
        keep_change(uow, caller, volunteer, "corrected", changes, version=made, reason=data.reason)
        event = volunteer_changed(volunteer, sorted(changes), version=made)
        uow.record(event, district=volunteer.district, community=volunteer.community)
        await flushed(uow, volunteer, made - 1)
    return Made(volunteer.id, (volunteer, await balance_of(uow.session, volunteer.id)))


@write(replay=load_volunteer_with_balance)
async def release_volunteer(
    uow: Work, caller: Caller, volunteer_id: str, data: CancellationIn, *, seen: int | None
) -> Made[tuple[Volunteer, int]]:
    """The volunteer leaves: kept on record, inactive, their points on the ledger; from now on they
    sign up for nothing, redeem nothing and are credited nothing."""
    caller.check_role(*ORGANISERS)
    volunteer = await load_volunteer(uow.session, caller, volunteer_id)
    await locked(uow, volunteer)
    if not volunteer.active:
        raise Conflict(f"志愿者{volunteer.full_name}已经离开志愿队伍")
    made = await version_to_make(uow, volunteer, seen, required=False)
    changes = apply(volunteer, {"active": False, "left_at": uow.now}, VOLUNTEER_FIELDS)
    keep_change(uow, caller, volunteer, "left", changes, version=made, reason=data.reason)
    event = volunteer_changed(volunteer, sorted(changes), version=made)
    uow.record(event, district=volunteer.district, community=volunteer.community)
    await flushed(uow, volunteer, made - 1)
    return Made(volunteer.id, (volunteer, await balance_of(uow.session, volunteer.id)))


# --- teams ------------------------------------------------------------------------------------------


def team_changed(team: Team, changed: list[str], *, version: int) -> TeamChanged:
    return TeamChanged(
        team_id=team.id,
        team_name=team.name,
        kind=team.kind,
        active=team.active,
        version=version,
        changed=changed,
    )


@write(replay=load_team)
async def correct_team(
    uow: Work, caller: Caller, team_id: str, data: TeamCorrectionIn, *, seen: int | None
) -> Made[Team]:
    """A team's name or kind, on the version the worker saw."""
    caller.check_role(*ORGANISERS)
    team = await load_team(uow.session, caller, team_id)
    await locked(uow, team)
    if not team.active:
        raise Conflict(f"队伍“{team.name}”已解散，不能再改")
    made = await version_to_make(uow, team, seen)
    changes = apply(team, named_values(data), TEAM_FIELDS)
    if changes:
        keep_change(uow, caller, team, "corrected", changes, version=made, reason=data.reason)
        uow.record(
            team_changed(team, sorted(changes), version=made),
            district=team.district,
            community=team.community,
        )
        await flushed(uow, team, made - 1)
    return Made(team.id, team)


@write(replay=load_team)
async def dissolve_team(
    uow: Work, caller: Caller, team_id: str, data: CancellationIn, *, seen: int | None
) -> Made[Team]:
    """Dissolve a team: it stays on record, inactive; each member's team is cleared, in their own
    history and announced like any change of theirs."""
    caller.check_role(*ORGANISERS)
    team = await load_team(uow.session, caller, team_id)
    await locked(uow, team)
    if not team.active:
        raise Conflict(f"队伍“{team.name}”已经解散")
    made = await version_to_make(uow, team, seen, required=False)
    members = (
        await uow.session.exec(
            select(Volunteer)
            .where(Volunteer.team_id == team.id)
            .order_by(col(Volunteer.id))
            .with_for_update()
        )
    ).all()
    district, community = team.district, team.community
    reason = data.reason or f"队伍“{team.name}”解散"
    for member in members:
        freed = apply(member, {"team_id": None}, VOLUNTEER_FIELDS)
        keep_change(uow, caller, member, "team_dissolved", freed, reason=reason)
        event = volunteer_changed(member, ["team_id"], version=member.version + 1)
        uow.record(event, district=district, community=community)
    changes = apply(team, {"active": False}, TEAM_FIELDS)
    keep_change(uow, caller, team, "dissolved", changes, version=made, reason=data.reason)
    uow.record(team_changed(team, sorted(changes), version=made), district=district, community=community)
    await flushed(uow, team, made - 1)
    return Made(team.id, team)
