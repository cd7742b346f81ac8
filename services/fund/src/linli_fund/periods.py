"""What a period of a community fund holds: its donations, payments, reversals and corrections.

One set of queries, shared by the readers' disclosure and the published report, so both say the
same of the same period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import ledger
from linli_fund.domain import EntryKind
from linli_fund.models import Campaign, Disbursement, Donation, JournalEntry, KnownResident
from linli_shared.clock import china_day

MAX_DAYS = 366


@dataclass(frozen=True)
class Correction:
    """A reversal posted in this period of a donation or payment from an earlier one."""

    corrected_on: date
    kind: str  # donation or payment
    original_on: date
    reference: str  # the donation's receipt number, or the payment's purpose
    beneficiary: str  # a payment's masked initials; empty for a donation
    fund: str
    amount_fen: int


@dataclass(frozen=True)
class PeriodRows:
    """What a period holds: donations received (with their campaign), payments made (with the
    beneficiary's read-model row, for masked initials), which of them were reversed by the period's
    end, and the corrections of earlier periods' records posted within it.

    Everything is as of the period's end: a gift reversed after the period closed still counts in
    it (its reversal is a correction in the period it was posted in), so the report of a period
    says the same whenever it is built, and the balances at its end agree with its lines.
    """

    donations: list[tuple[Donation, Campaign | None]]
    paid: list[tuple[Disbursement, KnownResident | None]]
    reversed_entries: set[int]
    corrections: list[Correction]

    def donation_reversed(self, donation: Donation) -> bool:
        return donation.entry_id in self.reversed_entries

    def payment_reversed(self, disbursement: Disbursement) -> bool:
        return disbursement.entry_id in self.reversed_entries


async def payments_with_beneficiary(
    session: AsyncSession, district: str, community: str, *where: Any
) -> Sequence[tuple[Disbursement, KnownResident | None]]:
    """A community's payments meeting `where`, each with its beneficiary as the fund knows them
    (None if the registry's event has not come yet), in the order they were paid."""
    statement = (
        select(Disbursement, KnownResident)
        .join(KnownResident, col(KnownResident.resident_id) == col(Disbursement.resident_id), isouter=True)
        .where(Disbursement.district == district, Disbursement.community == community, *where)
        .order_by(col(Disbursement.paid_at), col(Disbursement.id))
    )
    return (await session.exec(statement)).all()


async def period_rows(
    session: AsyncSession, district: str, community: str, first_day: date, last_day: date
) -> PeriodRows:
    """The one query of a period, shared by the readers' disclosure and the published report."""
    start, end = ledger.end_of_day(first_day - timedelta(days=1)), ledger.end_of_day(last_day)
    donations = (
        await session.exec(
            select(Donation, Campaign)
            .join(Campaign, col(Campaign.id) == col(Donation.campaign_id), isouter=True)
            .where(
                Donation.district == district,
                Donation.community == community,
                col(Donation.received_at) >= start,
                col(Donation.received_at) < end,
            )
            .order_by(col(Donation.receipt_year), col(Donation.receipt_sequence))
        )
    ).all()
    paid = await payments_with_beneficiary(
        session, district, community, col(Disbursement.paid_at) >= start, col(Disbursement.paid_at) < end
    )
    reversals = await reversals_before(session, district, community, end)
    reversed_on = {
        entry.reverses_entry_id: china_day(entry.posted_at)
        for entry in reversals
        if entry.reverses_entry_id is not None and entry.posted_at >= start
    }
    return PeriodRows(
        donations=list(donations),
        paid=list(paid),
        reversed_entries={entry.reverses_entry_id for entry in reversals if entry.reverses_entry_id},
        corrections=await corrections_of_earlier_periods(session, reversed_on, start),
    )


async def reversals_before(
    session: AsyncSession, district: str, community: str, end: datetime
) -> Sequence[JournalEntry]:
    """The reversal entries posted before `end`: what a period's records count as reversed by then."""
    statement = select(JournalEntry).where(
        JournalEntry.district == district,
        JournalEntry.community == community,
        JournalEntry.kind == EntryKind.REVERSAL.value,
        col(JournalEntry.posted_at) < end,
    )
    return (await session.exec(statement)).all()


async def corrections_of_earlier_periods(
    session: AsyncSession, reversed_on: dict[int, date], start: datetime
) -> list[Correction]:
    """The records from before `start` whose reversal (entry id → day) was posted in the period."""
    if not reversed_on:
        return []
    donations = (
        await session.exec(
            select(Donation).where(col(Donation.entry_id).in_(reversed_on), col(Donation.received_at) < start)
        )
    ).all()
    payments = (
        await session.exec(
            select(Disbursement, KnownResident)
            .join(
                KnownResident, col(KnownResident.resident_id) == col(Disbursement.resident_id), isouter=True
            )
            .where(col(Disbursement.entry_id).in_(reversed_on), col(Disbursement.paid_at) < start)
        )
    ).all()
    found = [
        Correction(
            reversed_on[d.entry_id],
            "donation",
            china_day(d.received_at),
            d.receipt_number,
            "",
            d.fund,
            d.amount_fen,
        )
        for d in donations
    ] + [
        Correction(
            reversed_on[p.entry_id or 0],
            "payment",
            china_day(p.paid_at or start),
            p.purpose,
            (r.masked_name if r and r.masked_name else "*"),
            p.fund,
            p.amount_fen,
        )
        for p, r in payments
    ]
    return sorted(found, key=lambda c: (c.corrected_on, c.kind, c.original_on, c.reference))
