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

from linli_fund import demo
from linli_fund.api.commitments_schemas import CommitmentIn
from linli_fund.api.disbursements_schemas import DisbursementIn
from linli_fund.api.donations_schemas import CampaignIn, DonationIn
from linli_fund.api.publication_schemas import PublicationIn
from linli_fund.demo import DemoLoadError, load_demo
from linli_shared.auth import Role, read_token
from linli_shared.clock import china_day, utc_now
from linli_shared.language import language_of

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


def created(body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**body, "id": str(uuid.uuid4()), **extra}


@dataclass
class FakeServices:
    """The registry's resident list and the fund's routes the demo uses, keeping what was made and
    answering a repeated Idempotency-Key (same caller, route and body) with the first answer."""

    people: list[dict[str, Any]] = field(default_factory=community)
    not_known_answers: int = 0
    calls: list[Call] = field(default_factory=list)
    made: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    answered: dict[tuple[str, str, str], tuple[Any, httpx.Response]] = field(default_factory=dict)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        caller = read_token(SECRET, request.headers["Authorization"].removeprefix("Bearer "))
        body = json.loads(request.content) if request.content else None
        key = request.headers.get("Idempotency-Key")
        language = language_of(request.headers.get("Accept-Language"))
        self.calls.append(Call(request.method, request.url.path, caller.role, caller.subject, key, body))
        if request.url.host == "registry.test":
            tag = request.url.params.get("tag")
            return httpx.Response(
                200, json={"items": [p for p in self.people if tag is None or tag in p["tags"]]}
            )
        if key is None:
            return self.answer(request.method, request.url.path, body, language)
        seen = self.answered.get((caller.subject, request.url.path, key))
        if seen is not None:
            first_body, first_answer = seen
            return first_answer if first_body == body else httpx.Response(409, json={"detail": "other body"})
        response = self.answer(request.method, request.url.path, body, language)
        if response.status_code < 300:
            self.answered[(caller.subject, request.url.path, key)] = (body, response)
        return response

    def keep(self, kind: str, record: dict[str, Any], status: int = 201) -> httpx.Response:
        self.made.setdefault(kind, []).append(record)
        return httpx.Response(status, json=record)

    def find(self, kind: str, path: str) -> dict[str, Any]:
        return next(r for r in self.made[kind] if r["id"] == path.split("/")[3])

    def answer(self, method: str, path: str, body: Any, request_language: str = "zh") -> httpx.Response:
        if method == "GET" and path.startswith("/v1/public/funds/"):
            return httpx.Response(200, json=self.made.get("publications", []))
        if (method, path) == ("GET", "/v1/commitments"):
            return httpx.Response(200, json={"items": self.made.get("commitments", [])})
        if (method, path) == ("POST", "/v1/campaigns"):
            CampaignIn.model_validate(body)
            return self.keep("campaigns", created(body))
        if (method, path) == ("POST", "/v1/donations"):
            DonationIn.model_validate(body)
            return self.keep("donations", created(body))
        if method == "POST" and path in ("/v1/commitments", "/v1/disbursements"):
            return self.ask(path, body, english=request_language == "en")
        if method == "POST" and re.fullmatch(r"/v1/disbursements/[^/]+/approvals", path):
            disbursement = self.find("disbursements", path)
            disbursement["approvals"] += 1
            if disbursement["approvals"] == disbursement["approvals_needed"]:
                disbursement["status"] = "approved"
            return httpx.Response(200, json=dict(disbursement))
        if method == "POST" and re.fullmatch(r"/v1/disbursements/[^/]+/payment", path):
            disbursement = self.find("disbursements", path)
            if disbursement["status"] != "approved":
                return httpx.Response(409, json={"detail": f"this disbursement is {disbursement['status']}"})
            disbursement["status"] = "paid"
            return httpx.Response(200, json=dict(disbursement))
        if method == "POST" and path.endswith("/disclosures"):
            PublicationIn.model_validate(body)
            return self.keep("publications", {**body, "sequence": len(self.made.get("publications", [])) + 1})
        return httpx.Response(404, json={"detail": f"no route {method} {path} in the fake"})

    def ask(self, path: str, body: dict[str, Any], *, english: bool) -> httpx.Response:
        if self.not_known_answers:
            self.not_known_answers -= 1
            detail = (  # as the fund answers: in Chinese unless the caller prefers English
                f"resident {body['resident_id']} is not known in {body['community']}"
                if english
                else f"{body['community']}社区还没有居民 {body['resident_id']} 的信息"
            )
            return httpx.Response(422, json={"status": 422, "detail": detail})
        if path == "/v1/commitments":
            CommitmentIn.model_validate(body)
            return self.keep("commitments", created(body))
        DisbursementIn.model_validate(body)
        needed = 2 if body["amount_fen"] > 200_000 else 1
        return self.keep(
            "disbursements", created(body, approvals_needed=needed, approvals=0, status="requested")
        )

    def to(self, method: str, pattern: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.search(pattern, c.path)]

    def summary(self) -> dict[str, Any]:
        """What was made, without the ids a fresh load draws anew."""

        def plain(record: dict[str, Any]) -> str:
            return json.dumps({k: v for k, v in record.items() if not k.endswith("id")}, sort_keys=True)

        return {kind: sorted(plain(r) for r in records) for kind, records in self.made.items()}


