"""A batch of donations in one request (a counted collection box, a bank statement): all or none.

Each gift goes through the single donation's rules (its day, drive and donor, its fund, its entry
and its event) and gets its own receipt number; the batch takes its numbers in one step of the
counter, so they run without a gap, and posts its entries and postings with multi-row INSERTs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import bulk, domain
from linli_fund.access import RECORDERS, check_fund_scope
from linli_fund.api.donations_schemas import DonationBatchIn, DonationIn, DonationOut
from linli_fund.models import Donation
from linli_fund.usecases.donations import (
    booked_at,
    day_received,
    donation_row,
    entry_of,
    next_receipt_sequence,
    received_event,
)
from linli_shared.auth import Caller
from linli_shared.errors import DomainError, Invalid, NotFound
from linli_shared.unit_of_work import Made, Work, write


@dataclass(frozen=True)
class DonationBatch:
    id: str
    district: str
    community: str
    donations: list[DonationOut]


async def load_batch(session: AsyncSession, caller: Caller, batch_id: str) -> DonationBatch:
    """The donations a batch recorded, in receipt order, for a reader of that community's fund."""
    statement = select(Donation).where(Donation.batch_id == batch_id).order_by(col(Donation.receipt_sequence))
    donations = list((await session.exec(statement)).all())
    if not donations:
        raise NotFound("donation batch not found")
    check_fund_scope(caller, donations[0].district, donations[0].community)
    out = [DonationOut.model_validate(donation, from_attributes=True) for donation in donations]
    return DonationBatch(batch_id, donations[0].district, donations[0].community, out)


@contextmanager
def naming(gift: DonationIn, index: int) -> Iterator[None]:
    """A bad line refuses the whole batch with a 422 that says which line and why."""
    try:
        yield
    except DomainError as error:
        raise Invalid(
            f"donation {index + 1} ({gift.donor_name}, {gift.amount_fen} fen): {error.detail}"
        ) from error


@write(replay=load_batch)
async def record_batch(
    uow: Work, caller: Caller, data: DonationBatchIn, *, oldest_days: int = domain.BACKDATE_DAYS
) -> Made[DonationBatch]:
    """Receipt and post every gift of the batch, or none: numbers, entries and events commit together."""
    check_fund_scope(caller, data.district, data.community, *RECORDERS)
    gifts = data.gifts()
    days: list[date] = []
    for index, gift in enumerate(gifts):
        with naming(gift, index):
            days.append(await day_received(uow, gift, oldest_days=oldest_days))
    year = domain.receipt_year(uow.now)
    last = await next_receipt_sequence(uow.session, data.district, data.community, year, len(gifts))
    when = await booked_on(uow, gifts, days)  # after the receipt counter: the one lock order
    batch_id = str(uuid.uuid4())
    first = last - len(gifts) + 1
    rows = [
        donation_row(gift, caller, year, first + index, when[day], batch_id)
        for index, (gift, day) in enumerate(zip(gifts, days, strict=True))
    ]
    entry_ids = await bulk.post_entries(
        uow.session,
        district=data.district,
        community=data.community,
        drafts=[entry_of(row) for row in rows],
        actor=caller.subject,
    )
    for row, entry_id in zip(rows, entry_ids, strict=True):
        row["entry_id"] = entry_id
    await bulk.insert_rows(uow.session, Donation, rows)
    for row in rows:
        uow.record(received_event(row), district=data.district, community=data.community)
    donations = [DonationOut.model_validate(row) for row in rows]
    return Made(batch_id, DonationBatch(batch_id, data.district, data.community, donations))


async def booked_on(uow: Work, gifts: list[DonationIn], days: list[date]) -> dict[date, datetime]:
    """When each day's gifts are booked, as the single donation books them (once per day)."""
    when: dict[date, datetime] = {}
    for index, (gift, day) in enumerate(zip(gifts, days, strict=True)):
        if day not in when:
            with naming(gift, index):
                when[day] = await booked_at(uow, gift, day)
    return when
