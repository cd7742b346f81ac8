"""Publishing a period's report, and the public 公示 a community posts: no token, frozen reports only."""

from __future__ import annotations

import json
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund import pages
from linli_fund.access import load_published
from linli_fund.api.publication_schemas import ChainVerificationOut, PublicationIn, PublishedDisclosureOut
from linli_fund.api.questions import public_question, question_period, today_in_china
from linli_fund.models import PublishedDisclosure
from linli_fund.public_beancount import public_period
from linli_fund.usecases import publication, questions, verification
from linli_fund.usecases.questions import Questioned
from linli_shared.auth import CallerDep
from linli_shared.schema_types import RowIdPath
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep
from linli_shared.words import short_code

router = APIRouter(prefix="/v1")
PUBLIC = "/public/funds/{district}/{community}/disclosures"


def published_out(
    published: PublishedDisclosure, asked: list[Questioned], days: int
) -> PublishedDisclosureOut:
    return PublishedDisclosureOut(
        sequence=published.sequence,
        first_day=published.first_day,
        last_day=published.last_day,
        sha256=published.sha256,
        short_code=short_code(published.sha256),
        previous_sha256=published.previous_sha256,
        published_at=published.published_at,
        report=json.loads(published.report),
        question_period=question_period(published.published_at, days, asked, today_in_china()),
        questions=[public_question(q) for q in asked],
    )


async def public_out(session: AsyncSession, rows: list[PublishedDisclosure]) -> list[PublishedDisclosureOut]:
    """Published periods as the public reads them, each with its questions and their answers."""
    if not rows:
        return []
    district, community = rows[0].district, rows[0].community
    days = await questions.question_days(session, district, community)
    sequence = rows[0].sequence if len(rows) == 1 else None
    asked = await questions.questions_of(session, district, community, sequence)
    return [published_out(row, asked.get(row.sequence, []), days) for row in rows]


@router.post(
    "/funds/{district}/{community}/disclosures",
    status_code=201,
    response_model=PublishedDisclosureOut,
    tags=["disclosure"],
)
async def publish_disclosure(
    district: str,
    community: str,
    data: PublicationIn,
    uow: UnitOfWorkDep,
    session: SessionDep,
    caller: CallerDep,
) -> object:
    [published] = await public_out(
        session, [await publication.publish(uow, caller, district, community, data)]
    )
    return published


@router.get(PUBLIC, response_model=list[PublishedDisclosureOut], tags=["public"])
async def list_published(district: str, community: str, session: SessionDep) -> object:
    return await public_out(session, await publication.published_list(session, district, community))


@router.get(PUBLIC + "/verification", response_model=ChainVerificationOut, tags=["public"])
async def verify_published(
    district: str,
    community: str,
    session: SessionDep,
    request: Request,
    sha256: str | None = Query(
        default=None,
        max_length=80,
        description="A saved hash (or its first hex digits, as printed): which period carries it.",
    ),
) -> object:
    settings = request.app.state.settings
    return await verification.verify(
        session,
        district,
        community,
        witness_url=settings.witness_url,
        timeout=settings.witness_timeout_seconds,
        sha256=sha256,
    )


@router.get(PUBLIC + "/{sequence}.json", response_model=PublishedDisclosureOut, tags=["public"])
async def published_json(district: str, community: str, sequence: RowIdPath, session: SessionDep) -> object:
    [published] = await public_out(session, [await load_published(session, district, community, sequence)])
    return published


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


@router.get(
    PUBLIC + "/{sequence}.beancount",
    response_class=Response,
    tags=["public"],
    responses={
        200: {"content": {"text/plain": {}}, "description": "The period's public postings for Beancount."}
    },
)
async def published_beancount(
    district: str, community: str, sequence: RowIdPath, session: SessionDep
) -> object:
    published = await load_published(session, district, community, sequence)
    return Response(
        public_period(json.loads(published.report), published.sha256),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{community}-{sequence}.beancount"'},
    )


@router.get(PUBLIC + "/{sequence}.html", response_class=HTMLResponse, tags=["public"])
async def published_html(
    district: str, community: str, sequence: RowIdPath, session: SessionDep, request: Request
) -> object:
    row = await load_published(session, district, community, sequence)
    [view] = await public_out(session, [row])
    base = str(request.url_for("verify_published", district=district, community=community))
    return HTMLResponse(pages.as_html(row, view, verify_url=f"{base}?sha256={quote(row.sha256)}"))
