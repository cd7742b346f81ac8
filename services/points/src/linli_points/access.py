"""Who may do what, and the loaders that fetch a row only for a caller allowed to see it.

Every use-case module and every route takes its roles and scoped loaders from here. A row out of
the caller's scope reads as missing (404), so a caller learns nothing about other communities.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import bindparam
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points.domain import hours
from linli_points.domain import wishes as wish_rules
from linli_points.models import (
    Activity,
    Certificate,
    CommunityRules,
    HelpMatch,
    HelpOffer,
    HelpRequest,
    Item,
    KnownResident,
    PointsAccount,
    PointsEntry,
    Redemption,
    ServiceRecord,
    StockIntake,
    Team,
    Volunteer,
    Wish,
)
from linli_points.words import status_zh
from linli_shared.auth import Caller, Role
from linli_shared.bulk import table_of
from linli_shared.driver import DriverStatement
from linli_shared.errors import Conflict, Forbidden, Invalid, NotFound, not_found
from linli_shared.residents import ACTIVE
from linli_shared.scoping import get_visible

ORGANISERS = (Role.DISTRICT_ADMIN, Role.COMMUNITY_WORKER)
WORKERS = (*ORGANISERS, Role.GRID_WORKER)  # a volunteer's record and points: these and the volunteer
READERS = (*ORGANISERS, Role.AUDITOR, Role.GRID_WORKER)
POSTERS = (Role.COMMUNITY_WORKER, Role.GRID_WORKER, Role.RESIDENT)  # wishes; a resident: their own
REVIEWERS = (Role.COMMUNITY_WORKER, Role.DISTRICT_ADMIN)  # "the branch"
CONFIRMERS = (Role.COMMUNITY_WORKER, Role.GRID_WORKER)
RECORDERS = (Role.COMMUNITY_WORKER, Role.GRID_WORKER)  # neighbour help, on a resident's behalf
MATCHERS = (Role.COMMUNITY_WORKER,)

NO_WISH = "没有找到这个心愿"

Posting = TypeVar("Posting", HelpOffer, HelpRequest)


# --- volunteers and their points ------------------------------------------------------------------


async def load_volunteer(session: AsyncSession, caller: Caller, volunteer_id: str) -> Volunteer:
    """The volunteer, for the workers of their community and for themselves; any other role (a
    resident, a fund officer, an auditor, another volunteer) gets 403, out of scope 404."""
    volunteer = await get_visible(session, Volunteer, volunteer_id, caller, "volunteer")
    check_may_read(caller, volunteer.subject)
    return volunteer


def check_may_read(caller: Caller, volunteer_subject: str) -> None:
    if caller.role is Role.VOLUNTEER:
        if volunteer_subject != caller.subject:
            raise Forbidden(
                "volunteers may see and spend only their own points", zh="志愿者只能查看和使用自己的积分"
            )
    else:
        caller.check_role(*WORKERS)


@dataclass(frozen=True)
class Holder:
    """What moving a volunteer's points needs of them (who, where, still serving): read as plain
    columns on the driver, since a credit needs no more of the volunteer than this."""

    id: str
    district: str
    community: str
    subject: str
    full_name: str
    active: bool


VOLUNTEERS = table_of(Volunteer)
HOLDER_FIELDS = tuple(Holder.__dataclass_fields__)
HOLDER = DriverStatement(
    select(*(VOLUNTEERS.c[name] for name in HOLDER_FIELDS)).where(VOLUNTEERS.c.id == bindparam("volunteer"))
)


async def load_holder(session: AsyncSession, caller: Caller, volunteer_id: str) -> Holder:
    """The volunteer as load_volunteer checks them, as a Holder."""
    return checked_holder(caller, await HOLDER.row(session, {"volunteer": volunteer_id}))


def checked_holder(caller: Caller, row: Mapping[str, Any] | None) -> Holder:
    """The volunteer's row as a Holder, once the caller is seen to reach them."""
    if row is None:
        raise not_found("volunteer")
    holder = Holder(**{name: row[name] for name in HOLDER_FIELDS})
    caller.check_sees(holder.district, holder.community, "volunteer")
    check_may_read(caller, holder.subject)
    return holder


