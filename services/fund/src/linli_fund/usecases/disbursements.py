"""Disbursements: request → approval by someone else (two people above the limit) → payment, or rejection.

Every move of a disbursement is a conditional UPDATE on its `version`, so of two racing moves
(two payments of one approval, say) only one passes; payment posts the journal entry in the same
transaction, and the guarded fund balance refuses to pay what is not there.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import domain, ledger, reservations
from linli_fund.access import (
    OFFICERS,
    check_fund_scope,
    check_known_resident,
    load_disbursement,
)
from linli_fund.api.disbursements_schemas import DisbursementIn, PaymentIn, RejectionIn
from linli_fund.domain import CommitmentStatus, DisbursementStatus, EntryKind, Fund, Purpose
from linli_fund.domain.labels import STATUS_LABELS, label
from linli_fund.models import Commitment, Disbursement, JournalEntry
from linli_shared.auth import Caller
from linli_shared.contracts.fund import (
    DisbursementApproved,
    DisbursementPaid,
    DisbursementRejected,
    DisbursementRequested,
    FundBalanceLow,
)
from linli_shared.errors import Conflict, Invalid
from linli_shared.unit_of_work import Made, Work, write
from linli_shared.words import yuan


async def check_commitment(session: AsyncSession, data: DisbursementIn, fund: Fund) -> None:
    """A payment out of a commitment is for its beneficiary, purpose and fund, and within what is left."""
    if data.commitment_id is None:
        return
    commitment = await session.get(Commitment, data.commitment_id)
    if commitment is None or (commitment.district, commitment.community) != (data.district, data.community):
        raise Invalid(
            f"commitment {data.commitment_id} does not exist in {data.community}",
            zh=f"{data.community}社区没有资助承诺 {data.commitment_id}",
        )
    if commitment.status != CommitmentStatus.ACTIVE.value:
        raise Invalid(
            f"commitment {commitment.id} is {commitment.status}",
            zh=f"资助承诺 {commitment.id} {label(STATUS_LABELS, commitment.status)}，不能再从中支付",
        )
    mine = (commitment.resident_id, commitment.purpose, commitment.fund)
    if (data.resident_id, data.purpose.value, fund.value) != mine:
        raise Invalid(
            "a payment out of a commitment must be for its resident, purpose and fund",
            zh="从资助承诺中支付时，受助居民、用途和基金须与承诺一致",
        )
    if data.amount_fen > commitment.remaining_fen:
        raise Invalid(
            f"the commitment has only {commitment.remaining_fen} fen left",
            zh=f"这项资助承诺只剩 {yuan(commitment.remaining_fen)}",
        )


@write(replay=load_disbursement)
async def request_disbursement(
    uow: Work, caller: Caller, data: DisbursementIn, *, second_approval_above: int
) -> Made[Disbursement]:
    """Ask to pay a resident of the community; someone else approves it."""
    check_fund_scope(caller, data.district, data.community, *OFFICERS)
    fund = data.fund or Fund(data.purpose.value)
    domain.check_fund_fits_purpose(data.purpose, fund)
    await check_known_resident(uow.session, data.district, data.community, data.resident_id)
    await check_commitment(uow.session, data, fund)
    disbursement = add_request(
        uow,
        Disbursement(
            id=str(uuid.uuid4()),
            district=data.district,
            community=data.community,
            resident_id=data.resident_id,
            purpose=data.purpose.value,
            fund=fund.value,
            amount_fen=data.amount_fen,
            reason=data.reason,
            approvals_needed=domain.approvals_needed(data.amount_fen, second_approval_above),
            requested_by=caller.subject,
            requested_at=uow.now,
            commitment_id=data.commitment_id,
        ),
    )
    return Made(disbursement.id, disbursement)


def add_request(uow: Work, disbursement: Disbursement) -> Disbursement:
    """Add a requested disbursement and record its disbursement.requested event."""
    uow.session.add(disbursement)
    uow.record(
        DisbursementRequested(
            disbursement_id=disbursement.id,
            purpose=disbursement.purpose,
            fund=disbursement.fund,
            amount_fen=disbursement.amount_fen,
            approvals_needed=disbursement.approvals_needed,
        ),
        district=disbursement.district,
        community=disbursement.community,
    )
    return disbursement


async def move(session: AsyncSession, disbursement: Disbursement, **values: Any) -> None:
    """Change the disbursement only if nobody changed it since it was read; it stays locked till commit."""
    result = await session.exec(
        update(Disbursement)
        .where(col(Disbursement.id) == disbursement.id, col(Disbursement.version) == disbursement.version)
        .values(**values, version=disbursement.version + 1)
    )
    if not result.rowcount:
        raise Conflict(
            f"disbursement {disbursement.id} was changed meanwhile: reload it",
            zh=f"支出 {disbursement.id} 刚被别人改动过，请刷新后再试",
        )
    await session.refresh(disbursement)


def check_status(disbursement: Disbursement, *allowed: DisbursementStatus) -> None:
    if disbursement.status not in allowed:
        raise Conflict(
            f"this disbursement is {disbursement.status}",
            zh=f"这笔支出当前为「{label(STATUS_LABELS, disbursement.status)}」，不能这样操作",
        )


@write(replay=load_disbursement)
async def approve_disbursement(uow: Work, caller: Caller, disbursement_id: str) -> Made[Disbursement]:
    """Approve once, as someone other than the requester (and other than the first approver)."""
    caller.check_role(*OFFICERS)
    disbursement = await load_disbursement(uow.session, caller, disbursement_id)
    check_status(disbursement, DisbursementStatus.REQUESTED)
    approvers = [a for a in (disbursement.first_approved_by, disbursement.second_approved_by) if a]
    domain.check_approver(disbursement.requested_by, approvers, caller.subject)
    approvals = len(approvers) + 1
    done = approvals >= disbursement.approvals_needed
    await move(
        uow.session,
        disbursement,
        **{"first_approved_by" if approvals == 1 else "second_approved_by": caller.subject},
        status=(DisbursementStatus.APPROVED if done else DisbursementStatus.REQUESTED).value,
        decided_at=uow.now if done else None,
    )
    uow.record(
        DisbursementApproved(
            disbursement_id=disbursement.id,
            approvals=approvals,
            approvals_needed=disbursement.approvals_needed,
            approved_by=caller.subject,
        ),
        district=disbursement.district,
        community=disbursement.community,
    )
    return Made(disbursement.id, disbursement)


@write(replay=load_disbursement)
async def reject_disbursement(
    uow: Work, caller: Caller, disbursement_id: str, data: RejectionIn
) -> Made[Disbursement]:
    """Refuse a disbursement not yet paid; it can never be paid afterwards."""
    caller.check_role(*OFFICERS)
    disbursement = await load_disbursement(uow.session, caller, disbursement_id)
    check_status(disbursement, DisbursementStatus.REQUESTED, DisbursementStatus.APPROVED)
    await move(
        uow.session,
        disbursement,
        status=DisbursementStatus.REJECTED.value,
        rejected_by=caller.subject,
        rejection_reason=data.reason,
        decided_at=uow.now,
    )
    uow.record(
        DisbursementRejected(disbursement_id=disbursement.id, rejected_by=caller.subject),
        district=disbursement.district,
        community=disbursement.community,
    )
    return Made(disbursement.id, disbursement)


@write(replay=load_disbursement)
async def pay_disbursement(
    uow: Work, caller: Caller, disbursement_id: str, data: PaymentIn, *, balance_low_below: int
) -> Made[Disbursement]:
    """Pay an approved disbursement once: its status, its entry and the fund's balance move together.

    A payment that takes the fund's available money below `balance_low_below` fen also announces
    fund.balance_low, in the same transaction (the fund's row is locked by then, so the reading is exact).
    """
    caller.check_role(*OFFICERS)
    disbursement = await load_disbursement(uow.session, caller, disbursement_id)
    check_status(disbursement, DisbursementStatus.APPROVED)
    await move(  # first: it locks the disbursement, so a twin payment waits here and then fails
        uow.session,
        disbursement,
        status=DisbursementStatus.PAID.value,
        paid_by=caller.subject,
        paid_at=uow.now,
        channel=data.channel.value,
    )
    entry = await post_payment(uow, disbursement, data, actor=caller.subject)
    assert entry.id is not None
    disbursement.entry_id = entry.id
    uow.session.add(disbursement)
    uow.record(
        DisbursementPaid(
            disbursement_id=disbursement.id,
            purpose=disbursement.purpose,
            fund=disbursement.fund,
            amount_fen=disbursement.amount_fen,
            entry_id=entry.id,
        ),
        district=disbursement.district,
        community=disbursement.community,
    )
    await announce_balance_low(uow, disbursement, balance_low_below)
    return Made(disbursement.id, disbursement)


async def post_payment(uow: Work, disbursement: Disbursement, data: PaymentIn, *, actor: str) -> JournalEntry:
    """Post the payment's entry; out of a commitment, draw its reserve down first (the commitment's
    row, then the guarded balances: the one lock order)."""
    fund, purpose = Fund(disbursement.fund), Purpose(disbursement.purpose)
    lines = domain.payment_lines(fund, data.channel, disbursement.amount_fen)
    if disbursement.commitment_id is not None:
        await reservations.draw(uow.session, disbursement)
        await ledger.ensure_chart(uow.session, disbursement.district, disbursement.community)
        names = domain.guarded_deltas(lines)
        await ledger.lock_guarded(uow.session, disbursement.district, disbursement.community, names)
        await reservations.release_drawn(uow.session, disbursement, now=uow.now)
    return await ledger.post_entry(
        uow.session,
        district=disbursement.district,
        community=disbursement.community,
        kind=EntryKind.DISBURSEMENT,
        lines=lines,
        narration=f"disbursement {disbursement.id} for {purpose.value} from the {fund.value} fund",
        actor=actor,
        now=uow.now,
        reference=disbursement.id,
    )


async def announce_balance_low(uow: Work, disbursement: Disbursement, threshold: int) -> None:
    """Record fund.balance_low if this payment took the fund's available money below the threshold.

    A payment out of a commitment spends money already reserved: available stays the same, so it
    never crosses; any other payment lowered available by exactly its amount.
    """
    fund = Fund(disbursement.fund)
    row = (await ledger.guarded_balances(uow.session, disbursement.district, disbursement.community))[
        domain.fund_key(fund)
    ]
    after = row.balance - row.reserved
    before = after if disbursement.commitment_id is not None else after + disbursement.amount_fen
    if not domain.falls_below(before, after, threshold):
        return
    uow.record(
        FundBalanceLow(
            fund=fund.value, available_fen=after, threshold_fen=threshold, disbursement_id=disbursement.id
        ),
        district=disbursement.district,
        community=disbursement.community,
    )
