"""The registry's section of the monthly report: each figure equals a count of the rows themselves,
the current month's tags equal the statistics API, and each role sees only its communities."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from linli_registry.domain import Status, VisitKind, age_band
from linli_registry.models import CareGroup, Household, OverdueAlert, Resident, VisitLog
from linli_registry.usecases import care
from linli_shared.auth import Role
from linli_shared.clock import CHINA_TIME, china_day, utc_now
from linli_shared.monthly_report import TAGS, Month

from ..conftest import Place, headers

pytestmark = [pytest.mark.integration]

THIS = Month.parse(f"{china_day(utc_now()):%Y-%m}")
LAST = Month.parse(f"{THIS.first_day - timedelta(days=1):%Y-%m}")


def in_month(month: Month, day: int, hour: int = 10) -> datetime:
    return datetime.combine(month.first_day + timedelta(days=day - 1), time(hour), CHINA_TIME)


@pytest.fixture
async def two_places(client, place) -> tuple[Place, Place]:
    """Two communities of one district, each with a grid."""
    other = Place(place.district, place.community + "b", "zone-1")
    admin = headers(Role.CITY_ADMIN, None)
    response = await client.post(
        "/v1/communities",
        json={"district": other.district, "code": other.community, "name": "西李庄社区"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    grid = {"district": other.district, "community": other.community, "code": other.grid, "name": "一片区"}
    assert (await client.post("/v1/grids", json=grid, headers=admin)).status_code == 201
    return place, other


async def visit(client, place: Place, resident_id: str, kind: str, at: datetime) -> None:
    body = {"resident_id": resident_id, "kind": kind, "visited_at": at.isoformat()}
    response = await client.post(
        "/v1/visits", json=body, headers=place.as_(Role.GRID_WORKER, "grid-worker-1")
    )
    assert response.status_code == 201, response.text


async def build_records(client, register, places: tuple[Place, Place]) -> None:
    """Residents, households, care groups, visits and alerts in two communities and two months."""
    one, two = places
    worker = one.as_(Role.COMMUNITY_WORKER)
    for place, count in ((one, 2), (two, 1)):
        for n in range(count):
            body = {"district": place.district, "community": place.community, "address": f"{n + 1}号楼"}
            response = await client.post(
                "/v1/households", json=body, headers=place.as_(Role.COMMUNITY_WORKER)
            )
            assert response.status_code == 201, response.text
    elder = await register(one, birth_date="1940-01-15", tags=["living_alone", "party_member"])
    await register(one, birth_date="1990-06-01", tags=["party_member"])
    await register(one, birth_date="2015-03-03", tags=["orphan"])
    moved = await register(one, birth_date="1960-05-05", tags=["dibao"])
    await register(two, birth_date="1950-02-02", tags=["living_alone", "veteran"])
    async with client.app.state.session_factory() as session:  # registered last month
        await session.exec(
            update(Resident)
            .where(col(Resident.id).in_([elder["id"], moved["id"]]))
            .values(registered_at=in_month(LAST, 3))
        )
        await session.commit()
    response = await client.post(
        f"/v1/residents/{moved['id']}/move-out", json={"on": THIS.first_day.isoformat()}, headers=worker
    )
    assert response.status_code == 200, response.text
    group = {
        "resident_id": elder["id"],
        "community_worker": "community-worker-1",
        "grid_worker": "grid-worker-1",
        "neighbour_name": "对门张阿姨",
    }
    assert (await client.post("/v1/care-groups", json=group, headers=worker)).status_code == 201
    for kind, at in (
        ("visit", in_month(LAST, 5)),
        ("visit", in_month(LAST, 28, 23)),
        ("call", in_month(LAST, 1, 0)),
        ("visit", in_month(THIS, 1, 1)),
        ("call", in_month(THIS, 1, 2)),
    ):
        if at <= utc_now():
            await visit(client, one, str(elder["id"]), kind, at)
    await visit(client, one, str(elder["id"]), "visit", in_month(LAST, 1, 0) - timedelta(minutes=1))  # before
    factory = client.app.state.session_factory
    async with factory() as session:
        care_group = (await session.exec(select(CareGroup))).one()
    for kind, due, raised in (
        (VisitKind.VISIT, in_month(LAST, 10), in_month(LAST, 11)),
        (VisitKind.CALL, in_month(LAST, 12), in_month(LAST, 13)),
        (VisitKind.VISIT, in_month(THIS, 1, 0), in_month(THIS, 1, 1)),
    ):
        assert await care.raise_overdue(factory, care_group, kind, due, raised)


async def counted_from_rows(client, month: Month) -> dict[tuple[str, str], dict[str, object]]:
    """The section computed in Python from every row: what the report must equal."""
    found: dict[tuple[str, str], dict[str, object]] = {}

    def entry(district: str, community: str) -> dict[str, object]:
        return found.setdefault(
            (district, community),
            {
                "residents": 0,
                "residents_by_tag": {tag: 0 for tag, _ in TAGS},
                "residents_by_age_band": dict.fromkeys(("0-17", "18-59", "60-69", "70-79", "80+"), 0),
                "households": 0,
                "visits": 0,
                "calls": 0,
                "overdue_alerts": 0,
                "overdue_visit_alerts": 0,
            },
        )

    async with client.app.state.session_factory() as session:
        for r in (await session.exec(select(Resident))).all():
            row = entry(r.district, r.community)
            gone = (
                r.status != Status.ACTIVE.value and r.status_on is not None and r.status_on <= month.last_day
            )
            if r.registered_at >= month.end or gone:
                continue
            row["residents"] += 1  # type: ignore[operator]
            for tag, _ in TAGS:
                row["residents_by_tag"][tag] += int(getattr(r, tag))  # type: ignore[index]
            row["residents_by_age_band"][age_band(r.birth_date, month.last_day)] += 1  # type: ignore[index]
        for h in (await session.exec(select(Household))).all():
            entry(h.district, h.community)["households"] += 1  # type: ignore[operator]
        for v in (await session.exec(select(VisitLog))).all():
            if month.holds(v.visited_at):
                entry(v.district, v.community)["visits" if v.kind == "visit" else "calls"] += 1  # type: ignore[operator]
        for a in (await session.exec(select(OverdueAlert))).all():
            if month.holds(a.raised_at):
                row = entry(a.district, a.community)
                row["overdue_alerts"] += 1  # type: ignore[operator]
                row["overdue_visit_alerts"] += int(a.kind == "visit")  # type: ignore[operator]
    return found


def figures(entry: dict[str, object]) -> dict[str, object]:
    return {
        k: v
        for k, v in entry.items()
        if k not in ("district", "community", "community_name", "visit_completion_rate")
    }


@pytest.mark.parametrize("which", ["this", "last"])
async def test_every_figure_equals_a_count_of_the_rows(client, register, two_places, which) -> None:
    month = THIS if which == "this" else LAST
    await build_records(client, register, two_places)
    district = two_places[0].district
    response = await client.get(
        f"/v1/reports/monthly?month={month.label}", headers=headers(Role.DISTRICT_ADMIN, district)
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["month"] == month.label
    expected = await counted_from_rows(client, month)
    got = {(e["district"], e["community"]): e for e in report["communities"]}
    assert sorted(got) == sorted((p.district, p.community) for p in two_places)
    for place, entry in got.items():
        assert figures(entry) == expected[place], place
        done, missed = entry["visits"], entry["overdue_visit_alerts"]
        assert entry["visit_completion_rate"] == (round(done / (done + missed), 4) if done + missed else None)
    one = got[(two_places[0].district, two_places[0].community)]
    assert one["community_name"] == "东李庄社区"
    if which == "last":  # two residents then, one of whom moved out on this month's first day
        assert (one["residents"], one["residents_by_tag"]["dibao"], one["overdue_alerts"]) == (2, 1, 2)
        assert (one["visits"], one["calls"], one["overdue_visit_alerts"]) == (2, 1, 1)
    else:
        assert (
            one["residents"],
            one["residents_by_tag"]["dibao"],
            one["residents_by_tag"]["party_member"],
        ) == (3, 0, 2)


async def test_this_months_residents_and_tags_equal_the_statistics_api(client, register, two_places) -> None:
    await build_records(client, register, two_places)
    district_admin = headers(Role.DISTRICT_ADMIN, two_places[0].district)
    report = (await client.get(f"/v1/reports/monthly?month={THIS.label}", headers=district_admin)).json()
    statistics = (await client.get("/v1/statistics", headers=district_admin)).json()
    by_place = {(s["district"], s["community"]): s for s in statistics}
    labels = {
        "orphan": "orphans",
        "child_in_difficulty": "children_in_difficulty",
        "veteran": "veterans",
        "party_member": "party_members",
    }
    for entry in report["communities"]:
        counted = by_place[(entry["district"], entry["community"])]
        assert entry["residents"] == counted["population"]
        for tag, n in entry["residents_by_tag"].items():
            assert n == counted[labels.get(tag, tag)], tag


async def test_a_community_worker_sees_only_their_community_and_a_district_admin_both(
    client, register, two_places
) -> None:
    one, two = two_places
    await build_records(client, register, two_places)
    path = f"/v1/reports/monthly?month={LAST.label}"
    own = (await client.get(path, headers=one.as_(Role.COMMUNITY_WORKER))).json()["communities"]
    assert [(e["district"], e["community"]) for e in own] == [(one.district, one.community)]
    response = await client.get(f"{path}&community={two.community}", headers=one.as_(Role.COMMUNITY_WORKER))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    for caller in (headers(Role.DISTRICT_ADMIN, one.district), headers(Role.AUDITOR, one.district)):
        both = (await client.get(path, headers=caller)).json()["communities"]
        assert [e["community"] for e in both] == sorted([one.community, two.community])
    city = await client.get(f"{path}&district={one.district}", headers=headers(Role.CITY_ADMIN, None))
    assert [e["community"] for e in city.json()["communities"]] == sorted([one.community, two.community])
    just_two = await client.get(
        f"{path}&community={two.community}", headers=headers(Role.DISTRICT_ADMIN, one.district)
    )
    assert [e["community"] for e in just_two.json()["communities"]] == [two.community]
    elsewhere = await client.get(
        f"{path}&district={one.district}", headers=headers(Role.DISTRICT_ADMIN, "elsewhere")
    )
    assert elsewhere.status_code == 404
    for role in (Role.GRID_WORKER, Role.FUND_OFFICER, Role.VOLUNTEER, Role.RESIDENT):
        refused = await client.get(path, headers=one.as_(role))
        assert refused.status_code == 403, role
        assert refused.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "november", ""])
async def test_a_malformed_month_is_refused(client, place, month) -> None:
    response = await client.get(
        f"/v1/reports/monthly?month={month}", headers=place.as_(Role.COMMUNITY_WORKER)
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_month_bounds_are_china_midnights() -> None:
    month = Month.parse("2026-02")
    assert (month.first_day, month.last_day) == (date(2026, 2, 1), date(2026, 2, 28))
    assert month.start.astimezone(CHINA_TIME).isoformat() == "2026-02-01T00:00:00+08:00"
    assert Month.parse("2026-12").end.isoformat() == "2027-01-01T00:00:00+08:00"
