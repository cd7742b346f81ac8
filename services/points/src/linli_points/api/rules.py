"""HTTP routes of a community's rules, with what they accept and return."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import ConfigDict, Field

from linli_points.usecases import rules
from linli_shared.auth import CallerDep
from linli_shared.schema_types import Strict
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep

router = APIRouter(prefix="/v1")


class RulesIn(Strict):
    wish_claim_days: int = Field(default=14, ge=1, le=365)
    visit_points: int = Field(default=0, ge=0, le=1000, description="Points per logged visit; 0 is off.")
    points_expire_after_days: int | None = Field(default=None, ge=30, le=3650, description="None: never.")


class RulesOut(RulesIn):
    model_config = ConfigDict(extra="ignore")
    district: str
    community: str


@router.get("/communities/{district}/{community}/rules", response_model=RulesOut, tags=["rules"])
async def get_rules(district: str, community: str, session: SessionDep, caller: CallerDep) -> object:
    return (await rules.get_rules(session, caller, district, community)).model_dump()


@router.put("/communities/{district}/{community}/rules", response_model=RulesOut, tags=["rules"])
async def set_rules(
    district: str, community: str, data: RulesIn, uow: UnitOfWorkDep, caller: CallerDep
) -> object:
    return (await rules.set_rules(uow, caller, district, community, data)).model_dump()
