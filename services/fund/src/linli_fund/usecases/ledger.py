"""The ledger: reversing an entry (the only correction), and reading the books of a community fund."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import beancount_export, domain, ledger, reservations
from linli_fund.access import OFFICERS, check_fund_scope, load_entry
from linli_fund.api.ledger_schemas import (
    FundBalanceOut,
    FundOut,
    ReversalIn,
    TrialBalanceLineOut,
    TrialBalanceOut,
)
from linli_fund.domain import AlreadyReversed, DisbursementStatus, DonationStatus, EntryKind, Fund
from linli_fund.models import Disbursement, Donation, JournalEntry, Posting
from linli_shared.auth import Caller
from linli_shared.contracts.fund import EntryReversed
from linli_shared.errors import Conflict
from linli_shared.paging import Page, page_of
from linli_shared.unit_of_work import Made, Work, write


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
        raise AlreadyReversed(f"entry {entry.id} was already reversed", zh=f"分录 {entry.id} 已经冲正过了")


@write(replay=load_entry)
async def reverse_entry(uow: Work, caller: Caller, entry_id: int, data: ReversalIn) -> Made[JournalEntry]:
    """Correct an entry by posting its mirror image; an entry is reversed at most once, a reversal never."""
    caller.check_role(*OFFICERS)
    entry = await load_entry(uow.session, caller, entry_id)
    if entry.kind == EntryKind.REVERSAL.value:
        raise Conflict(
            "a reversal cannot itself be reversed: post a new entry instead",
            zh="冲正分录不能再冲正，请另记一笔新分录",
        )
    if entry.kind == EntryKind.RESERVATION.value:
        raise Conflict(
            "a reservation moves with its commitment: release the commitment instead",
            zh="预留款随资助承诺变动，请改为解除这项资助承诺",
        )
    await mark_reversed(uow.session, entry)
    assert entry.id is not None
    paid = (await uow.session.exec(select(Disbursement).where(Disbursement.entry_id == entry.id))).first()
    restore = (
        paid is not None
        and paid.commitment_id is not None
        and await reservations.give_back(uow.session, paid)
    )
    reversal = await ledger.post_entry(
        uow.session,
        district=entry.district,
        community=entry.community,
        kind=EntryKind.REVERSAL,
        lines=domain.reversal_lines(await ledger.lines_of(uow.session, entry.id)),
        narration=f"reverses entry {entry.id}: {data.reason}",
        actor=caller.subject,
        now=uow.now,
        reference=entry.reference,
        reverses=entry.id,
    )
    if restore and paid is not None:  # the money is back in the fund: the promise holds it again
        await reservations.reserve_again(uow.session, paid, actor=caller.subject, now=uow.now)
    assert reversal.id is not None
    uow.record(
        EntryReversed(entry_id=entry.id, reversal_entry_id=reversal.id, kind=entry.kind, reason=data.reason),
        district=entry.district,
        community=entry.community,
    )
    return Made(str(reversal.id), reversal)


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


async def fund_summary(session: AsyncSession, caller: Caller, district: str, community: str) -> FundOut:
    """Balance, reserved and available (balance − reserved) of every fund and asset account, now."""
    check_fund_scope(caller, district, community)
    rows = await ledger.guarded_balances(session, district, community)

    def line(name: str, label: str) -> FundBalanceOut:
        row = rows.get(name)
        balance, reserved = (row.balance, row.reserved) if row else (0, 0)
        return FundBalanceOut(
            fund=label, balance_fen=balance, reserved_fen=reserved, available_fen=balance - reserved
        )

    return FundOut(
        district=district,
        community=community,
        funds=[line(domain.fund_key(fund), fund.value) for fund in Fund],
        assets=[line(account, account) for account in domain.ASSET_OF_CHANNEL.values()],
    )


async def get_trial_balance(
    session: AsyncSession, caller: Caller, district: str, community: str, as_of: date | None
) -> TrialBalanceOut:
    """Every account's debit or credit balance at the end of `as_of` (or now); the totals always agree."""
    check_fund_scope(caller, district, community)
    balances = await ledger.account_balances(session, district, community, as_of)
    lines = ledger.trial_balance(balances)
    return TrialBalanceOut(
        district=district,
        community=community,
        as_of=as_of,
        lines=[TrialBalanceLineOut(**vars(line)) for line in lines],
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
