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

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import domain, ledger
from linli_fund.access import OFFICERS, check_fund_scope, check_known_resident, load_commitment
from linli_fund.api.commitments_schemas import CommitmentIn, InstalmentOut, ScheduleOut
from linli_fund.domain import CommitmentStatus, DisbursementStatus, Fund
from linli_fund.models import Commitment, Disbursement
from linli_shared.auth import Caller
from linli_shared.clock import china_day
from linli_shared.contracts.fund import CommitmentMade, CommitmentReleased, CommitmentSuspended
from linli_shared.errors import Conflict, Invalid, NotFound
from linli_shared.unit_of_work import Made, Work, write


async def commitment_schedule(
    session: AsyncSession, caller: Caller, commitment_id: str, *, now: datetime
) -> ScheduleOut:
    """A scheduled commitment's instalments: which are paid (in order), due, upcoming or cancelled."""
    commitment = await load_commitment(session, caller, commitment_id)
    if commitment.instalment_fen is None or commitment.first_due_on is None or not commitment.months_between:
        raise NotFound("this commitment has no instalment schedule", zh="这项资助承诺没有分期计划")
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
    states = domain.instalment_states(dates, commitment.instalment_fen, paid_fen, running, china_day(now))
    return ScheduleOut(
        commitment_id=commitment.id,
        status=commitment.status,
        paid_fen=paid_fen,
        instalments=[
            InstalmentOut(number=n, due_on=due, amount_fen=commitment.instalment_fen, status=state)
            for n, (due, state) in enumerate(zip(dates, states, strict=True), start=1)
        ],
    )


def new_commitment(caller: Caller, data: CommitmentIn, fund: Fund, now: datetime) -> Commitment:
    schedule = data.schedule
    return Commitment(
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
        instalment_fen=schedule.instalment_fen if schedule else None,
        first_due_on=schedule.first_due_on if schedule else None,
        months_between=schedule.months_between if schedule else None,
        made_by=caller.subject,
        made_at=now,
    )


@write(replay=load_commitment)
async def make_commitment(uow: Work, caller: Caller, data: CommitmentIn) -> Made[Commitment]:
    """Promise money over time and reserve it now; refused if the fund has not that much available.

    The money may have been reserved by a twin request (same key): @write then answers with its result.
    """
    check_fund_scope(caller, data.district, data.community, *OFFICERS)
    fund = data.fund or Fund(data.purpose.value)
    domain.check_fund_fits_purpose(data.purpose, fund)
    if data.until < china_day(uow.now):
        raise Invalid("a commitment cannot end in the past", zh="资助承诺的截止日期不能早于今天")
    if data.schedule:
        dates = domain.due_dates(data.schedule.first_due_on, data.schedule.months_between, data.until)
        domain.check_schedule(data.total_fen, data.schedule.instalment_fen, dates)
    await check_known_resident(uow.session, data.district, data.community, data.resident_id)
    commitment = new_commitment(caller, data, fund, uow.now)
    uow.session.add(commitment)
    await ledger.reserve(
        uow.session,
        commitment,
        commitment.total_fen,
        narration=f"reserve the {fund.value} fund's money for commitment {commitment.id}",
        actor=caller.subject,
        now=uow.now,
    )
    uow.record(
        CommitmentMade(
            commitment_id=commitment.id,
            purpose=commitment.purpose,
            fund=commitment.fund,
            amount_fen=commitment.total_fen,
            until=commitment.until,
        ),
        district=commitment.district,
        community=commitment.community,
    )
    return Made(commitment.id, commitment)


async def end_commitment(
    uow: Work,
    commitment: Commitment,
    *,
    was: list[CommitmentStatus],
    becomes: CommitmentStatus,
    by: str,
    why: str,
) -> int | None:
    """Move the commitment from one of `was` to `becomes` (a conditional UPDATE: once) and release
    what it still reserved; None if it was not in `was` any more, else the fen released."""
    remaining = (
        await uow.session.exec(
            update(Commitment)
            .where(col(Commitment.id) == commitment.id, col(Commitment.status).in_([s.value for s in was]))
            .values(status=becomes.value, released_by=by, released_at=uow.now)
            .returning(col(Commitment.remaining_fen))
        )
    ).scalar_one_or_none()
    if remaining:
        await ledger.reserve(
            uow.session,
            commitment,
            -remaining,
            narration=f"release what commitment {commitment.id} still held: {why}",
            actor=by,
            now=uow.now,
        )
        await uow.session.exec(
            update(Commitment).where(col(Commitment.id) == commitment.id).values(remaining_fen=0)
        )
    return None if remaining is None else int(remaining)


@write(replay=load_commitment)
async def release_commitment(uow: Work, caller: Caller, commitment_id: str) -> Made[Commitment]:
    """End a commitment early: what it still reserves becomes available again, once."""
    caller.check_role(*OFFICERS)
    commitment = await load_commitment(uow.session, caller, commitment_id)
    released = await end_commitment(
        uow,
        commitment,
        was=[CommitmentStatus.ACTIVE, CommitmentStatus.FULFILLED],
        becomes=CommitmentStatus.RELEASED,
        by=caller.subject,
        why="it was ended early",
    )
    if released is None:
        raise Conflict("this commitment was already released", zh="这项资助承诺已经解除了")
    await uow.session.refresh(commitment)
    uow.record(
        CommitmentReleased(commitment_id=commitment.id, released_fen=released, released_by=caller.subject),
        district=commitment.district,
        community=commitment.community,
    )
    return Made(commitment.id, commitment)


SUSPENDED_BY = "registry"


async def suspend_commitments_of(uow: Work, resident_id: str, reason: str) -> int:
    """The beneficiary died or moved out: stop each active commitment and free what it still reserves.

    Runs inside the inbox's unit of work (the inbox dedupes the event); the UPDATE is conditional on
    the status, so a commitment is suspended, its reserve released and its event recorded once.
    Returns how many commitments were suspended.
    """
    active = (
        await uow.session.exec(
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
        released = await end_commitment(
            uow,
            commitment,
            was=[CommitmentStatus.ACTIVE],
            becomes=CommitmentStatus.SUSPENDED,
            by=SUSPENDED_BY,
            why=reason,
        )
        if released is None:
            continue  # someone else ended it meanwhile
        uow.record(
            CommitmentSuspended(
                commitment_id=commitment.id,
                purpose=commitment.purpose,
                fund=commitment.fund,
                released_fen=released,
                reason=reason,
            ),
            district=commitment.district,
            community=commitment.community,
        )
        suspended += 1
    return suspended
