"""The points demo: its data definitions and its loader, against fake services (no server)."""

from __future__ import annotations

import json
import random
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from linli_points import demo
from linli_points.api.activities import ActivityIn
from linli_points.api.supermarket import IntakeIn, ItemIn
from linli_points.api.volunteers import TeamIn, VolunteerIn
from linli_points.api.wishes import WishIn
from linli_points.demo import (
    ACTIVITIES,
    ITEMS,
    REDEMPTIONS,
    TEAMS,
    WISHES,
    DemoLoadError,
    activity_body,
    activity_window,
    load_demo,
    plan_volunteers,
)
from linli_points.domain import TeamKind
from linli_points.domain.hours import Rounding, points_for, window_minutes
from linli_points.domain.wishes import MAX_POINTS_AWARD, WishStatus
from linli_shared.auth import Role, read_token
from linli_shared.clock import CHINA_TIME

SECRET = "test-secret-" + "x" * 40
NOW = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)  # the clock of every load: two loads send the same bodies
POINTS = "http://points.test"
REGISTRY = "http://registry.test"
# Moments to lay activities out from: morning, a minute before midnight in China, a minute after.
NOWS = [
    datetime(2026, 5, 1, 1, 0, tzinfo=UTC),
    datetime(2026, 5, 1, 15, 59, 30, tzinfo=UTC),
    datetime(2026, 5, 1, 16, 0, 30, tzinfo=UTC),
    datetime.now(UTC),
]


# --- the data -------------------------------------------------------------------------------------


def test_teams_are_one_of_each_kind_with_distinct_names() -> None:
    assert sorted(t.kind for t in TEAMS) == sorted(TeamKind)
    assert len({t.name for t in TEAMS}) == len({t.key for t in TEAMS}) == len(TEAMS)
    for team in TEAMS:
        TeamIn.model_validate(demo.team_body(team))


def test_skill_slots_and_activities_name_existing_teams() -> None:
    keys = {t.key for t in TEAMS}
    assert {team for team, _, _ in demo.SKILL_SLOTS} <= keys
    assert {a.team for a in ACTIVITIES} <= keys
    skills = {s for _, group, _ in demo.SKILL_SLOTS for s in group} | set(demo.PARTY_SKILLS)
    assert {a.skill for a in ACTIVITIES} <= skills


def test_items_have_positive_prices_limits_and_stock_above_the_low_mark() -> None:
    assert len({i.key for i in ITEMS}) == len({i.name for i in ITEMS}) == len(ITEMS)
    for item in ITEMS:
        ItemIn.model_validate(demo.item_body(item))
        assert item.points_price > 0
        assert item.monthly_limit is None or item.monthly_limit > 0
        assert item.intakes and all(quantity > 0 for quantity, _, _ in item.intakes)
        assert sum(quantity for quantity, _, _ in item.intakes) > item.low_stock_threshold
        for quantity, source, note in item.intakes:
            IntakeIn.model_validate({"quantity": quantity, "source": source.value, "note": note})
    names = " ".join(i.name for i in ITEMS)
    for goods in ("米", "面粉", "油", "洗衣液", "毛巾", "雨伞"):
        assert goods in names


def test_redemptions_are_of_stocked_items_within_their_monthly_limits() -> None:
    items = {i.key: i for i in ITEMS}
    for key, quantity, _ in REDEMPTIONS:
        item = items[key]
        assert 0 < quantity <= (item.monthly_limit or quantity)
        assert quantity <= sum(q for q, _, _ in item.intakes)


@pytest.mark.parametrize("now", NOWS)
def test_every_activity_window_is_valid_past_ones_started_and_upcoming_ones_ahead(now: datetime) -> None:
    assert len({a.key for a in ACTIVITIES}) == len(ACTIVITIES)
    assert any(a.past for a in ACTIVITIES) and any(not a.past for a in ACTIVITIES)
    for activity in ACTIVITIES:
        body = activity_body(activity, now)
        ActivityIn.model_validate(body)  # the service's own check of the window
        starts_at, ends_at = activity_window(activity, now)
        assert window_minutes(starts_at, ends_at) == activity.minutes
        assert 0 < activity.sign_ups <= activity.capacity
        if activity.past:
            # Hours can be confirmed once started; sign-ups close when it ends.
            assert starts_at < now < ends_at
            assert ends_at - now <= demo.PAST_ACTIVITY_END_MARGIN + timedelta(minutes=5)
            assert activity.served_minutes is not None
            assert 0 < activity.served_minutes <= activity.minutes
            rule = points_for(activity.served_minutes, activity.points_per_hour, activity.rounding)
            assert rule > 0
        else:
            assert starts_at > now
            assert starts_at.astimezone(CHINA_TIME).time() == activity.local_start


