"""A donor's statement: their gifts and, for restricted gifts, the payments each one paid for.

Restricted money is pooled in its fund, so which payment a gift "paid for" is a convention; the
one used here is first in, first out: each payment of a restricted fund is covered by the oldest
restricted gifts that still have money left (domain.allocate_first_in_first_out). Reversed gifts
and reversed payments take no part. Beneficiaries appear as purpose and initials only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import domain
from linli_fund.access import check_fund_scope
from linli_fund.api.donations_schemas import DonorStatementOut, PaidFor, StatementGift
from linli_fund.domain import DisbursementStatus, DonationStatus, Fund
from linli_fund.models import Campaign, Disbursement, Donation, KnownResident
from linli_fund.periods import payments_with_beneficiary
from linli_shared.auth import Caller, Role
from linli_shared.clock import china_day
from linli_shared.errors import Forbidden, Invalid, NotFound


def check_may_read(caller: Caller, district: str, community: str, resident_id: str | None) -> None:
    """Fund readers see any donor's statement in their scope; a resident sees their own, by their id."""
    if caller.role is not Role.RESIDENT:
        check_fund_scope(caller, district, community)
        return
    caller.check_sees(district, community, "fund")
    if resident_id != caller.subject:
        raise Forbidden(
            "a resident may read only their own statement, by their resident id",
            zh="居民只能用本人的居民编号查看自己的捐赠明细",
        )


@dataclass
class Spending:
    """What each restricted gift paid for, and what of it is not spent yet, by gift id."""

    paid_for: dict[str, list[PaidFor]] = field(default_factory=dict)
    unspent: dict[str, int] = field(default_factory=dict)


async def donor_statement(
    session: AsyncSession,
    caller: Caller,
    district: str,
    community: str,
    *,
    donor_name: str | None = None,
    resident_id: str | None = None,
) -> DonorStatementOut:
    """What a donor gave in a community and what it paid for: found by the resident id their gifts
    carry, or by the name they were recorded under (donors who are not registered residents)."""
    if (donor_name is None) == (resident_id is None):
        raise Invalid(
            "give either donor_name or resident_id",
            zh="捐赠人（donor_name）和居民（resident_id）请填且只填一项",
        )
    check_may_read(caller, district, community, resident_id)
    mine = await gifts_of(session, district, community, donor_name=donor_name, resident_id=resident_id)
    if not mine:
        raise NotFound("no donations by this donor in this community", zh="本社区没有这位捐赠人的捐赠记录")
    spending = Spending()
    for fund in sorted({d.fund for d, _ in mine if d.fund != Fund.GENERAL.value}):
        await follow_fund(session, district, community, fund, spending)
    return DonorStatementOut(
        district=district,
        community=community,
        donor_name=mine[-1][0].donor_name,
        donor_resident_id=resident_id,
        total_fen=sum(d.amount_fen for d, _ in mine if d.status == DonationStatus.RECEIVED.value),
        gifts=[statement_gift(d, c, spending) for d, c in mine],
    )


async def gifts_of(
    session: AsyncSession, district: str, community: str, *, donor_name: str | None, resident_id: str | None
) -> Sequence[tuple[Donation, Campaign | None]]:
    whose = (
        Donation.donor_resident_id == resident_id
        if resident_id is not None
        else Donation.donor_name == donor_name
    )
    return (
        await session.exec(
            select(Donation, Campaign)
            .join(Campaign, col(Campaign.id) == col(Donation.campaign_id), isouter=True)
            .where(Donation.district == district, Donation.community == community, whose)
            .order_by(col(Donation.received_at), col(Donation.receipt_sequence))
        )
    ).all()


async def follow_fund(
    session: AsyncSession, district: str, community: str, fund: str, spending: Spending
) -> None:
    """Allocate a restricted fund's payments to its gifts, oldest money first, into `spending`."""
    gifts = (
        await session.exec(
            select(Donation)
            .where(
                Donation.district == district,
                Donation.community == community,
                Donation.fund == fund,
                Donation.status == DonationStatus.RECEIVED.value,
            )
            .order_by(col(Donation.received_at), col(Donation.receipt_sequence))
        )
    ).all()
    payments = await payments_with_beneficiary(
        session,
        district,
        community,
        Disbursement.fund == fund,
        Disbursement.status == DisbursementStatus.PAID.value,
    )
    by_id = {d.id: (d, r) for d, r in payments}
    allocation = domain.allocate_first_in_first_out(
        [(g.id, g.amount_fen) for g in gifts], [(d.id, d.amount_fen) for d, _ in payments]
    )
    for gift in gifts:
        shares = allocation.get(gift.id, [])
        spending.unspent[gift.id] = gift.amount_fen - sum(share for _, share in shares)
        spending.paid_for[gift.id] = [paid_for(*by_id[payment_id], share) for payment_id, share in shares]


def paid_for(payment: Disbursement, resident: KnownResident | None, share: int) -> PaidFor:
    return PaidFor(
        paid_on=china_day(payment.paid_at),  # type: ignore[arg-type]  # a paid disbursement has paid_at
        purpose=payment.purpose,
        beneficiary=(resident.masked_name if resident else "") or "*",
        amount_fen=share,
    )


def statement_gift(donation: Donation, campaign: Campaign | None, spending: Spending) -> StatementGift:
    reversed_ = donation.status == DonationStatus.REVERSED.value
    unspent = None  # general money is not followed
    if donation.fund != Fund.GENERAL.value:
        unspent = 0 if reversed_ else spending.unspent.get(donation.id, donation.amount_fen)
    return StatementGift(
        receipt_number=donation.receipt_number,
        received_on=china_day(donation.received_at),
        campaign=campaign.name if campaign else None,
        fund=donation.fund,
        amount_fen=donation.amount_fen,
        reversed=reversed_,
        paid_for=spending.paid_for.get(donation.id, []),
        unspent_fen=unspent,
    )
