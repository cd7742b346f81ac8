"""Counts of active residents per community or grid, for the reports.

`statistics` reads the rollup (linli_registry.tally): population and tags per grid, and residents
per grid and birth year for the age counts. A birth year is whole except the one in which someone
turns 60 (70, 80) today; in each of these three years the shorter side of today's birthday (at
most half a year of births) is read from the residents through the birth-date index and added
to the whole years before it or taken from the whole years up to it. Never a scan of the residents.
`statistics_by_scan` counts the same from the residents themselves: the tests hold the two equal.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, case, func, literal, union_all
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from linli_registry.access import STATISTICS_READERS
from linli_registry.domain import Status, birth_date_at_most
from linli_registry.models import Resident, ResidentBirthTally, ResidentTally
from linli_registry.tally import EARLIEST_BIRTH_YEAR
from linli_shared.auth import Caller
from linli_shared.scoping import in_scope

STAT_FLAGS = [
    ("living_alone", "living_alone"),
    ("lonely", "lonely"),
    ("disabled", "disabled"),
    ("bedridden", "bedridden"),
    ("dibao", "dibao"),
    ("poor_household", "poor_household"),
    ("orphan", "orphans"),
    ("child_in_difficulty", "children_in_difficulty"),
    ("veteran", "veterans"),
    ("party_member", "party_members"),
]
"""(Resident column, statistics field) of each counted tag."""
AGES = (60, 70, 80)
AGE_FIELDS = [f"aged_{years}_plus" for years in AGES]

Key = tuple[str, ...]


def _keys(model: Any, by_grid: bool) -> list[Any]:
    return [col(model.district), col(model.community)] + ([col(model.grid_code)] if by_grid else [])


def _scoped(statement: Any, model: Any, caller: Caller, district: str | None) -> Any:
    statement = in_scope(statement, model, caller)
    return statement.where(col(model.district) == district) if district else statement


COUNT_FIELDS = ["population", *AGE_FIELDS, *(label for _, label in STAT_FLAGS)]


def _row(key: Key, by_grid: bool, counts: list[int]) -> dict[str, Any]:
    """One row of the response, in the shape of api.statistics.StatisticsRow."""
    row: dict[str, Any] = {
        "district": key[0],
        "community": key[1],
        "grid_code": key[2] or None if by_grid else None,
    }
    row.update(zip(COUNT_FIELDS, counts, strict=True))
    return row


@dataclass(frozen=True)
class Boundary:
    """How one age count is made: whole birth years before `whole_before`, plus `sign` times the
    residents born from `first` to `last` (the rest of the year on the shorter side)."""

    whole_before: int
    first: date
    last: date
    sign: int

    @classmethod
    def of(cls, today: date, age: int) -> Boundary:
        latest = birth_date_at_most(today, age)
        new_year, year_end = date(latest.year, 1, 1), date(latest.year, 12, 31)
        if latest - new_year <= year_end - latest:
            return cls(latest.year, new_year, latest, +1)
        return cls(latest.year + 1, latest + timedelta(days=1), year_end, -1)


async def statistics(
    session: AsyncSession, caller: Caller, *, by_grid: bool, district: str | None, today: date
) -> list[dict[str, Any]]:
    """Counts of active residents per community (or grid), in the caller's scope, from the rollup."""
    caller.check_role(*STATISTICS_READERS)
    if birth_date_at_most(today, max(AGES)).year <= EARLIEST_BIRTH_YEAR:  # before 2026
        return await statistics_by_scan(session, caller, by_grid=by_grid, district=district, today=today)
    width = 3 if by_grid else 2
    rows = await _rolled_up(session, caller, by_grid, district, today)
    partial = await _partial_years(session, caller, by_grid, district, today)
    result = []
    for row in rows:  # place, population, aged 60, 70 and 80 in whole years, tags
        counts = list(row[width:])
        for index, extra in enumerate(partial.get(row[:width], ())):
            counts[1 + index] += extra
        result.append(_row(row[:width], by_grid, counts))
    return result


