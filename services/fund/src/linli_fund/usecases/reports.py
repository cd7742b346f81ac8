"""The fund's section of the monthly report: donations and disbursements of the month and each fund's
balance at its end, per community.

The figures are the disclosure's (usecases/disclosure.py) for the month as one period, from the same
queries (periods.period_rows): gifts received and payments made in the month, less those reversed
by its end, and each fund's balance from the journal at the end of its last day (China time), which
is what `…/trial-balance?as_of=<last day>` answers too.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import ledger
from linli_fund.models import Donation, GuardedBalance
from linli_fund.periods import period_rows
from linli_shared.auth import Caller, Role
from linli_shared.monthly_report import REPORT_READERS, Month, Place, ReportScope, report_scope

READERS = (*REPORT_READERS, Role.FUND_OFFICER)
"""The report's readers, and the fund officers, who keep the books it sums."""


async def monthly_report(
    session: AsyncSession, caller: Caller, month: Month, district: str | None, community: str | None
) -> dict[str, Any]:
    """One entry per community in the caller's scope with a fund (or the one named)."""
    scope = report_scope(caller, district, community, READERS)
    communities = []
    for place in scope.places(await _places_with_a_fund(session, scope)):
        communities.append(await _community_month(session, place, month))
    return {"month": month.label, "communities": communities}


async def _places_with_a_fund(session: AsyncSession, scope: ReportScope) -> list[Place]:
    places: list[Place] = []
    for model in (GuardedBalance, Donation):  # a chart is made on first use; a gift always posts
        statement: Any = select(col(model.district), col(model.community)).distinct()
        if scope.district is not None:
            statement = statement.where(col(model.district) == scope.district)
        if scope.community is not None:
            statement = statement.where(col(model.community) == scope.community)
        places.extend((d, c) for d, c in (await session.exec(statement)).all())
    return places


async def _community_month(session: AsyncSession, place: Place, month: Month) -> dict[str, Any]:
    district, community = place
    rows = await period_rows(session, district, community, month.first_day, month.last_day)
    donations = [d for d, _ in rows.donations if not rows.donation_reversed(d)]
    paid = [p for p, _ in rows.paid if not rows.payment_reversed(p)]
    balances = ledger.fund_balances(
        await ledger.account_balances(session, district, community, month.last_day)
    )
    funds = {fund.value: amount for fund, amount in balances.items()}
    return {
        "district": district,
        "community": community,
        "donations": len(donations),
        "donations_fen": sum(d.amount_fen for d in donations),
        "disbursements": len(paid),
        "disbursements_fen": sum(p.amount_fen for p in paid),
        "funds_at_end": funds,
        "balance_at_end_fen": sum(funds.values()),
    }
