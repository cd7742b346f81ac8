"""A donor's statement: their gifts and, for restricted gifts, the payments each one paid for.

Restricted money is pooled in its fund, so which payment a gift "paid for" is a convention; the
one used here is first in, first out: each payment of a restricted fund is covered by the oldest
restricted gifts that still have money left (domain.allocate_first_in_first_out). Reversed gifts
and reversed payments take no part. Beneficiaries appear as purpose and initials only.
"""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import domain, schemas
from linli_fund.domain import DisbursementStatus, DonationStatus, Fund
from linli_fund.models import Campaign, Disbursement, Donation, KnownResident
from linli_fund.usecases import check_fund_scope
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
        raise Forbidden("a resident may read only their own statement, by their resident id")


async def donor_statement(
    session: AsyncSession,
    caller: Caller,
    district: str,
    community: str,
    *,
    donor_name: str | None = None,
    resident_id: str | None = None,
) -> schemas.DonorStatementOut:
    """What a donor gave in a community and what it paid for: found by the resident id their gifts
    carry, or by the name they were recorded under (donors who are not registered residents)."""
    if (donor_name is None) == (resident_id is None):
        raise Invalid("give either donor_name or resident_id")
    check_may_read(caller, district, community, resident_id)
    whose = (
        Donation.donor_resident_id == resident_id
        if resident_id is not None
        else Donation.donor_name == donor_name
    )
    mine = (
        await session.exec(
            select(Donation, Campaign)
            .join(Campaign, col(Campaign.id) == col(Donation.campaign_id), isouter=True)
            .where(Donation.district == district, Donation.community == community, whose)
            .order_by(col(Donation.received_at), col(Donation.receipt_sequence))
        )
    ).all()
    if not mine:
        raise NotFound("no donations by this donor in this community")
    restricted_funds = {d.fund for d, _ in mine if d.fund != Fund.GENERAL.value}
    paid_for: dict[str, list[schemas.PaidFor]] = {}
    unspent: dict[str, int] = {}
    for fund in sorted(restricted_funds):
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
        payments = (
            await session.exec(
                select(Disbursement, KnownResident)
                .join(
                    KnownResident,
                    col(KnownResident.resident_id) == col(Disbursement.resident_id),
                    isouter=True,
                )
                .where(
                    Disbursement.district == district,
                    Disbursement.community == community,
                    Disbursement.fund == fund,
                    Disbursement.status == DisbursementStatus.PAID.value,
                )
                .order_by(col(Disbursement.paid_at), col(Disbursement.id))
            )
        ).all()
        by_id = {d.id: (d, r) for d, r in payments}
        allocation = domain.allocate_first_in_first_out(
            [(g.id, g.amount_fen) for g in gifts], [(d.id, d.amount_fen) for d, _ in payments]
        )
        for gift in gifts:
            shares = allocation.get(gift.id, [])
            unspent[gift.id] = gift.amount_fen - sum(share for _, share in shares)
            paid_for[gift.id] = [
                schemas.PaidFor(
                    paid_on=china_day(by_id[payment_id][0].paid_at),  # type: ignore[arg-type]
                    purpose=by_id[payment_id][0].purpose,
                    beneficiary=(by_id[payment_id][1].masked_name if by_id[payment_id][1] else "") or "*",
                    amount_fen=share,
                )
                for payment_id, share in shares
            ]
    return schemas.DonorStatementOut(
        district=district,
        community=community,
        donor_name=mine[-1][0].donor_name,
        donor_resident_id=resident_id,
        total_fen=sum(d.amount_fen for d, _ in mine if d.status == DonationStatus.RECEIVED.value),
        gifts=[
            schemas.StatementGift(
                receipt_number=d.receipt_number,
                received_on=china_day(d.received_at),
                campaign=c.name if c else None,
                fund=d.fund,
                amount_fen=d.amount_fen,
                reversed=d.status == DonationStatus.REVERSED.value,
                paid_for=paid_for.get(d.id, []),
                unspent_fen=(
                    None
                    if d.fund == Fund.GENERAL.value
                    else 0
                    if d.status == DonationStatus.REVERSED.value
                    else unspent.get(d.id, d.amount_fen)
                ),
            )
            for d, c in mine
        ],
    )
