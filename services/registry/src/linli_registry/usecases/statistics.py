"""Counts of active residents per community or grid, for the reports."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from sqlalchemy import ColumnElement, case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from linli_registry.access import STATISTICS_READERS
from linli_registry.domain import Status, birth_date_at_most
from linli_registry.models import Resident
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


async def statistics(
    session: AsyncSession, caller: Caller, *, by_grid: bool, district: str | None, today: date
) -> list[dict[str, Any]]:
    """Counts of active residents per community (or grid), in the caller's scope."""
    caller.check_role(*STATISTICS_READERS)

    def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    def flag(name: str) -> ColumnElement[int]:
        return count_if(col(getattr(Resident, name)).is_(True))

    def born_by(years: int) -> ColumnElement[int]:
        return count_if(col(Resident.birth_date) <= birth_date_at_most(today, years))

    keys = [col(Resident.district), col(Resident.community)] + ([col(Resident.grid_code)] if by_grid else [])
    columns = [
        func.count().label("population"),
        born_by(60).label("aged_60_plus"),
        born_by(70).label("aged_70_plus"),
        born_by(80).label("aged_80_plus"),
        *(flag(name).label(label) for name, label in STAT_FLAGS),
    ]
    # select(*args) resolves to sqlmodel's one-entity overload; these are several columns, rows are tuples
    statement = cast(Select[*tuple[Any, ...]], select(*keys, *columns))
    statement = statement.where(Resident.status == Status.ACTIVE.value)
    statement = in_scope(statement, Resident, caller).group_by(*keys).order_by(*keys)
    if district:
        statement = statement.where(Resident.district == district)
    rows = (await session.exec(statement)).all()
    names = ["district", "community"] + (["grid_code"] if by_grid else [])
    names += ["population", "aged_60_plus", "aged_70_plus", "aged_80_plus"] + [
        label for _, label in STAT_FLAGS
    ]
    return [dict(zip(names, row, strict=True)) for row in rows]
