"""Commitments' reservations as payments draw on them and reversals give back: row-locked, never below zero.

Lock order, everywhere: the disbursement (or entry's record), then the commitment, then the
guarded balances in name order (ledger.lock_guarded before a reservation is drawn); so payments,
donations and reversals never wait on each other in a cycle.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import ledger
from linli_fund.domain import CommitmentStatus
from linli_fund.models import Commitment, Disbursement
from linli_shared.errors import Conflict


async def draw(session: AsyncSession, disbursement: Disbursement) -> None:
    """Take a payment out of its commitment's remainder, locking the commitment's row.

    Call it before the guarded balances are locked, and `release_drawn` after: the commitment's
    row comes before the balances, as in a release or a suspension.
    """
    assert disbursement.commitment_id is not None
    remaining = (
        await session.exec(
            update(Commitment)
            .where(
                col(Commitment.id) == disbursement.commitment_id,
                col(Commitment.status) == CommitmentStatus.ACTIVE.value,
                col(Commitment.remaining_fen) >= disbursement.amount_fen,
            )
            .values(remaining_fen=Commitment.remaining_fen - disbursement.amount_fen)
            .returning(col(Commitment.remaining_fen))
        )
    ).scalar_one_or_none()
    if remaining is None:
        raise Conflict(
            "the commitment is no longer active or has less than this left",
            zh="这项资助承诺已不在执行中，或剩余金额不够这笔支出",
        )
    if remaining == 0:
        await session.exec(
            update(Commitment)
            .where(col(Commitment.id) == disbursement.commitment_id)
            .values(status=CommitmentStatus.FULFILLED.value)
        )


async def release_drawn(session: AsyncSession, disbursement: Disbursement, *, now: datetime) -> None:
    """Shrink the fund's reservation by what `draw` took: the payment spends money already set aside."""
    await ledger.reserve(
        session,
        await commitment_of(session, disbursement),
        -disbursement.amount_fen,
        narration=f"release the reserve paid out by disbursement {disbursement.id}",
        actor=disbursement.paid_by or "",
        now=now,
    )


async def give_back(session: AsyncSession, disbursement: Disbursement) -> bool:
    """Return a reversed payment to its commitment, if the commitment still runs; True if it did.

    Call it before the reversal's entry (it locks the commitment first) and `reserve_again` after.
    """
    assert disbursement.commitment_id is not None
    result = await session.exec(
        update(Commitment)
        .where(
            col(Commitment.id) == disbursement.commitment_id,
            col(Commitment.status).in_([CommitmentStatus.ACTIVE.value, CommitmentStatus.FULFILLED.value]),
        )
        .values(
            remaining_fen=Commitment.remaining_fen + disbursement.amount_fen,
            status=CommitmentStatus.ACTIVE.value,
        )
    )
    return bool(result.rowcount)


async def reserve_again(
    session: AsyncSession, disbursement: Disbursement, *, actor: str, now: datetime
) -> None:
    await ledger.reserve(
        session,
        await commitment_of(session, disbursement),
        disbursement.amount_fen,
        narration=f"reserve again what reversed disbursement {disbursement.id} had paid out",
        actor=actor,
        now=now,
    )


async def commitment_of(session: AsyncSession, disbursement: Disbursement) -> Commitment:
    assert disbursement.commitment_id is not None
    commitment = await session.get(Commitment, disbursement.commitment_id)
    assert commitment is not None  # a foreign key holds it
    return commitment
