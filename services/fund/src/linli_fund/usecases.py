"""Campaigns, donations, reversals and the ledger's reports: each use case commits one transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import beancount_export, domain, ledger, reservations, schemas
from linli_fund.domain import (
    AlreadyReversed,
    DisbursementStatus,
    DonationStatus,
    DonorKind,
    EntryKind,
    Fund,
)
from linli_fund.ledger import insert_missing
from linli_fund.models import (
    Campaign,
    Disbursement,
    Donation,
    JournalEntry,
    KnownResident,
    Posting,
    ReceiptCounter,
)
from linli_shared.auth import Caller, Role
from linli_shared.clock import china_day
from linli_shared.contracts.fund import DonationReceived, EntryReversed
from linli_shared.errors import Conflict, DomainError, Invalid
from linli_shared.idempotency import IdempotentRequest, commit_once, previous_result, replay_or_raise
from linli_shared.outbox import record_event
from linli_shared.paging import Page, page_of
from linli_shared.scoping import get_visible, in_scope

READERS = (Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.AUDITOR, Role.COMMUNITY_WORKER, Role.FUND_OFFICER)
RECORDERS = (Role.COMMUNITY_WORKER, Role.FUND_OFFICER)
OFFICERS = (Role.FUND_OFFICER,)

Result = TypeVar("Result")
Row = TypeVar("Row")


def check_fund_scope(caller: Caller, district: str, community: str, *roles: Role) -> None:
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
    resident donor (the read model in residents.py)."""
    resident = await session.get(KnownResident, resident_id)
    if resident is None or (resident.district, resident.community) != (district, community):
        raise Invalid(f"resident {resident_id} is not known in {community}")
    if resident.status != "active":
        raise Invalid(f"resident {resident_id} is {resident.status}")


# --- campaigns ----------------------------------------------------------------------------------


