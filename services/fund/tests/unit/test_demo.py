"""The fund demo: its data and its loader, against fake registry and fund services (no server)."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest

from linli_fund import demo, schemas
from linli_fund.demo import DemoLoadError, load_demo
from linli_shared.auth import Role, read_token

SECRET = "test-secret-" + "x" * 40
FUND = "http://fund.test"
REGISTRY = "http://registry.test"


def resident(number: int, age: int, *tags: str) -> dict[str, Any]:
    return {
        "id": str(uuid.UUID(int=number)),
        "full_name": f"居民{number}",
        "birth_date": str(date(2026 - age, 3, 1)),
        "age": age,
        "tags": list(tags),
    }


def community() -> list[dict[str, Any]]:
    people = [resident(n, 40 + n, "party_member") for n in range(1, 21)]
    people += [resident(21, 6, "orphan"), resident(22, 78, "bedridden"), resident(23, 70, "living_alone")]
    people += [resident(n, 20 + n % 50) for n in range(24, 60)]
    return people


@dataclass
class Call:
    method: str
    path: str
    role: Role
    subject: str
    key: str | None
    body: Any


@dataclass
class FakeServices:
    people: list[dict[str, Any]] = field(default_factory=community)
    donations: list[dict[str, Any]] = field(default_factory=list)
    not_known_answers: int = 0
    calls: list[Call] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        caller = read_token(SECRET, request.headers["Authorization"].removeprefix("Bearer "))
        body = json.loads(request.content) if request.content else None
        path = request.url.path
        self.calls.append(
            Call(
                request.method,
                path,
                caller.role,
                caller.subject,
                request.headers.get("Idempotency-Key"),
                body,
            )
        )
        if request.url.host == "registry.test":
            tag = request.url.params.get("tag")
            return httpx.Response(
                200, json={"items": [p for p in self.people if tag is None or tag in p["tags"]]}
            )
        new_id = str(uuid.uuid4())
        method = request.method
        if (method, path) == ("GET", "/v1/donations"):
            return httpx.Response(200, json={"items": self.donations})
        if (method, path) == ("POST", "/v1/campaigns"):
            schemas.CampaignIn.model_validate(body)
            return httpx.Response(201, json={**body, "id": new_id})
        if (method, path) == ("POST", "/v1/donations"):
            schemas.DonationIn.model_validate(body)
            return httpx.Response(201, json={**body, "id": new_id})
        if method == "POST" and path in ("/v1/commitments", "/v1/disbursements"):
            if self.not_known_answers:
                self.not_known_answers -= 1
                detail = f"resident {body['resident_id']} is not known in {body['community']}"
                return httpx.Response(422, json={"status": 422, "detail": detail})
            if path == "/v1/commitments":
                schemas.CommitmentIn.model_validate(body)
                return httpx.Response(201, json={**body, "id": new_id})
            schemas.DisbursementIn.model_validate(body)
            needed = 2 if body["amount_fen"] > 200_000 else 1
            return httpx.Response(201, json={**body, "id": new_id, "approvals_needed": needed})
        if method == "POST" and re.fullmatch(r"/v1/disbursements/[^/]+/approvals", path):
            return httpx.Response(200, json={"id": path.split("/")[3]})
        if method == "POST" and re.fullmatch(r"/v1/disbursements/[^/]+/payment", path):
            paid = next(c.body for c in self.calls if c.path == "/v1/disbursements" and c.body)
            amounts = [c.body["amount_fen"] for c in self.calls if c.path == "/v1/disbursements"]
            return httpx.Response(200, json={**paid, "amount_fen": amounts[-1], "status": "paid"})
        return httpx.Response(404, json={"detail": f"no route {method} {path} in the fake"})

    def to(self, method: str, pattern: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.search(pattern, c.path)]


def load(services: FakeServices, **kwargs: Any) -> tuple[bool, list[str], list[float]]:
    lines: list[str] = []
    pauses: list[float] = []
    loaded = load_demo(
        FUND,
        REGISTRY,
        SECRET,
        progress=lines.append,
        transport=httpx.MockTransport(services),
        sleep=pauses.append,
        **kwargs,
    )
    return loaded, lines, pauses


def test_the_drive_is_about_30000_yuan_from_about_20_donors() -> None:
    people = community()
    gifts = demo.plan_gifts([p for p in people if "party_member" in p["tags"]], people)
    assert 18 <= len(gifts) <= 22
    assert 2_800_000 <= sum(g.amount_fen for g in gifts) <= 3_200_000
    kinds = [g.donor_kind for g in gifts]
    assert kinds.count("enterprise") == 2 and kinds.count("party_member") == demo.PARTY_DONORS
    assert any(g.anonymous for g in gifts) and all(g.anonymous for g in gifts if g.donor_kind == "resident")


@pytest.mark.parametrize(
    ("day", "quarter"),
    [
        (date(2026, 1, 1), (date(2026, 1, 1), date(2026, 3, 31))),
        (date(2026, 11, 26), (date(2026, 10, 1), date(2026, 12, 31))),
        (date(2026, 6, 30), (date(2026, 4, 1), date(2026, 6, 30))),
    ],
)
def test_the_drive_runs_for_the_quarter(day: date, quarter: tuple[date, date]) -> None:
    assert demo.quarter_of(day) == quarter


def test_school_fees_run_until_the_day_before_the_18th_birthday() -> None:
    assert demo.school_terms(date(2020, 3, 1), date(2026, 11, 26)) == (date(2038, 2, 28), 23)
    assert demo.school_terms(date(2008, 3, 1), date(2026, 3, 1)) == (date(2026, 2, 28), 0)
    assert demo.school_terms(date(2008, 2, 29), date(2026, 1, 1)) == (date(2026, 2, 28), 1)


def test_load_demo_does_nothing_when_the_community_has_donations() -> None:
    services = FakeServices(donations=[{"id": "d1"}])
    loaded, lines, _ = load(services)
    assert loaded is False and len(services.calls) == 1
    assert "nothing loaded" in lines[-1]


def test_load_demo_loads_a_drive_a_commitment_and_a_medical_payment() -> None:
    services = FakeServices(not_known_answers=2)
    loaded, lines, pauses = load(services)

    assert loaded is True and pauses == [demo.RETRY_PAUSE] * 2
    [campaign] = services.to("POST", r"/v1/campaigns$")
    assert campaign.key, "a rerun after a half-done load opens the same drive, not a second one"
    donations = services.to("POST", r"/v1/donations$")
    assert all(d.body["campaign_id"] for d in donations)
    assert {d.role for d in donations} == {Role.COMMUNITY_WORKER} and all(d.key for d in donations)
    assert len({d.key for d in donations}) == len(donations)
    assert 2_800_000 <= sum(d.body["amount_fen"] for d in donations) <= campaign.body["target_fen"] * 1.1
    commitment = services.to("POST", r"/v1/commitments$")[-1]
    orphan = next(p for p in community() if "orphan" in p["tags"])
    assert commitment.body["resident_id"] == orphan["id"] and commitment.role is Role.FUND_OFFICER
    assert commitment.subject == "fund-officer-1", "its scheduled instalments go to the other two to approve"
    assert commitment.body["until"] == str(date(2038, 2, 28))
    schedule = commitment.body["schedule"]
    assert schedule["months_between"] == 6 and schedule["instalment_fen"] == demo.TERM_FEE_FEN
    assert commitment.body["total_fen"] % schedule["instalment_fen"] == 0
    requests = services.to("POST", r"/v1/disbursements$")
    assert [r.body["purpose"] for r in requests][-2:] == ["education", "medical"]
    assert requests[-2].body["commitment_id"]
    approvals = services.to("POST", r"/approvals$")
    assert len(approvals) == 3  # one for the school term, two for the large medical payment
    assert all(a.subject != "fund-officer-1" for a in approvals)
    assert len({a.subject for a in approvals[-2:]}) == 2
    assert len(services.to("POST", r"/payment$")) == 2
    assert "loaded" in lines[-1]


def test_load_demo_gives_up_on_an_unknown_resident_after_the_timeout() -> None:
    services = FakeServices(not_known_answers=10_000)
    with pytest.raises(DemoLoadError, match=r"still answers 422 .*not known"):
        load(services, timeout=0)


def test_load_demo_needs_the_registry_demo() -> None:
    with pytest.raises(DemoLoadError, match="load its demo first"):
        load(FakeServices(people=[]))
