"""A service's section of the monthly report over HTTP: one route, the same in every service.

Each service says what a community's row holds (a `MonthRow` with its figures) and how it is
worked out; `section_router` makes `GET /v1/reports/monthly` of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.auth import Caller, CallerDep
from linli_shared.monthly_report import Month
from linli_shared.service import SessionDep

CODE = r"^[a-z0-9_-]{1,40}$"
MonthQuery = Annotated[
    str | None,
    Query(
        pattern=r"^(19|20|21)\d\d-(0[1-9]|1[0-2])$",
        description="The month, YYYY-MM (China time); by default the last whole month.",
    ),
]
DistrictQuery = Annotated[str | None, Query(pattern=CODE, description="Only this district.")]
CommunityQuery = Annotated[str | None, Query(pattern=CODE, description="Only this community.")]

Row = TypeVar("Row", bound="MonthRow")
Section = Callable[[AsyncSession, Caller, Month, str | None, str | None], Awaitable[dict[str, Any]]]
"""Works out a service's rows of a month for the caller's scope (narrowed to a district or community)."""


class MonthRow(BaseModel):
    """One community's figures of the month."""

    district: str
    community: str


class MonthReport(BaseModel, Generic[Row]):
    month: str
    communities: list[Row]


def section_router(row: type[MonthRow], section: Section) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["reports"])

    @router.get("/reports/monthly", response_model=MonthReport[row])  # type: ignore[valid-type]
    async def monthly_report(
        session: SessionDep,
        caller: CallerDep,
        month: MonthQuery = None,
        district: DistrictQuery = None,
        community: CommunityQuery = None,
    ) -> object:
        """This service's figures of the month, one row per community in the caller's scope."""
        return await section(session, caller, Month.asked(month), district, community)

    return router
