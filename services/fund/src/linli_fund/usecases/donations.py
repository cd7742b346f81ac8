"""Campaigns and donations: a drive opens once per key; a gift's receipt, entry and event commit together."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import bulk, domain, ledger
from linli_fund.access import (
    RECORDERS,
    check_fund_scope,
    check_known_resident,
    latest_published,
    load_campaign,
    load_donation,
)
from linli_fund.api.donations_schemas import CampaignIn, DonationIn, DonationLineIn, DonationOut
from linli_fund.domain import Channel, DonationStatus, DonorKind, EntryKind, Fund
from linli_fund.domain.labels import SOURCE_LABELS, label
from linli_fund.models import Campaign, Donation, ReceiptCounter
from linli_shared.auth import Caller
from linli_shared.bulk import insert_rows, table_of
from linli_shared.clock import CHINA_TIME, china_day
from linli_shared.contracts.fund import DonationReceived
from linli_shared.driver import DriverStatement
from linli_shared.errors import Invalid
from linli_shared.reference import KnownToExist
from linli_shared.unit_of_work import Made, Replay, Work, write

REPLAY_DONATION: Replay[Donation | DonationOut] = load_donation  # a repeat answers with the stored gift


@write(replay=load_campaign)
async def create_campaign(uow: Work, caller: Caller, data: CampaignIn) -> Made[Campaign]:
    """Open a donation drive; the same Idempotency-Key opens it once."""
    check_fund_scope(caller, data.district, data.community, *RECORDERS)
    campaign = Campaign(
        id=str(uuid.uuid4()), created_by=caller.subject, created_at=uow.now, **data.model_dump()
    )
    uow.session.add(campaign)
    return Made(campaign.id, campaign)


async def campaign_progress(session: AsyncSession, campaign_id: str) -> tuple[int, int]:
    """What a drive raised so far (reversed donations do not count) and from how many donations."""
    statement = select(func.coalesce(func.sum(Donation.amount_fen), 0), func.count()).where(
        Donation.campaign_id == campaign_id, Donation.status == DonationStatus.RECEIVED.value
    )
    raised, count = (await session.exec(statement)).one()
    return int(raised), int(count)


COUNTERS = KnownToExist()
"""A year's receipt counter of a community, once made, is never deleted."""
RECEIPT_COUNTERS = table_of(ReceiptCounter)
TAKE_RECEIPTS = DriverStatement(  # built once and run on the driver, like every hot statement
    update(RECEIPT_COUNTERS)
    .where(RECEIPT_COUNTERS.c.district == bindparam("of_district"))
    .where(RECEIPT_COUNTERS.c.community == bindparam("of_community"))
    .where(RECEIPT_COUNTERS.c.year == bindparam("of_year"))
    .values(last_number=RECEIPT_COUNTERS.c.last_number + bindparam("count"))
    .returning(RECEIPT_COUNTERS.c.last_number)
)


async def next_receipt_sequence(
    session: AsyncSession, district: str, community: str, year: int, count: int = 1
) -> int:
    """Take the next `count` receipt numbers in the donation's own transaction (a rollback gives
    them back) and return the last; a batch's numbers run from last - count + 1 to last.

    One conditional UPDATE … RETURNING on the counter row, which holds the row lock until the
    transaction ends, so concurrent donations queue and each gets the next numbers, no gaps.
    """
    counter = {"district": district, "community": community, "year": year}

    async def counter_exists() -> bool:
        found = select(ReceiptCounter.year).filter_by(**counter)
        return (await session.exec(found)).first() is not None

    if not await COUNTERS.exists(session, (district, community, year), counter_exists):
        await ledger.insert_missing(session, ReceiptCounter, [counter])
    taken = {"of_district": district, "of_community": community, "of_year": year, "count": count}
    return int(await TAKE_RECEIPTS.value(session, taken))


async def booked_at(uow: Work, data: DonationIn, day: date) -> datetime:
    """When the gift is booked: now, or noon (China time) of the earlier day it came in, if that day
    is in no published period. The community's books are locked first (after the receipt counter,
    the one lock order), so a publication running meanwhile either sees this gift or makes it wait
    and then refuses it."""
    if day == china_day(uow.now):
        return uow.now
    await ledger.ensure_chart(uow.session, data.district, data.community)
    await ledger.lock_books(uow.session, data.district, data.community)
    published = await latest_published(uow.session, data.district, data.community)
    domain.check_period_open(day, published.last_day if published else None)
    return datetime.combine(day, time(12), CHINA_TIME)


async def check_donor(uow: Work, data: DonationIn, day: date) -> None:
    """The drive runs on the day the gift came in; a resident donor is one the registry announced."""
    if data.campaign_id is not None:
        campaign = await uow.session.get(Campaign, data.campaign_id)
        if campaign is None or (campaign.district, campaign.community) != (data.district, data.community):
            raise Invalid(
                f"campaign {data.campaign_id} does not exist in {data.community}",
                zh=f"{data.community}社区没有募捐活动 {data.campaign_id}",
            )
        domain.check_within_campaign(campaign.starts_on, campaign.ends_on, day)
    if data.donor_resident_id is not None:
        if data.donor_kind not in (DonorKind.RESIDENT, DonorKind.PARTY_MEMBER):
            raise Invalid(
                f"a donor of kind {data.donor_kind.value} is not a registered resident",
                zh=f"捐赠人类型为「{label(SOURCE_LABELS, data.donor_kind.value)}」时不能填写捐赠居民",
            )
        await check_known_resident(uow.session, data.district, data.community, data.donor_resident_id)


