"""A batch of donations in one request (a counted collection box, a bank statement): all or none.

Each gift goes through the single donation's rules (its day, drive and donor, its fund and its
entry) and gets its own receipt number; the batch takes its numbers in one step of the counter, so
they run without a gap, and posts its entries and postings with multi-row INSERTs. Its gifts are
announced together, up to GIFTS_PER_EVENT to a `donations.received` event, each as
`donation.received` announces a single gift.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import bulk, domain
from linli_fund.access import RECORDERS, check_fund_scope
from linli_fund.api.donations_schemas import DonationBatchIn, DonationIn, DonationLineIn
from linli_fund.models import Donation
from linli_fund.usecases.donations import (
    booked_at,
    day_received,
    donation_columns,
    entry_of,
    next_receipt_sequence,
    receipt_columns,
    received_fields,
)
from linli_shared.auth import Caller
from linli_shared.bulk import insert_rows
from linli_shared.clock import china_day
from linli_shared.contracts.fund import GIFTS_PER_EVENT, DonationsReceived
from linli_shared.errors import DomainError, Invalid, NotFound
from linli_shared.ids import new_ids
from linli_shared.unit_of_work import Made, Work, write
from linli_shared.words import yuan


@dataclass(frozen=True)
class DonationBatch:
    id: str
    district: str
    community: str
    donations: list[dict[str, Any]]
    """Each donation's columns, in receipt order: read out through DonationOut, which drops the phone."""


async def load_batch(session: AsyncSession, caller: Caller, batch_id: str) -> DonationBatch:
    """The donations a batch recorded, in receipt order, for a reader of that community's fund."""
    statement = select(Donation).where(Donation.batch_id == batch_id).order_by(col(Donation.receipt_sequence))
    donations = list((await session.exec(statement)).all())
    if not donations:
        raise NotFound("donation batch not found", zh="没有找到这批捐赠")
    check_fund_scope(caller, donations[0].district, donations[0].community)
    rows = [donation.model_dump() for donation in donations]
    return DonationBatch(batch_id, donations[0].district, donations[0].community, rows)


@contextmanager
def naming(line: DonationLineIn, index: int) -> Iterator[None]:
    """A bad line refuses the whole batch with a 422 that says which line and why."""
    try:
        yield
    except DomainError as error:
        raise Invalid(
            f"donation {index + 1} ({line.donor_name}, {line.amount_fen} fen): {error.detail}",
            zh=f"第 {index + 1} 笔捐赠（{line.donor_name}，{yuan(line.amount_fen)}）："
            + error.detail_in("zh"),
        ) from error


@write(replay=load_batch)
async def record_batch(
    uow: Work, caller: Caller, data: DonationBatchIn, *, oldest_days: int = domain.BACKDATE_DAYS
) -> Made[DonationBatch]:
    """Receipt and post every gift of the batch, or none: numbers, entries and events commit together.

    Set-based: one step of the receipt counter for the whole batch, the guarded balances moved once
    by the batch's total, one multi-row INSERT each for entries, postings, donations and events."""
    check_fund_scope(caller, data.district, data.community, *RECORDERS)
    lines = data.donations
    days = await days_received(uow, data, oldest_days=oldest_days)
    batch_id = str(uuid.uuid4())
    rows = [  # made before the receipt counter is taken: the batch holds its lock until it commits
        donation_columns(
            line,
            district=data.district,
            community=data.community,
            recorded_by=caller.subject,
            donation_id=donation_id,
            batch_id=batch_id,
        )
        for line, donation_id in zip(lines, new_ids(len(lines)), strict=True)
    ]
    year = domain.receipt_year(uow.now)
    last = await next_receipt_sequence(uow.session, data.district, data.community, year, len(lines))
    when = await booked_on(uow, data, days)  # after the receipt counter: the one lock order
    first = last - len(lines) + 1
    for index, (row, day) in enumerate(zip(rows, days, strict=True)):
        row.update(receipt_columns(year, first + index), received_at=when[day])
    entry_ids = await bulk.post_entries(
        uow.session,
        district=data.district,
        community=data.community,
        drafts=[entry_of(row) for row in rows],
        actor=caller.subject,
    )
    for row, entry_id in zip(rows, entry_ids, strict=True):
        row["entry_id"] = entry_id
    await insert_rows(uow.session, Donation, rows)
    for start in range(0, len(rows), GIFTS_PER_EVENT):  # one event per chunk: a gift's event cost
        gifts = [received_fields(row) for row in rows[start : start + GIFTS_PER_EVENT]]
        announced = DonationsReceived.model_validate({"batch_id": batch_id, "donations": gifts})
        uow.record(announced, district=data.district, community=data.community)
    return Made(batch_id, DonationBatch(batch_id, data.district, data.community, rows))


def gift_of(data: DonationBatchIn, line: DonationLineIn) -> DonationIn:
    """A line as the single donation it records (already validated: not validated again)."""
    return DonationIn.model_construct(None, district=data.district, community=data.community, **dict(line))


async def days_received(uow: Work, data: DonationBatchIn, *, oldest_days: int) -> list[date]:
    """Each gift's China day, checked as the single donation checks it. A plain gift of today (no
    date, drive or registered donor: a counted box) has nothing to look up, so it costs nothing."""
    today = china_day(uow.now)
    days: list[date] = []
    for index, line in enumerate(data.donations):
        if line.received_on is None and line.campaign_id is None and line.donor_resident_id is None:
            days.append(today)
            continue
        with naming(line, index):
            days.append(await day_received(uow, gift_of(data, line), oldest_days=oldest_days))
    return days


async def booked_on(uow: Work, data: DonationBatchIn, days: list[date]) -> dict[date, datetime]:
    """When each day's gifts are booked, as the single donation books them (once per day)."""
    when: dict[date, datetime] = {}
    for index, (line, day) in enumerate(zip(data.donations, days, strict=True)):
        if day not in when:
            with naming(line, index):
                when[day] = await booked_at(uow, gift_of(data, line), day)
    return when