def test_the_reports_activities_are_all_there() -> None:
    kinds = {a.kind for a in ACTIVITIES}
    assert {"first_aid", "haircut", "knife_sharpening", "elder_visit", "tutoring"} <= kinds
    titles = " ".join(a.title for a in ACTIVITIES)
    for words in ("急救", "理发", "磨剪子戗菜刀", "走访慰问", "辅导"):
        assert words in titles


def test_past_activities_end_on_a_whole_minute() -> None:
    now = datetime(2026, 5, 1, 1, 2, 3, 456, tzinfo=UTC)
    _, ends_at = activity_window(next(a for a in ACTIVITIES if a.past), now)
    assert ends_at == datetime(2026, 5, 1, 1, 20, tzinfo=UTC)
    assert demo.whole_minutes(datetime(2026, 5, 1, 1, 55, tzinfo=UTC), step=5) == datetime(
        2026, 5, 1, 1, 55, tzinfo=UTC
    )


def test_wishes_are_the_reports_in_three_states() -> None:
    assert {w.state for w in WISHES} == {WishStatus.PENDING, WishStatus.OPEN, WishStatus.CLAIMED}
    titles = " ".join(w.title for w in WISHES)
    for words in ("轮椅", "合唱团", "指导老师", "通天然气"):
        assert words in titles
    for wish in WISHES:
        assert 0 <= wish.points_award <= MAX_POINTS_AWARD
        WishIn.model_validate(
            {
                "resident_id": "r",
                "title": wish.title,
                "description": wish.description,
                "points_award": wish.points_award,
            }
        )


# --- choosing volunteers from the registry's residents -------------------------------------------


def resident(
    number: int, age: int, tags: tuple[str, ...] = (), grid: str = "zone-1", name: str | None = None
) -> dict[str, Any]:
    return {
        "id": str(uuid.UUID(int=number)),
        "district": demo.DISTRICT,
        "community": demo.COMMUNITY,
        "grid_code": grid,
        "full_name": name or f"居民{number}",
        "age": age,
        "tags": list(tags),
        "status": "active",
    }


def community() -> list[dict[str, Any]]:
    """22 party members (one bedridden, one 88), and others of every age, some needing help."""
    people = [resident(n, 30 + 2 * n, ("party_member",), f"zone-{n % 5 + 1}") for n in range(1, 21)]
    people += [resident(21, 84, ("party_member", "bedridden")), resident(22, 88, ("party_member",))]
    people += [resident(n, 5 + (n * 7) % 80, (), f"zone-{n % 5 + 1}") for n in range(23, 83)]
    people += [
        resident(83, 79, ("disabled",), "zone-3"),
        resident(84, 70, ("living_alone", "dibao"), "zone-2"),
        resident(85, 66, ("living_alone",), "zone-4"),
    ]
    return people


def party_of(people: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in people if "party_member" in p["tags"]]


def test_volunteers_are_the_able_party_members_and_other_adults_about_33_in_all() -> None:
    people = community()
    plans = plan_volunteers(party_of(people), people, random.Random(7))
    by_id = {p["id"]: p for p in people}
    assert 30 <= len(plans) <= 36
    assert [p.subject for p in plans] == [f"volunteer-{n}" for n in range(1, len(plans) + 1)]
    assert len({p.resident_id for p in plans}) == len(plans)
    party = {p.resident_id for p in plans if p.party_member}
    assert party == {r["id"] for r in party_of(people) if r["age"] <= 80 and "bedridden" not in r["tags"]}
    for plan in plans:
        person = by_id[plan.resident_id]
        assert plan.full_name == person["full_name"]
        assert plan.party_member == ("party_member" in person["tags"])
        assert plan.party_member or 20 <= person["age"] <= 65
        assert not {"bedridden", "disabled"} & set(person["tags"])
        VolunteerIn.model_validate(demo.volunteer_body(plan, "team-id"))
    assert Counter(p.team for p in plans)["medical"] >= 4
    assert sum("理发" in p.skills for p in plans) >= 3