async def volunteer_of(session: AsyncSession, caller: Caller) -> Volunteer:
    """The caller's own volunteer record; only a volunteer's token has one (a worker reads a
    volunteer by id)."""
    caller.check_role(Role.VOLUNTEER)
    found = (
        await session.exec(
            select(Volunteer).where(
                Volunteer.district == caller.district, Volunteer.subject == caller.subject
            )
        )
    ).first()
    if found is None:
        raise NotFound("you are not enrolled as a volunteer", zh="您还没有登记为志愿者")
    return found


async def volunteer_acted_for(
    session: AsyncSession,
    caller: Caller,
    volunteer_id: str | None,
    *,
    only_own: str,
    only_own_zh: str,
    doing: str,
    doing_zh: str,
) -> Volunteer:
    """The volunteer acted for: a volunteer acts for themselves, an organiser names whom. `only_own`
    and `doing` say what is refused, in English and (`*_zh`) in Chinese."""
    if caller.role is Role.VOLUNTEER:
        volunteer = await volunteer_of(session, caller)
        if volunteer_id not in (None, volunteer.id):
            raise Forbidden(only_own, zh=only_own_zh)
    else:
        caller.check_role(*ORGANISERS)
        if volunteer_id is None:
            raise Invalid(
                f"volunteer_id is required when a worker {doing}",
                zh=f"工作人员{doing_zh}时，请填写志愿者（volunteer_id）",
            )
        volunteer = await load_volunteer(session, caller, volunteer_id)
    check_serving(volunteer)
    return volunteer


def check_serving(volunteer: Volunteer | Holder) -> None:
    """A volunteer who left signs up for nothing, redeems nothing and is credited nothing."""
    if not volunteer.active:
        raise Conflict(f"志愿者{volunteer.full_name}已离开志愿队伍，不能再报名、兑换积分或记积分")


async def balance_of(session: AsyncSession, volunteer_id: str) -> int:
    account = await session.get(PointsAccount, volunteer_id)
    return account.balance if account else 0


async def load_volunteer_with_balance(
    session: AsyncSession, caller: Caller, volunteer_id: str
) -> tuple[Volunteer, int]:
    volunteer = await load_volunteer(session, caller, volunteer_id)
    return volunteer, await balance_of(session, volunteer.id)


async def load_team(session: AsyncSession, caller: Caller, team_id: str) -> Team:
    return await get_visible(session, Team, team_id, caller, "team")


async def load_entry(session: AsyncSession, caller: Caller, entry_id: str) -> PointsEntry:
    """A ledger entry, for whoever may see its volunteer."""
    entry = await get_visible(session, PointsEntry, int(entry_id), caller, "ledger entry")
    await load_volunteer(session, caller, entry.volunteer_id)
    return entry


async def active_resident(
    session: AsyncSession, resident_id: str, district: str | None, community: str | None
) -> KnownResident:
    """A resident the registry announced, in this community, and still living there."""
    resident = await session.get(KnownResident, resident_id)
    if resident is None or (resident.district, resident.community) != (district, community):
        raise Invalid(
            f"resident {resident_id} is not known in {community}",
            zh=f"{community}社区查不到居民 {resident_id}",
        )
    if resident.status != ACTIVE:
        raise Invalid(
            f"resident {resident_id} is {resident.status}",
            zh=f"居民 {resident_id} {status_zh(resident.status)}，不能再办理",
        )
    return resident


async def rules_of(session: AsyncSession, district: str, community: str) -> CommunityRules:
    """The community's rules, or the defaults where it has set none."""
    return await session.get(CommunityRules, (district, community)) or CommunityRules(
        district=district, community=community
    )


# --- the love supermarket -------------------------------------------------------------------------


async def load_item(session: AsyncSession, caller: Caller, item_id: str) -> Item:
    return await get_visible(session, Item, item_id, caller, "item")


