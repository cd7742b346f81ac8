"""Published disclosures (公示): a period's public report, frozen when published and chained by hash.

Publishing builds the report from the journal's records (income by source and campaign, spending
by purpose, each fund's balance, every donation with the donor's chosen display name, every
payment with its purpose and the beneficiary's masked initials, never their name or id), stores
it as canonical JSON and hashes it together with the previous period's hash. Nothing ever updates
a published row, so `verify_chain` recomputing the hashes shows any later silent change; the
newest hash, posted on the notice board next to the page, anchors the chain's end.

The reading side (JSON, CSV, HTML) is public: anyone may read a published report without a token.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import ledger, schemas
from linli_fund.disclosure import MAX_DAYS, period_rows
from linli_fund.domain import ANONYMOUS, donor_display
from linli_fund.models import PublishedDisclosure
from linli_fund.usecases import OFFICERS, check_fund_scope
from linli_shared.auth import Caller
from linli_shared.clock import CHINA_TIME, china_day
from linli_shared.contracts.fund import DisclosurePublished
from linli_shared.errors import Conflict, Invalid, NotFound
from linli_shared.idempotency import IdempotentRequest, commit_once, previous_result, replay_or_raise
from linli_shared.outbox import record_event

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
NO_CAMPAIGN = "日常捐赠"
PURPOSE_LABELS = {"education": "助学", "medical": "医疗救助", "relief": "困难帮扶"}
FUND_LABELS = {"general": "综合基金", "education": "助学基金", "medical": "医疗基金", "relief": "帮扶基金"}
SOURCE_LABELS = {"resident": "居民", "party_member": "党员", "enterprise": "爱心企业", "outsider": "社会人士"}


def canonical(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def chained_hash(previous_sha256: str | None, report_json: str) -> str:
    """The link of one period: its report's canonical JSON, bound to the previous period's hash."""
    return hashlib.sha256(f"{previous_sha256 or ''}\n{report_json}".encode()).hexdigest()


async def build_report(
    session: AsyncSession, district: str, community: str, first_day: date, last_day: date
) -> dict[str, Any]:
    """What a period's public report says, as plain JSON-ready values (amounts in fen)."""
    rows = await period_rows(session, district, community, first_day, last_day)
    donations, paid = rows.donations, rows.paid
    by_source: dict[str, int] = defaultdict(int)
    by_campaign: dict[str, int] = defaultdict(int)
    for donation, campaign in donations:
        if not rows.donation_reversed(donation):
            by_source[donation.donor_kind] += donation.amount_fen
            by_campaign[campaign.name if campaign else NO_CAMPAIGN] += donation.amount_fen
    by_purpose: dict[str, int] = defaultdict(int)
    for disbursement, _ in paid:
        if not rows.payment_reversed(disbursement):
            by_purpose[disbursement.purpose] += disbursement.amount_fen
    balances = ledger.fund_balances(await ledger.account_balances(session, district, community, last_day))
    return {
        "district": district,
        "community": community,
        "first_day": first_day.isoformat(),
        "last_day": last_day.isoformat(),
        "income": {
            "total_fen": sum(by_source.values()),
            "by_source": dict(sorted(by_source.items())),
            "by_campaign": dict(sorted(by_campaign.items())),
        },
        "spending": {"total_fen": sum(by_purpose.values()), "by_purpose": dict(sorted(by_purpose.items()))},
        "funds_at_end": {fund.value: amount for fund, amount in balances.items()},
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
            for donation, campaign in donations
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
            for disbursement, resident in paid
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


async def latest(session: AsyncSession, district: str, community: str) -> PublishedDisclosure | None:
    statement = (
        select(PublishedDisclosure)
        .where(PublishedDisclosure.district == district, PublishedDisclosure.community == community)
        .order_by(col(PublishedDisclosure.sequence).desc())
        .limit(1)
    )
    return (await session.exec(statement)).first()


async def publish(
    session: AsyncSession,
    caller: Caller,
    district: str,
    community: str,
    data: schemas.PublicationIn,
    *,
    idempotency: IdempotentRequest | None,
    now: datetime,
) -> PublishedDisclosure:
    """Freeze a period's report, after the last published one, chained to its hash; fund officers only."""
    check_fund_scope(caller, district, community, *OFFICERS)
    if idempotency and (replayed := await previous_result(session, idempotency)):
        return await load_published(session, district, community, int(replayed))

    async def replay(found: str) -> PublishedDisclosure:
        return await load_published(session, district, community, int(found))

    first_day, last_day = data.first_day, data.last_day
    if last_day < first_day or (last_day - first_day).days >= MAX_DAYS:
        raise Invalid(f"the period must run forwards and last at most {MAX_DAYS} days")
    if last_day >= china_day(now):
        raise Invalid("a period can be published only once it has ended (its last day is over, China time)")
    previous = await latest(session, district, community)
    if previous is not None and first_day <= previous.last_day:  # perhaps by a twin (same key)
        already = Conflict(f"periods up to {previous.last_day} are already published")
        return await replay_or_raise(session, idempotency, already, replay)
    sequence = previous.sequence + 1 if previous else 1
    report = await build_report(session, district, community, first_day, last_day)
    report |= {"sequence": sequence, "published_at": now.astimezone(CHINA_TIME).isoformat(timespec="seconds")}
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
        published_at=now,
    )
    session.add(published)
    record_event(
        session,
        DisclosurePublished(
            sequence=sequence, first_day=first_day, last_day=last_day, sha256=published.sha256
        ),
        district=district,
        community=community,
        now=now,
    )
    try:
        return await commit_once(
            session,
            idempotency,
            str(sequence),
            replay,
            published,
        )
    except IntegrityError as error:  # commit_once has rolled back
        raise Conflict("another publication of this community came first; try again") from error


