"""Commitments: a promise over time (an orphan's school fees until 18) that reserves money in a fund.

Making one posts a reservation entry (credit equity:reserved:<fund>, debit equity:unreserved:<fund>)
that moves the fund's guarded reserve with it (UPDATE … WHERE balance - reserved >= total), so
ordinary payments can no longer spend it; disbursements linked to it draw it down
(reservations.draw, then an opposite reservation entry); releasing it, or the beneficiary's death
or move-out, posts the release of what is left. No money leaves the fund until a payment does.
Lock order: the commitment's row, then the guarded balances (see reservations.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import partial

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import domain, ledger, schemas
from linli_fund.domain import CommitmentStatus, DisbursementStatus, Fund
from linli_fund.models import Commitment, Disbursement
from linli_fund.usecases import (
    OFFICERS,
    check_fund_scope,
    check_known_resident,
    get_visible_fund,
)
from linli_shared.auth import Caller
from linli_shared.clock import china_day
from linli_shared.contracts.fund import CommitmentMade, CommitmentReleased, CommitmentSuspended
from linli_shared.errors import Conflict, DomainError, Invalid, NotFound
from linli_shared.idempotency import IdempotentRequest, commit_once, previous_result, replay_or_raise
from linli_shared.outbox import record_event


async def load_commitment(session: AsyncSession, caller: Caller, commitment_id: str) -> Commitment:
    return await get_visible_fund(session, Commitment, commitment_id, caller, "commitment")


async def commitment_schedule(
    session: AsyncSession, caller: Caller, commitment_id: str, *, now: datetime
) -> schemas.ScheduleOut:
    """A scheduled commitment's instalments: which are paid (in order), due, upcoming or cancelled."""
    commitment = await load_commitment(session, caller, commitment_id)
    if commitment.instalment_fen is None or commitment.first_due_on is None or not commitment.months_between:
        raise NotFound("this commitment has no instalment schedule")
    paid_fen = int(
        (
            await session.exec(
                select(func.coalesce(func.sum(Disbursement.amount_fen), 0)).where(
                    Disbursement.commitment_id == commitment.id,
                    Disbursement.status == DisbursementStatus.PAID.value,
                )
            )
        ).one()
    )
    dates = domain.due_dates(commitment.first_due_on, commitment.months_between, commitment.until)
    running = commitment.status in (CommitmentStatus.ACTIVE.value, CommitmentStatus.FULFILLED.value)
    today = china_day(now)
    states = domain.instalment_states(dates, commitment.instalment_fen, paid_fen, running, today)
    return schemas.ScheduleOut(
        commitment_id=commitment.id,
        status=commitment.status,
        paid_fen=paid_fen,
        instalments=[
            schemas.InstalmentOut(number=n, due_on=due, amount_fen=commitment.instalment_fen, status=state)
            for n, (due, state) in enumerate(zip(dates, states, strict=True), start=1)
        ],
    )


