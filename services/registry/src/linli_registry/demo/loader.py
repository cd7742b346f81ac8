"""Loading the demo community through the registry's HTTP API, resuming where an earlier load stopped.

Every record has a stable key and is sent only if it is missing. Places, residents (by name, one
per person in the demo), care groups (one per elder) and visits (by elder, kind and time, counted
from their group's forming) are looked up first; households and health records, which cannot be
listed, are sent with a deterministic Idempotency-Key, so sending one again replays the first.
A load stopped half-way (Ctrl-C, a crash) is finished by the next, with nothing twice.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx

from linli_registry.demo.bodies import (
    care_group_body,
    grid_body,
    health_body,
    household_body,
    resident_body,
    visit_body,
)
from linli_registry.demo.care import moment_before, visit_time
from linli_registry.demo.community import demo_community
from linli_registry.demo.data import DemoData, demo_data
from linli_registry.demo.model import DemoCommunity
from linli_registry.domain import Status
from linli_shared.auth import Role, issue_token
from linli_shared.clock import utc_now
from linli_shared.demo_api import DemoApi, DemoLoadError

PAGE = 500
WHO = "registry demo"


def load_demo(
    urls: Mapping[str, str],
    jwt_secret: str,
    *,
    progress: Callable[[str], None] = print,
    transport: httpx.BaseTransport | None = None,
    seed: int = 7,
) -> bool:
    """Load what is missing of the demo community through the API; False if it was all there.

    A failure raises DemoLoadError saying what went wrong; the services keep running."""
    started = time.perf_counter()
    if "registry" not in urls:
        raise DemoLoadError(f"{WHO}: no URL for the registry")
    try:
        with httpx.Client(base_url=urls["registry"], timeout=30, transport=transport) as client:
            api = DemoApi(client, who=WHO, progress=progress)
            loader = Loader(api, Tokens.of(jwt_secret, demo_data()), progress, utc_now())
            community = loader.load(seed)
    except httpx.HTTPError as error:
        raise DemoLoadError(f"{WHO}: the registry at {urls['registry']} did not answer: {error}") from error
    data = demo_data()
    if not loader.made:
        progress(
            f"{WHO}: {data.community_name} ({data.district}/{data.community}) is all there; nothing loaded"
        )
        return False
    made = ", ".join(f"{count} {what}" for what, count in loader.made.items())
    progress(
        f"{WHO}: {data.community_name} is loaded: {len(community.grids)} grids, "
        f"{len(community.households)} households, {len(community.people)} residents, "
        f"{sum(p.health is not None for p in community.people)} health records, "
        f"{len(community.care_groups)} care groups, {sum(len(g.visits) for g in community.care_groups)} "
        f"visit logs (made now: {made}) in {time.perf_counter() - started:.1f} s"
    )
    return True


@dataclass(frozen=True)
class Tokens:
    admin: str
    worker: str
    grid_workers: dict[str, str]

    @classmethod
    def of(cls, secret: str, data: DemoData) -> Tokens:
        def token(role: Role, subject: str, community: str | None = data.community) -> str:
            district = None if role is Role.CITY_ADMIN else data.district
            return issue_token(secret, role=role, district=district, community=community, subject=subject)

        grid_workers = {f"grid-worker-{n}": token(Role.GRID_WORKER, f"grid-worker-{n}") for n in range(1, 6)}
        return cls(
            admin=token(Role.CITY_ADMIN, "demo-city-admin", community=None),
            worker=token(Role.COMMUNITY_WORKER, data.community_worker),
            grid_workers=grid_workers,
        )


def anchor_day(seed: int, on_record: list[dict[str, Any]], today: date) -> date:
    """The day an earlier load made the community from (ages and ID numbers count from it), or today."""
    if not on_record:
        return today
    first = min(datetime.fromisoformat(r["registered_at"]) for r in on_record).date()
    found = {(r["full_name"], r["birth_date"]) for r in on_record}

    def matches(day: date) -> int:
        return len(
            found & {(p.full_name, p.birth_date.isoformat()) for p in demo_community(seed, day).people}
        )

    return max([first, first - timedelta(days=1), today], key=matches)


class Loader:
    """One load: each step looks up what is there and sends what is missing, counting it in `made`."""

    def __init__(self, api: DemoApi, tokens: Tokens, progress: Callable[[str], None], now: datetime) -> None:
        self.api = api
        self.tokens = tokens
        self.progress = progress
        self.now = now
        self.data = demo_data()
        self.made: Counter[str] = Counter()

    def load(self, seed: int) -> DemoCommunity:
        on_record = [r for status in Status for r in self.pages("/v1/residents", {"status": status.value})]
        community = demo_community(seed, anchor_day(seed, on_record, self.now.date()))
        missing = len(community.people) - len(on_record)
        if missing > 0:
            self.progress(
                f"{WHO}: loading {self.data.district_name} {self.data.community_name} "
                f"({missing} of {len(community.people)} residents to register)"
            )
        self.places(community)
        resident_ids = self.residents(seed, community, {r["full_name"]: r for r in on_record})
        self.health_records(seed, community, resident_ids)
        self.care_groups_and_visits(community, resident_ids)
        return community

    def pages(self, path: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every item of a paged list, as the community worker sees it."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            query = {**(params or {}), "limit": PAGE, **({"cursor": cursor} if cursor else {})}
            page = self.api.call("GET", path, self.tokens.worker, 200, params=query)
            items += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    def places(self, community: DemoCommunity) -> None:
        data, admin = self.data, self.tokens.admin
        if not any(d["code"] == data.district for d in self.api.call("GET", "/v1/districts", admin, 200)):
            self.api.call(
                "POST", "/v1/districts", admin, 201, json={"code": data.district, "name": data.district_name}
            )
            self.made["districts"] += 1
        communities = self.api.call("GET", "/v1/communities", admin, 200, params={"district": data.district})
        if not any(c["code"] == data.community for c in communities):
            body = {"district": data.district, "code": data.community, "name": data.community_name}
            self.api.call("POST", "/v1/communities", admin, 201, json=body)
            self.made["communities"] += 1
        place = {"district": data.district, "community": data.community}
        grids = {g["code"] for g in self.api.call("GET", "/v1/grids", self.tokens.worker, 200, params=place)}
        for grid in community.grids:
            if grid.code not in grids:
                self.api.call("POST", "/v1/grids", self.tokens.worker, 201, json=grid_body(grid))
                self.made["grids"] += 1

    def residents(
        self, seed: int, community: DemoCommunity, on_record: dict[str, dict[str, Any]]
    ) -> dict[int, str]:
        """Each person's resident id: found by name, else registered (their household made first)."""
        household_ids = {
            person.household_key: on_record[person.full_name]["household_id"]
            for person in community.people
            if person.full_name in on_record and on_record[person.full_name]["household_id"]
        }
        resident_ids = {
            p.key: on_record[p.full_name]["id"] for p in community.people if p.full_name in on_record
        }
        missing = [p for p in community.people if p.key not in resident_ids]
        for count, person in enumerate(missing, start=1):
            if person.household_key not in household_ids:
                household = community.households[person.household_key]
                household_ids[household.key] = self.send_keyed(
                    "POST",
                    "/v1/households",
                    201,
                    f"demo-{seed}-household-{household.key}",
                    household_body(household),
                )["id"]
                self.made["households"] += 1
            body = resident_body(person, household_ids[person.household_key])
            key = f"demo-{seed}-resident-{person.key}"
            resident_ids[person.key] = self.send_keyed("POST", "/v1/residents", 201, key, body)["id"]
            self.made["residents"] += 1
            if count % 50 == 0:
                self.progress(f"{WHO}: {count}/{len(missing)} residents registered")
        return resident_ids

    def health_records(self, seed: int, community: DemoCommunity, resident_ids: dict[int, str]) -> None:
        """Health records cannot be read without recording a read: each is sent with its key instead,
        and one sent before is replayed, unchanged."""
        for person in community.people:
            if person.health is not None:
                path = f"/v1/residents/{resident_ids[person.key]}/health-record"
                self.send_keyed(
                    "PUT", path, 200, f"demo-{seed}-health-{person.key}", health_body(person.health)
                )

    def care_groups_and_visits(self, community: DemoCommunity, resident_ids: dict[int, str]) -> None:
        groups = {g["resident_id"]: g for g in self.pages("/v1/care-groups")}
        logged = {
            (v["resident_id"], v["kind"], datetime.fromisoformat(v["visited_at"]))
            for v in self.pages("/v1/visits")
        }
        people = {p.key: p for p in community.people}
        for group in community.care_groups:
            resident_id = resident_ids[group.person_key]
            found = groups.get(resident_id)
            if found is None:
                formed_at = moment_before(self.now, group.formed) if group.formed else None
                body = care_group_body(group, resident_id, formed_at)
                found = self.api.call("POST", "/v1/care-groups", self.tokens.worker, 201, json=body)
                self.made["care groups"] += 1
                if group.formed:
                    self.progress(
                        f"{WHO}: {people[group.person_key].full_name}'s care group was formed "
                        f"{group.formed.days_ago} days ago and has not visited since: the daily visit is "
                        "overdue, so the missed-visit alert goes out within a minute"
                    )
            formed_at = datetime.fromisoformat(found["formed_at"])
            grid_worker = self.tokens.grid_workers[group.grid_worker]
            for visit in group.visits:
                if (resident_id, visit.kind.value, visit_time(formed_at, visit)) in logged:
                    continue
                body = visit_body(visit, resident_id, formed_at)
                self.api.call("POST", "/v1/visits", grid_worker, 201, json=body)
                self.made["visit logs"] += 1

    def send_keyed(self, method: str, path: str, expect: int, key: str, body: dict[str, Any]) -> Any:
        return self.api.call(method, path, self.tokens.worker, expect, key=key, json=body)
