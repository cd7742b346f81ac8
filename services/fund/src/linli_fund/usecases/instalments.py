"""Scheduled instalments fall due: each becomes a disbursement request, once, for officers to approve and pay.

A periodic job looks at every active scheduled commitment; for each instalment whose day has come
and that nothing covers yet, it requests a disbursement out of the commitment and announces
commitment.instalment_due. The request is made in the name of the officer who made the commitment:
they asked for the whole schedule, so they may not approve its instalments; a second officer must
(two more above the limit), as for any other payment. The
unique key (commitment_id, instalment_number) makes the request once however often, or however
concurrently, the job runs. Payments an officer asked for by hand out of the commitment count as
covering the earliest instalments, so the schedule never asks twice for the same term.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import domain
from linli_fund.domain import CommitmentStatus, DisbursementStatus
from linli_fund.models import Commitment, Disbursement
from linli_fund.usecases.disbursements import add_request
from linli_shared.clock import china_day
from linli_shared.contracts.fund import CommitmentInstalmentDue
from linli_shared.unit_of_work import UnitOfWork, Work

COVERING = (
    DisbursementStatus.REQUESTED.value,
    DisbursementStatus.APPROVED.value,
    DisbursementStatus.PAID.value,
)


async def request_due_instalments(
    factory: async_sessionmaker[AsyncSession], *, second_approval_above: int, now: datetime
) -> int:
    """Request every instalment that has fallen due and is not yet asked for; returns how many."""
    today = china_day(now)
    async with factory() as session:
        scheduled = (
            await session.exec(
                select(Commitment.id)
                .where(
                    Commitment.status == CommitmentStatus.ACTIVE.value,
                    col(Commitment.instalment_fen).is_not(None),
                    col(Commitment.first_due_on) <= today,
                )
                .order_by(col(Commitment.id))
            )
        ).all()
    requested = 0
    for commitment_id in scheduled:
        async with UnitOfWork(factory, clock=lambda: now) as uow:
            requested += await request_instalments_of(
                uow, commitment_id, second_approval_above=second_approval_above
            )
    return requested


def due_instalments(
    commitment: Commitment, drawn: Sequence[Disbursement], today: date
) -> tuple[int, list[tuple[int, date]]]:
    """How many instalments the schedule has, and those due today that nothing covers yet."""
    assert commitment.instalment_fen and commitment.first_due_on and commitment.months_between
    dates = domain.due_dates(commitment.first_due_on, commitment.months_between, commitment.until)
    taken = {d.instalment_number for d in drawn if d.instalment_number is not None}
    by_hand = sum(d.amount_fen for d in drawn if d.instalment_number is None and d.status in COVERING)
    first_open = by_hand // commitment.instalment_fen + 1
    return len(dates), [
        (number, day)
        for number, day in enumerate(dates, start=1)
        if day <= today and number >= first_open and number not in taken
    ]


async def request_instalments_of(uow: Work, commitment_id: str, *, second_approval_above: int) -> int:
    """Request a commitment's open instalments in one unit of work; 0 if a twin run came first."""
    commitment = await uow.session.get(Commitment, commitment_id)
    if commitment is None or commitment.status != CommitmentStatus.ACTIVE.value:
        return 0
    drawn = (
        await uow.session.exec(select(Disbursement).where(Disbursement.commitment_id == commitment.id))
    ).all()
    terms, due = due_instalments(commitment, drawn, china_day(uow.now))
    for number, day in due:
        request_instalment(uow, commitment, number, day, terms, second_approval_above)
    if not due:
        return 0
    try:
        await uow.commit()
    except IntegrityError:  # a twin run requested them first
        return 0
    return len(due)


def request_instalment(
    uow: Work, commitment: Commitment, number: int, day: date, terms: int, second_approval_above: int
) -> None:
    assert commitment.instalment_fen is not None
    disbursement = add_request(
        uow,
        Disbursement(
            id=str(uuid.uuid4()),
            district=commitment.district,
            community=commitment.community,
            resident_id=commitment.resident_id,
            purpose=commitment.purpose,
            fund=commitment.fund,
            amount_fen=commitment.instalment_fen,
            reason=f"instalment {number} of {terms}, due {day.isoformat()}: {commitment.reason[:900]}",
            approvals_needed=domain.approvals_needed(commitment.instalment_fen, second_approval_above),
            requested_by=commitment.made_by,  # so someone else must approve it
            requested_at=uow.now,
            commitment_id=commitment.id,
            instalment_number=number,
        ),
    )
    uow.record(
        CommitmentInstalmentDue(
            commitment_id=commitment.id,
            instalment_number=number,
            due_on=day,
            purpose=commitment.purpose,
            amount_fen=commitment.instalment_fen,
            disbursement_id=disbursement.id,
        ),
        district=commitment.district,
        community=commitment.community,
    )
