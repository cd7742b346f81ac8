"""What the demo keeps beside each resident: elders' health records, children's guardians."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from linli_registry.demo.data import DemoData
from linli_registry.demo.households import Member
from linli_registry.demo.model import DemoHealth, DemoHousehold, DemoPerson
from linli_registry.demo.people import phone
from linli_registry.domain import Tag, age_on


def by_household(people: Sequence[DemoPerson]) -> dict[int, list[DemoPerson]]:
    homes: dict[int, list[DemoPerson]] = {}
    for person in people:
        homes.setdefault(person.household_key, []).append(person)
    return homes


def with_health_records(
    rng: random.Random,
    data: DemoData,
    households: Sequence[DemoHousehold],
    people: list[DemoPerson],
    today: date,
) -> list[DemoPerson]:
    """Health records (健康档案) for everyone 60 or over, as the report's free check-up made."""
    homes = by_household(people)
    phones: set[str] = {p.phone for p in people if p.phone}
    orphan_homes = {p.household_key for p in people if Tag.ORPHAN in p.tags}
    result = []
    for person in people:
        age = age_on(person.birth_date, today)
        if age < 60:
            result.append(person)
            continue
        illnesses = rng.sample(data.illnesses, k=rng.choice((0, 1, 1, 2, 2, 3)))
        if Tag.BEDRIDDEN in person.tags:
            illnesses.append(data.illnesses[3])  # a stroke is what most often leaves an elder bedridden
        if person.household_key in orphan_homes and person.gender == "female":
            illnesses += [data.illnesses[2], data.illnesses[1]]  # the report's grandmother
        illnesses = list(dict.fromkeys(illnesses))
        medicines = list(dict.fromkeys(medicine for _, medicine in illnesses if medicine))
        if Tag.LONELY in person.tags:
            children: tuple[str, ...] = ()
        else:
            younger = [
                p.phone
                for p in homes[person.household_key]
                if p.phone and 18 <= age_on(p.birth_date, today) <= age - 20
            ]
            away = [phone(rng, data, phones) for _ in range(rng.choice((1, 1, 2)))]
            children = tuple(younger or away)
        health = DemoHealth(
            address=households[person.household_key].address,
            children_phones=children,
            past_illnesses="、".join(name for name, _ in illnesses),
            regular_medicines="、".join(medicines),
            notes=health_notes(person.tags),
        )
        result.append(replace(person, health=health))
    return result


def health_notes(tags: frozenset[Tag]) -> str:
    notes = []
    if Tag.LIVING_ALONE in tags:
        notes.append("独居，三人关爱小组每日上门查看、每周电话随访。")
    if Tag.LONELY in tags:
        notes.append("孤寡老人，无子女。")
    if Tag.BEDRIDDEN in tags:
        notes.append("长期卧床，需协助翻身，防压疮。")
    if Tag.DISABLED in tags:
        notes.append("持残疾证。")
    return "".join(notes)


def with_guardians(
    data: DemoData, people: Sequence[DemoPerson], members: Sequence[Member]
) -> list[DemoPerson]:
    """Every orphan or child in difficulty gets a guardian from home: a parent, else a grandparent.

    Mothers before fathers, and among grandparents the one with a phone; no randomness, so the
    rest of the community does not change with it.
    """
    homes = by_household(people)
    ranks = {"parent": 0, "grandparent": 1}
    result = []
    for person in people:
        if not {Tag.ORPHAN, Tag.CHILD_IN_DIFFICULTY} & person.tags:
            result.append(person)
            continue
        candidates = sorted(
            (p for p in homes[person.household_key] if members[p.key].role in ranks),
            key=lambda p: (ranks[members[p.key].role], p.phone is None, p.gender != "female", p.key),
        )
        if not candidates:
            result.append(person)
            continue
        guardian = candidates[0]
        relation = data.guardian_relations[(members[guardian.key].role, guardian.gender)]
        result.append(
            replace(
                person,
                guardian_name=guardian.full_name,
                guardian_relation=relation,
                guardian_phone=guardian.phone,
            )
        )
    return result
