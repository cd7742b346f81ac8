"""The demo community: its data (a pure function of seed and day) and its loader, without a server."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from linli_registry import demo
from linli_registry.api.care import CareGroupIn, VisitIn
from linli_registry.api.fields import PHONE_PATTERN
from linli_registry.api.health import HealthRecordIn
from linli_registry.api.places import GridIn
from linli_registry.api.residents_schemas import HouseholdIn, ResidentIn
from linli_registry.demo import DemoCommunity, demo_community, needs_care_group
from linli_registry.domain import Tag, VisitKind, age_on, birth_date_from_id, normalise_id_number

TODAY = date(2025, 6, 1)
SEEDS = [7, 1, 2, 3, 42]


@pytest.fixture(scope="module")
def community() -> DemoCommunity:
    return demo_community(7, TODAY)


def ages(community: DemoCommunity, today: date = TODAY) -> list[int]:
    return [age_on(p.birth_date, today) for p in community.people]


@pytest.mark.parametrize("seed", SEEDS)
def test_demo_id_numbers_are_valid_and_unique(seed: int) -> None:
    numbers = [p.id_number for p in demo_community(seed, TODAY).people]
    assert all(normalise_id_number(n) == n for n in numbers)
    assert len(set(numbers)) == len(numbers)


def test_demo_id_numbers_hold_the_birth_date_and_gender(community: DemoCommunity) -> None:
    for person in community.people:
        assert birth_date_from_id(person.id_number) == person.birth_date
        assert int(person.id_number[16]) % 2 == (1 if person.gender == "male" else 0)


def test_demo_is_the_same_for_the_same_seed_and_day() -> None:
    assert demo_community(7, TODAY) == demo_community(7, TODAY)


def test_demo_differs_between_seeds() -> None:
    first, second = demo_community(7, TODAY), demo_community(8, TODAY)
    assert [p.full_name for p in first.people] != [p.full_name for p in second.people]
    assert {p.id_number for p in first.people}.isdisjoint({p.id_number for p in second.people})


@pytest.mark.parametrize("seed", SEEDS)
def test_demo_has_about_300_residents_in_120_households_over_five_zones(seed: int) -> None:
    community = demo_community(seed, TODAY)
    assert [g.code for g in community.grids] == [f"zone-{n}" for n in range(1, 6)]
    assert [g.grid_worker for g in community.grids] == [f"grid-worker-{n}" for n in range(1, 6)]
    assert len(community.households) == 120
    assert 250 <= len(community.people) <= 380
    assert {p.household_key for p in community.people} == {h.key for h in community.households}
    per_zone = Counter(p.grid_code for p in community.people)
    assert set(per_zone) == {g.code for g in community.grids}
    assert min(per_zone.values()) >= 25


def test_demo_addresses_are_unique_and_members_share_their_households_zone(community: DemoCommunity) -> None:
    assert len({h.address for h in community.households}) == len(community.households)
    for person in community.people:
        assert person.grid_code == community.households[person.household_key].grid_code


@pytest.mark.parametrize("seed", SEEDS)
def test_demo_age_mix_has_elders_the_very_old_and_children(seed: int) -> None:
    years = ages(demo_community(seed, TODAY))
    share_60_plus = sum(a >= 60 for a in years) / len(years)
    assert 0.18 <= share_60_plus <= 0.38
    assert sum(a >= 80 for a in years) >= 5
    assert 0.10 <= sum(a < 18 for a in years) / len(years) <= 0.35
    assert min(years) >= 0 and max(years) <= 100


def test_demo_birth_dates_work_on_a_leap_day() -> None:
    leap_day = date(2024, 2, 29)
    community = demo_community(7, leap_day)
    assert all(p.birth_date < leap_day for p in community.people)
    assert all(normalise_id_number(p.id_number) == p.id_number for p in community.people)


@pytest.mark.parametrize("seed", SEEDS)
def test_demo_living_alone_residents_are_elders_alone_in_their_household(seed: int) -> None:
    community = demo_community(seed, TODAY)
    sizes = Counter(p.household_key for p in community.people)
    alone = [p for p in community.people if Tag.LIVING_ALONE in p.tags]
    assert len(alone) >= 8
    for person in alone:
        assert age_on(person.birth_date, TODAY) >= 60
        assert sizes[person.household_key] == 1


@pytest.mark.parametrize("seed", SEEDS)
def test_every_living_alone_or_bedridden_elder_gets_one_care_group(seed: int) -> None:
    community = demo_community(seed, TODAY)
    needing = {
        p.key
        for p in community.people
        if age_on(p.birth_date, TODAY) >= 60 and {Tag.LIVING_ALONE, Tag.BEDRIDDEN} & p.tags
    }
    grouped = [g.person_key for g in community.care_groups]
    assert any(Tag.BEDRIDDEN in p.tags for p in community.people)
    assert sorted(grouped) == sorted(needing)
    assert len(set(grouped)) == len(grouped)


def test_needs_care_group_is_only_for_elders_living_alone_or_bedridden(community: DemoCommunity) -> None:
    elder = next(p for p in community.people if Tag.LIVING_ALONE in p.tags)
    assert needs_care_group(elder, TODAY)
    assert not needs_care_group(elder, date(elder.birth_date.year + 59, 1, 1))
    untagged_elder = next(
        p for p in community.people if age_on(p.birth_date, TODAY) >= 60 and not p.tags & {Tag.LIVING_ALONE}
    )
    assert needs_care_group(untagged_elder, TODAY) == (Tag.BEDRIDDEN in untagged_elder.tags)


def test_care_groups_have_the_zone_worker_and_a_neighbour_from_another_household(
    community: DemoCommunity,
) -> None:
    workers = {g.code: g.grid_worker for g in community.grids}
    people = {p.key: p for p in community.people}
    by_name = {p.full_name: p for p in community.people}
    for group in community.care_groups:
        elder = people[group.person_key]
        neighbour = by_name[group.neighbour_name]
        assert group.grid_worker == workers[elder.grid_code]
        assert neighbour.household_key != elder.household_key
        assert neighbour.grid_code == elder.grid_code
        assert neighbour.phone is not None and group.neighbour_phone == neighbour.phone


def test_care_groups_have_daily_visits_up_to_today_and_a_weekly_call(community: DemoCommunity) -> None:
    ordinary = [g for g in community.care_groups if g.formed is None]
    assert len(ordinary) == len(community.care_groups) - 1, "all but the one overdue showcase group"
    for group in ordinary:
        visits = [v for v in group.visits if v.kind is VisitKind.VISIT]
        calls = [v for v in group.visits if v.kind is VisitKind.CALL]
        assert len(calls) == 1 and 2 <= len(visits) <= 4
        assert sorted(v.days_ago for v in visits) == list(range(len(visits)))
        assert [v.days_ago for v in group.visits] == sorted((v.days_ago for v in group.visits), reverse=True)


def test_every_elder_has_a_health_record_and_no_one_younger(community: DemoCommunity) -> None:
    for person in community.people:
        assert (person.health is not None) == (age_on(person.birth_date, TODAY) >= 60)
    lonely = [p for p in community.people if Tag.LONELY in p.tags]
    assert lonely and all(p.health and p.health.children_phones == () for p in lonely)
    assert all(p.health and "独居" in p.health.notes for p in community.people if Tag.LIVING_ALONE in p.tags)


@pytest.mark.parametrize("seed", SEEDS)
def test_demo_tags_have_plausible_frequencies(seed: int) -> None:
    community = demo_community(seed, TODAY)
    people = community.people
    count = Counter(tag for p in people for tag in p.tags)
    assert 20 <= count[Tag.PARTY_MEMBER] <= 24
    assert count[Tag.ORPHAN] == 1
    assert 2 <= count[Tag.BEDRIDDEN] <= 12
    assert 1 <= count[Tag.VETERAN] <= 20
    assert count[Tag.DIBAO] >= 1 and count[Tag.POOR_HOUSEHOLD] >= 1
    assert count[Tag.DISABLED] < len(people) * 0.1
    for person in people:
        age = age_on(person.birth_date, TODAY)
        if {Tag.ORPHAN, Tag.CHILD_IN_DIFFICULTY} & person.tags:
            assert age < 18
        if {Tag.PARTY_MEMBER, Tag.VETERAN} & person.tags:
            assert age >= 22


def test_demo_has_the_six_year_old_orphan_living_with_grandparents_from_the_report(
    community: DemoCommunity,
) -> None:
    orphan = next(p for p in community.people if Tag.ORPHAN in p.tags)
    assert age_on(orphan.birth_date, TODAY) == 6
    family = [p for p in community.people if p.household_key == orphan.household_key and p != orphan]
    assert sorted(age_on(p.birth_date, TODAY) >= 76 for p in family) == [True, True]
    grandmother = next(p for p in family if p.gender == "female")
    assert grandmother.health and {"冠心病", "糖尿病"} <= set(grandmother.health.past_illnesses.split("、"))


@pytest.mark.parametrize("seed", SEEDS)
def test_every_orphan_and_child_in_difficulty_has_a_guardian_from_home(seed: int) -> None:
    community = demo_community(seed, TODAY)
    by_name = {p.full_name: p for p in community.people}
    children = [p for p in community.people if {Tag.ORPHAN, Tag.CHILD_IN_DIFFICULTY} & p.tags]
    assert children
    for child in children:
        guardian = by_name[child.guardian_name or ""]
        assert guardian.household_key == child.household_key
        assert age_on(guardian.birth_date, TODAY) - age_on(child.birth_date, TODAY) >= 18
        assert child.guardian_phone is not None and child.guardian_phone == guardian.phone
        expected = ("奶奶", "爷爷") if Tag.ORPHAN in child.tags else ("母亲", "父亲")
        assert child.guardian_relation == expected[guardian.gender == "male"]
    others = [p for p in community.people if p not in children]
    assert all(p.guardian_name is p.guardian_relation is p.guardian_phone is None for p in others)


def test_demo_names_are_chinese_and_unique(community: DemoCommunity) -> None:
    names = [p.full_name for p in community.people]
    assert all(2 <= len(n) <= 3 and all("\u4e00" <= ch <= "\u9fff" for ch in n) for n in names)
    assert len(set(names)) == len(names)


def test_demo_phone_numbers_reach_no_real_mobile(community: DemoCommunity) -> None:
    phones = [p.phone for p in community.people if p.phone]
    phones += [n for p in community.people if p.health for n in p.health.children_phones]
    phones += [p.guardian_phone for p in community.people if p.guardian_phone]
    phones += [g.neighbour_phone for g in community.care_groups if g.neighbour_phone]
    assert phones and all(re.fullmatch(PHONE_PATTERN, n) for n in phones)
    assert all(len(n) == 11 and n.startswith("100") for n in phones)


def test_demo_request_bodies_pass_the_api_schemas(community: DemoCommunity) -> None:
    now = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
    for grid in community.grids:
        GridIn.model_validate(demo.grid_body(grid))
    for household in community.households:
        HouseholdIn.model_validate(demo.household_body(household))
    for person in community.people:
        ResidentIn.model_validate(demo.resident_body(person, str(uuid.uuid4())))
        if person.health:
            HealthRecordIn.model_validate(demo.health_body(person.health))
    for group in community.care_groups:
        formed_at = now - timedelta(days=group.formed.days_ago) if group.formed else None
        parsed_group = CareGroupIn.model_validate(demo.care_group_body(group, str(uuid.uuid4()), formed_at))
        assert parsed_group.formed_at == formed_at
        for visit in group.visits:
            parsed = VisitIn.model_validate(demo.visit_body(visit, str(uuid.uuid4()), now))
            assert parsed.visited_at is not None and parsed.visited_at.tzinfo is not None


@pytest.mark.parametrize("hour_utc", [0, 5, 9, 16, 23])
def test_visit_times_are_in_china_daytime_in_the_past_within_a_week(hour_utc: int) -> None:
    now = datetime(2025, 6, 1, hour_utc, 17, tzinfo=UTC)
    for group in demo_community(7, now.date()).care_groups:
        for visit in group.visits:
            moment = demo.visit_time(now, visit)
            assert moment.utcoffset() == timedelta(hours=8)
            assert now - timedelta(days=8) < moment <= now
            assert moment.hour == visit.hour and moment.minute == visit.minute


@pytest.mark.parametrize("seed", SEEDS)
def test_one_elder_living_alone_has_a_group_formed_days_ago_and_visited_only_then(seed: int) -> None:
    community = demo_community(seed, TODAY)
    [showcase] = [g for g in community.care_groups if g.formed is not None]
    elder = next(p for p in community.people if p.key == showcase.person_key)
    assert Tag.LIVING_ALONE in elder.tags and showcase.formed.days_ago >= 2
    [visit] = showcase.visits
    assert visit.kind is VisitKind.VISIT
    now = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)
    formed_at = demo.care.moment_before(now, showcase.formed)
    assert demo.visit_time(formed_at, visit) == formed_at, "the first visit is the forming itself"
    last_visit_due = formed_at + timedelta(hours=24)
    assert last_visit_due < now, "the daily visit is already overdue when the demo is loaded"
