"""The statistics rollup equals a scan of the residents after any mix of writes (hypothesis)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_registry.api.residents_schemas import ResidentIn
from linli_registry.app import MIGRATIONS
from linli_registry.domain import Status, Tag
from linli_registry.models import Community, District, Grid, Resident
from linli_registry.usecases import residents
from linli_registry.usecases.statistics import statistics, statistics_by_scan
from linli_shared.auth import Caller, Role
from linli_shared.database import make_engine, make_session_factory
from linli_shared.errors import Conflict
from linli_shared.migrations import alembic_config, upgrade_to_head
from linli_shared.unit_of_work import UnitOfWork

from ..conftest import make_id_number

pytestmark = [pytest.mark.integration]

PLACES = [("d1", "c1"), ("d1", "c2"), ("d2", "c1")]
GRIDS = [None, "g1", "g2"]
TODAY = datetime.now(UTC).date()
NOW = datetime.now(UTC).replace(tzinfo=None)  # stored as naive UTC
# today, a 29 February, the last and first days of a year: the boundaries of the age counts;
# and a day before the rollup's earliest birth year is 80 (counted by a scan)
DAYS = [TODAY, date(2028, 2, 29), date(2026, 12, 31), date(2027, 1, 1), date(2025, 6, 1)]
CALLERS = [
    Caller(subject="city", role=Role.CITY_ADMIN),
    Caller(subject="d1", role=Role.DISTRICT_ADMIN, district="d1"),
    Caller(subject="d1c2", role=Role.COMMUNITY_WORKER, district="d1", community="c2"),
]
births = st.one_of(
    st.dates(date(1920, 1, 1), TODAY),
    # around the days on which someone turns 60, 70 or 80 on one of DAYS
    st.builds(
        lambda day, years, shift: date.fromordinal(day.replace(day=28).toordinal() - 365 * years + shift),
        st.sampled_from(DAYS),
        st.sampled_from([60, 70, 80]),
        st.integers(-40, 40),
    ),
)
tags = st.sets(st.sampled_from(list(Tag)), max_size=3)
writes = st.one_of(
    st.tuples(st.just("register"), st.sampled_from(PLACES), st.sampled_from(GRIDS), births, tags),
    st.tuples(st.just("tags"), st.integers(0, 50), tags),
    st.tuples(st.just("leave"), st.integers(0, 50), st.sampled_from([Status.MOVED_OUT, Status.DECEASED])),
    st.tuples(st.just("move"), st.integers(0, 50), st.sampled_from(GRIDS), births),
)
_serial = itertools.count()


@pytest.fixture
async def factory(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url)
    await upgrade_to_head(engine, MIGRATIONS)
    sessions = make_session_factory(engine)
    async with sessions() as session:
        for district in ("d1", "d2"):
            session.add(District(code=district, name=district))
        await session.flush()
        for district, community in PLACES:
            session.add(Community(district=district, code=community, name=community))
            for grid in GRIDS[1:]:
                session.add(Grid(district=district, community=community, code=grid, name=grid))
        await session.commit()
    yield sessions
    await engine.dispose()


async def apply(sessions: async_sessionmaker[AsyncSession], write: tuple, known: list[str]) -> None:  # type: ignore[type-arg]
    worker = Caller(subject="w", role=Role.DISTRICT_ADMIN, district="d1")
    if write[0] == "register":
        _, (district, community), grid, born, chosen = write
        worker = Caller(subject="w", role=Role.DISTRICT_ADMIN, district=district)
        data = ResidentIn(
            district=district,
            community=community,
            grid_code=grid,
            full_name=f"居民{next(_serial)}",
            gender="female",
            birth_date=born,
            id_number=make_id_number(),
            tags=chosen,
        )
        made = await residents.register_resident(UnitOfWork(sessions), worker, data, id_key=b"k" * 32)
        known.append(made.id)
        return
    if not known:
        return
    resident_id = known[write[1] % len(known)]
    async with sessions() as session:
        resident = await session.get(Resident, resident_id)
        assert resident is not None
        worker = Caller(subject="w", role=Role.DISTRICT_ADMIN, district=resident.district)
    try:
        if write[0] == "tags":
            await residents.change_tags(UnitOfWork(sessions), worker, resident_id, write[2])
        elif write[0] == "leave":
            await residents.record_departure(UnitOfWork(sessions), worker, resident_id, write[2], TODAY)
        else:  # no use case moves a resident yet: the rollup follows any change of place or birth date
            async with sessions() as session:
                resident = await session.get(Resident, resident_id)
                assert resident is not None
                resident.grid_code, resident.birth_date = write[2], write[3]
                session.add(resident)
                await session.commit()
    except Conflict:  # the resident had already left
        pass


async def check_equal(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        for caller, by_grid, day in itertools.product(CALLERS, (False, True), DAYS):
            for district in (None, "d1"):
                arguments = {"by_grid": by_grid, "district": district, "today": day}
                rolled = await statistics(session, caller, **arguments)  # type: ignore[arg-type]
                scanned = await statistics_by_scan(session, caller, **arguments)  # type: ignore[arg-type]
                assert rolled == scanned, (caller.role, by_grid, day, district)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(writes, min_size=1, max_size=25))
async def test_the_rollup_equals_a_scan_after_any_writes(
    factory: async_sessionmaker[AsyncSession],
    batch: list[tuple],  # type: ignore[type-arg]
) -> None:
    async with factory() as session:
        known = list((await session.exec(select(Resident.id).order_by(Resident.id))).all())
    for write in batch:
        await apply(factory, write, known)
    await check_equal(factory)


async def test_the_migration_counts_residents_already_on_record(database_url: str) -> None:
    """Residents stored before the rollup existed are counted when it is made."""
    engine = make_engine(database_url)

    def upgrade_to_0003(connection: Connection) -> None:
        config = alembic_config(MIGRATIONS, str(engine.url))
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")

    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade_to_0003)
            for n, (district, community) in enumerate(PLACES * 3):
                born, grid = date(1930 + 9 * n, 1 + n % 12, 1 + n), GRIDS[n % 3]
                await connection.execute(
                    text(
                        "INSERT INTO resident (id, district, community, grid_code, full_name, gender, "
                        "birth_date, id_number_hash, id_number_masked, living_alone, lonely, disabled, "
                        "bedridden, dibao, poor_household, orphan, child_in_difficulty, veteran, "
                        "party_member, status, registered_at) VALUES (:id, :district, :community, :grid, "
                        "'n', 'male', :born, :hash, 'm', :odd, false, false, false, :even, false, false, "
                        "false, false, false, :status, :now)"
                    ),
                    {
                        "id": f"r{n}", "district": district, "community": community, "grid": grid,
                        "born": born, "hash": f"h{n}", "odd": n % 2 == 1, "even": n % 2 == 0,
                        "status": "moved_out" if n == 4 else "active", "now": NOW,
                    },
                )  # fmt: skip
        await upgrade_to_head(engine, MIGRATIONS)
        sessions = make_session_factory(engine)
        await check_equal(sessions)
        async with sessions() as session:
            rows = await statistics(session, CALLERS[0], by_grid=False, district=None, today=TODAY)
        assert sum(row["population"] for row in rows) == 8
    finally:
        await engine.dispose()


async def test_the_rollup_stays_exact_under_concurrent_writes(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    """Writers racing on the same residents and the same grid: each counts against the row as
    stored (locked), not as it read it, so no change is counted twice or lost."""
    known: list[str] = []
    for n in range(4):
        await apply(factory, ("register", PLACES[0], "g1", date(1950 + n, 6, 1), {Tag.DIBAO}), known)

    tag_changes = [("tags", 0, {tag}) for tag in Tag]  # each sets another tag on the same resident
    departures = [("leave", n, status) for n in (1, 2, 3) for status in Status if status != Status.ACTIVE]
    writes = [*tag_changes, *departures]
    results = await asyncio.gather(*(apply(factory, w, known) for w in writes), return_exceptions=True)
    assert not [r for r in results if isinstance(r, BaseException)], results
    await check_equal(factory)
