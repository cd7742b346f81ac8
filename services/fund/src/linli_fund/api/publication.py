"""Publishing a period's report, and the public 公示 a community posts: no token, frozen reports only."""

from __future__ import annotations

import json

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from linli_fund import pages
from linli_fund.access import load_published
from linli_fund.api.publication_schemas import ChainVerificationOut, PublicationIn, PublishedDisclosureOut
from linli_fund.models import PublishedDisclosure
from linli_fund.usecases import publication
from linli_shared.auth import CallerDep
from linli_shared.schema_types import RowIdPath
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep

router = APIRouter(prefix="/v1")
PUBLIC = "/public/funds/{district}/{community}/disclosures"


def published_out(published: PublishedDisclosure) -> PublishedDisclosureOut:
    return PublishedDisclosureOut(
        sequence=published.sequence,
        first_day=published.first_day,
        last_day=published.last_day,
        sha256=published.sha256,
        previous_sha256=published.previous_sha256,
        published_at=published.published_at,
        report=json.loads(published.report),
    )


@router.post(
    "/funds/{district}/{community}/disclosures",
    status_code=201,
    response_model=PublishedDisclosureOut,
    tags=["disclosure"],
)
async def publish_disclosure(
    district: str, community: str, data: PublicationIn, uow: UnitOfWorkDep, caller: CallerDep
) -> object:
    return published_out(await publication.publish(uow, caller, district, community, data))


@router.get(PUBLIC, response_model=list[PublishedDisclosureOut], tags=["public"])
async def list_published(district: str, community: str, session: SessionDep) -> object:
    return [published_out(p) for p in await publication.published_list(session, district, community)]


@router.get(PUBLIC + "/verification", response_model=ChainVerificationOut, tags=["public"])
async def verify_published(district: str, community: str, session: SessionDep) -> object:
    return await publication.verify_chain(session, district, community)


@router.get(PUBLIC + "/{sequence}.json", response_model=PublishedDisclosureOut, tags=["public"])
async def published_json(district: str, community: str, sequence: RowIdPath, session: SessionDep) -> object:
    return published_out(await load_published(session, district, community, sequence))


@router.get(
    PUBLIC + "/{sequence}.csv",
    response_class=Response,
    tags=["public"],
    responses={200: {"content": {"text/csv": {}}, "description": "The report as one CSV table."}},
)
async def published_csv(district: str, community: str, sequence: RowIdPath, session: SessionDep) -> object:
    published = await load_published(session, district, community, sequence)
    return Response(
        pages.as_csv(published),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{community}-{sequence}.csv"'},
    )


@router.get(PUBLIC + "/{sequence}.html", response_class=HTMLResponse, tags=["public"])
async def published_html(district: str, community: str, sequence: RowIdPath, session: SessionDep) -> object:
    published = await load_published(session, district, community, sequence)
    return HTMLResponse(pages.as_html(published))
