"""The demo's choices from the registry's residents (pure, deterministic for a seed and the same
residents) and the request bodies it sends."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from linli_points.demo.data import (
    COMMUNITY,
    DEFAULT_SKILLS,
    DISTRICT,
    MIN_OTHER_VOLUNTEERS,
    OLDEST_VOLUNTEER,
    PARTY_SKILLS,
    PAST_ACTIVITY_END_MARGIN,
    SKILL_SLOTS,
    VOLUNTEER_TARGET,
    DemoActivity,
    DemoItem,
    DemoTeam,
)
from linli_points.domain.hours import check_window
from linli_shared.clock import CHINA_TIME, china_day
from linli_shared.demo_api import DemoLoadError


@dataclass(frozen=True)
class VolunteerPlan:
    subject: str
    full_name: str
    resident_id: str
    team: str
    party_member: bool
    skills: tuple[str, ...]


def able(resident: dict[str, Any]) -> bool:
    return not {"bedridden", "disabled"} & set(resident["tags"])


def plan_volunteers(
    party_members: Sequence[dict[str, Any]], residents: Sequence[dict[str, Any]], rng: random.Random
) -> list[VolunteerPlan]:
    """The registry's party members able to serve, and other adults up to about 33, in teams."""
    party = sorted(
        (r for r in party_members if able(r) and 18 <= r["age"] <= OLDEST_VOLUNTEER), key=lambda r: r["id"]
    )
    party_ids = {r["id"] for r in party_members}
    candidates = sorted(
        (r for r in residents if r["id"] not in party_ids and able(r) and 20 <= r["age"] <= 65),
        key=lambda r: r["id"],
    )
    wanted = min(len(candidates), max(VOLUNTEER_TARGET - len(party), MIN_OTHER_VOLUNTEERS))
    people = party + rng.sample(candidates, wanted)
    order = list(range(len(people)))
    rng.shuffle(order)
    slots = [(team, skills) for team, skills, count in SKILL_SLOTS for _ in range(count)]
    assigned: dict[int, tuple[str, tuple[str, ...]]] = dict(zip(order, slots, strict=False))
    plans = []
    for number, resident in enumerate(people, start=1):
        is_party = resident["id"] in party_ids
        team, skills = assigned.get(
            number - 1, ("party", PARTY_SKILLS) if is_party else ("elderly", DEFAULT_SKILLS)
        )
        plans.append(
            VolunteerPlan(
                subject=f"volunteer-{number}",
                full_name=resident["full_name"],
                resident_id=resident["id"],
                team=team,
                party_member=is_party,
                skills=skills + (("走访慰问",) if is_party and "走访慰问" not in skills else ()),
            )
        )
    return plans


def choose_sign_ups(
    activity: DemoActivity, volunteers: Sequence[VolunteerPlan], rng: random.Random
) -> list[VolunteerPlan]:
    """Who signs up: those with the activity's skill first, then its team's members, then anyone."""
    groups: list[list[VolunteerPlan]] = [[], [], []]
    for volunteer in volunteers:
        rank = 0 if activity.skill in volunteer.skills else 1 if volunteer.team == activity.team else 2
        groups[rank].append(volunteer)
    ranked: list[VolunteerPlan] = []
    for group in groups:
        rng.shuffle(group)
        ranked += group
    return ranked[: min(activity.sign_ups, activity.capacity)]


def activity_window(activity: DemoActivity, now: datetime) -> tuple[datetime, datetime]:
    """Past: started `minutes` before a moment just after now; upcoming: on its day, China time."""
    if activity.past:
        ends_at = whole_minutes(now + PAST_ACTIVITY_END_MARGIN, step=5)
        return ends_at - timedelta(minutes=activity.minutes), ends_at
    day = china_day(now) + timedelta(days=activity.days_ahead)
    starts_at = datetime.combine(day, activity.local_start, tzinfo=CHINA_TIME)
    return starts_at, starts_at + timedelta(minutes=activity.minutes)


