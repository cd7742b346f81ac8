"""The demo's data, read from the package's demo_data.toml into plain, frozen definitions."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import time as clock_time
from datetime import timedelta
from importlib.resources import files
from typing import Any

from linli_points.domain import StockSource, TeamKind
from linli_points.domain.hours import Rounding
from linli_points.domain.wishes import WishStatus


@dataclass(frozen=True)
class DemoTeam:
    key: str
    name: str
    kind: TeamKind


@dataclass(frozen=True)
class DemoActivity:
    """An activity; a past one ends just after the load, an upcoming one starts on a later day."""

    key: str
    title: str
    kind: str
    team: str
    skill: str  # volunteers with this skill sign up first, then the team's, then anyone
    place: str
    minutes: int  # how long it lasts
    capacity: int
    sign_ups: int
    points_per_hour: int = 10
    rounding: Rounding = Rounding.DOWN
    daily_points_cap: int | None = None
    served_minutes: int | None = None  # set for past activities: the hours confirmed per volunteer
    days_ahead: int = 0  # upcoming activities: the day (China time) …
    local_start: clock_time = clock_time(9, 0)  # … and the hour they start

    @property
    def past(self) -> bool:
        return self.served_minutes is not None


@dataclass(frozen=True)
class DemoItem:
    key: str
    name: str
    points_price: int
    monthly_limit: int | None
    low_stock_threshold: int
    intakes: tuple[tuple[int, StockSource, str], ...]  # (quantity, source, note)


@dataclass(frozen=True)
class DemoWish:
    key: str
    title: str
    description: str
    points_award: int
    state: WishStatus  # pending, open (approved) or claimed (by a party-member volunteer)


def read_data() -> dict[str, Any]:
    return tomllib.loads(files("linli_points").joinpath("demo_data.toml").read_text(encoding="utf-8"))


def activity(entry: dict[str, Any]) -> DemoActivity:
    return DemoActivity(**{**entry, "rounding": Rounding(entry.get("rounding", Rounding.DOWN.value))})


def item(entry: dict[str, Any]) -> DemoItem:
    intakes = tuple((i["quantity"], StockSource(i["source"]), i["note"]) for i in entry["intakes"])
    return DemoItem(
        key=entry["key"],
        name=entry["name"],
        points_price=entry["points_price"],
        monthly_limit=entry.get("monthly_limit"),
        low_stock_threshold=entry["low_stock_threshold"],
        intakes=intakes,
    )


DATA = read_data()

DISTRICT: str = DATA["community"]["district"]
COMMUNITY: str = DATA["community"]["community"]
COMMUNITY_NAME: str = DATA["community"]["name"]
COMMUNITY_WORKER: str = DATA["community"]["worker"]
VOLUNTEER_TARGET: int = DATA["volunteers"]["target"]
MIN_OTHER_VOLUNTEERS: int = DATA["volunteers"]["min_others"]
OLDEST_VOLUNTEER: int = DATA["volunteers"]["oldest"]
PARTY_SKILLS: tuple[str, ...] = tuple(DATA["volunteers"]["party_skills"])
DEFAULT_SKILLS: tuple[str, ...] = tuple(DATA["volunteers"]["default_skills"])
SKILL_SLOTS: tuple[tuple[str, tuple[str, ...], int], ...] = tuple(
    (slot["team"], tuple(slot["skills"]), slot["count"]) for slot in DATA["volunteers"]["skill_slots"]
)
PAST_ACTIVITY_END_MARGIN = timedelta(minutes=DATA["activity_rules"]["past_end_margin_minutes"])

TEAMS: tuple[DemoTeam, ...] = tuple(
    DemoTeam(team["key"], team["name"], TeamKind(team["kind"])) for team in DATA["teams"]
)
ACTIVITIES: tuple[DemoActivity, ...] = tuple(activity(entry) for entry in DATA["activities"])
ITEMS: tuple[DemoItem, ...] = tuple(item(entry) for entry in DATA["items"])
REDEMPTIONS: tuple[tuple[str, int, bool], ...] = tuple(
    (r["item"], r["quantity"], r["picked_up"]) for r in DATA["redemptions"]
)
WISHES: tuple[DemoWish, ...] = tuple(
    DemoWish(w["key"], w["title"], w["description"], w["points_award"], WishStatus(w["state"]))
    for w in DATA["wishes"]
)
HELP_OFFER: tuple[str, str] = (DATA["help"]["offer"]["goods"], DATA["help"]["offer"]["description"])
HELP_REQUEST: tuple[str, str] = (DATA["help"]["request"]["goods"], DATA["help"]["request"]["description"])
