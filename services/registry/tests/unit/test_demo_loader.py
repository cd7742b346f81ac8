"""The demo loader against a fake registry: every record sent once, a stopped load finished by the next."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from linli_registry.demo import DemoLoadError, demo_community, load_demo
from linli_registry.domain import latest_missed_due
from linli_shared.auth import Role, read_token

SECRET = "test-secret-" + "x" * 40
URLS = {"registry": "http://registry"}


class FakeRegistry:
    """Answers as the registry would, keeps what it was sent, records who asked for what.

    Like the registry it refuses a second resident with one ID number or a second care group for
    one elder, and replays the answer of a request whose Idempotency-Key it has seen."""

    def __init__(self, fail_on: tuple[str, str] | None = None) -> None:
        self.fail_on = fail_on
        self.calls: list[tuple[str, str, Role, str, Any]] = []
        self.rows: dict[str, list[dict[str, Any]]] = {
            kind: []
            for kind in (
                "districts",
                "communities",
                "grids",
                "households",
                "residents",
                "care-groups",
                "visits",
            )
        }
        self.health: dict[str, dict[str, Any]] = {}
        self.answers: dict[tuple[str, str, str, str], httpx.Response] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        caller = read_token(SECRET, request.headers["Authorization"].removeprefix("Bearer "))
        body = json.loads(request.content) if request.content else None
        method, path = request.method, request.url.path
        self.calls.append((method, path, caller.role, caller.subject, body))
        if (method, path) == self.fail_on:
            return httpx.Response(500, json={"title": "Internal Server Error", "detail": "boom"})
        key = request.headers.get("Idempotency-Key")
        if key and (caller.subject, method, path, key) in self.answers:
            return self.answers[(caller.subject, method, path, key)]
        answer = self.answer(method, path, request.url.params, body)
        if key and answer.status_code < 400:
            self.answers[(caller.subject, method, path, key)] = answer
        return answer

    def answer(self, method: str, path: str, params: Any, body: Any) -> httpx.Response:
        kind = path.removeprefix("/v1/")
        if path.endswith("/health-record"):
            resident_id = path.split("/")[3]
            self.health[resident_id] = {**body, "resident_id": resident_id, "updated_at": now()}
            return httpx.Response(200, json=self.health[resident_id])
        if method == "GET" and kind in ("districts", "communities", "grids"):
            return httpx.Response(200, json=self.rows[kind])
        if method == "GET":
            items = self.rows[kind]
            if kind == "residents":
                items = [r for r in items if r["status"] == params.get("status", "active")]
            start = int(params.get("cursor", 0))
            limit = int(params["limit"])
            more = start + limit < len(items)
            return httpx.Response(
                200,
                json={
                    "items": items[start : start + limit],
                    "next_cursor": str(start + limit) if more else None,
                },
            )
        return self.create(kind, body)

    def create(self, kind: str, body: dict[str, Any]) -> httpx.Response:
        row = {"id": str(uuid.uuid4()), **body}
        if kind == "residents":
            if any(r["id_number"] == body["id_number"] for r in self.rows[kind]):
                return httpx.Response(
                    409, json={"detail": "a resident with this ID number is already registered"}
                )
            row |= {"status": "active", "registered_at": now()}
        if kind == "care-groups":
            if any(g["resident_id"] == body["resident_id"] for g in self.rows[kind]):
                return httpx.Response(409, json={"detail": "this resident already has a care group"})
            row |= {"formed_at": body.get("formed_at") or now()}
        self.rows[kind].append(row)
        return httpx.Response(201, json=row)

    def paths(self, method: str, path: str) -> list[tuple[str, str, Role, str, Any]]:
        return [call for call in self.calls if call[0] == method and call[1].startswith(path)]

    def state(self) -> dict[str, Any]:
        """What is on record, without the ids and times a load draws afresh."""
        names = {r["id"]: r["full_name"] for r in self.rows["residents"]}
        return {
            "places": sorted(
                json.dumps({**r, "id": None}, sort_keys=True)
                for k in ("districts", "communities", "grids")
                for r in self.rows[k]
            ),
            "households": Counter(h["address"] for h in self.rows["households"]),
            "residents": Counter((r["full_name"], r["id_number"]) for r in self.rows["residents"]),
            "health": Counter(names[i] for i in self.health),
            "care_groups": Counter(names[g["resident_id"]] for g in self.rows["care-groups"]),
            "visits": Counter(
                (names[v["resident_id"]], v["kind"], v["findings"]) for v in self.rows["visits"]
            ),
        }


def now() -> str:
    return datetime.now(UTC).isoformat()


class StopsAfter(httpx.MockTransport):
    """The registry, reached until `limit` requests were sent; then the connection is gone (Ctrl-C)."""

    def __init__(self, registry: FakeRegistry, limit: int) -> None:
        self.sent = 0

        def handle(request: httpx.Request) -> httpx.Response:
            self.sent += 1
            if self.sent > limit:
                raise httpx.ConnectError("the registry went away", request=request)
            return registry(request)

        super().__init__(handle)


def load(registry: FakeRegistry, lines: list[str] | None = None) -> bool:
    progress = lines.append if lines is not None else (lambda _: None)
    return load_demo(URLS, SECRET, progress=progress, transport=httpx.MockTransport(registry))


def test_load_demo_posts_the_whole_community_with_the_right_roles() -> None:
    registry = FakeRegistry()
    lines: list[str] = []
    assert load(registry, lines) is True
    expected = demo_community(7, datetime.now(UTC).date())
    assert [c[2] for c in registry.paths("POST", "/v1/districts")] == [Role.CITY_ADMIN]
    assert [c[2] for c in registry.paths("POST", "/v1/communities")] == [Role.CITY_ADMIN]
    assert len(registry.paths("POST", "/v1/grids")) == 5
    assert len(registry.paths("POST", "/v1/households")) == len(expected.households)
    residents = registry.paths("POST", "/v1/residents")
    assert len(residents) == len(expected.people)
    assert {c[2] for c in residents} == {Role.COMMUNITY_WORKER}
    assert len(registry.paths("PUT", "/v1/residents/")) == sum(p.health is not None for p in expected.people)
    groups = registry.paths("POST", "/v1/care-groups")
    assert len(groups) == len(expected.care_groups)
    visits = registry.paths("POST", "/v1/visits")
    assert len(visits) == sum(len(g.visits) for g in expected.care_groups)
    grid_worker_of = {body["resident_id"]: body["grid_worker"] for *_, body in groups}
    for _, _, role, subject, body in visits:
        assert role is Role.GRID_WORKER and subject == grid_worker_of[body["resident_id"]]
    assert sum("residents registered" in line for line in lines) == len(expected.people) // 50
    assert f"{len(expected.people)} residents" in lines[-1]


def test_load_demo_does_nothing_when_the_community_is_all_there() -> None:
    registry = FakeRegistry()
    assert load(registry) is True
    loaded = registry.state()
    registry.calls.clear()
    lines: list[str] = []
    assert load(registry, lines) is False
    assert registry.paths("POST", "/") == []
    # health records cannot be listed: each is sent again with its key and the first answer replayed
    puts = registry.paths("PUT", "/v1/residents/")
    assert puts and registry.state() == loaded
    assert lines and "nothing loaded" in lines[-1]


def steps_of_a_clean_load() -> list[str]:
    registry = FakeRegistry()
    load(registry)
    return [f"{method} {path.split('/')[2]}" for method, path, *_ in registry.calls]


STOPS = [
    "GET residents",
    "POST communities",
    "POST grids",
    "POST households",
    "POST residents",
    "PUT residents",
]
STOPS += ["GET care-groups", "POST care-groups", "POST visits"]


@pytest.mark.parametrize("stopped_in", STOPS)
def test_a_stopped_load_is_finished_by_the_next_with_nothing_twice(stopped_in: str) -> None:
    steps = steps_of_a_clean_load()
    sent = [index for index, step in enumerate(steps) if step == stopped_in]
    stop_after = sent[len(sent) // 2]  # the load stops while sending this kind of request
    clean = FakeRegistry()
    load(clean)
    registry = FakeRegistry()
    with pytest.raises(DemoLoadError, match="did not answer"):
        load_demo(URLS, SECRET, progress=lambda _: None, transport=StopsAfter(registry, stop_after))
    assert load(registry) is True
    assert registry.state() == clean.state()
    assert load(registry) is False


def test_the_showcase_care_group_is_overdue_as_soon_as_it_is_loaded() -> None:
    registry = FakeRegistry()
    lines: list[str] = []
    load(registry, lines)
    formed = [
        g
        for g in registry.rows["care-groups"]
        if "formed_at" in g and g.get("formed_at") and g["formed_at"] < now()
    ]
    loaded_at = datetime.now(UTC)
    backdated = [
        g for g in formed if datetime.fromisoformat(g["formed_at"]) < loaded_at - timedelta(hours=24)
    ]
    [group] = backdated
    formed_at = datetime.fromisoformat(group["formed_at"])
    visits = [v for v in registry.rows["visits"] if v["resident_id"] == group["resident_id"]]
    assert [datetime.fromisoformat(v["visited_at"]) for v in visits] == [formed_at]
    assert latest_missed_due(formed_at, timedelta(hours=24), loaded_at) is not None
    assert any("overdue" in line for line in lines)


def test_load_demo_fails_with_the_status_and_body_of_an_unexpected_answer() -> None:
    registry = FakeRegistry(fail_on=("POST", "/v1/residents"))
    with pytest.raises(DemoLoadError, match=r"POST /v1/residents returned 500 \(expected 201\).*boom"):
        load(registry)
    assert len(registry.paths("POST", "/v1/residents")) == 1


def test_load_demo_without_a_registry_url_fails_with_a_clear_message() -> None:
    with pytest.raises(DemoLoadError, match="no URL for the registry"):
        load_demo({"points": "http://points"}, SECRET, progress=lambda _: None)
