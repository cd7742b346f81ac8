"""Loading the fund demo through the fund's HTTP API, resuming where an earlier load stopped."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from linli_fund.demo.plan import (
    COMMUNITY,
    COMMUNITY_NAME,
    DATA,
    DISTRICT,
    MEDICAL_HELP_FEN,
    TERM_FEE_FEN,
    TERM_MONTHS,
    WHO,
    DemoGift,
    drive_name,
    last_month_of,
    plan_gifts,
    quarter_of,
    school_terms,
)
from linli_shared.auth import Role, issue_token
from linli_shared.clock import china_day, utc_now
from linli_shared.demo_api import DemoApi, DemoLoadError


@dataclass(frozen=True)
class Tokens:
    worker: str
    requester: str
    approvers: tuple[str, str]

    @classmethod
    def of(cls, secret: str) -> Tokens:
        def token(role: Role, subject: str) -> str:
            return issue_token(secret, role=role, district=DISTRICT, community=COMMUNITY, subject=subject)

        requester, first, second = (token(Role.FUND_OFFICER, s) for s in DATA["officers"])
        return cls(token(Role.COMMUNITY_WORKER, DATA["community_worker"]), requester, (first, second))


def load_demo(
    urls: Mapping[str, str],
    jwt_secret: str,
    *,
    progress: Callable[[str], None] = print,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 60,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Load what is missing of the love-fund demo of 东李庄社区; False if it was all there.

    A failure raises DemoLoadError saying what went wrong; the services keep running."""
    started = time.perf_counter()
    if "fund" not in urls or "registry" not in urls:
        raise DemoLoadError(f"{WHO}: needs the fund's and the registry's URLs, got {sorted(urls)}")
    try:
        # in English: the loader's messages are, and DemoApi waits while a refusal says "not known"
        headers = {"Accept-Language": "en"}
        with httpx.Client(timeout=30, transport=transport, headers=headers) as client:
            api = DemoApi(
                client,
                who=WHO,
                learner="the fund",
                lagging_hint="the fund has not learned this resident from the registry's events "
                "(is NATS up and the registry's demo loaded?)",
                sleep=sleep,
                timeout=timeout,
                progress=progress,
            )
            loader = Loader(api, urls["fund"], urls["registry"], Tokens.of(jwt_secret), progress)
            if loader.whole():
                progress(f"{WHO}: {COMMUNITY_NAME}'s love fund is loaded already; nothing loaded")
                return False
            loader.load()
    except httpx.HTTPError as error:
        raise DemoLoadError(f"{WHO}: the fund or the registry did not answer: {error!r}") from error
    progress(f"{WHO}: loaded {COMMUNITY_NAME}'s love fund in {time.perf_counter() - started:.1f} s")
    return True


