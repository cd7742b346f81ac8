"""HTTP routes: translate requests to use cases and results to responses, nothing more."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import commitments, disbursements, disclosure, publication, schemas, statements, usecases
from linli_fund.models import Campaign, Commitment, Disbursement, Donation, JournalEntry
from linli_shared.auth import CallerDep
from linli_shared.clock import utc_now
from linli_shared.idempotency import IdempotencyDep
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.service import SessionDep

router = APIRouter(prefix="/v1")
AsOfQuery = Annotated[date | None, Query(description="Balances at the end of this day (China time).")]


async def campaign_out(session: AsyncSession, campaign: Campaign) -> schemas.CampaignOut:
    raised, count = await usecases.campaign_progress(session, campaign.id)
    return schemas.CampaignOut(**campaign.model_dump(), raised_fen=raised, donations=count)


async def entries_out(session: AsyncSession, entries: list[JournalEntry]) -> list[schemas.EntryOut]:
    postings = await usecases.postings_of(session, [e.id for e in entries if e.id is not None])
    return [
        schemas.EntryOut(
            **entry.model_dump(),
            postings=[
                schemas.PostingOut(account=p.account, amount=p.amount) for p in postings[entry.id or 0]
            ],
        )
        for entry in entries
    ]


@router.post("/campaigns", status_code=201, response_model=schemas.CampaignOut, tags=["donations"])
async def create_campaign(
    data: schemas.CampaignIn, session: SessionDep, caller: CallerDep, idempotency: IdempotencyDep
) -> object:
    campaign = await usecases.create_campaign(session, caller, data, idempotency=idempotency, now=utc_now())
    return await campaign_out(session, campaign)


@router.get("/campaigns", response_model=Page[schemas.CampaignOut], tags=["donations"])
async def list_campaigns(
    session: SessionDep, caller: CallerDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> object:
    page = await usecases.list_visible(session, caller, Campaign, cursor=cursor, limit=limit)
    return Page(items=[await campaign_out(session, c) for c in page.items], next_cursor=page.next_cursor)


@router.get("/campaigns/{campaign_id}", response_model=schemas.CampaignOut, tags=["donations"])
async def get_campaign(campaign_id: str, session: SessionDep, caller: CallerDep) -> object:
    return await campaign_out(session, await usecases.load_campaign(session, caller, campaign_id))


@router.post("/donations", status_code=201, response_model=schemas.DonationOut, tags=["donations"])
async def record_donation(
    data: schemas.DonationIn, session: SessionDep, caller: CallerDep, idempotency: IdempotencyDep
) -> object:
    donation = await usecases.record_donation(session, caller, data, idempotency=idempotency, now=utc_now())
    return donation.model_dump()


@router.get("/donations", response_model=Page[schemas.DonationOut], tags=["donations"])
async def list_donations(
    session: SessionDep, caller: CallerDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> object:
    page = await usecases.list_visible(session, caller, Donation, cursor=cursor, limit=limit)
    return Page(items=[d.model_dump() for d in page.items], next_cursor=page.next_cursor)


@router.get("/donations/{donation_id}", response_model=schemas.DonationOut, tags=["donations"])
async def get_donation(donation_id: str, session: SessionDep, caller: CallerDep) -> object:
    return (await usecases.load_donation(session, caller, donation_id)).model_dump()


@router.post(
    "/disbursements", status_code=201, response_model=schemas.DisbursementOut, tags=["disbursements"]
)
async def request_disbursement(
    data: schemas.DisbursementIn,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    idempotency: IdempotencyDep,
) -> object:
    disbursement = await disbursements.request_disbursement(
        session,
        caller,
        data,
        second_approval_above=request.app.state.settings.second_approval_above_fen,
        idempotency=idempotency,
        now=utc_now(),
    )
    return disbursement.model_dump()


@router.get("/disbursements", response_model=Page[schemas.DisbursementOut], tags=["disbursements"])
async def list_disbursements(
    session: SessionDep, caller: CallerDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> object:
    page = await usecases.list_visible(session, caller, Disbursement, cursor=cursor, limit=limit)
    return Page(items=[d.model_dump() for d in page.items], next_cursor=page.next_cursor)


@router.get(
    "/disbursements/{disbursement_id}", response_model=schemas.DisbursementOut, tags=["disbursements"]
)
async def get_disbursement(disbursement_id: str, session: SessionDep, caller: CallerDep) -> object:
    return (await disbursements.load_disbursement(session, caller, disbursement_id)).model_dump()


@router.post(
    "/disbursements/{disbursement_id}/approvals",
    response_model=schemas.DisbursementOut,
    tags=["disbursements"],
)
async def approve_disbursement(
    disbursement_id: str, session: SessionDep, caller: CallerDep, idempotency: IdempotencyDep
) -> object:
    disbursement = await disbursements.approve_disbursement(
        session, caller, disbursement_id, idempotency=idempotency, now=utc_now()
    )
    return disbursement.model_dump()


@router.post(
    "/disbursements/{disbursement_id}/rejection",
    response_model=schemas.DisbursementOut,
    tags=["disbursements"],
)
async def reject_disbursement(
    disbursement_id: str,
    data: schemas.RejectionIn,
    session: SessionDep,
    caller: CallerDep,
    idempotency: IdempotencyDep,
) -> object:
    disbursement = await disbursements.reject_disbursement(
        session, caller, disbursement_id, data, idempotency=idempotency, now=utc_now()
    )
    return disbursement.model_dump()


@router.post(
    "/disbursements/{disbursement_id}/payment", response_model=schemas.DisbursementOut, tags=["disbursements"]
)
async def pay_disbursement(
    disbursement_id: str,
    data: schemas.PaymentIn,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    idempotency: IdempotencyDep,
) -> object:
    disbursement = await disbursements.pay_disbursement(
        session,
        caller,
        disbursement_id,
        data,
        balance_low_below=request.app.state.settings.balance_low_below_fen,
        idempotency=idempotency,
        now=utc_now(),
    )
    return disbursement.model_dump()


@router.post(
    "/entries/{entry_id}/reversal", status_code=201, response_model=schemas.EntryOut, tags=["ledger"]
)
async def reverse_entry(
    entry_id: int,
    data: schemas.ReversalIn,
    session: SessionDep,
    caller: CallerDep,
    idempotency: IdempotencyDep,
) -> object:
    reversal = await usecases.reverse_entry(
        session, caller, entry_id, data, idempotency=idempotency, now=utc_now()
    )
    return (await entries_out(session, [reversal]))[0]


@router.get("/funds/{district}/{community}", response_model=schemas.FundOut, tags=["ledger"])
async def get_fund(district: str, community: str, session: SessionDep, caller: CallerDep) -> object:
    return await usecases.fund_summary(session, caller, district, community)


@router.get(
    "/funds/{district}/{community}/trial-balance", response_model=schemas.TrialBalanceOut, tags=["ledger"]
)
async def get_trial_balance(
    district: str, community: str, session: SessionDep, caller: CallerDep, as_of: AsOfQuery = None
) -> object:
    return await usecases.get_trial_balance(session, caller, district, community, as_of)


@router.get("/funds/{district}/{community}/entries", response_model=Page[schemas.EntryOut], tags=["ledger"])
async def list_entries(
    district: str,
    community: str,
    session: SessionDep,
    caller: CallerDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    page = await usecases.list_entries(session, caller, district, community, cursor=cursor, limit=limit)
    return Page(items=await entries_out(session, page.items), next_cursor=page.next_cursor)


@router.get("/funds/{district}/{community}/disclosure", response_model=schemas.DisclosureOut, tags=["ledger"])
async def get_disclosure(
    district: str,
    community: str,
    first_day: Annotated[date, Query(description="First day of the period (China time).")],
    last_day: Annotated[date, Query(description="Last day of the period, included.")],
    session: SessionDep,
    caller: CallerDep,
) -> object:
    return await disclosure.disclose(session, caller, district, community, first_day, last_day)


@router.get(
    "/funds/{district}/{community}/donor-statement",
    response_model=schemas.DonorStatementOut,
    tags=["donations"],
)
async def get_donor_statement(
    district: str,
    community: str,
    session: SessionDep,
    caller: CallerDep,
    donor_name: Annotated[
        str | None, Query(min_length=1, max_length=200, description="As the gifts were recorded.")
    ] = None,
    resident_id: Annotated[
        str | None,
        Query(
            min_length=1, max_length=36, description="A resident donor's registry id (instead of the name)."
        ),
    ] = None,
) -> object:
    """A donor's gifts and what the restricted ones paid for; a resident may read their own, by id."""
    return await statements.donor_statement(
        session, caller, district, community, donor_name=donor_name, resident_id=resident_id
    )


