"""Loading the demo over HTTP, so that it runs the same paths as real callers, and resumably.

Every record is keyed: a write carries an Idempotency-Key made of the seed and the record's key,
so a load that was interrupted (Ctrl-C, a crash, a lost answer) and is run again gets the earlier
answers back and makes only what is missing. Teams and activities are looked up first (an
activity's window depends on when it was first loaded, so its body would differ the second time).
Choices from the registry's residents are deterministic for the seed, so a second load chooses
the same volunteers, wishes and claimants.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from linli_points.demo.client import Loader, every_item
from linli_points.demo.data import (
    ACTIVITIES,
    COMMUNITY,
    COMMUNITY_NAME,
    ITEMS,
    TEAMS,
    DemoActivity,
)
from linli_points.demo.goods import load_supermarket, match_help, post_wishes, redeem
from linli_points.demo.plan import (
    VolunteerPlan,
    activity_body,
    choose_sign_ups,
    plan_volunteers,
    team_body,
    volunteer_body,
)
from linli_shared.clock import utc_now
from linli_shared.demo_api import DemoApi, DemoLoadError

LAGGING_HINT = (
    "the points service has not learned this resident from the registry's events (is NATS up and the "
    "registry's demo loaded? A points database wiped while NATS kept its data is not sent the "
    "earlier events again)"
)


def load_demo(
    urls: Mapping[str, str],
    jwt_secret: str,
    *,
    seed: int = 7,
    progress: Callable[[str], None] = print,
    timeout: float = 60,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] = utc_now,
) -> bool:
    """Load the points demo of 东李庄社区, or what an earlier, interrupted load left out; True when done.

    Needs urls["points"] and urls["registry"]; any failure is a DemoLoadError saying what failed."""
    started = time.perf_counter()
    try:
        points, registry = urls["points"].rstrip("/") + "/v1", urls["registry"].rstrip("/") + "/v1"
    except KeyError as missing:
        raise DemoLoadError(f"points demo: no URL for the {missing} service") from missing
    # English answers: the loader reads them (a 422 "not known" is waited out), not a person
    with httpx.Client(timeout=30, transport=transport, headers={"Accept-Language": "en"}) as client:
        api = DemoApi(
            client,
            who="points demo",
            learner="the points service",
            lagging_hint=LAGGING_HINT,
            sleep=sleep,
            timeout=timeout,
            progress=progress,
        )
        loader = Loader(api, points, registry, jwt_secret, seed, clock())
        try:
            if every_item(loader, "/help-matches"):  # the last record: all before it is there too
                progress(f"points demo: {COMMUNITY_NAME} is all there; nothing loaded")
                return False
            summary = load_all(loader, progress)
        except httpx.HTTPError as error:
            raise DemoLoadError(f"points demo: {type(error).__name__}: {error}") from error
    progress(f"points demo: {COMMUNITY_NAME} is loaded: {summary} in {time.perf_counter() - started:.1f} s")
    return True


def load_all(loader: Loader, progress: Callable[[str], None]) -> str:
    """Every part in order; each makes only what is missing. Returns what the community now has."""
    residents, plans = plan_from_registry(loader)
    progress(
        f"points demo: loading {COMMUNITY_NAME}: {len(plans)} volunteers "
        f"({sum(p.party_member for p in plans)} party members) in {len(TEAMS)} teams"
    )
    volunteer_ids = enrol_volunteers(loader, plans, load_teams(loader), progress)
    balances, earned = load_activities(loader, plans, volunteer_ids, progress)
    item_ids = load_supermarket(loader)
    redeemed = redeem(loader, item_ids, balances, volunteer_ids)
    progress(f"points demo: love supermarket: {len(ITEMS)} items, {len(redeemed)} redemptions")
    wish_states = post_wishes(loader, residents, plans)
    match = match_help(loader, residents)
    return (
        f"{len(TEAMS)} teams, {len(plans)} volunteers, {len(ACTIVITIES)} activities, {earned} points "
        f"earned, {len(ITEMS)} supermarket items, {len(redeemed)} redemptions ({', '.join(redeemed)}), "
        f"{len(wish_states)} wishes ({', '.join(wish_states)}), 1 neighbour-help match ({match})"
    )


def plan_from_registry(loader: Loader) -> tuple[list[dict[str, Any]], list[VolunteerPlan]]:
    """The registry's residents, and the volunteers chosen from them (the same for the same seed)."""
    residents_url = f"{loader.registry}/residents"
    party_members = loader.api.call(
        "GET", residents_url, loader.worker, 200, params={"tag": "party_member", "limit": 100}
    )["items"]
    residents = loader.api.call("GET", residents_url, loader.worker, 200, params={"limit": 500})["items"]
    if not residents:
        raise DemoLoadError(f"points demo: the registry has no residents in {COMMUNITY}: load its demo first")
    return residents, plan_volunteers(party_members, residents, loader.rng)


def load_teams(loader: Loader) -> dict[str, str]:
    """The six teams; ones an earlier load made (with or without a key) are used again."""
    existing = {
        t["name"]: t["id"] for t in loader.api.call("GET", f"{loader.points}/teams", loader.worker, 200)
    }
    return {
        team.key: existing.get(team.name)
        or loader.post("/teams", 201, loader.key("team", team.key), json=team_body(team))["id"]
        for team in TEAMS
    }


def enrol_volunteers(
    loader: Loader, plans: list[VolunteerPlan], team_ids: dict[str, str], progress: Callable[[str], None]
) -> dict[str, str]:
    volunteer_ids: dict[str, str] = {}
    for count, plan in enumerate(plans, start=1):
        body = volunteer_body(plan, team_ids[plan.team])
        key = loader.key("volunteer", plan.subject)
        volunteer_ids[plan.subject] = loader.post_when_known("/volunteers", key, json=body)["id"]
        if count == 1 or count % 10 == 0:
            progress(f"points demo: {count}/{len(plans)} volunteers enrolled")
    return volunteer_ids


def load_activities(
    loader: Loader,
    plans: list[VolunteerPlan],
    volunteer_ids: dict[str, str],
    progress: Callable[[str], None],
) -> tuple[dict[str, int], int]:
    """The activities, their sign-ups and the hours of the past ones; returns balances and points earned."""
    by_title = {a["title"]: a["id"] for a in every_item(loader, "/activities")}
    balances = dict.fromkeys(volunteer_ids, 0)
    for activity in ACTIVITIES:
        activity_id = (
            by_title.get(activity.title)
            or loader.post(
                "/activities",
                201,
                loader.key("activity", activity.key),
                json=activity_body(activity, loader.now),
            )["id"]
        )
        chosen = choose_sign_ups(activity, plans, loader.rng)
        for plan in chosen:
            volunteer_id = volunteer_ids[plan.subject]
            key = loader.key("sign-up", activity.key, plan.subject)
            loader.post(f"/activities/{activity_id}/sign-ups", 201, key, json={"volunteer_id": volunteer_id})
        for plan in chosen if activity.past else []:
            balances[plan.subject] += confirm_hours(
                loader, activity, activity_id, volunteer_ids[plan.subject]
            )
    earned = sum(balances.values())
    progress(f"points demo: {len(ACTIVITIES)} activities, {earned} points earned by confirmed hours")
    return balances, earned


def confirm_hours(loader: Loader, activity: DemoActivity, activity_id: str, volunteer_id: str) -> int:
    body = {"volunteer_id": volunteer_id, "minutes": activity.served_minutes, "note": "签到签退"}
    key = loader.key("attendance", activity_id, volunteer_id)
    return int(loader.post(f"/activities/{activity_id}/attendance", 201, key, json=body)["points_awarded"])