def whole_minutes(moment: datetime, *, step: int) -> datetime:
    """The moment rounded up to a multiple of `step` minutes past the hour."""
    floor = moment.replace(minute=moment.minute - moment.minute % step, second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(minutes=step)


def choose_wish_residents(
    residents: Sequence[dict[str, Any]], rng: random.Random
) -> dict[str, dict[str, Any]]:
    """A resident for each wish: an elder who cannot walk, a choir singer, someone in the flats."""
    ordered = sorted(residents, key=lambda r: r["id"])
    elders = [r for r in ordered if r["age"] >= 60]
    cannot_walk = [r for r in elders if {"bedridden", "disabled"} & set(r["tags"])]
    flats = [r for r in ordered if r["grid_code"] in ("zone-2", "zone-3", "zone-4") and r["age"] >= 18]
    adults = [r for r in ordered if r["age"] >= 18]
    if not elders or not adults:
        raise DemoLoadError(f"the registry has no elders or adults in {COMMUNITY}: load its demo first")
    wheelchair = rng.choice(cannot_walk or elders)
    singers = [r for r in elders if able(r) and r["id"] != wheelchair["id"]] or elders
    return {
        "wheelchair": wheelchair,
        "choir": rng.choice(singers),
        "gas": rng.choice(flats or adults),
    }


def choose_help_residents(
    residents: Sequence[dict[str, Any]], rng: random.Random
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(who offers, who asks): an able adult offers; a household on dibao, poor or alone asks."""
    ordered = sorted(residents, key=lambda r: r["id"])
    in_need = [
        r for r in ordered if r["age"] >= 18 and {"dibao", "poor_household", "living_alone"} & set(r["tags"])
    ]
    asker = rng.choice(in_need or [r for r in ordered if r["age"] >= 60] or ordered)
    givers = [r for r in ordered if able(r) and 25 <= r["age"] <= 70 and r["id"] != asker["id"]]
    if not givers:
        raise DemoLoadError(f"the registry has no adult to offer help in {COMMUNITY}: load its demo first")
    return rng.choice(givers), asker


# --- request bodies -------------------------------------------------------------------------------


def place() -> dict[str, str]:
    return {"district": DISTRICT, "community": COMMUNITY}


def team_body(team: DemoTeam) -> dict[str, Any]:
    return {**place(), "name": team.name, "kind": team.kind.value}


def volunteer_body(plan: VolunteerPlan, team_id: str) -> dict[str, Any]:
    return {
        **place(),
        "subject": plan.subject,
        "full_name": plan.full_name,
        "resident_id": plan.resident_id,
        "team_id": team_id,
        "party_member": plan.party_member,
        "skills": list(plan.skills),
    }


def activity_body(activity: DemoActivity, now: datetime) -> dict[str, Any]:
    starts_at, ends_at = activity_window(activity, now)
    check_window(starts_at, ends_at)
    return {
        **place(),
        "title": activity.title,
        "kind": activity.kind,
        "place": activity.place,
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat(),
        "capacity": activity.capacity,
        "points_per_hour": activity.points_per_hour,
        "rounding": activity.rounding.value,
        "daily_points_cap": activity.daily_points_cap,
    }


def item_body(item: DemoItem) -> dict[str, Any]:
    return {
        **place(),
        "name": item.name,
        "points_price": item.points_price,
        "monthly_limit": item.monthly_limit,
        "low_stock_threshold": item.low_stock_threshold,
    }


def claimants(plans: Sequence[VolunteerPlan], rng: random.Random) -> list[VolunteerPlan]:
    """Party members take the order (党员接单); anyone if there are none."""
    party = [p for p in plans if p.party_member] or list(plans)
    return rng.sample(party, len(party))


def grid_worker_of(resident: dict[str, Any]) -> str:
    """The grid worker of the resident's zone (zone-3 → grid-worker-3), as the registry demo names them."""
    zone = resident.get("grid_code") or "zone-1"
    return "grid-worker-" + zone.removeprefix("zone-")
