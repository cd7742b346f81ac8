"""The public disclosure (公示) of a community fund: where every yuan came from and where it went.

Donors appear as they agreed to (匿名 when anonymous); beneficiaries never appear, only the
purpose and amount of what was paid.
"""

from __future__ import annotations

from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import domain, ledger
from linli_fund.access import check_fund_scope
from linli_fund.api.ledger_schemas import (
    DisclosedCorrection,
    DisclosedDisbursement,
    DisclosedDonation,
    DisclosureOut,
)
from linli_fund.periods import MAX_DAYS, period_rows
from linli_shared.auth import Caller
from linli_shared.clock import china_day
from linli_shared.errors import Invalid


async def disclose(
    session: AsyncSession, caller: Caller, district: str, community: str, first_day: date, last_day: date
) -> DisclosureOut:
    """Donations received and disbursements paid in a period, with totals and the funds at its end."""
    check_fund_scope(caller, district, community)
    if last_day < first_day or (last_day - first_day).days >= MAX_DAYS:
        raise Invalid(
            f"the period must run forwards and last at most {MAX_DAYS} days",
            zh=f"截止日不能早于起始日，一期最长 {MAX_DAYS} 天",
        )
    rows = await period_rows(session, district, community, first_day, last_day)
    donations = [donation for donation, _ in rows.donations]
    paid = [disbursement for disbursement, _ in rows.paid]
    balances = ledger.fund_balances(await ledger.account_balances(session, district, community, last_day))
    return DisclosureOut(
        district=district,
        community=community,
        first_day=first_day,
        last_day=last_day,
        donations=[
            DisclosedDonation(
                receipt_number=d.receipt_number,
                received_on=china_day(d.received_at),
                donor=domain.donor_display(d.donor_name, d.anonymous),
                donor_kind=d.donor_kind,
                fund=d.fund,
                amount_fen=d.amount_fen,
                reversed=rows.donation_reversed(d),
            )
            for d in donations
        ],
        disbursements=[
            DisclosedDisbursement(
                disbursement_id=d.id,
                paid_on=china_day(d.paid_at),
                purpose=d.purpose,
                fund=d.fund,
                amount_fen=d.amount_fen,
                reversed=rows.payment_reversed(d),
            )
            for d in paid
            if d.paid_at is not None
        ],
        corrections=[DisclosedCorrection(**vars(c)) for c in rows.corrections],
        received_fen=sum(d.amount_fen for d in donations if not rows.donation_reversed(d)),
        paid_fen=sum(d.amount_fen for d in paid if not rows.payment_reversed(d)),
        funds_at_end={fund.value: amount for fund, amount in balances.items()},
    )
