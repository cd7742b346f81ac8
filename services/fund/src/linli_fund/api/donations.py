"""Campaigns, donations and donors' statements."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import TypeAdapter
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund.access import list_visible, load_campaign, load_donation
from linli_fund.api.donations_schemas import (
    CampaignIn,
    CampaignOut,
    DonationBatchIn,
    DonationBatchOut,
    DonationIn,
    DonationOut,
    DonorStatementOut,
)
from linli_fund.models import Campaign, Donation
from linli_fund.usecases import donation_batches, donations, statements
from linli_shared.auth import CallerDep
from linli_shared.body_limit import BATCH_BODY_BYTES
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["donations"])
DONATIONS_OUT = TypeAdapter(list[DonationOut])


async def campaign_out(session: AsyncSession, campaign: Campaign) -> CampaignOut:
    raised, count = await donations.campaign_progress(session, campaign.id)
    return CampaignOut(**campaign.model_dump(), raised_fen=raised, donations=count)


@router.post("/campaigns", status_code=201, response_model=CampaignOut)
async def create_campaign(
    data: CampaignIn, uow: UnitOfWorkDep, session: SessionDep, caller: CallerDep
) -> object:
    campaign = await donations.create_campaign(uow, caller, data)
    return await campaign_out(session, campaign)


@router.get("/campaigns", response_model=Page[CampaignOut])
async def list_campaigns(
    session: SessionDep, caller: CallerDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> object:
    page = await list_visible(session, caller, Campaign, cursor=cursor, limit=limit)
    return Page(items=[await campaign_out(session, c) for c in page.items], next_cursor=page.next_cursor)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
async def get_campaign(campaign_id: str, session: SessionDep, caller: CallerDep) -> object:
    return await campaign_out(session, await load_campaign(session, caller, campaign_id))


@router.post("/donations", status_code=201, response_model=DonationOut)
async def record_donation(
    data: DonationIn, request: Request, uow: UnitOfWorkDep, caller: CallerDep
) -> object:
    oldest_days = request.app.state.settings.donation_backdate_days
    return await donations.record_donation(uow, caller, data, oldest_days=oldest_days)


@router.post(
    "/donation-batches", status_code=201, response_model=DonationBatchOut, max_body_size=BATCH_BODY_BYTES
)
async def record_donation_batch(
    data: DonationBatchIn, request: Request, uow: UnitOfWorkDep, caller: CallerDep
) -> object:
    """A counted collection box or a bank statement: every gift receipted and posted, or none (a bad
    line is a 422 naming it). The same Idempotency-Key records the batch once."""
    oldest_days = request.app.state.settings.donation_backdate_days
    batch = await donation_batches.record_batch(uow, caller, data, oldest_days=oldest_days)
    donations = DONATIONS_OUT.validate_python(batch.donations)  # after the commit: one call, not one a row
    return DonationBatchOut(
        id=batch.id,
        district=batch.district,
        community=batch.community,
        count=len(batch.donations),
        total_fen=sum(donation.amount_fen for donation in donations),
        first_receipt_number=donations[0].receipt_number,
        last_receipt_number=donations[-1].receipt_number,
        donations=donations,
    )


@router.get("/donations", response_model=Page[DonationOut])
async def list_donations(
    session: SessionDep, caller: CallerDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> object:
    page = await list_visible(session, caller, Donation, cursor=cursor, limit=limit)
    return Page(items=[d.model_dump() for d in page.items], next_cursor=page.next_cursor)


@router.get("/donations/{donation_id}", response_model=DonationOut)
async def get_donation(donation_id: str, session: SessionDep, caller: CallerDep) -> object:
    return (await load_donation(session, caller, donation_id)).model_dump()


@router.get("/funds/{district}/{community}/donor-statement", response_model=DonorStatementOut)
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