async def load_item_of_intake(session: AsyncSession, caller: Caller, intake_id: str) -> Item:
    """The item as it is now, for the caller who took in this stock."""
    intake = await get_visible(session, StockIntake, intake_id, caller, "stock intake")
    return await load_item(session, caller, intake.item_id)


async def load_redemption(session: AsyncSession, caller: Caller, redemption_id: str) -> Redemption:
    redemption = await get_visible(session, Redemption, redemption_id, caller, "redemption")
    if caller.role is Role.VOLUNTEER:
        await load_volunteer(session, caller, redemption.volunteer_id)
    return redemption


# --- activities and service hours -----------------------------------------------------------------


async def load_activity(session: AsyncSession, caller: Caller, activity_id: str) -> Activity:
    return await get_visible(session, Activity, activity_id, caller, "activity")


async def load_record(session: AsyncSession, caller: Caller, record_id: str) -> ServiceRecord:
    return await get_visible(session, ServiceRecord, record_id, caller, "service record")


async def certificate_by_serial(session: AsyncSession, serial: str) -> tuple[Certificate, Volunteer]:
    """The certificate under a serial, for anyone who holds the serial; no caller needed."""
    normal = hours.normal_serial(serial)
    certificate = await session.get(Certificate, normal) if normal else None
    if certificate is None:
        raise NotFound("no certificate has this serial", zh="没有这个编号的服务证书")
    volunteer = await session.get(Volunteer, certificate.volunteer_id)
    assert volunteer is not None  # a foreign key
    return certificate, volunteer


async def load_certificate(
    session: AsyncSession, caller: Caller, serial: str
) -> tuple[Certificate, Volunteer]:
    """The full certificate, for its volunteer and the workers of its community."""
    certificate, _ = await certificate_by_serial(session, serial)
    caller.check_sees(certificate.district, certificate.community, "certificate")
    volunteer = await load_volunteer(session, caller, certificate.volunteer_id)
    if caller.role is not Role.VOLUNTEER:
        caller.check_role(*READERS)
    return certificate, volunteer


# --- the wish wall and neighbour help -------------------------------------------------------------


async def load_wish(
    session: AsyncSession, caller: Caller, wish_id: str, volunteer: Volunteer | None = None
) -> Wish:
    """The wish, if the caller may see it: volunteers see the wall and their own claims only."""
    wish = await get_visible(session, Wish, wish_id, caller, "wish")
    if caller.role is Role.RESIDENT:
        if wish.resident_id != caller.subject:
            raise NotFound("wish not found", zh=NO_WISH)
    elif caller.role is Role.VOLUNTEER:
        volunteer = volunteer or await volunteer_of(session, caller)
        if (volunteer.district, volunteer.community) != (wish.district, wish.community):
            raise NotFound("wish not found", zh=NO_WISH)
        if not wish_rules.visible_to_volunteer(wish.status, wish.claimant_id, volunteer.id):
            raise NotFound("wish not found", zh=NO_WISH)
    else:
        caller.check_role(*READERS)
    return wish


def kind_of(model: type[HelpOffer] | type[HelpRequest]) -> str:
    return "offer" if model is HelpOffer else "request"


async def load_posting(
    session: AsyncSession, caller: Caller, model: type[Posting], posting_id: str
) -> Posting:
    """The offer or request, if the caller may see it; out of scope reads as missing."""
    caller.check_role(*READERS)
    return await get_visible(session, model, posting_id, caller, kind_of(model))


async def load_offer(session: AsyncSession, caller: Caller, offer_id: str) -> HelpOffer:
    return await load_posting(session, caller, HelpOffer, offer_id)


async def load_request(session: AsyncSession, caller: Caller, request_id: str) -> HelpRequest:
    return await load_posting(session, caller, HelpRequest, request_id)


async def load_match(session: AsyncSession, caller: Caller, match_id: str) -> HelpMatch:
    caller.check_role(*READERS)
    return await get_visible(session, HelpMatch, match_id, caller, "match")