async def published_list(session: AsyncSession, district: str, community: str) -> list[PublishedDisclosure]:
    statement = (
        select(PublishedDisclosure)
        .where(PublishedDisclosure.district == district, PublishedDisclosure.community == community)
        .order_by(col(PublishedDisclosure.sequence))
    )
    return list((await session.exec(statement)).all())


async def load_published(
    session: AsyncSession, district: str, community: str, sequence: int
) -> PublishedDisclosure:
    statement = select(PublishedDisclosure).where(
        PublishedDisclosure.district == district,
        PublishedDisclosure.community == community,
        PublishedDisclosure.sequence == sequence,
    )
    if (published := (await session.exec(statement)).first()) is None:
        raise NotFound("no report is published for this period")
    return published


def verify_rows(rows: list[PublishedDisclosure]) -> schemas.ChainVerificationOut:
    """Recompute every link: a changed report, hash, or a missing period shows where the chain breaks."""
    previous_sha256: str | None = None
    for expected_sequence, row in enumerate(rows, start=1):
        problem = None
        if row.sequence != expected_sequence:
            problem = f"period {expected_sequence} is missing"
        elif row.previous_sha256 != previous_sha256:
            problem = "it does not point at the previous period's hash"
        elif chained_hash(row.previous_sha256, row.report) != row.sha256:
            problem = "its report no longer matches its hash"
        if problem:
            return schemas.ChainVerificationOut(
                valid=False, periods=len(rows), broken_at=row.sequence, problem=problem, latest_sha256=None
            )
        previous_sha256 = row.sha256
    return schemas.ChainVerificationOut(
        valid=True, periods=len(rows), broken_at=None, problem=None, latest_sha256=previous_sha256
    )


async def verify_chain(session: AsyncSession, district: str, community: str) -> schemas.ChainVerificationOut:
    return verify_rows(await published_list(session, district, community))


def published_out(published: PublishedDisclosure) -> schemas.PublishedDisclosureOut:
    return schemas.PublishedDisclosureOut(
        sequence=published.sequence,
        first_day=published.first_day,
        last_day=published.last_day,
        sha256=published.sha256,
        previous_sha256=published.previous_sha256,
        published_at=published.published_at,
        report=json.loads(published.report),
    )


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def as_csv(published: PublishedDisclosure) -> str:
    """One table a spreadsheet opens (UTF-8 with BOM): every line of the report, then its totals."""
    report = json.loads(published.report)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(
        ["section", "date", "reference", "name", "kind", "campaign", "fund", "amount_yuan", "reversed"]
    )
    for d in report["donations"]:
        writer.writerow(
            [
                "donation",
                d["received_on"],
                d["receipt_number"],
                d["donor"],
                d["donor_kind"],
                d["campaign"] or "",
                d["fund"],
                yuan(d["amount_fen"]),
                "yes" if d["reversed"] else "",
            ]
        )
    for p in report["disbursements"]:
        writer.writerow(
            [
                "payment",
                p["paid_on"],
                "",
                p["beneficiary"],
                p["purpose"],
                "",
                p["fund"],
                yuan(p["amount_fen"]),
                "yes" if p["reversed"] else "",
            ]
        )
    for c in report.get("corrections", []):  # reports published before corrections were listed lack it
        writer.writerow(
            [
                f"correction_of_{c['kind']}",
                c["corrected_on"],
                c["reference"],
                c["beneficiary"],
                c["original_on"],
                "",
                c["fund"],
                yuan(-c["amount_fen"] if c["kind"] == "donation" else c["amount_fen"]),
                "yes",
            ]
        )
    for kind, amount in report["income"]["by_source"].items():
        writer.writerow(["income_by_source", "", "", "", kind, "", "", yuan(amount), ""])
    for campaign, amount in report["income"]["by_campaign"].items():
        writer.writerow(["income_by_campaign", "", "", "", "", campaign, "", yuan(amount), ""])
    for purpose, amount in report["spending"]["by_purpose"].items():
        writer.writerow(["spending_by_purpose", "", "", "", purpose, "", "", yuan(amount), ""])
    for fund, amount in report["funds_at_end"].items():
        writer.writerow(["fund_balance", report["last_day"], "", "", "", "", fund, yuan(amount), ""])
    writer.writerow(["sha256", "", published.sha256, "", "", "", "", "", ""])
    writer.writerow(["previous_sha256", "", published.previous_sha256 or "", "", "", "", "", "", ""])
    return out.getvalue()


def as_html(published: PublishedDisclosure) -> str:
    report = json.loads(published.report)
    return TEMPLATES.get_template("disclosure.html").render(
        report=report,
        sha256=published.sha256,
        previous_sha256=published.previous_sha256,
        yuan=yuan,
        purpose_label=lambda purpose: PURPOSE_LABELS.get(purpose, purpose),
        fund_label=lambda fund: FUND_LABELS.get(fund, fund),
        source_label=lambda kind: SOURCE_LABELS.get(kind, kind),
        anonymous=ANONYMOUS,
    )
