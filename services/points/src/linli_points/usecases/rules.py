"""A community's own rules: the claim deadline of wishes, points per visit, when points expire."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from linli_points.access import ORGANISERS, rules_of
from linli_points.models import CommunityRules
from linli_shared.auth import Caller
from linli_shared.unit_of_work import Made, Work, write

if TYPE_CHECKING:
    from linli_points.api.rules import RulesIn


async def get_rules(session: AsyncSession, caller: Caller, district: str, community: str) -> CommunityRules:
    caller.check_sees(district, community, "community")
    return await rules_of(session, district, community)


async def load_rules(session: AsyncSession, caller: Caller, place: str) -> CommunityRules:
    """The rules a write set, by "<district>/<community>"."""
    district, community = place.split("/", 1)
    return await get_rules(session, caller, district, community)


@write(replay=load_rules)
async def set_rules(
    uow: Work, caller: Caller, district: str, community: str, data: RulesIn
) -> Made[CommunityRules]:
    caller.check_role(*ORGANISERS)
    caller.check_sees(district, community, "community")
    rules = await rules_of(uow.session, district, community)
    for key, value in data.model_dump().items():
        setattr(rules, key, value)
    uow.session.add(rules)
    return Made(f"{district}/{community}", rules)
