"""Households of the demo community and who lives in each, before names and numbers are drawn."""

from __future__ import annotations

import random
from dataclasses import dataclass

from linli_registry.demo.data import DemoData


@dataclass
class Member:
    """A household member before names and numbers are drawn."""

    age: int
    gender: str
    surname: str
    role: str = "adult"  # "parent", "grandparent" or "child" where the household has generations


def address(rng: random.Random, data: DemoData, grid_index: int, taken: set[str]) -> str:
    while True:
        place = rng.choice(data.grids[grid_index].places)
        if place.endswith("楼"):
            where = (
                f"{data.community_name}{place}{rng.randint(1, 3)}单元{rng.randint(1, 6)}0{rng.randint(1, 2)}"
            )
        else:
            where = f"{place}{rng.randint(1, 60)}号"
        if where not in taken:
            taken.add(where)
            return where


def elder_age(rng: random.Random, low: int = 60) -> int:
    """Elder ages thin out with age: many in their sixties and seventies, a few past ninety."""
    return min(low + int(rng.expovariate(1 / 9)), 98)


def members(rng: random.Random, data: DemoData, kind: str) -> list[Member]:
    family = rng.choice(data.surnames)
    if kind == "elder_alone":
        gender = "female" if rng.random() < 0.65 else "male"  # more widows than widowers
        return [Member(elder_age(rng, 63), gender, family)]
    if kind == "elder_couple":
        husband = elder_age(rng, 61)
        return [
            Member(husband, "male", family),
            Member(max(58, husband - rng.randint(0, 5)), "female", rng.choice(data.surnames)),
        ]
    if kind == "elder_with_child":
        parent = elder_age(rng, 72)
        return [
            Member(parent, "female" if rng.random() < 0.7 else "male", family),
            Member(parent - rng.randint(25, 33), rng.choice(("female", "male")), family),
        ]
    if kind == "single":
        return [Member(rng.randint(20, 58), rng.choice(("female", "male")), family)]
    if kind == "couple":
        husband = rng.randint(23, 40)
        return [
            Member(husband, "male", family),
            Member(max(21, husband - rng.randint(-2, 4)), "female", rng.choice(data.surnames)),
        ]
    if kind == "nuclear":
        father = rng.randint(27, 54)
        mother = max(23, father - rng.randint(-2, 4))
        return [
            Member(father, "male", family, "parent"),
            Member(mother, "female", rng.choice(data.surnames), "parent"),
            *children(rng, mother, family, rng.choice((1, 1, 1, 2, 2))),
        ]
    if kind == "three_generations":
        return three_generations(rng, data, family)
    if kind == "with_parent":
        husband = rng.randint(42, 62)
        return [
            Member(husband, "male", family),
            Member(max(38, husband - rng.randint(-2, 4)), "female", rng.choice(data.surnames)),
            Member(min(husband + rng.randint(24, 32), 98), rng.choice(("female", "male")), family),
        ]
    if kind == "orphan_with_grandparents":
        return orphan_with_grandparents(rng, data, family)
    raise ValueError(f"unknown household kind {kind}")


def three_generations(rng: random.Random, data: DemoData, family: str) -> list[Member]:
    grandfather = elder_age(rng, 60)
    father = max(26, grandfather - rng.randint(24, 32))
    mother = max(23, father - rng.randint(-2, 4))
    old = [Member(grandfather, "male", family, "grandparent")] if rng.random() < 0.7 else []
    old.append(
        Member(max(58, grandfather - rng.randint(0, 5)), "female", rng.choice(data.surnames), "grandparent")
    )
    return [
        *old,
        Member(father, "male", family, "parent"),
        Member(mother, "female", rng.choice(data.surnames), "parent"),
        *children(rng, mother, family, rng.choice((1, 1, 2))),
    ]


def orphan_with_grandparents(rng: random.Random, data: DemoData, family: str) -> list[Member]:
    """From the 东李庄 report: a 6-year-old orphan living with grandparents, the grandfather
    over 80 and past working, the grandmother with heart disease and diabetes."""
    return [
        Member(rng.randint(81, 85), "male", family, "grandparent"),
        Member(rng.randint(76, 80), "female", rng.choice(data.surnames), "grandparent"),
        Member(6, rng.choice(("female", "male")), family, "child"),
    ]


def children(rng: random.Random, mother_age: int, surname: str, count: int) -> list[Member]:
    oldest = min(mother_age - 21, 24)
    if oldest < 0:
        return []
    return [
        Member(rng.randint(0, oldest), rng.choice(("female", "male")), surname, "child") for _ in range(count)
    ]
