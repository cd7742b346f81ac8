"""Who may do what with a fund, and the scoped loaders every topic reads its records through."""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund.domain.labels import STATUS_LABELS, label
from linli_fund.models import (
    Campaign,
    Commitment,
    Disbursement,
    Donation,
    JournalEntry,
    KnownResident,
    PublishedDisclosure,
)
from linli_shared.auth import Caller, Role
from linli_shared.errors import Invalid, NotFound
from linli_shared.paging import Page, page_of
from linli_shared.residents import ACTIVE
from linli_shared.scoping import get_visible, in_scope

READERS = (Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.AUDITOR, Role.COMMUNITY_WORKER, Role.FUND_OFFICER)
RECORDERS = (Role.COMMUNITY_WORKER, Role.FUND_OFFICER)
OFFICERS = (Role.FUND_OFFICER,)

Row = TypeVar("Row")


def check_fund_scope(caller: Caller, district: str, community: str, *roles: Role) -> None:
    """The caller has one of `roles` (readers if none given) and sees this community's fund."""
    caller.check_role(*(roles or READERS))
    caller.check_sees(district, community, "fund")


async def get_visible_fund(
    session: AsyncSession, model: type[Row], key: object, caller: Caller, what: str
) -> Row:
    """One of a fund's records, for a reader of the fund who may see its community."""
    caller.check_role(*READERS)
    return await get_visible(session, model, key, caller, what)


async def list_visible(
    session: AsyncSession, caller: Caller, model: type[Row], *, cursor: str | None, limit: int
) -> Page[Row]:
    """A page of a fund's records, oldest first, of the communities the caller may see."""
    caller.check_role(*READERS)
    statement = in_scope(select(model), model, caller)
    return await page_of(session, statement, col(model.id), cursor=cursor, limit=limit)  # type: ignore[attr-defined]


async def check_known_resident(
    session: AsyncSession, district: str, community: str, resident_id: str
) -> None:
    """Only an active resident the registry announced in this community may be a beneficiary or a
    resident donor (the read model kept by subscribers.py)."""
    resident = await session.get(KnownResident, resident_id)
    if resident is None or (resident.district, resident.community) != (district, community):
        raise Invalid(
            f"resident {resident_id} is not known in {community}",
            zh=f"{community}社区还没有居民 {resident_id} 的信息（刚登记的请稍等片刻再试）",
        )
    if resident.status != ACTIVE:
        raise Invalid(
            f"resident {resident_id} is {resident.status}",
            zh=f"居民 {resident_id} {label(STATUS_LABELS, resident.status)}",
        )


async def load_campaign(session: AsyncSession, caller: Caller, campaign_id: str) -> Campaign:
    return await get_visible_fund(session, Campaign, campaign_id, caller, "campaign")


async def load_donation(session: AsyncSession, caller: Caller, donation_id: str) -> Donation:
    return await get_visible_fund(session, Donation, donation_id, caller, "donation")


async def load_disbursement(session: AsyncSession, caller: Caller, disbursement_id: str) -> Disbursement:
    return await get_visible_fund(session, Disbursement, disbursement_id, caller, "disbursement")


async def load_commitment(session: AsyncSession, caller: Caller, commitment_id: str) -> Commitment:
    return await get_visible_fund(session, Commitment, commitment_id, caller, "commitment")


async def load_entry(session: AsyncSession, caller: Caller, entry_id: int | str) -> JournalEntry:
    return await get_visible_fund(session, JournalEntry, int(entry_id), caller, "entry")


async def latest_published(
    session: AsyncSession, district: str, community: str
) -> PublishedDisclosure | None:
    """The community's newest published period, if any: everything up to its last day is closed."""
    statement = (
        select(PublishedDisclosure)
        .where(PublishedDisclosure.district == district, PublishedDisclosure.community == community)
        .order_by(col(PublishedDisclosure.sequence).desc())
        .limit(1)
    )
    return (await session.exec(statement)).first()


async def load_published(
    session: AsyncSession, district: str, community: str, sequence: int
) -> PublishedDisclosure:
    """A published report: public, so no caller; a period never published is a 404."""
    statement = select(PublishedDisclosure).where(
        PublishedDisclosure.district == district,
        PublishedDisclosure.community == community,
        PublishedDisclosure.sequence == sequence,
    )
    if (published := (await session.exec(statement)).first()) is None:
        raise NotFound("no report is published for this period", zh="这一期还没有公示")
    return published


async def load_own_publication(session: AsyncSession, caller: Caller, sequence: str) -> PublishedDisclosure:
    """A period the caller's own community published (only a community's fund officers publish)."""
    return await load_published(session, caller.district or "", caller.community or "", int(sequence))