async def make_commitment(
    session: AsyncSession,
    caller: Caller,
    data: schemas.CommitmentIn,
    *,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> Commitment:
    """Promise money over time and reserve it now; refused if the fund has not that much available."""
    check_fund_scope(caller, data.district, data.community, *OFFICERS)
    if idempotency and (previous := await previous_result(session, idempotency)):
        return await load_commitment(session, caller, previous)
    fund = data.fund or Fund(data.purpose.value)
    domain.check_fund_fits_purpose(data.purpose, fund)
    if data.until < china_day(now):
        raise Invalid("a commitment cannot end in the past")
    if data.schedule:
        dates = domain.due_dates(data.schedule.first_due_on, data.schedule.months_between, data.until)
        domain.check_schedule(data.total_fen, data.schedule.instalment_fen, dates)
    await check_known_resident(session, data.district, data.community, data.resident_id)
    commitment = Commitment(
        id=str(uuid.uuid4()),
        district=data.district,
        community=data.community,
        resident_id=data.resident_id,
        purpose=data.purpose.value,
        fund=fund.value,
        total_fen=data.total_fen,
        remaining_fen=data.total_fen,
        until=data.until,
        reason=data.reason,
        instalment_fen=data.schedule.instalment_fen if data.schedule else None,
        first_due_on=data.schedule.first_due_on if data.schedule else None,
        months_between=data.schedule.months_between if data.schedule else None,
        made_by=caller.subject,
        made_at=now,
    )
    session.add(commitment)
    replay = partial(load_commitment, session, caller)
    try:
        await ledger.reserve(
            session,
            commitment,
            commitment.total_fen,
            narration=f"reserve the {fund.value} fund's money for commitment {commitment.id}",
            actor=caller.subject,
            now=now,
        )
    except Conflict as error:  # the money may be reserved by a twin (same key): its answer is ours
        return await replay_or_raise(session, idempotency, error, replay)
    record_event(
        session,
        CommitmentMade(
            commitment_id=commitment.id,
            purpose=commitment.purpose,
            fund=commitment.fund,
            amount_fen=commitment.total_fen,
            until=commitment.until,
        ),
        district=commitment.district,
        community=commitment.community,
        now=now,
    )
    return await commit_once(session, idempotency, commitment.id, replay, commitment)


async def release_commitment(
    session: AsyncSession,
    caller: Caller,
    commitment_id: str,
    *,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> Commitment:
    """End a commitment early: what it still reserves becomes available again, once."""
    caller.check_role(*OFFICERS)
    if idempotency and (previous := await previous_result(session, idempotency)):
        return await load_commitment(session, caller, previous)
    commitment = await load_commitment(session, caller, commitment_id)
    try:
        released = (
            await session.exec(
                update(Commitment)
                .where(
                    col(Commitment.id) == commitment.id,
                    col(Commitment.status).in_(
                        [CommitmentStatus.ACTIVE.value, CommitmentStatus.FULFILLED.value]
                    ),
                )
                .values(status=CommitmentStatus.RELEASED.value, released_by=caller.subject, released_at=now)
                .returning(col(Commitment.remaining_fen))
            )
        ).scalar_one_or_none()
        if released is None:
            raise Conflict("this commitment was already released")
        if released:
            await ledger.reserve(
                session,
                commitment,
                -released,
                narration=f"release what commitment {commitment.id} still held: it was ended early",
                actor=caller.subject,
                now=now,
            )
            await session.exec(
                update(Commitment).where(col(Commitment.id) == commitment.id).values(remaining_fen=0)
            )
        await session.refresh(commitment)
    except DomainError as error:
        return await replay_or_raise(
            session, idempotency, error, lambda found: load_commitment(session, caller, found)
        )
    record_event(
        session,
        CommitmentReleased(
            commitment_id=commitment.id, released_fen=int(released), released_by=caller.subject
        ),
        district=commitment.district,
        community=commitment.community,
        now=now,
    )
    return await commit_once(
        session, idempotency, commitment.id, lambda found: load_commitment(session, caller, found), commitment
    )


SUSPENDED_BY = "registry"


async def suspend_commitments_of(
    session: AsyncSession, resident_id: str, reason: str, *, now: datetime
) -> int:
    """The beneficiary died or moved out: stop each active commitment and free what it still reserves.

    Runs inside the inbox's transaction (the inbox dedupes the event); the UPDATE is conditional on
    the status, so a commitment is suspended, its reserve released and its event recorded once.
    Returns how many commitments were suspended.
    """
    active = (
        await session.exec(
            select(Commitment)
            .where(
                Commitment.resident_id == resident_id,
                Commitment.status == CommitmentStatus.ACTIVE.value,
            )
            .order_by(col(Commitment.id))
        )
    ).all()
    suspended = 0
    for commitment in active:
        remaining = (
            await session.exec(
                update(Commitment)
                .where(
                    col(Commitment.id) == commitment.id,
                    col(Commitment.status) == CommitmentStatus.ACTIVE.value,
                )
                .values(status=CommitmentStatus.SUSPENDED.value, released_by=SUSPENDED_BY, released_at=now)
                .returning(col(Commitment.remaining_fen))
            )
        ).scalar_one_or_none()
        if remaining is None:
            continue  # someone else ended it meanwhile
        if remaining:
            await ledger.reserve(
                session,
                commitment,
                -remaining,
                narration=f"release what commitment {commitment.id} still held: {reason}",
                actor=SUSPENDED_BY,
                now=now,
            )
            await session.exec(
                update(Commitment).where(col(Commitment.id) == commitment.id).values(remaining_fen=0)
            )
        record_event(
            session,
            CommitmentSuspended(
                commitment_id=commitment.id,
                purpose=commitment.purpose,
                fund=commitment.fund,
                released_fen=int(remaining),
                reason=reason,
            ),
            district=commitment.district,
            community=commitment.community,
            now=now,
        )
        suspended += 1
    return suspended
