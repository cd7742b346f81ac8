"""The points section of the monthly report: each figure equals a count of the rows themselves and
what the volunteers' ledgers answer, in two communities and two months; each role its scope."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

import pytest
from sqlmodel import select

from linli_points.api.activities import ActivityIn, SignUpIn
from linli_points.api.neighbours import HandOverIn, HelpMatchIn, HelpOfferIn, HelpRequestIn
from linli_points.api.service_hours_schemas import AttendanceIn, LateServiceIn
from linli_points.api.supermarket import RedemptionIn
from linli_points.api.wishes import FulfilmentIn, ReviewIn, WishIn
from linli_points.models import Activity, HelpMatch, HelpRequest, PointsEntry, ServiceRecord, Wish
from linli_points.usecases import activities, neighbours, service_hours, supermarket, wishes
from linli_shared.auth import Caller, Role
from linli_shared.clock import CHINA_TIME, china_day, utc_now
from linli_shared.monthly_report import Month
from linli_shared.testing.communities import Community
from linli_shared.testing.http import bearer
from linli_shared.unit_of_work import UnitOfWork

pytestmark = [pytest.mark.integration]

THIS = Month.parse(f"{china_day(utc_now()):%Y-%m}")
LAST = Month.parse(f"{THIS.first_day - timedelta(days=1):%Y-%m}")


def on(month: Month, day: int, hour: int = 10) -> datetime:
    return datetime.combine(month.first_day + timedelta(days=day - 1), time(hour), CHINA_TIME)


def this_month_so_far() -> datetime:
    """A moment of this month already past, whatever day it is today."""
    return THIS.start + (utc_now() - THIS.start) / 2


def worker(place: Community) -> Caller:
    return Caller(
        subject="worker", role=Role.COMMUNITY_WORKER, district=place.district, community=place.community
    )


@pytest.fixture
def places() -> tuple[Community, Community]:
    one = Community.new()
    return one, Community(one.district, one.community + "b")


async def build_records(client, enrol, known_resident, stocked_item, credit, places) -> None:
    """Activities, hours, wishes, help and redemptions in two communities and two months."""
    factory = client.app.state.session_factory

    def at(moment: datetime) -> UnitOfWork:
        return UnitOfWork(factory, clock=lambda: moment)

    one, two = places
    v1, v2 = await enrol(one, "v-one"), await enrol(two, "v-two")
    claimant = Caller(subject="v-one", role=Role.VOLUNTEER, district=one.district, community=one.community)
    for place, volunteer, starts, minutes in (
        (one, v1, on(LAST, 5), 90),
        (two, v2, on(LAST, LAST.last_day.day, 22), 45),
    ):
        activity = await activities.publish_activity(
            at(starts - timedelta(days=2)),
            worker(place),
            ActivityIn(
                district=place.district,
                community=place.community,
                title="义务理发",
                kind="haircut",
                place="社区活动室",
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                capacity=5,
            ),
        )
        await activities.sign_up(
            at(starts - timedelta(days=1)),
            worker(place),
            activity.id,
            SignUpIn(volunteer_id=str(volunteer["id"])),
        )
        await service_hours.confirm_attendance(
            at(starts + timedelta(hours=3)),
            worker(place),
            activity.id,
            AttendanceIn(volunteer_id=str(volunteer["id"]), minutes=minutes),
        )
    moment = this_month_so_far()
    await service_hours.enter_service_hours(
        at(moment),
        worker(two),
        LateServiceIn(volunteer_id=str(v2["id"]), served_on=THIS.first_day, minutes=120, earns_points=False),
    )
    await service_hours.enter_service_hours(
        at(moment),
        worker(two),
        LateServiceIn(volunteer_id=str(v2["id"]), served_on=LAST.last_day, minutes=30),
    )
    resident = await known_resident(one)
    for fulfilled in (on(LAST, 20), moment):
        wish = await wishes.post_wish(
            at(on(LAST, 2)), worker(one), WishIn(resident_id=resident, title="一台轮椅", points_award=30)
        )
        await wishes.review_wish(at(on(LAST, 3)), worker(one), wish.id, ReviewIn(approve=True))
        await wishes.claim_wish(at(fulfilled - timedelta(hours=1)), claimant, wish.id)
        await wishes.fulfil_wish(at(fulfilled), claimant, wish.id, FulfilmentIn(note="送到家"))
        await wishes.confirm_wish(at(fulfilled + timedelta(minutes=5)), worker(one), wish.id)
    giver, asker = await known_resident(two), await known_resident(two)
    posting = {"district": two.district, "community": two.community, "goods": "旧轮椅"}
    offer = await neighbours.offer_help(
        at(on(LAST, 1)), worker(two), HelpOfferIn(resident_id=giver, **posting)
    )
    request = await neighbours.ask_for_help(
        at(on(LAST, 1)), worker(two), HelpRequestIn(resident_id=asker, **posting)
    )
    match = await neighbours.match_help(
        at(on(LAST, 2)), worker(two), HelpMatchIn(offer_id=offer.id, request_id=request.id)
    )
    await neighbours.hand_over(at(moment), worker(two), match.id, HandOverIn(note="已送到"))
    await credit(one, str(v1["id"]), 500)
    intake = await stocked_item(one, price=40, stock=10)
    item = RedemptionIn(item_id=str(intake["id"]), volunteer_id=str(v1["id"]), quantity=2)
    await supermarket.redeem(at(moment), worker(one), item)
    kept = await supermarket.redeem(at(moment), worker(one), item)
    await supermarket.cancel_redemption(at(moment), worker(one), kept.id)


async def counted_from_rows(client, month: Month) -> dict[tuple[str, str], dict[str, int]]:
    found: defaultdict[tuple[str, str], defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    served: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    volunteers: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    async with client.app.state.session_factory() as session:
        for a in (await session.exec(select(Activity))).all():
            found[(a.district, a.community)]["activities_held"] += int(month.holds(a.starts_at))
        for r in (await session.exec(select(ServiceRecord))).all():
            if month.first_day <= r.served_on <= month.last_day:
                found[(r.district, r.community)]["service_minutes"] += r.minutes
                volunteers[(r.district, r.community)].add(r.volunteer_id)
        for w in (await session.exec(select(Wish))).all():
            if month.holds(w.fulfilled_at):
                found[(w.district, w.community)]["wishes_fulfilled"] += 1
                served[(w.district, w.community)].add(w.resident_id)
        for m in (await session.exec(select(HelpMatch))).all():
            if month.holds(m.handed_over_at):
                request = await session.get(HelpRequest, m.request_id)
                assert request is not None
                found[(m.district, m.community)]["help_handed_over"] += 1
                served[(m.district, m.community)].add(request.resident_id)
        for e in (await session.exec(select(PointsEntry))).all():
            if month.holds(e.created_at) and e.kind in ("earned", "redeemed", "refunded"):
                found[(e.district, e.community)][f"points_{e.kind}"] += abs(e.points)
    for place, people in served.items():
        found[place]["residents_served"] = len(people)
    for place, people in volunteers.items():
        found[place]["volunteers_serving"] = len(people)
    return {place: dict(counts) for place, counts in found.items()}


FIGURES = [
    "activities_held",
    "service_minutes",
    "volunteers_serving",
    "wishes_fulfilled",
    "help_handed_over",
    "residents_served",
    "points_earned",
    "points_redeemed",
    "points_refunded",
]


@pytest.mark.parametrize("which", ["this", "last"])
async def test_every_figure_equals_a_count_of_the_rows_and_the_ledgers(
    client, enrol, known_resident, stocked_item, credit, places, which
) -> None:
    month = THIS if which == "this" else LAST
    await build_records(client, enrol, known_resident, stocked_item, credit, places)
    one, two = places
    response = await client.get(
        f"/v1/reports/monthly?month={month.label}", headers=bearer(Role.DISTRICT_ADMIN, one.district, None)
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["month"] == month.label
    got = {(e["district"], e["community"]): e for e in report["communities"]}
    assert sorted(got) == sorted([(one.district, one.community), (two.district, two.community)])
    expected = await counted_from_rows(client, month)
    for place, entry in got.items():
        assert {f: entry[f] for f in FIGURES} == {f: expected.get(place, {}).get(f, 0) for f in FIGURES}, (
            place
        )
        assert entry["service_hours"] == round(entry["service_minutes"] / 60, 1)
    first, second = got[(one.district, one.community)], got[(two.district, two.community)]
    if which == "last":
        assert (first["activities_held"], first["service_minutes"], first["wishes_fulfilled"]) == (1, 90, 1)
        assert (second["activities_held"], second["service_minutes"], second["volunteers_serving"]) == (
            1,
            75,
            1,
        )
        assert (second["help_handed_over"], first["points_redeemed"]) == (0, 0)
    else:
        assert (first["activities_held"], first["wishes_fulfilled"], first["residents_served"]) == (0, 1, 1)
        assert (first["points_redeemed"], first["points_refunded"]) == (160, 80)
        assert (second["service_minutes"], second["help_handed_over"], second["residents_served"]) == (
            120,
            1,
            1,
        )
    for place, entry in got.items():  # the volunteers' own ledgers say the same
        assert await ledger_sums(client, place, month) == {
            k: entry[k] for k in ("points_earned", "points_redeemed", "points_refunded")
        }


async def ledger_sums(client, place: tuple[str, str], month: Month) -> dict[str, int]:
    sums = {"points_earned": 0, "points_redeemed": 0, "points_refunded": 0}
    community = Community(*place)
    volunteers = await client.get("/v1/volunteers?limit=500", headers=community.as_(Role.COMMUNITY_WORKER))
    assert volunteers.status_code == 200, volunteers.text
    for volunteer in volunteers.json()["items"]:
        path = f"/v1/volunteers/{volunteer['id']}/ledger?limit=500"
        entries = (await client.get(path, headers=community.as_(Role.COMMUNITY_WORKER))).json()["items"]
        for e in entries:
            key = f"points_{e['kind']}"
            if key in sums and month.holds(datetime.fromisoformat(e["created_at"])):
                sums[key] += abs(e["points"])
    return sums


async def test_each_role_sees_its_scope(client, enrol, places) -> None:
    one, two = places
    await enrol(one)
    await enrol(two)
    path = f"/v1/reports/monthly?month={THIS.label}"
    own = (await client.get(path, headers=one.as_(Role.COMMUNITY_WORKER))).json()["communities"]
    assert [(e["district"], e["community"]) for e in own] == [(one.district, one.community)]
    other = await client.get(f"{path}&community={two.community}", headers=one.as_(Role.COMMUNITY_WORKER))
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"
    for role in (Role.DISTRICT_ADMIN, Role.AUDITOR):
        both = (await client.get(path, headers=bearer(role, one.district, None))).json()["communities"]
        assert [e["community"] for e in both] == sorted([one.community, two.community])
    city = await client.get(f"{path}&district={one.district}", headers=bearer(Role.CITY_ADMIN, None, None))
    assert [e["community"] for e in city.json()["communities"]] == sorted([one.community, two.community])
    new = Community.new()  # a community the service has no records of still gets its entry
    empty = (await client.get(path, headers=new.as_(Role.COMMUNITY_WORKER))).json()["communities"]
    assert empty == [
        {
            "district": new.district,
            "community": new.community,
            **dict.fromkeys(FIGURES, 0),
            "service_hours": 0.0,
        }
    ]
    for role in (Role.GRID_WORKER, Role.VOLUNTEER, Role.FUND_OFFICER, Role.RESIDENT):
        refused = await client.get(path, headers=one.as_(role))
        assert refused.status_code == 403, role
        assert refused.headers["content-type"] == "application/problem+json"


def test_a_moment_of_this_month_so_far_is_in_this_month() -> None:
    assert THIS.holds(this_month_so_far()) and this_month_so_far() <= utc_now()
    assert date.fromisoformat(f"{LAST.label}-01") == LAST.first_day
