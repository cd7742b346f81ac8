"""The statistics rollup, kept exact in the transaction of every write that changes a resident.

Whatever use case registers a resident, changes their tags, grid or birth date, or records a
departure, the session's flush passes through here: before the flush, the change of each resident
is worked out against the row as it stands in the database (locked, so a concurrent writer cannot
slip between); after it, the counts are added to ResidentTally and ResidentBirthTally with one
upsert each, keys in sorted order (no deadlock between two writers). A rolled-back write rolls its
counts back with it. Only an ORM write is seen: SQL that writes residents behind the ORM adds them with
`counting_new` (a registration), `count_new` (an import) or refills the rollup with `refill` (a bulk load).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, event, inspect, select, text
from sqlalchemy.orm import Session, UOWTransaction
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_registry.domain import Status, Tag
from linli_registry.models import Resident
from linli_shared.database import on_postgresql
from linli_shared.driver import DriverStatement
from linli_shared.together import Part

TAGS = tuple(tag.value for tag in Tag)
COUNTED = ("district", "community", "grid_code", "birth_date", "status", *TAGS)
"""The resident's columns the rollup depends on."""
EARLIEST_BIRTH_YEAR = 1945
"""Residents born in 1945 or before are counted under 1945: from 2026 on each of them is 80 or
more, so their years need no telling apart, and the age counts read half as many rows."""
PENDING = "linli_registry.tally"
RESIDENTS: Table = Resident.__table__  # type: ignore[attr-defined]

Place = tuple[str, str, str]


@dataclass
class Deltas:
    """Changes to the counts of one flush, per grid (population and tags) and per grid and birth year."""

    tally: dict[Place, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0] * (1 + len(TAGS))))
    births: dict[tuple[Place, int], int] = field(default_factory=lambda: defaultdict(int))

    def count(self, values: dict[str, Any] | None, sign: int) -> None:
        """Add (+1) or take away (-1) one resident with these column values; not active: nothing."""
        if values is None or values["status"] != Status.ACTIVE.value:
            return
        place = (values["district"], values["community"], values["grid_code"] or "")
        counts = self.tally[place]
        counts[0] += sign
        for index, tag in enumerate(TAGS, start=1):
            counts[index] += sign * bool(values[tag])
        self.births[(place, max(values["birth_date"].year, EARLIEST_BIRTH_YEAR))] += sign

    def tally_rows(self) -> list[dict[str, Any]]:
        return [
            {"district": p[0], "community": p[1], "grid_code": p[2], "population": c[0]}
            | dict(zip(TAGS, c[1:], strict=True))
            for p, c in sorted(self.tally.items())
            if any(c)
        ]

    def birth_rows(self) -> list[dict[str, Any]]:
        return [
            {"district": p[0], "community": p[1], "grid_code": p[2], "birth_year": year, "population": n}
            for (p, year), n in sorted(self.births.items())
            if n
        ]


def values_of(resident: Resident) -> dict[str, Any]:
    return {name: getattr(resident, name) for name in COUNTED}


def changed_columns(resident: Resident) -> set[str]:
    attributes = inspect(resident).attrs
    return {name for name in COUNTED if attributes[name].history.has_changes()}


