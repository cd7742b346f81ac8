"""The public disclosure (公示) of a community fund: where every yuan came from and where it went.

Donors appear as they agreed to (匿名 when anonymous); beneficiaries never appear, only the
purpose and amount of what was paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import domain, ledger, schemas
from linli_fund.domain import CHINA_TIME, DisbursementStatus, DonationStatus
from linli_fund.models import Campaign, Disbursement, Donation, KnownResident
from linli_fund.usecases import check_fund_scope
from linli_shared.auth import Caller
from linli_shared.errors import Invalid

MAX_DAYS = 366


def china_day(moment: datetime) -> date:
    return moment.astimezone(CHINA_TIME).date()


@dataclass(frozen=True)
class PeriodRows:
    """What a period holds: donations received (with their campaign) and payments made (with the
    beneficiary's read-model row, for masked initials)."""

    donations: list[tuple[Donation, Campaign | None]]
    paid: list[tuple[Disbursement, KnownResident | None]]


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
    paid = (
        await session.exec(
            select(Disbursement, KnownResident)
            .join(
                KnownResident, col(KnownResident.resident_id) == col(Disbursement.resident_id), isouter=True
            )
            .where(
                Disbursement.district == district,
                Disbursement.community == community,
                col(Disbursement.paid_at) >= start,
                col(Disbursement.paid_at) < end,
            )
            .order_by(col(Disbursement.paid_at), col(Disbursement.id))
        )
    ).all()
    return PeriodRows(donations=list(donations), paid=list(paid))


async def disclose(
    session: AsyncSession, caller: Caller, district: str, community: str, first_day: date, last_day: date
) -> schemas.DisclosureOut:
    """Donations received and disbursements paid in a period, with totals and the funds at its end."""
    check_fund_scope(caller, district, community)
    if last_day < first_day or (last_day - first_day).days >= MAX_DAYS:
        raise Invalid(f"the period must run forwards and last at most {MAX_DAYS} days")
    rows = await period_rows(session, district, community, first_day, last_day)
    donations = [donation for donation, _ in rows.donations]
    paid = [disbursement for disbursement, _ in rows.paid]
    balances = ledger.fund_balances(await ledger.account_balances(session, district, community, last_day))
    return schemas.DisclosureOut(
        district=district,
        community=community,
        first_day=first_day,
        last_day=last_day,
        donations=[
            schemas.DisclosedDonation(
                receipt_number=d.receipt_number,
                received_on=china_day(d.received_at),
                donor=domain.donor_display(d.donor_name, d.anonymous),
                donor_kind=d.donor_kind,
                fund=d.fund,
                amount_fen=d.amount_fen,
                reversed=d.status == DonationStatus.REVERSED.value,
            )
            for d in donations
        ],
        disbursements=[
            schemas.DisclosedDisbursement(
                disbursement_id=d.id,
                paid_on=china_day(d.paid_at),
                purpose=d.purpose,
                fund=d.fund,
                amount_fen=d.amount_fen,
                reversed=d.status == DisbursementStatus.REVERSED.value,
            )
            for d in paid
            if d.paid_at is not None
        ],
        received_fen=sum(d.amount_fen for d in donations if d.status == DonationStatus.RECEIVED.value),
        paid_fen=sum(d.amount_fen for d in paid if d.status == DisbursementStatus.PAID.value),
        funds_at_end={fund.value: amount for fund, amount in balances.items()},
    )
