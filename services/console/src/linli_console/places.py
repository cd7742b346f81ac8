"""Who is signed in, and where: the community's display name as the registry gives it."""

from __future__ import annotations

from fastapi import Request

from linli_console.services import Refusal, ServiceDown
from linli_console.session import Desk, Person

PLACE_NAMES: dict[tuple[str, str], str] = {}
"""Community display names, by (district, community): never renamed, so kept once read."""


async def place_name(desk: Desk, person: Person) -> str:
    """东李庄社区 (or 高桥营街道 for a district's people), as the registry names the person's place;
    its code if the registry cannot say, nothing for a city-wide role."""
    if not person.district:
        return ""
    if not person.community:
        return await district_name(desk, person.district)
    key = (person.district, person.community)
    if key not in PLACE_NAMES:
        try:
            places = await desk.call("registry", "GET", "/v1/communities", params={"district": key[0]})
        except (Refusal, ServiceDown):
            return person.community
        PLACE_NAMES.update({(key[0], str(p["code"])): str(p["name"]) for p in places})
    return PLACE_NAMES.get(key, person.community)


async def district_name(desk: Desk, district: str) -> str:
    key = (district, "")
    if key not in PLACE_NAMES:
        try:
            districts = await desk.call("registry", "GET", "/v1/districts")
        except (Refusal, ServiceDown):
            return district
        PLACE_NAMES.update({(str(d["code"]), ""): str(d["name"]) for d in districts})
    return PLACE_NAMES.get(key, district)


async def grid_names(desk: Desk, district: str | None, community: str | None) -> dict[str, str]:
    """A community's grids, code → name (一片区), in the registry's order."""
    grids = await desk.call(
        "registry", "GET", "/v1/grids", params={"district": district, "community": community}
    )
    return {str(g["code"]): str(g["name"]) for g in grids}


async def signed_in(request: Request) -> tuple[Desk, Person]:
    desk = Desk(request)
    person = await desk.person()
    request.state.person = person
    request.state.place = await place_name(desk, person)
    request.state.display_name = desk.display_name
    return desk, person
