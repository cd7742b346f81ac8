"""Use-case rules that need no query, on the in-memory unit of work (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from linli_registry.api.health import HealthRecordIn
from linli_registry.api.places import DistrictIn
from linli_registry.domain import Status, Tag
from linli_registry.models import District, HealthRecord, HealthRecordRead, Resident
from linli_registry.usecases import health, places, residents
from linli_shared.auth import Caller, Role
from linli_shared.contracts.registry import ResidentTagsChanged
from linli_shared.errors import Conflict, Forbidden, NotFound
from linli_shared.idempotency import IdempotentRequest
from linli_shared.testing.fakes import FakeUnitOfWork, primary_key

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
WORKER = Caller(subject="li-hongliang", role=Role.COMMUNITY_WORKER, district="gqy", community="dlz")


def key(name: str = "k-1", body: str = "{}") -> IdempotentRequest:
    return IdempotentRequest(key=name, scope="li-hongliang:PUT:/v1/residents/r-1/tags", request_hash=body)


def elder(status: Status = Status.ACTIVE) -> Resident:
    return Resident(
        id="r-1",
        district="gqy",
        community="dlz",
        full_name="王桂兰",
        gender="female",
        birth_date=date(1941, 5, 2),
        id_number_hash="h" * 64,
        id_number_masked="110105********0021",
        status=status.value,
        registered_at=NOW,
    )


def stored(uow: FakeUnitOfWork, *rows: object) -> FakeUnitOfWork:
    """The unit of work with these rows already committed."""
    for row in rows:
        uow.rows[(type(row), primary_key(row))] = row
    return uow


async def test_changing_tags_announces_the_new_tags_once() -> None:
    uow = stored(FakeUnitOfWork(clock=lambda: NOW), elder())
    resident = await residents.change_tags(uow, WORKER, "r-1", {Tag.LIVING_ALONE, Tag.BEDRIDDEN})
    assert residents.tags_of(resident) == [Tag.LIVING_ALONE, Tag.BEDRIDDEN]
    assert [e.event_type for e in uow.published] == [f"registry.{ResidentTagsChanged.name}"]
    assert uow.published[0].payload["tags"] == ["bedridden", "living_alone"]
    assert uow.published[0].occurred_at == NOW and uow.commits == 1


async def test_the_same_key_replays_a_tag_change_without_announcing_it_again() -> None:
    uow = stored(FakeUnitOfWork(idempotency=key(), clock=lambda: NOW), elder())
    first = await residents.change_tags(uow, WORKER, "r-1", {Tag.LIVING_ALONE})
    again = await residents.change_tags(uow, WORKER, "r-1", {Tag.LIVING_ALONE})
    assert again.id == first.id and residents.tags_of(again) == [Tag.LIVING_ALONE]
    assert len(uow.published) == 1 and uow.commits == 1


async def test_tags_of_a_deceased_resident_are_refused_and_nothing_is_announced() -> None:
    uow = stored(FakeUnitOfWork(), elder(Status.DECEASED))
    with pytest.raises(Conflict, match="already deceased"):
        await residents.change_tags(uow, WORKER, "r-1", {Tag.LIVING_ALONE})
    assert uow.published == [] and uow.commits == 0


async def test_a_resident_of_another_district_is_not_found_for_a_worker() -> None:
    uow = stored(FakeUnitOfWork(), elder())
    stranger = Caller(subject="x", role=Role.COMMUNITY_WORKER, district="other", community="dlz")
    with pytest.raises(NotFound):
        await residents.change_tags(uow, stranger, "r-1", {Tag.LIVING_ALONE})
    assert uow.published == [] and uow.commits == 0


async def test_a_district_is_created_once_and_its_key_replays_the_answer() -> None:
    admin = Caller(subject="city", role=Role.CITY_ADMIN)
    uow = FakeUnitOfWork(idempotency=key("district"))
    data = DistrictIn(code="gqy", name="高桥营街道")
    first = await places.create_district(uow, admin, data)
    again = await places.create_district(uow, admin, data)
    assert (again.code, again.name) == (first.code, first.name) and uow.commits == 1
    assert [k for k in uow.rows if k[0] is District] == [(District, ("gqy",))]
    with pytest.raises(Conflict):  # without a key, a second district of the same code is refused
        await places.create_district(uow_without_key(uow), admin, data)


def uow_without_key(uow: FakeUnitOfWork) -> FakeUnitOfWork:
    """Another unit of work on the same stored rows, with no Idempotency-Key."""
    fresh = FakeUnitOfWork()
    fresh.rows = uow.rows
    return fresh


async def test_only_a_city_admin_creates_a_district() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(Forbidden):
        await places.create_district(uow, WORKER, DistrictIn(code="gqy", name="高桥营街道"))
    assert uow.rows == {} and uow.commits == 0


async def test_grid_workers_may_not_write_health_records() -> None:
    uow = stored(FakeUnitOfWork(), elder())
    grid_worker = WORKER.model_copy(update={"role": Role.GRID_WORKER})
    with pytest.raises(Forbidden):
        await health.put_health_record(uow, grid_worker, "r-1", HealthRecordIn(address="2号楼101"))
    assert not any(model is HealthRecord for model, _ in uow.rows)


async def test_a_community_workers_read_of_a_health_record_is_recorded_with_it() -> None:
    uow = stored(FakeUnitOfWork(clock=lambda: NOW), elder())
    await health.put_health_record(uow, WORKER, "r-1", HealthRecordIn(address="2号楼101", notes="独居"))
    record = await health.read_health_record(uow, WORKER, "r-1")
    assert record.notes == "独居" and record.updated_at == NOW
    reads = [row for (model, _), row in uow.rows.items() if model is HealthRecordRead]
    assert [(r.reader, r.reader_role, r.read_at) for r in reads] == [
        ("li-hongliang", "community_worker", NOW)
    ]
    assert uow.commits == 2
