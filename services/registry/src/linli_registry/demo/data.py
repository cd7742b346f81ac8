"""The demo's tables, read from the package's demo_data.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any


@dataclass(frozen=True)
class GridPlan:
    name: str
    weight: int
    places: tuple[str, ...]


@dataclass(frozen=True)
class OverduePlan:
    """The showcase care group: formed `days_ago` at hour:minute (China time), visited then, not since."""

    days_ago: int
    hour: int
    minute: int
    findings: str
    follow_up: str


@dataclass(frozen=True)
class DemoData:
    district: str
    district_name: str
    community: str
    community_name: str
    community_worker: str
    households: int
    phone_prefix: str
    grids: tuple[GridPlan, ...]
    household_kinds: tuple[tuple[str, int], ...]
    surnames: str
    given_names: dict[tuple[str, int], tuple[str, ...]]
    regions: tuple[str, ...]
    illnesses: tuple[tuple[str, str], ...]
    visit_findings: tuple[tuple[str, str], ...]
    call_findings: tuple[tuple[str, str], ...]
    guardian_relations: dict[tuple[str, str], str]
    overdue_group: OverduePlan


def pairs(rows: list[list[str]]) -> tuple[tuple[str, str], ...]:
    return tuple((first, second) for first, second in rows)


def parse(raw: dict[str, Any]) -> DemoData:
    """The tables as the generator uses them (weighted lists spelled out, names split)."""
    return DemoData(
        district=raw["district"],
        district_name=raw["district_name"],
        community=raw["community"],
        community_name=raw["community_name"],
        community_worker=raw["community_worker"],
        households=raw["households"],
        phone_prefix=raw["phone_prefix"],
        grids=tuple(GridPlan(g["name"], g["weight"], tuple(g["places"])) for g in raw["grids"]),
        household_kinds=tuple(raw["household_kinds"].items()),
        surnames="".join(group["names"] * group["times"] for group in raw["surnames"]),
        given_names={
            (gender, generation): tuple(names.split())
            for gender, generations in raw["given_names"].items()
            for generation, names in enumerate(generations)
        },
        regions=tuple(region["code"] for region in raw["regions"] for _ in range(region["times"])),
        illnesses=pairs(raw["health"]["illnesses"]),
        visit_findings=pairs(raw["findings"]["visit"]),
        call_findings=pairs(raw["findings"]["call"]),
        guardian_relations={
            (role, gender): relation  # "parent_female" -> ("parent", "female")
            for key, relation in raw["guardian_relations"].items()
            for role, gender in [key.split("_")]
        },
        overdue_group=OverduePlan(**raw["overdue_group"]),
    )


@cache
def demo_data() -> DemoData:
    text = files("linli_registry").joinpath("demo_data.toml").read_text(encoding="utf-8")
    return parse(tomllib.loads(text))
