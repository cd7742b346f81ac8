"""Disbursements: request → approval by someone else (two people above the limit) → payment, or rejection.

Every move of a disbursement is a conditional UPDATE on its `version`, so of two racing moves
(two payments of one approval, say) only one passes; payment posts the journal entry in the same
transaction, and the guarded fund balance refuses to pay what is not there.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import domain, ledger, reservations, schemas
from linli_fund.domain import CommitmentStatus, DisbursementStatus, EntryKind, Fund, Purpose
from linli_fund.models import Commitment, Disbursement
from linli_fund.usecases import (
    OFFICERS,
    check_fund_scope,
    check_known_resident,
    get_visible_fund,
)
from linli_shared.auth import Caller
from linli_shared.contracts.fund import (
    DisbursementApproved,
    DisbursementPaid,
    DisbursementRejected,
    DisbursementRequested,
    FundBalanceLow,
)
from linli_shared.errors import Conflict, DomainError, Invalid
from linli_shared.idempotency import IdempotentRequest, commit_once, previous_result, replay_or_raise
from linli_shared.outbox import record_event


async def load_disbursement(session: AsyncSession, caller: Caller, disbursement_id: str) -> Disbursement:
    return await get_visible_fund(session, Disbursement, disbursement_id, caller, "disbursement")


async def check_commitment(session: AsyncSession, data: schemas.DisbursementIn, fund: Fund) -> None:
    """A payment out of a commitment is for its beneficiary, purpose and fund, and within what is left."""
    if data.commitment_id is None:
        return
    commitment = await session.get(Commitment, data.commitment_id)
    if commitment is None or (commitment.district, commitment.community) != (data.district, data.community):
        raise Invalid(f"commitment {data.commitment_id} does not exist in {data.community}")
    if commitment.status != CommitmentStatus.ACTIVE.value:
        raise Invalid(f"commitment {commitment.id} is {commitment.status}")
    mine = (commitment.resident_id, commitment.purpose, commitment.fund)
    if (data.resident_id, data.purpose.value, fund.value) != mine:
        raise Invalid("a payment out of a commitment must be for its resident, purpose and fund")
    if data.amount_fen > commitment.remaining_fen:
        raise Invalid(f"the commitment has only {commitment.remaining_fen} fen left")


async def request_disbursement(
    session: AsyncSession,
    caller: Caller,
    data: schemas.DisbursementIn,
    *,
    second_approval_above: int,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> Disbursement:
    check_fund_scope(caller, data.district, data.community, *OFFICERS)
    if idempotency and (previous := await previous_result(session, idempotency)):
        return await load_disbursement(session, caller, previous)
    fund = data.fund or Fund(data.purpose.value)
    domain.check_fund_fits_purpose(data.purpose, fund)
    await check_known_resident(session, data.district, data.community, data.resident_id)
    await check_commitment(session, data, fund)
    disbursement = add_request(
        session,
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
            requested_at=now,
            commitment_id=data.commitment_id,
        ),
        now=now,
    )
    return await commit_once(
        session,
        idempotency,
        disbursement.id,
        lambda found: load_disbursement(session, caller, found),
        disbursement,
    )


def add_request(session: AsyncSession, disbursement: Disbursement, *, now: datetime) -> Disbursement:
    """Add a requested disbursement and its disbursement.requested event to the session."""
    session.add(disbursement)
    record_event(
        session,
        DisbursementRequested(
            disbursement_id=disbursement.id,
            purpose=disbursement.purpose,
            fund=disbursement.fund,
            amount_fen=disbursement.amount_fen,
            approvals_needed=disbursement.approvals_needed,
        ),
        district=disbursement.district,
        community=disbursement.community,
        now=now,
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
        raise Conflict(f"disbursement {disbursement.id} was changed meanwhile: reload it")
    await session.refresh(disbursement)


def check_status(disbursement: Disbursement, *allowed: DisbursementStatus) -> None:
    if disbursement.status not in allowed:
        raise Conflict(f"this disbursement is {disbursement.status}")


async def approve_disbursement(
    session: AsyncSession,
    caller: Caller,
    disbursement_id: str,
    *,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> Disbursement:
    """Approve once, as someone other than the requester (and other than the first approver)."""
    caller.check_role(*OFFICERS)
    if idempotency and (previous := await previous_result(session, idempotency)):
        return await load_disbursement(session, caller, previous)
    disbursement = await load_disbursement(session, caller, disbursement_id)
    try:
        check_status(disbursement, DisbursementStatus.REQUESTED)
        approvers = [a for a in (disbursement.first_approved_by, disbursement.second_approved_by) if a]
        domain.check_approver(disbursement.requested_by, approvers, caller.subject)
        approvals = len(approvers) + 1
        done = approvals >= disbursement.approvals_needed
        await move(
            session,
            disbursement,
            **{"first_approved_by" if approvals == 1 else "second_approved_by": caller.subject},
            status=(DisbursementStatus.APPROVED if done else DisbursementStatus.REQUESTED).value,
            decided_at=now if done else None,
        )
    except DomainError as error:
        return await replay_or_raise(
            session, idempotency, error, lambda found: load_disbursement(session, caller, found)
        )
    record_event(
        session,
        DisbursementApproved(
            disbursement_id=disbursement.id,
            approvals=approvals,
            approvals_needed=disbursement.approvals_needed,
            approved_by=caller.subject,
        ),
        district=disbursement.district,
        community=disbursement.community,
        now=now,
    )
    return await commit_once(
        session,
        idempotency,
        disbursement.id,
        lambda found: load_disbursement(session, caller, found),
        disbursement,
    )


async def reject_disbursement(
    session: AsyncSession,
    caller: Caller,
    disbursement_id: str,
    data: schemas.RejectionIn,
    *,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> Disbursement:
    """Refuse a disbursement not yet paid; it can never be paid afterwards."""
    caller.check_role(*OFFICERS)
    if idempotency and (previous := await previous_result(session, idempotency)):
        return await load_disbursement(session, caller, previous)
    disbursement = await load_disbursement(session, caller, disbursement_id)
    try:
        check_status(disbursement, DisbursementStatus.REQUESTED, DisbursementStatus.APPROVED)
        await move(
            session,
            disbursement,
            status=DisbursementStatus.REJECTED.value,
            rejected_by=caller.subject,
            rejection_reason=data.reason,
            decided_at=now,
        )
    except DomainError as error:
        return await replay_or_raise(
            session, idempotency, error, lambda found: load_disbursement(session, caller, found)
        )
    record_event(
        session,
        DisbursementRejected(disbursement_id=disbursement.id, rejected_by=caller.subject),
        district=disbursement.district,
        community=disbursement.community,
        now=now,
    )
    return await commit_once(
        session,
        idempotency,
        disbursement.id,
        lambda found: load_disbursement(session, caller, found),
        disbursement,
    )


async def pay_disbursement(
    session: AsyncSession,
    caller: Caller,
    disbursement_id: str,
    data: schemas.PaymentIn,
    *,
    balance_low_below: int,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> Disbursement:
    """Pay an approved disbursement once: its status, its entry and the fund's balance move together.

    A payment that takes the fund's available money below `balance_low_below` fen also announces
    fund.balance_low, in the same transaction (the fund's row is locked by then, so the reading is exact).
    """
    caller.check_role(*OFFICERS)
    if idempotency and (previous := await previous_result(session, idempotency)):
        return await load_disbursement(session, caller, previous)
    disbursement = await load_disbursement(session, caller, disbursement_id)
    try:
        check_status(disbursement, DisbursementStatus.APPROVED)
        await move(  # first: it locks the disbursement, so a twin payment waits here and then fails
            session,
            disbursement,
            status=DisbursementStatus.PAID.value,
            paid_by=caller.subject,
            paid_at=now,
            channel=data.channel.value,
        )
        fund, purpose = Fund(disbursement.fund), Purpose(disbursement.purpose)
        lines = domain.payment_lines(fund, data.channel, disbursement.amount_fen)
        if disbursement.commitment_id is not None:  # its money is reserved: release that much first
            await reservations.draw(session, disbursement)  # the commitment's row before the balances
            await ledger.ensure_chart(session, disbursement.district, disbursement.community)
            names = domain.guarded_deltas(lines)
            await ledger.lock_guarded(session, disbursement.district, disbursement.community, names)
            await reservations.release_drawn(session, disbursement, now=now)
        entry = await ledger.post_entry(
            session,
            district=disbursement.district,
            community=disbursement.community,
            kind=EntryKind.DISBURSEMENT,
            lines=lines,
            narration=f"disbursement {disbursement.id} for {purpose.value} from the {fund.value} fund",
            actor=caller.subject,
            now=now,
            reference=disbursement.id,
        )
    except DomainError as error:
        return await replay_or_raise(
            session, idempotency, error, lambda found: load_disbursement(session, caller, found)
        )
    assert entry.id is not None
    disbursement.entry_id = entry.id
    session.add(disbursement)
    record_event(
        session,
        DisbursementPaid(
            disbursement_id=disbursement.id,
            purpose=disbursement.purpose,
            fund=disbursement.fund,
            amount_fen=disbursement.amount_fen,
            entry_id=entry.id,
        ),
        district=disbursement.district,
        community=disbursement.community,
        now=now,
    )
    await announce_balance_low(session, disbursement, balance_low_below, now=now)
    return await commit_once(
        session,
        idempotency,
        disbursement.id,
        lambda found: load_disbursement(session, caller, found),
        disbursement,
    )


async def announce_balance_low(
    session: AsyncSession, disbursement: Disbursement, threshold: int, *, now: datetime
) -> None:
    """Record fund.balance_low if this payment took the fund's available money below the threshold.

    A payment out of a commitment spends money already reserved: available stays the same, so it
    never crosses; any other payment lowered available by exactly its amount.
    """
    fund = Fund(disbursement.fund)
    row = (await ledger.guarded_balances(session, disbursement.district, disbursement.community))[
        domain.fund_key(fund)
    ]
    after = row.balance - row.reserved
    before = after if disbursement.commitment_id is not None else after + disbursement.amount_fen
    if not domain.falls_below(before, after, threshold):
        return
    record_event(
        session,
        FundBalanceLow(
            fund=fund.value, available_fen=after, threshold_fen=threshold, disbursement_id=disbursement.id
        ),
        district=disbursement.district,
        community=disbursement.community,
        now=now,
    )
