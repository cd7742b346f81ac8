"""The demo's residents: names, birth dates, ID numbers, phones and care attributes (tags)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta

from linli_registry.demo.data import DemoData
from linli_registry.demo.households import Member
from linli_registry.demo.model import DemoHousehold, DemoPerson
from linli_registry.domain import Tag, id_check_char


def birth_date(rng: random.Random, age: int, today: date) -> date:
    """A birth date giving `age` on `today`, and at least a day ago."""
    latest = min(years_before(today, age), today - timedelta(days=1))
    earliest = years_before(today, age + 1) + timedelta(days=1)
    return earliest + timedelta(days=rng.randint(0, max(0, (latest - earliest).days)))


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def make_id_number(rng: random.Random, data: DemoData, born: date, gender: str, taken: set[str]) -> str:
    """A made-up 18-character ID number: region, birth date, sequence (odd for men), check char."""
    while True:
        region = rng.choice(data.regions)
        sex_digit = rng.choice("13579" if gender == "male" else "02468")
        first17 = f"{region}{born:%Y%m%d}{rng.randrange(100):02d}{sex_digit}"
        number = first17 + id_check_char(first17)
        if number not in taken:
            taken.add(number)
            return number


def phone(rng: random.Random, data: DemoData, taken: set[str]) -> str:
    while True:
        number = f"{data.phone_prefix}{rng.randrange(10**8):08d}"
        if number not in taken:
            taken.add(number)
            return number


def given_name(rng: random.Random, data: DemoData, gender: str, birth_year: int) -> str:
    generation = 0 if birth_year < 1965 else 1 if birth_year < 1995 else 2
    return rng.choice(data.given_names[(gender, generation)])


def people(
    rng: random.Random,
    data: DemoData,
    households: Sequence[DemoHousehold],
    plans: Sequence[str],
    members: Sequence[tuple[int, Member]],
    today: date,
) -> list[DemoPerson]:
    names: set[str] = set()
    id_numbers: set[str] = set()
    phones: set[str] = set()
    all_tags = tags(rng, plans, members)
    result = []
    for key, (household_key, member) in enumerate(members):
        born = birth_date(rng, member.age, today)
        for _ in range(50):  # one name per person in the demo, so people are easy to tell apart
            full_name = member.surname + given_name(rng, data, member.gender, born.year)
            if full_name not in names:
                break
        names.add(full_name)
        has_phone = member.age >= 14 and (member.age < 85 or rng.random() < 0.5)
        result.append(
            DemoPerson(
                key=key,
                household_key=household_key,
                grid_code=households[household_key].grid_code,
                full_name=full_name,
                gender=member.gender,
                birth_date=born,
                id_number=make_id_number(rng, data, born, member.gender, id_numbers),
                phone=phone(rng, data, phones) if has_phone else None,
                tags=frozenset(all_tags[key]),
                health=None,
            )
        )
    return result


def tags(rng: random.Random, plans: Sequence[str], members: Sequence[tuple[int, Member]]) -> list[set[Tag]]:
    """Care attributes with about the frequencies a community like 东李庄 would have."""
    result: list[set[Tag]] = [set() for _ in members]
    dibao = {
        key for key, kind in enumerate(plans) if rng.random() < (0.12 if kind == "elder_alone" else 0.03)
    }
    dibao.add(plans.index("orphan_with_grandparents"))
    others = [key for key in range(len(plans)) if key not in dibao]
    poor = {key for key in others if rng.random() < 0.03} or set(rng.sample(others, k=2))
    for index, (household, member) in enumerate(members):
        mine = result[index]
        if plans[household] == "elder_alone":
            mine.add(Tag.LIVING_ALONE)
            if rng.random() < 0.4:
                mine.add(Tag.LONELY)  # 孤寡: no children either
        if rng.random() < (0.09 if member.age >= 70 else 0.02):
            mine.add(Tag.DISABLED)
        if household in dibao:
            mine.add(Tag.DIBAO)
        if household in poor:
            mine.add(Tag.POOR_HOUSEHOLD)
        if plans[household] == "orphan_with_grandparents" and member.age < 18:
            mine |= {Tag.ORPHAN, Tag.CHILD_IN_DIFFICULTY}
        elif member.age < 18 and (household in dibao or household in poor) and rng.random() < 0.6:
            mine.add(Tag.CHILD_IN_DIFFICULTY)
        if member.gender == "male" and 35 <= member.age <= 90 and rng.random() < 0.07:
            mine.add(Tag.VETERAN)
    add_bedridden_and_party_members(rng, members, result)
    return result


def add_bedridden_and_party_members(
    rng: random.Random, members: Sequence[tuple[int, Member]], tags: list[set[Tag]]
) -> None:
    # A few bedridden (失能) among those 75 and over, at least two so the demo shows them.
    old = [index for index, (_, member) in enumerate(members) if member.age >= 75]
    bedridden = {index for index in old if rng.random() < 0.08}
    while len(bedridden) < min(2, len(old)):
        bedridden.add(rng.choice(old))
    for index in bedridden:
        tags[index].add(Tag.BEDRIDDEN)
    # About twenty party members (the report counts 20-odd in the volunteer team), more among the old.
    adults = [index for index, (_, member) in enumerate(members) if member.age >= 22]
    weights = [1 + members[index][1].age / 30 for index in adults]
    chosen: set[int] = set()
    target = 20 + rng.randint(0, 4)
    while len(chosen) < min(target, len(adults)):
        chosen.add(rng.choices(adults, weights)[0])
    for index in chosen:
        tags[index].add(Tag.PARTY_MEMBER)