@router.post("/commitments", status_code=201, response_model=schemas.CommitmentOut, tags=["commitments"])
async def make_commitment(
    data: schemas.CommitmentIn, session: SessionDep, caller: CallerDep, idempotency: IdempotencyDep
) -> object:
    commitment = await commitments.make_commitment(
        session, caller, data, idempotency=idempotency, now=utc_now()
    )
    return commitment.model_dump()


@router.get("/commitments", response_model=Page[schemas.CommitmentOut], tags=["commitments"])
async def list_commitments(
    session: SessionDep, caller: CallerDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> object:
    page = await usecases.list_visible(session, caller, Commitment, cursor=cursor, limit=limit)
    return Page(items=[c.model_dump() for c in page.items], next_cursor=page.next_cursor)


@router.get("/commitments/{commitment_id}", response_model=schemas.CommitmentOut, tags=["commitments"])
async def get_commitment(commitment_id: str, session: SessionDep, caller: CallerDep) -> object:
    return (await commitments.load_commitment(session, caller, commitment_id)).model_dump()


@router.get("/commitments/{commitment_id}/schedule", response_model=schemas.ScheduleOut, tags=["commitments"])
async def get_commitment_schedule(commitment_id: str, session: SessionDep, caller: CallerDep) -> object:
    return await commitments.commitment_schedule(session, caller, commitment_id, now=utc_now())


@router.post(
    "/commitments/{commitment_id}/release", response_model=schemas.CommitmentOut, tags=["commitments"]
)
async def release_commitment(
    commitment_id: str, session: SessionDep, caller: CallerDep, idempotency: IdempotencyDep
) -> object:
    commitment = await commitments.release_commitment(
        session, caller, commitment_id, idempotency=idempotency, now=utc_now()
    )
    return commitment.model_dump()


@router.get(
    "/funds/{district}/{community}/ledger.beancount",
    response_class=PlainTextResponse,
    tags=["ledger"],
    responses={200: {"content": {"text/plain": {}}, "description": "The journal in Beancount syntax."}},
)
async def export_beancount(district: str, community: str, session: SessionDep, caller: CallerDep) -> object:
    return PlainTextResponse(await usecases.export_beancount(session, caller, district, community))


@router.post(
    "/funds/{district}/{community}/disclosures",
    status_code=201,
    response_model=schemas.PublishedDisclosureOut,
    tags=["disclosure"],
)
async def publish_disclosure(
    district: str,
    community: str,
    data: schemas.PublicationIn,
    session: SessionDep,
    caller: CallerDep,
    idempotency: IdempotencyDep,
) -> object:
    published = await publication.publish(
        session, caller, district, community, data, idempotency=idempotency, now=utc_now()
    )
    return publication.published_out(published)


# --- public: the 公示 a community posts; no token, published (frozen) reports only -------------------

PUBLIC = "/public/funds/{district}/{community}/disclosures"


@router.get(PUBLIC, response_model=list[schemas.PublishedDisclosureOut], tags=["public"])
async def list_published(district: str, community: str, session: SessionDep) -> object:
    return [
        publication.published_out(p) for p in await publication.published_list(session, district, community)
    ]


@router.get(PUBLIC + "/verification", response_model=schemas.ChainVerificationOut, tags=["public"])
async def verify_published(district: str, community: str, session: SessionDep) -> object:
    return await publication.verify_chain(session, district, community)


@router.get(PUBLIC + "/{sequence}.json", response_model=schemas.PublishedDisclosureOut, tags=["public"])
async def published_json(district: str, community: str, sequence: int, session: SessionDep) -> object:
    return publication.published_out(await publication.load_published(session, district, community, sequence))


@router.get(
    PUBLIC + "/{sequence}.csv",
    response_class=Response,
    tags=["public"],
    responses={200: {"content": {"text/csv": {}}, "description": "The report as one CSV table."}},
)
async def published_csv(district: str, community: str, sequence: int, session: SessionDep) -> object:
    published = await publication.load_published(session, district, community, sequence)
    return Response(
        publication.as_csv(published),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{community}-{sequence}.csv"'},
    )


@router.get(PUBLIC + "/{sequence}.html", response_class=HTMLResponse, tags=["public"])
async def published_html(district: str, community: str, sequence: int, session: SessionDep) -> object:
    published = await publication.load_published(session, district, community, sequence)
    return HTMLResponse(publication.as_html(published))