class FailingAfter(httpx.MockTransport):
    """The services, until the connection drops after `requests` requests (Ctrl-C, a crash)."""

    def __init__(self, services: FakeServices, requests: int) -> None:
        self.left = requests

        def handle(request: httpx.Request) -> httpx.Response:
            if self.left == 0:
                raise httpx.ConnectError("the stack went away", request=request)
            self.left -= 1
            return services(request)

        super().__init__(handle)


def load(services: FakeServices, **kwargs: Any) -> tuple[bool, list[str], list[float]]:
    lines: list[str] = []
    pauses: list[float] = []
    kwargs.setdefault("transport", httpx.MockTransport(services))
    loaded = load_demo(
        {"fund": FUND, "registry": REGISTRY}, SECRET, progress=lines.append, sleep=pauses.append, **kwargs
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


def test_load_demo_does_nothing_when_it_was_loaded_whole() -> None:
    services = FakeServices(made={"publications": [{"sequence": 1}]})  # its last step
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
    drive_gifts = [d for d in donations if "received_on" not in d.body]
    assert all(d.body["campaign_id"] for d in drive_gifts)
    assert {d.role for d in donations} == {Role.COMMUNITY_WORKER} and all(d.key for d in donations)
    assert len({d.key for d in donations}) == len(donations)
    assert 2_800_000 <= sum(d.body["amount_fen"] for d in drive_gifts) <= campaign.body["target_fen"] * 1.1
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


def test_load_demo_books_last_month_on_its_days_and_publishes_that_month_last() -> None:
    services = FakeServices()
    assert load(services)[0] is True

    first_day, last_day = demo.last_month_of(china_day(utc_now()))
    earlier = [d.body for d in services.to("POST", r"/v1/donations$") if "received_on" in d.body]
    assert len(earlier) == len(demo.DATA["last_month"]) and not any(g.get("campaign_id") for g in earlier)
    assert all(first_day <= date.fromisoformat(g["received_on"]) <= last_day for g in earlier)
    *_, last_call = services.calls
    assert last_call.path.endswith("/disclosures") and last_call.role is Role.FUND_OFFICER
    assert last_call.body == {"first_day": str(first_day), "last_day": str(last_day)}
    loaded, lines, _ = load(services)
    assert loaded is False and "nothing loaded" in lines[-1]


def test_a_load_stopped_at_any_request_is_finished_by_the_next_as_if_loaded_once() -> None:
    clean = FakeServices()
    assert load(clean)[0] is True

    for stopped_after in range(len(clean.calls)):  # every point a Ctrl-C could stop it at
        services = FakeServices()
        with pytest.raises(DemoLoadError, match="did not answer"):
            load(services, transport=FailingAfter(services, stopped_after))
        assert load(services)[0] is True, f"stopped after {stopped_after} requests"
        assert services.summary() == clean.summary(), f"stopped after {stopped_after} requests"
        assert load(services)[0] is False
