"""The demo's care groups (三人关爱小组) and their visit logs, one of them already overdue."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta

from linli_registry.demo.data import DemoData
from linli_registry.demo.model import (
    DemoCareGroup,
    DemoGrid,
    DemoHousehold,
    DemoMoment,
    DemoPerson,
    DemoVisit,
)
from linli_registry.domain import Tag, VisitKind, age_on
from linli_shared.clock import CHINA_TIME


def needs_care_group(person: DemoPerson, today: date) -> bool:
    """Every elder living alone or bedridden gets a 三人关爱小组."""
    return age_on(person.birth_date, today) >= 60 and bool({Tag.LIVING_ALONE, Tag.BEDRIDDEN} & person.tags)


def care_groups(
    rng: random.Random,
    data: DemoData,
    grids: Sequence[DemoGrid],
    households: Sequence[DemoHousehold],
    people: Sequence[DemoPerson],
    today: date,
) -> list[DemoCareGroup]:
    workers = {grid.code: grid.grid_worker for grid in grids}
    groups = []
    for person in people:
        if not needs_care_group(person, today):
            continue
        neighbour = choose_neighbour(rng, households, people, person, today)
        # A visit a day for the last few days (as the groups promise), and the week's phone call.
        visits = [visit(rng, data, day, VisitKind.VISIT) for day in range(rng.randint(2, 4))]
        visits.append(visit(rng, data, rng.randint(2, 6), VisitKind.CALL))
        visits.sort(key=lambda v: (-v.days_ago, v.hour, v.minute))
        groups.append(
            DemoCareGroup(
                person_key=person.key,
                grid_worker=workers[person.grid_code],
                neighbour_name=neighbour.full_name,
                neighbour_phone=neighbour.phone,
                visits=tuple(visits),
            )
        )
    return groups


def with_overdue_group(
    data: DemoData, people: Sequence[DemoPerson], groups: list[DemoCareGroup]
) -> list[DemoCareGroup]:
    """The showcase: the first elder living alone has a group formed days ago, visited that day only.

    Its daily visit is overdue as soon as the demo is loaded, so the registry's periodic check
    raises the missed-visit alert within a minute of `make run`, and notify's ladder runs. The
    first visit is at the very moment of forming, so the check finds the same missed period
    before and after the visit is logged (one alert, not two).
    """
    plan = data.overdue_group
    alone = {p.key for p in people if Tag.LIVING_ALONE in p.tags}
    index = next((i for i, g in enumerate(groups) if g.person_key in alone), None)
    if index is None:
        return groups
    first_visit = DemoVisit(0, plan.hour, plan.minute, VisitKind.VISIT, plan.findings, plan.follow_up)
    groups[index] = replace(
        groups[index],
        formed=DemoMoment(plan.days_ago, plan.hour, plan.minute),
        visits=(first_visit,),
    )
    return groups


def visit(rng: random.Random, data: DemoData, days_ago: int, kind: VisitKind) -> DemoVisit:
    if kind is VisitKind.VISIT:
        hour, (findings, follow_up) = rng.randint(8, 17), rng.choice(data.visit_findings)
    else:
        hour, (findings, follow_up) = rng.randint(18, 20), rng.choice(data.call_findings)
    return DemoVisit(days_ago, hour, rng.randrange(60), kind, findings, follow_up)


def choose_neighbour(
    rng: random.Random,
    households: Sequence[DemoHousehold],
    people: Sequence[DemoPerson],
    elder: DemoPerson,
    today: date,
) -> DemoPerson:
    """An able adult of another household in the same zone, in the same building or lane if any."""

    def place(household_key: int) -> str:
        where = households[household_key].address
        return where[: where.index("楼") + 1] if "楼" in where else where.rstrip("0123456789号")

    candidates = [
        p
        for p in people
        if p.grid_code == elder.grid_code
        and p.household_key != elder.household_key
        and p.phone
        and 25 <= age_on(p.birth_date, today) <= 70
        and not {Tag.BEDRIDDEN, Tag.DISABLED} & p.tags
    ]
    close = [p for p in candidates if place(p.household_key) == place(elder.household_key)]
    return rng.choice(close or candidates)


def moment_before(now: datetime, moment: DemoMoment | DemoVisit) -> datetime:
    """`days_ago` days before `now` at hour:minute, China time, and never after `now`."""
    local_now = now.astimezone(CHINA_TIME)
    when = (local_now - timedelta(days=moment.days_ago)).replace(
        hour=moment.hour, minute=moment.minute, second=0, microsecond=0
    )
    if when > local_now:
        when -= timedelta(days=1)
    return when


def visit_time(formed_at: datetime, visit: DemoVisit) -> datetime:
    """When a demo visit happened, counted back from its group's forming, in China time.

    Counted from the group (as the registry keeps it), not from the clock, a reloaded demo
    finds the visits it logged before and logs only the missing ones."""
    return moment_before(formed_at, visit)