def locked_rows(connection: Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The residents as stored now, their rows locked until the transaction ends (PostgreSQL)."""
    if not ids:
        return {}
    columns = [RESIDENTS.c.id, *(RESIDENTS.c[name] for name in COUNTED)]
    statement = select(*columns).where(RESIDENTS.c.id.in_(sorted(ids))).with_for_update()
    return {row.id: dict(row._mapping) for row in connection.execute(statement)}


def deltas_of(session: Session) -> Deltas | None:
    """What this flush changes in the counts; None if it writes no resident."""
    new = [r for r in session.new if isinstance(r, Resident)]
    changed = {
        r.id: (r, names) for r in session.dirty if isinstance(r, Resident) and (names := changed_columns(r))
    }
    gone = [r.id for r in session.deleted if isinstance(r, Resident)]
    if not (new or changed or gone):
        return None
    deltas = Deltas()
    stored = locked_rows(session.connection(), [*changed, *gone])
    for resident in new:
        deltas.count(values_of(resident), +1)
    for resident_id, (resident, names) in changed.items():
        before = stored.get(resident_id)
        if before is not None:  # else its insert is in this flush too, counted as new above
            deltas.count(before, -1)
            deltas.count({n: getattr(resident, n) if n in names else before[n] for n in COUNTED}, +1)
    for resident_id in gone:
        deltas.count(stored.get(resident_id), -1)
    return deltas


GRID_KEYS = ("district", "community", "grid_code")
GRID_COUNTS = ("population", *TAGS)
BIRTH_KEYS = (*GRID_KEYS, "birth_year")
BIRTH_COUNTS = ("population",)


@dataclass(frozen=True)
class Rollup:
    table: str
    keys: tuple[str, ...]
    counts: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.keys, *self.counts)

    def adding(self, rows: str) -> str:
        """Add each row's counts to the stored row with its keys, or store it if there is none."""
        adds = ", ".join(f"{name} = {self.table}.{name} + excluded.{name}" for name in self.counts)
        return (
            f"INSERT INTO {self.table} ({', '.join(self.columns)}) {rows}"
            f" ON CONFLICT ({', '.join(self.keys)}) DO UPDATE SET {adds}"
        )

    def adding_arrays(self, prefix: str) -> str:
        """Rows passed as one array per column (PostgreSQL): one statement for any number of rows."""
        arrays = (f"CAST(:{prefix}{n} AS {'text' if n in GRID_KEYS else 'integer'}[])" for n in self.columns)
        return self.adding(f"SELECT * FROM unnest({', '.join(arrays)})")

    def adding_one(self, prefix: str = "") -> str:
        return self.adding(f"VALUES ({', '.join(f':{prefix}{name}' for name in self.columns)})")


GRIDS = Rollup("residenttally", GRID_KEYS, GRID_COUNTS)
BIRTHS = Rollup("residentbirthtally", BIRTH_KEYS, BIRTH_COUNTS)
# Written once, compiled once: building the statement on every flush cost more CPU than the rest of
# a registration. On PostgreSQL both rollups go in one round trip; grids are written before birth
# years and each in sorted key order, so two writers cannot deadlock.
POSTGRES_STORE = text(
    f"WITH grids AS ({GRIDS.adding_arrays('g_')} RETURNING 1),"
    f" births AS ({BIRTHS.adding_arrays('b_')} RETURNING 1)"
    " SELECT (SELECT count(*) FROM grids) + (SELECT count(*) FROM births)"
)
STORE_ON_DRIVER = DriverStatement(POSTGRES_STORE)
STORE_ONE = {GRIDS: text(GRIDS.adding_one()), BIRTHS: text(BIRTHS.adding_one())}
ADD_GRID, ADD_BIRTH = GRIDS.adding_one("g_"), BIRTHS.adding_one("b_")  # a registration's, in its statement


def columns_of(rows: list[dict[str, Any]], names: tuple[str, ...], prefix: str) -> dict[str, list[Any]]:
    return {f"{prefix}{name}": [row[name] for row in rows] for name in names}


def postgres_arrays(deltas: Deltas) -> dict[str, list[Any]]:
    grids, births = deltas.tally_rows(), deltas.birth_rows()
    return columns_of(grids, GRIDS.columns, "g_") | columns_of(births, BIRTHS.columns, "b_")


def store(connection: Connection, deltas: Deltas) -> None:
    """Add this flush's counts to both rollups."""
    if connection.dialect.name == "postgresql":
        connection.execute(POSTGRES_STORE, postgres_arrays(deltas))
        return
    for rollup, rows in ((GRIDS, deltas.tally_rows()), (BIRTHS, deltas.birth_rows())):
        if rows:
            connection.execute(STORE_ONE[rollup], rows)


async def count_new(session: AsyncSession, residents: Iterable[Resident]) -> None:
    """Add residents inserted past the ORM (an import) to the rollup, in the session's transaction,
    as the flush listener adds those it sees."""
    deltas = Deltas()
    for resident in residents:
        deltas.count(values_of(resident), +1)
    if on_postgresql(session):
        await STORE_ON_DRIVER.run(session, postgres_arrays(deltas))
    else:
        await (await session.connection()).run_sync(store, deltas)


def counting_new(resident: Resident) -> list[Part]:
    """A resident inserted past the ORM (a registration), counted in the same statement as its row:
    one upsert of its grid's row, one of its birth year's."""
    deltas = Deltas()
    deltas.count(values_of(resident), +1)
    grids, births = deltas.tally_rows(), deltas.birth_rows()
    return [
        Part(sql, (), {f"{prefix}{name}": value for name, value in rows[0].items()})
        for sql, prefix, rows in ((ADD_GRID, "g_", grids), (ADD_BIRTH, "b_", births))
        if rows
    ]


@event.listens_for(Session, "before_flush")
def work_out_counts(session: Session, flush: UOWTransaction, instances: object) -> None:
    if (deltas := deltas_of(session)) is not None:
        session.info[PENDING] = deltas
    else:
        session.info.pop(PENDING, None)


@event.listens_for(Session, "after_flush")
def store_counts(session: Session, flush: UOWTransaction) -> None:
    deltas: Deltas | None = session.info.pop(PENDING, None)
    if deltas is None:
        return
    store(session.connection(), deltas)


def refill(connection: Connection) -> None:
    """Count every active resident afresh: for the migration and for residents loaded with bulk SQL."""
    grid = "coalesce(grid_code, '')"
    if connection.dialect.name == "postgresql":
        year = f"greatest(CAST(extract(year FROM birth_date) AS INTEGER), {EARLIEST_BIRTH_YEAR})"
    else:
        year = f"max(CAST(strftime('%Y', birth_date) AS INTEGER), {EARLIEST_BIRTH_YEAR})"
    tags = ", ".join(TAGS)
    sums = ", ".join(f"sum(CASE WHEN {tag} THEN 1 ELSE 0 END)" for tag in TAGS)
    active = f"status = '{Status.ACTIVE.value}'"
    connection.execute(text("DELETE FROM residenttally"))
    connection.execute(text("DELETE FROM residentbirthtally"))
    connection.execute(
        text(
            f"INSERT INTO residenttally (district, community, grid_code, population, {tags}) "
            f"SELECT district, community, {grid}, count(*), {sums} FROM resident WHERE {active} "
            f"GROUP BY district, community, {grid}"
        )
    )
    connection.execute(
        text(
            "INSERT INTO residentbirthtally (district, community, grid_code, birth_year, population) "
            f"SELECT district, community, {grid}, {year}, count(*) FROM resident WHERE {active} "
            f"GROUP BY district, community, {grid}, {year}"
        )
    )