async def day_received(uow: Work, data: DonationIn, *, oldest_days: int) -> date:
    """The China day the gift came in, once its date, drive and donor are checked."""
    today = china_day(uow.now)
    day = data.received_on or today
    domain.check_received_on(day, today, oldest_days=oldest_days)
    await check_donor(uow, data, day)
    return day


@write(replay=REPLAY_DONATION)
async def record_donation(
    uow: Work, caller: Caller, data: DonationIn, *, oldest_days: int = domain.BACKDATE_DAYS
) -> Made[Donation | DonationOut]:
    """Receipt and post a donation: receipt number, entry and event commit together or not at all."""
    check_fund_scope(caller, data.district, data.community, *RECORDERS)
    day = await day_received(uow, data, oldest_days=oldest_days)
    year = domain.receipt_year(uow.now)
    sequence = await next_receipt_sequence(uow.session, data.district, data.community, year)
    when = await booked_at(uow, data, day)  # after the receipt counter: the one lock order
    row = donation_row(
        data,
        district=data.district,
        community=data.community,
        recorded_by=caller.subject,
        year=year,
        sequence=sequence,
        when=when,
    )
    draft = entry_of(row)
    entry = ledger.entry_row(
        data.district,
        data.community,
        draft.kind,
        draft.narration,
        caller.subject,
        draft.posted_at,
        draft.reference,
    )
    row["entry_id"] = await ledger.post_entry_row(uow.session, entry, draft.lines)
    await insert_rows(uow.session, Donation, [row])
    uow.record(received_event(row), district=data.district, community=data.community)
    return Made(row["id"], DonationOut.model_validate(row))  # what was written; no ORM object to build


def donation_row(
    line: DonationLineIn,
    *,
    district: str,
    community: str,
    recorded_by: str,
    year: int,
    sequence: int,
    when: datetime,
) -> dict[str, Any]:
    """The donation's columns with its receipt; its entry id is set once the entry is posted."""
    columns = donation_columns(line, district=district, community=community, recorded_by=recorded_by)
    return {**columns, **receipt_columns(year, sequence), "received_at": when}


def donation_columns(
    line: DonationLineIn,
    *,
    district: str,
    community: str,
    recorded_by: str,
    donation_id: str | None = None,
    batch_id: str | None = None,
) -> dict[str, Any]:
    """The donation's columns but its receipt and when it was booked (read field by field, no
    model_dump: a batch makes thousands of these, before it takes its receipt numbers)."""
    return {
        "id": donation_id or str(uuid.uuid4()),
        "district": district,
        "community": community,
        "campaign_id": line.campaign_id,
        "donor_kind": line.donor_kind.value,
        "donor_name": line.donor_name,
        "donor_resident_id": line.donor_resident_id,
        "donor_phone": line.donor_phone,
        "anonymous": line.anonymous,
        "channel": line.channel.value,
        "restricted_to": None if line.restricted_to is None else line.restricted_to.value,
        "fund": domain.fund_for_donation(line.restricted_to).value,
        "amount_fen": line.amount_fen,
        "status": DonationStatus.RECEIVED.value,
        "entry_id": 0,
        "recorded_by": recorded_by,
        "batch_id": batch_id,
    }


def receipt_columns(year: int, sequence: int) -> dict[str, Any]:
    return {
        "receipt_number": domain.receipt_number(year, sequence),
        "receipt_year": year,
        "receipt_sequence": sequence,
    }


def entry_of(donation: Mapping[str, Any]) -> bulk.EntryDraft:
    """The gift's journal entry, booked on the day the money came in."""
    fund, receipt = donation["fund"], donation["receipt_number"]
    return bulk.EntryDraft(
        kind=EntryKind.DONATION,
        lines=domain.donation_lines(Channel(donation["channel"]), Fund(fund), donation["amount_fen"]),
        narration=f"donation {receipt} ({donation['donor_kind']}) to the {fund} fund",
        posted_at=donation["received_at"],
        reference=donation["id"],
    )


def received_event(donation: Mapping[str, Any]) -> DonationReceived:
    """What is announced of a gift (its columns, as the row holds them)."""
    return DonationReceived.model_validate(received_fields(donation))


def received_fields(donation: Mapping[str, Any]) -> dict[str, Any]:
    """received_event's fields, for a batch's event to validate all its gifts in one call."""
    return {
        "donation_id": donation["id"],
        "receipt_number": donation["receipt_number"],
        "campaign_id": donation["campaign_id"],
        "donor_kind": donation["donor_kind"],
        "donor_display": domain.donor_display(donation["donor_name"], donation["anonymous"]),
        "donor_resident_id": donation["donor_resident_id"],
        "donor_phone": donation["donor_phone"],
        "channel": donation["channel"],
        "fund": donation["fund"],
        "amount_fen": donation["amount_fen"],
        "entry_id": donation["entry_id"],
    }