def test_volunteer_plan_is_the_same_for_the_same_seed() -> None:
    people = community()
    first = plan_volunteers(party_of(people), people, random.Random(7))
    assert first == plan_volunteers(party_of(people), people, random.Random(7))
    assert first != plan_volunteers(party_of(people), people, random.Random(8))


# --- the loader against fake services -------------------------------------------------------------


@dataclass
class Call:
    method: str
    url: str
    role: Role
    subject: str
    key: str | None
    body: Any


@dataclass
class FakeServices:
    """Just enough of the registry and points APIs; answers like theirs, remembers every call.

    Like the points service, it answers a repeated Idempotency-Key (same caller, path and body) with
    the first answer, and numbers what it makes in order, so two loads can be compared row by row."""

    people: list[dict[str, Any]] = field(default_factory=community)
    not_known_answers: int = 0  # the first enrolments answer 422 "not known"
    fail: tuple[str, str, int, str] | None = None  # (method, path pattern, status, body) to answer
    calls: list[Call] = field(default_factory=list)
    made: list[tuple[str, Any]] = field(default_factory=list)  # (path, body) of each record made
    answers: dict[tuple[str, str, str], tuple[Any, httpx.Response]] = field(default_factory=dict)
    teams: list[dict[str, Any]] = field(default_factory=list)
    activities: dict[str, dict[str, Any]] = field(default_factory=dict)
    matches: list[dict[str, Any]] = field(default_factory=list)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        caller = read_token(SECRET, request.headers["Authorization"].removeprefix("Bearer "))
        body = json.loads(request.content) if request.content else None
        url = f"{request.url.scheme}://{request.url.host}{request.url.path}"
        key = request.headers.get("Idempotency-Key")
        self.calls.append(Call(request.method, url, caller.role, caller.subject, key, body))
        path = request.url.path
        if self.fail and request.method == self.fail[0] and re.search(self.fail[1], path):
            return httpx.Response(self.fail[2], text=self.fail[3])
        if request.url.host == "registry.test":
            return self.registry(request)
        if key is None or request.method != "POST":
            return self.points(request.method, path, body)
        if (seen := self.answers.get((caller.subject, path, key))) is not None:
            first_body, answer = seen
            if first_body != body:
                return httpx.Response(409, json={"detail": "this Idempotency-Key was used before"})
            return answer
        answer = self.points(request.method, path, body)
        if answer.status_code < 400:
            self.answers[(caller.subject, path, key)] = (body, answer)
        return answer

    def registry(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "GET" and request.url.path == "/v1/residents"
        tag = request.url.params.get("tag")
        found = [p for p in self.people if tag is None or tag in p["tags"]]
        return httpx.Response(200, json={"items": found[: int(request.url.params["limit"])]})

    def points(self, method: str, path: str, body: Any) -> httpx.Response:
        if method == "GET":
            return self.read(path)
        if method == "POST" and path == "/v1/volunteers" and self.not_known_answers:
            self.not_known_answers -= 1
            detail = f"resident {body['resident_id']} is not known in {body['community']}"
            return httpx.Response(422, json={"status": 422, "detail": detail})
        if method != "POST":
            return httpx.Response(404, json={"detail": f"no route {method} {path} in the fake"})
        self.made.append((path, body))
        return self.create(path, body, f"id-{len(self.made)}")

    def create(self, path: str, body: Any, new_id: str) -> httpx.Response:
        if path == "/v1/teams":
            self.teams.append({**body, "id": new_id})
        if path == "/v1/activities":
            self.activities[new_id] = {**body, "id": new_id}
        if match := re.fullmatch(r"/v1/activities/([^/]+)/attendance", path):
            activity = self.activities[match[1]]
            awarded = points_for(body["minutes"], activity["points_per_hour"], Rounding(activity["rounding"]))
            return httpx.Response(201, json={**body, "id": new_id, "points_awarded": awarded})
        if re.fullmatch(r"/v1/activities/[^/]+/sign-ups", path):
            return httpx.Response(201, json={"id": new_id, **body, "status": "signed_up"})
        if path == "/v1/items":
            self.items[new_id] = {**body, "id": new_id, "stock": 0}
            return httpx.Response(201, json=self.items[new_id])
        if match := re.fullmatch(r"/v1/items/([^/]+)/intakes", path):
            self.items[match[1]]["stock"] += body["quantity"]
            return httpx.Response(201, json=self.items[match[1]])
        if path == "/v1/help-matches":
            self.matches.append({**body, "id": new_id})
        if path == "/v1/redemptions":
            points = self.items[body["item_id"]]["points_price"] * body["quantity"]
            return httpx.Response(201, json={**body, "id": new_id, "points": points, "pickup_code": "123456"})
        if re.fullmatch(r"/v1/(wishes|redemptions)/[^/]+/(review|claim|pickup)", path):
            return httpx.Response(200, json={"id": path.split("/")[3]})
        return httpx.Response(201, json={**(body or {}), "id": new_id})

    def read(self, path: str) -> httpx.Response:
        if path == "/v1/teams":
            return httpx.Response(200, json=self.teams)
        if path == "/v1/activities":
            return httpx.Response(200, json={"items": list(self.activities.values()), "next_cursor": None})
        if path == "/v1/help-matches":
            return httpx.Response(200, json={"items": self.matches, "next_cursor": None})
        return httpx.Response(404, json={"detail": f"no route GET {path} in the fake"})

    def to(self, method: str, pattern: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.search(pattern, c.url)]


class LostAfter(httpx.BaseTransport):
    """Hands the first `requests` to the services; the last of them is done but its answer is lost,
    as when Ctrl-C or a dropped connection strikes after the server committed."""

    def __init__(self, services: FakeServices, requests: int) -> None:
        self.services = services
        self.left = requests

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        if self.left <= 0:
            raise httpx.ConnectError("the stack stopped", request=request)
        self.left -= 1
        answer = self.services(request)
        if self.left == 0:
            raise httpx.ReadError("the answer was lost", request=request)
        return answer


def load(services: FakeServices, **kwargs: Any) -> tuple[bool, list[str], list[float]]:
    lines: list[str] = []
    pauses: list[float] = []
    loaded = load_demo(
        {"points": POINTS, "registry": REGISTRY},
        SECRET,
        progress=lines.append,
        transport=kwargs.pop("transport", None) or httpx.MockTransport(services),
        sleep=pauses.append,
        clock=lambda: NOW,
        **kwargs,
    )
    return loaded, lines, pauses


def test_a_second_load_makes_nothing_new() -> None:
    services = FakeServices()
    assert load(services)[0] is True
    made = list(services.made)

    loaded, lines, _ = load(services)

    assert loaded is False and services.made == made, "all was there: nothing made, nothing replayed"
    assert "nothing loaded" in lines[-1]


@pytest.mark.parametrize("part", [0.0, 0.1, 0.35, 0.6, 0.85, 0.95])
def test_an_interrupted_load_resumes_to_the_same_result_as_one_clean_load(part: float) -> None:
    clean = FakeServices()
    load(clean)
    interrupted = FakeServices()
    requests = max(1, round(part * len(clean.calls)))  # the last one is done, its answer lost

    with pytest.raises(DemoLoadError, match="points demo: (ConnectError|ReadError)"):
        load(interrupted, transport=LostAfter(interrupted, requests))
    assert len(interrupted.made) < len(clean.made), "it stopped part-way"
    loaded, _, _ = load(interrupted)

    assert loaded is True
    assert interrupted.made == clean.made, "no duplicates, nothing missing, in the same order"


def test_load_demo_needs_the_points_and_registry_urls() -> None:
    with pytest.raises(DemoLoadError, match="no URL for the 'registry' service"):
        load_demo({"points": POINTS}, SECRET, progress=lambda _: None)


def test_load_demo_retries_an_enrolment_until_the_resident_is_known() -> None:
    services = FakeServices(not_known_answers=1)
    loaded, lines, pauses = load(services)
    people = community()
    planned = plan_volunteers(party_of(people), people, random.Random(7))
    enrolments = services.to("POST", r"/v1/volunteers$")
    assert loaded is True
    assert len(enrolments) == len(planned) + 1
    assert enrolments[0].body == enrolments[1].body  # the same enrolment, sent again
    assert pauses == [demo.RETRY_PAUSE]
    assert any("waiting" in line for line in lines)


def test_load_demo_gives_up_on_an_unknown_resident_after_the_timeout() -> None:
    services = FakeServices(not_known_answers=10_000)
    with pytest.raises(DemoLoadError, match=r"POST .*/v1/volunteers still answers 422 .*not known"):
        load(services, timeout=0)
    assert len(services.to("POST", r"/v1/volunteers$")) == 1


def test_load_demo_does_not_retry_other_refusals() -> None:
    services = FakeServices(fail=("POST", r"/v1/volunteers$", 422, '{"detail": "team t does not exist"}'))
    with pytest.raises(DemoLoadError, match=r"returned 422 \(expected 201\).*team t does not exist"):
        load(services)
    assert len(services.to("POST", r"/v1/volunteers$")) == 1


def test_load_demo_fails_with_the_status_and_body_of_an_unexpected_answer() -> None:
    services = FakeServices(fail=("POST", r"/v1/items$", 500, "boom"))
    expected = r"POST http://points.test/v1/items returned 500 \(expected 201\): boom"
    with pytest.raises(DemoLoadError, match=expected):
        load(services)


def test_load_demo_loads_everything_through_the_api() -> None:
    services = FakeServices()
    loaded, lines, pauses = load(services)
    assert loaded is True and pauses == []
    assert {(c.role, c.subject) for c in services.to("GET", "registry.test")} == {
        (Role.COMMUNITY_WORKER, demo.COMMUNITY_WORKER)
    }
    assert len(services.to("POST", r"/v1/teams$")) == len(TEAMS)
    enrolled = [c.body for c in services.to("POST", r"/v1/volunteers$")]
    assert 30 <= len(enrolled) <= 36 and all(b["resident_id"] for b in enrolled)
    assert len(services.to("POST", r"/v1/activities$")) == len(ACTIVITIES)
    # Hours are confirmed for the past activities only, each sign-up once.
    past = {n for n, a in enumerate(ACTIVITIES) if a.past}
    activity_ids = list(services.activities)
    confirmed = {c.url.split("/")[-2] for c in services.to("POST", r"/attendance$")}
    assert confirmed == {activity_ids[n] for n in past}
    assert len(services.to("POST", r"/attendance$")) == sum(ACTIVITIES[n].sign_ups for n in past)
    assert len(services.to("POST", r"/sign-ups$")) == sum(a.sign_ups for a in ACTIVITIES)
    # Every request that credits or debits points or stock carries an Idempotency-Key, each its own.
    keyed = services.to("POST", r"/(attendance|intakes|redemptions|wishes)$")
    assert keyed and all(c.key for c in keyed)
    assert len({(c.url, c.key) for c in keyed}) == len(keyed)
    assert len(services.to("POST", r"/v1/items$")) == len(ITEMS)
    assert len(services.to("POST", r"/v1/redemptions$")) == len(REDEMPTIONS)
    assert len(services.to("POST", r"/pickup$")) == sum(picked for _, _, picked in REDEMPTIONS)
    # Wishes: posted by grid workers, two approved by the community worker, one claimed by a party member.
    assert {c.role for c in services.to("POST", r"/v1/wishes$")} == {Role.GRID_WORKER}
    assert len(services.to("POST", r"/review$")) == 2
    [claim] = services.to("POST", r"/claim$")
    party_subjects = {f"volunteer-{n}" for n, b in enumerate(enrolled, start=1) if b["party_member"]}
    assert claim.role is Role.VOLUNTEER and claim.subject in party_subjects
    [match] = services.to("POST", r"/v1/help-matches$")
    assert match.role is Role.COMMUNITY_WORKER
    assert "loaded" in lines[-1] and "wishes" in lines[-1]