class Loader:
    """One load: every write keyed, so a second load after an interrupted one finishes it."""

    def __init__(
        self, api: DemoApi, fund_url: str, registry_url: str, tokens: Tokens, progress: Callable[[str], None]
    ) -> None:
        self.api = api
        self.fund = fund_url.rstrip("/") + "/v1"
        self.registry = registry_url.rstrip("/") + "/v1"
        self.tokens = tokens
        self.progress = progress
        self.today = china_day(utc_now())
        self.place = {"district": DISTRICT, "community": COMMUNITY}

    def whole(self) -> bool:
        """The publication is the last step: once a period is published, the demo is all there."""
        public = f"{self.fund}/public/funds/{DISTRICT}/{COMMUNITY}/disclosures"
        return bool(self.api.call("GET", public, self.tokens.worker, 200))

    def load(self) -> None:
        everyone, orphans = self.residents(), self.residents("orphan")
        needing_care = self.residents("bedridden") or self.residents("disabled") or self.residents("dibao")
        if not everyone or not orphans or not needing_care:
            raise DemoLoadError(
                f"{WHO}: the registry has no orphan or residents in {COMMUNITY}: load its demo first"
            )
        first_day, last_day = last_month_of(self.today)
        self.last_month(first_day)
        self.drive(plan_gifts(self.residents("party_member"), everyone))
        self.orphan_school_fees(sorted(orphans, key=lambda r: r["id"])[0])
        patient = sorted(needing_care, key=lambda r: r["id"])[0]
        self.pay(
            "medical",
            {
                "resident_id": patient["id"],
                "purpose": "medical",
                "amount_fen": MEDICAL_HELP_FEN,
                "reason": DATA["medical"]["reason"],
            },
        )
        self.progress(
            f"{WHO}: medical help of {MEDICAL_HELP_FEN / 100:,.2f} yuan requested, approved twice, paid"
        )
        self.publish(first_day, last_day)

    def residents(self, tag: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": 200} | ({"tag": tag} if tag else {})
        return list(
            self.api.call("GET", f"{self.registry}/residents", self.tokens.worker, 200, params=params)[
                "items"
            ]
        )

    def donate(self, key: str, gift: DemoGift, **extra: Any) -> None:
        body = {**self.place, **vars(gift), **extra}
        self.api.call("POST", f"{self.fund}/donations", self.tokens.worker, 201, key=key, json=body)

    def last_month(self, first_day: date) -> None:
        """Last month's everyday gifts, each on the day it came in."""
        for number, gift in enumerate(DATA["last_month"], start=1):
            fields = {name: value for name, value in gift.items() if name != "day"}
            received_on = first_day.replace(day=gift["day"])
            self.donate(
                f"demo-gift-{first_day:%Y-%m}-{number}", DemoGift(**fields), received_on=str(received_on)
            )
        total = sum(g["amount_fen"] for g in DATA["last_month"])
        self.progress(f"{WHO}: {first_day:%Y-%m}: {len(DATA['last_month'])} gifts, {total / 100:,.2f} yuan")

    def drive(self, gifts: list[DemoGift]) -> None:
        first_day, last_day = quarter_of(self.today)
        body = {
            **self.place,
            "name": drive_name(self.today),
            "starts_on": str(first_day),
            "ends_on": str(last_day),
            "target_fen": DATA["drive"]["target_fen"],
        }
        drive = self.api.call(
            "POST",
            f"{self.fund}/campaigns",
            self.tokens.worker,
            201,
            key=f"demo-campaign-{first_day}",
            json=body,
        )
        for number, gift in enumerate(gifts, start=1):
            self.donate(f"demo-donation-{drive['id']}-{number}", gift, campaign_id=drive["id"])
        raised = sum(g.amount_fen for g in gifts)
        self.progress(f"{WHO}: {drive_name(self.today)}: {len(gifts)} donations, {raised / 100:,.2f} yuan")

    def orphan_school_fees(self, orphan: dict[str, Any]) -> None:
        """The commitment is looked up first: its body depends on the day it was made."""
        mine = self.api.call(
            "GET", f"{self.fund}/commitments", self.tokens.requester, 200, params={"limit": 200}
        )
        commitment = next((c for c in mine["items"] if c["resident_id"] == orphan["id"]), None)
        if commitment is None:
            commitment = self.commit_school_fees(orphan)
        self.pay(
            "first-term",
            {
                "resident_id": orphan["id"],
                "purpose": "education",
                "fund": "general",
                "amount_fen": TERM_FEE_FEN,
                "reason": DATA["orphan"]["first_term_reason"],
                "commitment_id": commitment["id"],
            },
        )
        self.progress(f"{WHO}: school fees for the orphan until {commitment['until']}, first term paid")

    def commit_school_fees(self, orphan: dict[str, Any]) -> dict[str, Any]:
        until, terms = school_terms(date.fromisoformat(orphan["birth_date"]), self.today)
        if not terms:
            raise DemoLoadError(f"{WHO}: the registry's orphan {orphan['id']} is 18 already")
        schedule = {
            "instalment_fen": TERM_FEE_FEN,
            "first_due_on": str(self.today),
            "months_between": TERM_MONTHS,
        }
        reason = DATA["orphan"]["reason"].format(fee=TERM_FEE_FEN // 100, terms=terms)
        body = {
            **self.place,
            "resident_id": orphan["id"],
            "purpose": "education",
            "fund": "general",
            "total_fen": terms * TERM_FEE_FEN,
            "until": str(until),
            "schedule": schedule,
            "reason": reason,
        }
        url = f"{self.fund}/commitments"
        made = self.api.call_when_known(
            "POST", url, self.tokens.requester, 201, key=f"demo-commitment-{orphan['id']}", json=body
        )
        return dict(made)

    def pay(self, what: str, body: dict[str, Any]) -> dict[str, Any]:
        """Request (first officer), approve (the others, as many as needed) and pay a disbursement."""
        url, key = f"{self.fund}/disbursements", f"demo-{what}-{body['resident_id']}"
        requested = self.api.call_when_known(
            "POST", url, self.tokens.requester, 201, key=key, json={**self.place, **body}
        )
        for approver in self.tokens.approvers[: requested["approvals_needed"]]:
            self.api.call("POST", f"{url}/{requested['id']}/approvals", approver, 200, key=f"{key}-approval")
        paid = self.api.call(
            "POST",
            f"{url}/{requested['id']}/payment",
            self.tokens.requester,
            200,
            key=f"{key}-payment",
            json={"channel": "bank_transfer"},
        )
        return dict(paid)

    def publish(self, first_day: date, last_day: date) -> None:
        url = f"{self.fund}/funds/{DISTRICT}/{COMMUNITY}/disclosures"
        body = {"first_day": str(first_day), "last_day": str(last_day)}
        self.api.call(
            "POST", url, self.tokens.requester, 201, key=f"demo-disclosure-{first_day:%Y-%m}", json=body
        )
        self.progress(
            f"{WHO}: {first_day:%Y-%m} published: {self.fund}/public/funds/{DISTRICT}/{COMMUNITY}"
            "/disclosures/1.html"
        )