async def create_campaign(
    session: AsyncSession,
    caller: Caller,
    data: schemas.CampaignIn,
    *,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> Campaign:
    """Open a donation drive; the same Idempotency-Key opens it once."""
    check_fund_scope(caller, data.district, data.community, *RECORDERS)
    if idempotency and (previous := await previous_result(session, idempotency)):
        return await load_campaign(session, caller, previous)
    campaign = Campaign(id=str(uuid.uuid4()), created_by=caller.subject, created_at=now, **data.model_dump())
    session.add(campaign)
    return await commit_once(
        session, idempotency, campaign.id, lambda found: load_campaign(session, caller, found), campaign
    )


async def load_campaign(session: AsyncSession, caller: Caller, campaign_id: str) -> Campaign:
    return await get_visible_fund(session, Campaign, campaign_id, caller, "campaign")


async def campaign_progress(session: AsyncSession, campaign_id: str) -> tuple[int, int]:
    """What a drive raised so far (reversed donations do not count) and from how many donations."""
    statement = select(func.coalesce(func.sum(Donation.amount_fen), 0), func.count()).where(
        Donation.campaign_id == campaign_id, Donation.status == DonationStatus.RECEIVED.value
    )
    raised, count = (await session.exec(statement)).one()
    return int(raised), int(count)


# --- donations ----------------------------------------------------------------------------------


async def next_receipt_sequence(session: AsyncSession, district: str, community: str, year: int) -> int:
    """Take the next receipt number in the donation's own transaction: a rollback gives it back.

    One conditional UPDATE … RETURNING on the counter row, which holds the row lock until the
    transaction ends, so concurrent donations queue and each gets the next number, no gaps.
    """
    await insert_missing(
        session, ReceiptCounter, [{"district": district, "community": community, "year": year}]
    )
    statement = (
        update(ReceiptCounter)
        .where(
            col(ReceiptCounter.district) == district,
            col(ReceiptCounter.community) == community,
            col(ReceiptCounter.year) == year,
        )
        .values(last_number=ReceiptCounter.last_number + 1)
        .returning(col(ReceiptCounter.last_number))
    )
    return int((await session.exec(statement)).scalar_one())


async def record_donation(
    session: AsyncSession,
    caller: Caller,
    data: schemas.DonationIn,
    *,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> Donation:
    """Receipt and post a donation: receipt number, entry and event commit together or not at all."""
    check_fund_scope(caller, data.district, data.community, *RECORDERS)
    if idempotency and (previous := await previous_result(session, idempotency)):
        return await load_donation(session, caller, previous)
    if data.campaign_id is not None:
        campaign = await session.get(Campaign, data.campaign_id)
        if campaign is None or (campaign.district, campaign.community) != (data.district, data.community):
            raise Invalid(f"campaign {data.campaign_id} does not exist in {data.community}")
        domain.check_within_campaign(campaign.starts_on, campaign.ends_on, china_day(now))
    if data.donor_resident_id is not None:
        if data.donor_kind not in (DonorKind.RESIDENT, DonorKind.PARTY_MEMBER):
            raise Invalid(f"a donor of kind {data.donor_kind.value} is not a registered resident")
        await check_known_resident(session, data.district, data.community, data.donor_resident_id)
    fund = domain.fund_for_donation(data.restricted_to)
    year = domain.receipt_year(now)
    sequence = await next_receipt_sequence(session, data.district, data.community, year)
    donation = Donation(
        id=str(uuid.uuid4()),
        receipt_number=domain.receipt_number(year, sequence),
        receipt_year=year,
        receipt_sequence=sequence,
        fund=fund.value,
        entry_id=0,
        recorded_by=caller.subject,
        received_at=now,
        **data.model_dump(),
    )
    entry = await ledger.post_entry(
        session,
        district=data.district,
        community=data.community,
        kind=EntryKind.DONATION,
        lines=domain.donation_lines(data.channel, fund, data.amount_fen),
        narration=f"donation {donation.receipt_number} ({data.donor_kind.value}) to the {fund.value} fund",
        actor=caller.subject,
        now=now,
        reference=donation.id,
    )
    assert entry.id is not None
    donation.entry_id = entry.id
    session.add(donation)
    record_event(
        session,
        DonationReceived(
            donation_id=donation.id,
            receipt_number=donation.receipt_number,
            campaign_id=donation.campaign_id,
            donor_kind=donation.donor_kind,
            donor_display=domain.donor_display(donation.donor_name, donation.anonymous),
            donor_resident_id=donation.donor_resident_id,
            donor_phone=donation.donor_phone,
            channel=donation.channel,
            fund=donation.fund,
            amount_fen=donation.amount_fen,
            entry_id=entry.id,
        ),
        district=donation.district,
        community=donation.community,
        now=now,
    )
    return await commit_once(
        session, idempotency, donation.id, lambda found: load_donation(session, caller, found), donation
    )


async def load_donation(session: AsyncSession, caller: Caller, donation_id: str) -> Donation:
    return await get_visible_fund(session, Donation, donation_id, caller, "donation")


# --- reversals ----------------------------------------------------------------------------------


async def load_entry(session: AsyncSession, caller: Caller, entry_id: int) -> JournalEntry:
    return await get_visible_fund(session, JournalEntry, entry_id, caller, "entry")


async def mark_reversed(session: AsyncSession, entry: JournalEntry) -> None:
    """Mark what the entry recorded as reversed, once: of two racing reversals only one passes."""
    model: type[Donation] | type[Disbursement]
    if entry.kind == EntryKind.DONATION.value:
        model, current, reversed_ = Donation, DonationStatus.RECEIVED.value, DonationStatus.REVERSED.value
    else:
        model, current, reversed_ = (
            Disbursement,
            DisbursementStatus.PAID.value,
            DisbursementStatus.REVERSED.value,
        )
    result = await session.exec(
        update(model)
        .where(col(model.entry_id) == entry.id, col(model.status) == current)
        .values(status=reversed_)
    )
    if not result.rowcount:
        raise AlreadyReversed(f"entry {entry.id} was already reversed")


async def reverse_entry(
    session: AsyncSession,
    caller: Caller,
    entry_id: int,
    data: schemas.ReversalIn,
    *,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> JournalEntry:
    """Correct an entry by posting its mirror image; an entry is reversed at most once, a reversal never."""
    caller.check_role(*OFFICERS)
    if idempotency and (previous := await previous_result(session, idempotency)):
        return await load_entry(session, caller, int(previous))
    entry = await load_entry(session, caller, entry_id)
    try:
        if entry.kind == EntryKind.REVERSAL.value:
            raise Conflict("a reversal cannot itself be reversed: post a new entry instead")
        if entry.kind == EntryKind.RESERVATION.value:
            raise Conflict("a reservation moves with its commitment: release the commitment instead")
        await mark_reversed(session, entry)
        assert entry.id is not None
        paid = (await session.exec(select(Disbursement).where(Disbursement.entry_id == entry.id))).first()
        restore = (
            paid is not None
            and paid.commitment_id is not None
            and await reservations.give_back(session, paid)
        )
        reversal = await ledger.post_entry(
            session,
            district=entry.district,
            community=entry.community,
            kind=EntryKind.REVERSAL,
            lines=domain.reversal_lines(await ledger.lines_of(session, entry.id)),
            narration=f"reverses entry {entry.id}: {data.reason}",
            actor=caller.subject,
            now=now,
            reference=entry.reference,
            reverses=entry.id,
        )
        if restore and paid is not None:  # the money is back in the fund: the promise holds it again
            await reservations.reserve_again(session, paid, actor=caller.subject, now=now)
    except DomainError as error:
        return await replay_or_raise(
            session, idempotency, error, lambda found: load_entry(session, caller, int(found))
        )
    assert reversal.id is not None
    record_event(
        session,
        EntryReversed(entry_id=entry.id, reversal_entry_id=reversal.id, kind=entry.kind, reason=data.reason),
        district=entry.district,
        community=entry.community,
        now=now,
    )
    return await commit_once(
        session,
        idempotency,
        str(reversal.id),
        lambda found: load_entry(session, caller, int(found)),
        reversal,
    )


# --- reports ------------------------------------------------------------------------------------


async def list_entries(
    session: AsyncSession, caller: Caller, district: str, community: str, *, cursor: str | None, limit: int
) -> Page[JournalEntry]:
    check_fund_scope(caller, district, community)
    statement = select(JournalEntry).where(
        JournalEntry.district == district, JournalEntry.community == community
    )
    return await page_of(session, statement, col(JournalEntry.id), cursor=cursor, limit=limit)


async def postings_of(session: AsyncSession, entry_ids: list[int]) -> dict[int, list[Posting]]:
    found: dict[int, list[Posting]] = {entry_id: [] for entry_id in entry_ids}
    if entry_ids:
        rows = await session.exec(
            select(Posting).where(col(Posting.entry_id).in_(entry_ids)).order_by(col(Posting.id))
        )
        for posting in rows.all():
            found[posting.entry_id].append(posting)
    return found


async def fund_summary(
    session: AsyncSession, caller: Caller, district: str, community: str
) -> schemas.FundOut:
    """Balance, reserved and available (balance − reserved) of every fund and asset account, now."""
    check_fund_scope(caller, district, community)
    rows = await ledger.guarded_balances(session, district, community)

    def line(name: str, label: str) -> schemas.FundBalanceOut:
        row = rows.get(name)
        balance, reserved = (row.balance, row.reserved) if row else (0, 0)
        return schemas.FundBalanceOut(
            fund=label, balance_fen=balance, reserved_fen=reserved, available_fen=balance - reserved
        )

    return schemas.FundOut(
        district=district,
        community=community,
        funds=[line(domain.fund_key(fund), fund.value) for fund in Fund],
        assets=[line(account, account) for account in domain.ASSET_OF_CHANNEL.values()],
    )


async def get_trial_balance(
    session: AsyncSession, caller: Caller, district: str, community: str, as_of: date | None
) -> schemas.TrialBalanceOut:
    """Every account's debit or credit balance at the end of `as_of` (or now); the totals always agree."""
    check_fund_scope(caller, district, community)
    balances = await ledger.account_balances(session, district, community, as_of)
    lines = ledger.trial_balance(balances)
    return schemas.TrialBalanceOut(
        district=district,
        community=community,
        as_of=as_of,
        lines=[schemas.TrialBalanceLineOut(**vars(line)) for line in lines],
        total_debit=sum(line.debit for line in lines),
        total_credit=sum(line.credit for line in lines),
        funds={fund.value: amount for fund, amount in ledger.fund_balances(balances).items()},
    )


async def export_beancount(session: AsyncSession, caller: Caller, district: str, community: str) -> str:
    """The whole journal of a community fund as a Beancount file."""
    check_fund_scope(caller, district, community)
    entries = list(
        (
            await session.exec(
                select(JournalEntry)
                .where(JournalEntry.district == district, JournalEntry.community == community)
                .order_by(col(JournalEntry.id))
            )
        ).all()
    )
    postings = await postings_of(session, [entry.id for entry in entries if entry.id is not None])
    return beancount_export.render(district, community, entries, postings)
