"""Published disclosures (公示): a period's public report, frozen when published and chained by hash.

Publishing builds the report from the journal's records (income by source and campaign, spending
by purpose, each fund's balance, every donation with the donor's chosen display name, every
payment with its purpose and the beneficiary's masked initials, never their name or id) and the
names of its district and community as the fund knows them then (from the registry's place.named;
null while unknown, and the page shows the codes), stores it as canonical JSON and hashes it
together with the previous period's hash. Nothing ever updates a published row, so
`verification.verify` recomputing the hashes shows any later silent change; the newest hash, posted on
the notice board next to the page, anchors the chain's end.

The reading side (JSON, CSV, HTML) is public: anyone may read a published report without a token.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import ledger
from linli_fund.access import OFFICERS, check_fund_scope, latest_published, load_own_publication
from linli_fund.api.publication_schemas import PublicationIn
from linli_fund.domain import donor_display
from linli_fund.domain.disclosure import canonical, chained_hash
from linli_fund.models import KnownPlace, PublishedDisclosure
from linli_fund.periods import MAX_DAYS, PeriodRows, period_rows
from linli_shared.auth import Caller
from linli_shared.clock import CHINA_TIME, china_day
from linli_shared.contracts.fund import DisclosurePublished
from linli_shared.database import flush_or_conflict
from linli_shared.errors import Conflict, Invalid
from linli_shared.places import place_names
from linli_shared.unit_of_work import Made, Work, write

NO_CAMPAIGN = "日常捐赠"


def totals(rows: PeriodRows) -> dict[str, Any]:
    """Income by source and by campaign, spending by purpose: what was not reversed by the end."""
    by_source: dict[str, int] = defaultdict(int)
    by_campaign: dict[str, int] = defaultdict(int)
    for donation, campaign in rows.donations:
        if not rows.donation_reversed(donation):
            by_source[donation.donor_kind] += donation.amount_fen
            by_campaign[campaign.name if campaign else NO_CAMPAIGN] += donation.amount_fen
    by_purpose: dict[str, int] = defaultdict(int)
    for disbursement, _ in rows.paid:
        if not rows.payment_reversed(disbursement):
            by_purpose[disbursement.purpose] += disbursement.amount_fen
    return {
        "income": {
            "total_fen": sum(by_source.values()),
            "by_source": dict(sorted(by_source.items())),
            "by_campaign": dict(sorted(by_campaign.items())),
        },
        "spending": {"total_fen": sum(by_purpose.values()), "by_purpose": dict(sorted(by_purpose.items()))},
    }


def lines(rows: PeriodRows) -> dict[str, list[dict[str, Any]]]:
    """Every donation, payment and correction of the period; beneficiaries as initials only."""
    return {
        "donations": [
            {
                "receipt_number": donation.receipt_number,
                "received_on": china_day(donation.received_at).isoformat(),
                "donor": donor_display(donation.donor_name, donation.anonymous),
                "donor_kind": donation.donor_kind,
                "campaign": campaign.name if campaign else None,
                "fund": donation.fund,
                "amount_fen": donation.amount_fen,
                "reversed": rows.donation_reversed(donation),
            }
            for donation, campaign in rows.donations
        ],
        "disbursements": [
            {
                "paid_on": china_day(disbursement.paid_at).isoformat(),
                "purpose": disbursement.purpose,
                "beneficiary": (resident.masked_name if resident and resident.masked_name else "*"),
                "fund": disbursement.fund,
                "amount_fen": disbursement.amount_fen,
                "reversed": rows.payment_reversed(disbursement),
            }
            for disbursement, resident in rows.paid
            if disbursement.paid_at is not None
        ],
        "corrections": [
            {
                **vars(correction),
                "corrected_on": correction.corrected_on.isoformat(),
                "original_on": correction.original_on.isoformat(),
            }
            for correction in rows.corrections
        ],
    }


async def build_report(
    session: AsyncSession, district: str, community: str, first_day: date, last_day: date
) -> dict[str, Any]:
    """What a period's public report says, as plain JSON-ready values (amounts in fen)."""
    rows = await period_rows(session, district, community, first_day, last_day)
    balances = ledger.fund_balances(await ledger.account_balances(session, district, community, last_day))
    names = await place_names(session, KnownPlace, district, community)
    return {
        "district": district,
        "community": community,
        "district_name": names.district_name,  # None until the registry's place.named arrives
        "community_name": names.community_name,
        "first_day": first_day.isoformat(),
        "last_day": last_day.isoformat(),
        **totals(rows),
        "funds_at_end": {fund.value: amount for fund, amount in balances.items()},
        **lines(rows),
    }


@write(replay=load_own_publication)
async def publish(
    uow: Work, caller: Caller, district: str, community: str, data: PublicationIn
) -> Made[PublishedDisclosure]:
    """Freeze a period's report, after the last published one, chained to its hash; fund officers only."""
    check_fund_scope(caller, district, community, *OFFICERS)
    first_day, last_day = data.first_day, data.last_day
    if last_day < first_day or (last_day - first_day).days >= MAX_DAYS:
        raise Invalid(
            f"the period must run forwards and last at most {MAX_DAYS} days",
            zh=f"截止日不能早于起始日，一期最长 {MAX_DAYS} 天",
        )
    if last_day >= china_day(uow.now):
        raise Invalid(
            "a period can be published only once it has ended (its last day is over, China time)",
            zh="账期结束后才能公示（截止日按北京时间过完之后）",
        )
    await ledger.ensure_chart(uow.session, district, community)
    await ledger.lock_books(uow.session, district, community)  # a gift booked on an earlier day waits
    previous = await latest_published(uow.session, district, community)
    if previous is not None and first_day <= previous.last_day:  # perhaps by a twin (same key)
        raise Conflict(
            f"periods up to {previous.last_day} are already published",
            zh=f"{previous.last_day} 及以前的账期已经公示过了",
        )
    sequence = previous.sequence + 1 if previous else 1
    report = await build_report(uow.session, district, community, first_day, last_day)
    report |= {
        "sequence": sequence,
        "published_at": uow.now.astimezone(CHINA_TIME).isoformat(timespec="seconds"),
    }
    report_json = canonical(report)
    previous_sha256 = previous.sha256 if previous else None
    published = PublishedDisclosure(
        district=district,
        community=community,
        sequence=sequence,
        first_day=first_day,
        last_day=last_day,
        report=report_json,
        sha256=chained_hash(previous_sha256, report_json),
        previous_sha256=previous_sha256,
        published_by=caller.subject,
        published_at=uow.now,
    )
    uow.session.add(published)
    await flush_or_conflict(uow.session, "another publication of this community came first; try again")
    uow.record(
        DisclosurePublished(
            sequence=sequence,
            first_day=first_day,
            last_day=last_day,
            sha256=published.sha256,
            previous_sha256=previous_sha256,
        ),
        district=district,
        community=community,
    )
    return Made(str(sequence), published)


async def published_list(session: AsyncSession, district: str, community: str) -> list[PublishedDisclosure]:
    statement = (
        select(PublishedDisclosure)
        .where(PublishedDisclosure.district == district, PublishedDisclosure.community == community)
        .order_by(col(PublishedDisclosure.sequence))
    )
    return list((await session.exec(statement)).all())
