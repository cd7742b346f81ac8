"""`demo_community(seed, today)`: the whole demo community, a pure function of seed and day."""

from __future__ import annotations

import random
from datetime import date

from linli_registry.demo import care, households, people, records
from linli_registry.demo.data import demo_data
from linli_registry.demo.households import Member
from linli_registry.demo.model import DemoCommunity, DemoGrid, DemoHousehold
from linli_shared.clock import utc_now


def demo_community(seed: int = 7, today: date | None = None) -> DemoCommunity:
    """The demo community: the same for the same seed and day (ages are counted from `today`)."""
    today = today or utc_now().date()
    data = demo_data()
    rng = random.Random(seed)
    grids = tuple(
        DemoGrid(code=f"zone-{n}", name=grid.name, grid_worker=f"grid-worker-{n}")
        for n, grid in enumerate(data.grids, start=1)
    )
    kinds = [kind for kind, _ in data.household_kinds]
    weights = [weight for _, weight in data.household_kinds]
    plans = [rng.choices(kinds, weights)[0] for _ in range(data.households - 1)]
    plans.insert(rng.randrange(data.households), "orphan_with_grandparents")

    homes: list[DemoHousehold] = []
    members: list[tuple[int, Member]] = []
    addresses: set[str] = set()
    zones = [index for index, grid in enumerate(data.grids) for _ in range(grid.weight)]
    zones = [zones[round(n * len(zones) / data.households)] for n in range(data.households)]
    rng.shuffle(zones)
    for key, kind in enumerate(plans):
        grid_index = zones[key]
        where = households.address(rng, data, grid_index, addresses)
        homes.append(DemoHousehold(key=key, grid_code=grids[grid_index].code, address=where))
        members += [(key, member) for member in households.members(rng, data, kind)]

    residents = people.people(rng, data, homes, plans, members, today)
    residents = records.with_health_records(rng, data, homes, residents, today)
    groups = care.care_groups(rng, data, grids, homes, residents, today)
    groups = care.with_overdue_group(data, residents, groups)
    residents = records.with_guardians(data, residents, [member for _, member in members])
    return DemoCommunity(
        grids=grids, households=tuple(homes), people=tuple(residents), care_groups=tuple(groups)
    )