async def _rolled_up(
    session: AsyncSession, caller: Caller, by_grid: bool, district: str | None, today: date
) -> list[tuple[Any, ...]]:
    """Per place: population, residents of the whole birth years of each age count, and the tags;
    one statement joining the grid counts to the birth-year counts."""
    keys = _keys(ResidentTally, by_grid)
    names = ["population", *(name for name, _ in STAT_FLAGS)]
    sums = [func.sum(col(getattr(ResidentTally, name))).label(name) for name in names]
    tally = cast(Select[*tuple[Any, ...]], select(*keys, *sums))
    tally = _scoped(tally, ResidentTally, caller, district).group_by(*keys)
    totals = tally.having(func.sum(col(ResidentTally.population)) > 0).subquery("totals")
    years = [Boundary.of(today, age).whole_before for age in AGES]
    born, population = col(ResidentBirthTally.birth_year), col(ResidentBirthTally.population)
    birth_keys = _keys(ResidentBirthTally, by_grid)
    aged = [
        func.sum(case((born < year, population), else_=0)).label(f"aged_{i}") for i, year in enumerate(years)
    ]
    births = cast(Select[*tuple[Any, ...]], select(*birth_keys, *aged)).where(born < max(years))
    whole = _scoped(births, ResidentBirthTally, caller, district).group_by(*birth_keys).subquery("whole")
    place = [totals.c[key.key] for key in keys]
    joined = totals.outerjoin(whole, and_(*(c == whole.c[c.key] for c in place)))
    columns = [
        *place,
        totals.c.population,
        *(func.coalesce(whole.c[f"aged_{i}"], 0) for i in range(len(AGES))),
        *(totals.c[name] for name in names[1:]),
    ]
    statement = cast(Select[*tuple[Any, ...]], select(*columns)).select_from(joined)
    connection = await session.connection()  # plain rows: thousands of them for a city by grid
    return sorted(tuple(row) for row in await connection.execute(statement))  # as Python orders text


async def _partial_years(
    session: AsyncSession, caller: Caller, by_grid: bool, district: str | None, today: date
) -> dict[Key, list[int]]:
    """Residents born on the shorter side of each age count's birthday, signed, per place."""
    grid = [func.coalesce(col(Resident.grid_code), "")] if by_grid else []
    keys = [col(Resident.district), col(Resident.community), *grid]
    parts = []
    boundaries = [Boundary.of(today, age) for age in AGES]
    for index, boundary in enumerate(boundaries):
        birth = col(Resident.birth_date)
        columns: list[Any] = [literal(index), *keys, func.count()]
        part = cast(Select[*tuple[Any, ...]], select(*columns))
        part = part.where(
            birth >= boundary.first, birth <= boundary.last, Resident.status == Status.ACTIVE.value
        )
        parts.append(_scoped(part, Resident, caller, district).group_by(*keys))
    counts: defaultdict[Key, list[int]] = defaultdict(lambda: [0] * len(AGES))
    connection = await session.connection()
    for row in await connection.execute(union_all(*parts)):
        counts[tuple(row[1:-1])][row[0]] += boundaries[row[0]].sign * row[-1]
    return counts


async def statistics_by_scan(
    session: AsyncSession, caller: Caller, *, by_grid: bool, district: str | None, today: date
) -> list[dict[str, Any]]:
    """The same counts from a scan of the residents: what the rollup must always equal."""
    caller.check_role(*STATISTICS_READERS)

    def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    def born_by(years: int) -> ColumnElement[int]:
        return count_if(col(Resident.birth_date) <= birth_date_at_most(today, years))

    grid = [func.coalesce(col(Resident.grid_code), "")] if by_grid else []
    keys = [col(Resident.district), col(Resident.community), *grid]
    columns = [
        func.count(),
        *(born_by(years) for years in AGES),
        *(count_if(col(getattr(Resident, name)).is_(True)) for name, _ in STAT_FLAGS),
    ]
    statement = cast(Select[*tuple[Any, ...]], select(*keys, *columns))
    statement = statement.where(Resident.status == Status.ACTIVE.value)
    statement = _scoped(statement, Resident, caller, district).group_by(*keys)
    rows = sorted(tuple(row) for row in (await session.exec(statement)).all())
    return [_row(row[: len(keys)], by_grid, [int(n) for n in row[len(keys) :]]) for row in rows]
