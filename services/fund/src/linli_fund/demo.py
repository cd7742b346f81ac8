"""Demo data for the fund service: 东李庄社区's love fund, loaded through the fund's HTTP API.

The registry's demo (`linli_registry.demo`) makes the community and its residents; this one makes
what the love fund keeps for it: this quarter's donation drive (about 30,000 yuan from some twenty
donors: the community's party members, two 爱心企业 and a few residents who asked to stay
anonymous), a school-fee commitment for the community's orphan until the child turns 18 with its
first term paid out of it, and a medical-help payment requested, approved twice and paid.

Beneficiaries are given by their registry resident id, which the fund learns from the registry's
events a little later: a request answered 422 "not known" is retried until `timeout` passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx

from linli_fund.domain import due_dates
from linli_shared.auth import Role, issue_token
from linli_shared.clock import CHINA_TIME, utc_now
from linli_shared.demo_api import RETRY_PAUSE, DemoApi, DemoLoadError  # noqa: F401 - re-exported

# The registry demo's community; the values are repeated, not imported: the fund runs without it.
DISTRICT = "gaoqiaoying"
COMMUNITY = "donglizhuang"
COMMUNITY_NAME = "东李庄社区"
COMMUNITY_WORKER = "community-worker-1"
OFFICERS = ("fund-officer-1", "fund-officer-2", "fund-officer-3")  # request, approve, approve again
DRIVE_TARGET_FEN = 3_000_000  # a quarterly drive of about 30,000 yuan
PARTY_DONORS = 14
TERM_FEE_FEN = 50_000  # 500 yuan a term: fees, books and a school uniform
TERM_MONTHS = 6
MEDICAL_HELP_FEN = 300_000  # above the two-approval limit (2,000 yuan by default)


@dataclass(frozen=True)
class DemoGift:
    donor_kind: str
    donor_name: str
    amount_fen: int
    channel: str
    anonymous: bool = False
    restricted_to: str | None = None


ENTERPRISE_GIFTS: tuple[DemoGift, ...] = (
    DemoGift("enterprise", "北京东李庄物业服务有限公司", 1_500_000, "bank_transfer"),
    DemoGift("enterprise", "高桥营惠民大药房", 800_000, "bank_transfer", restricted_to="medical"),
)
PARTY_AMOUNTS_FEN = (100_000, 100_000, 80_000, 50_000, 50_000, 50_000, 50_000, 30_000, 30_000, 30_000)
ANONYMOUS_AMOUNTS_FEN = (50_000, 20_000, 10_000, 5_000)


def quarter_of(day: date) -> tuple[date, date]:
    first_month = 3 * ((day.month - 1) // 3) + 1
    first = date(day.year, first_month, 1)
    following = date(day.year + (first_month == 10), 1 if first_month == 10 else first_month + 3, 1)
    return first, following - timedelta(days=1)


def drive_name(day: date) -> str:
    return f"{day.year}年第{(day.month - 1) // 3 + 1}季度爱心募捐"


def plan_gifts(
    party_members: Sequence[dict[str, Any]], residents: Sequence[dict[str, Any]]
) -> list[DemoGift]:
    """About 30,000 yuan: two enterprises, up to 14 party members by name, four anonymous residents."""
    party = sorted(party_members, key=lambda r: r["id"])[:PARTY_DONORS]
    gifts = list(ENTERPRISE_GIFTS)
    for number, member in enumerate(party):
        amount = PARTY_AMOUNTS_FEN[number] if number < len(PARTY_AMOUNTS_FEN) else 20_000
        channel = ("mobile_payment", "cash", "bank_transfer")[number % 3]
        gifts.append(DemoGift("party_member", member["full_name"], amount, channel))
    party_ids = {r["id"] for r in party_members}
    others = sorted(
        (r for r in residents if r["id"] not in party_ids and r["age"] >= 18), key=lambda r: r["id"]
    )
    for amount, resident in zip(ANONYMOUS_AMOUNTS_FEN, others, strict=False):
        restricted = "education" if amount == ANONYMOUS_AMOUNTS_FEN[0] else None
        gifts.append(DemoGift("resident", resident["full_name"], amount, "mobile_payment", True, restricted))
    return gifts


def school_terms(birth_date: date, today: date) -> tuple[date, int]:
    """The day before the 18th birthday, and the terms (every six months from today) until then."""
    try:
        eighteenth = birth_date.replace(year=birth_date.year + 18)
    except ValueError:  # born on 29 February
        eighteenth = date(birth_date.year + 18, 3, 1)
    until = eighteenth - timedelta(days=1)
    return until, len(due_dates(today, TERM_MONTHS, until)) if today <= until else 0


def load_demo(
    fund_url: str,
    registry_url: str,
    jwt_secret: str,
    *,
    progress: Callable[[str], None] = print,
    timeout: float = 60,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Load the love-fund demo of 东李庄社区; False, doing nothing, if it has donations already."""
    started = time.perf_counter()
    fund = fund_url.rstrip("/") + "/v1"
    registry = registry_url.rstrip("/") + "/v1"

    def token(role: Role, subject: str) -> str:
        return issue_token(jwt_secret, role=role, district=DISTRICT, community=COMMUNITY, subject=subject)

    worker = token(Role.COMMUNITY_WORKER, COMMUNITY_WORKER)
    requester, approver, second_approver = (token(Role.FUND_OFFICER, subject) for subject in OFFICERS)
    place = {"district": DISTRICT, "community": COMMUNITY}
    today = utc_now().astimezone(CHINA_TIME).date()
    with httpx.Client(timeout=30, transport=transport) as client:
        api = DemoApi(
            client,
            who="fund demo",
            learner="the fund",
            lagging_hint="the fund has not learned this resident from the registry's events "
            "(is NATS up and the registry's demo loaded?)",
            sleep=sleep,
            timeout=timeout,
            progress=progress,
        )
        if api.call("GET", f"{fund}/donations", worker, 200, params={"limit": 1})["items"]:
            progress(f"fund demo: {COMMUNITY_NAME} already has donations; nothing loaded")
            return False

        def residents(tag: str | None = None) -> list[dict[str, Any]]:
            params: dict[str, Any] = {"limit": 200} | ({"tag": tag} if tag else {})
            return list(api.call("GET", f"{registry}/residents", worker, 200, params=params)["items"])

        everyone = residents()
        orphans = residents("orphan")
        needing_care = residents("bedridden") or residents("disabled") or residents("dibao")
        if not everyone or not orphans or not needing_care:
            raise DemoLoadError(
                f"fund demo: the registry has no orphan or residents in {COMMUNITY}: load its demo first"
            )

        first_day, last_day = quarter_of(today)
        drive = api.call(
            "POST",
            f"{fund}/campaigns",
            worker,
            201,
            key=f"demo-campaign-{first_day}",
            json={
                **place,
                "name": drive_name(today),
                "starts_on": str(first_day),
                "ends_on": str(last_day),
                "target_fen": DRIVE_TARGET_FEN,
            },
        )
        gifts = plan_gifts(residents("party_member"), everyone)
        for number, gift in enumerate(gifts, start=1):
            body = {
                **place,
                "campaign_id": drive["id"],
                "donor_kind": gift.donor_kind,
                "donor_name": gift.donor_name,
                "anonymous": gift.anonymous,
                "channel": gift.channel,
                "restricted_to": gift.restricted_to,
                "amount_fen": gift.amount_fen,
            }
            api.call(
                "POST",
                f"{fund}/donations",
                worker,
                201,
                key=f"demo-donation-{drive['id']}-{number}",
                json=body,
            )
        raised = sum(g.amount_fen for g in gifts)
        progress(f"fund demo: {drive_name(today)}: {len(gifts)} donations, {raised / 100:,.2f} yuan")

        orphan = sorted(orphans, key=lambda r: r["id"])[0]
        until, terms = school_terms(date.fromisoformat(orphan["birth_date"]), today)
        if not terms:
            raise DemoLoadError(f"fund demo: the registry's orphan {orphan['id']} is 18 already")
        promise = {
            **place,
            "resident_id": orphan["id"],
            "purpose": "education",
            "fund": "general",
            "total_fen": terms * TERM_FEE_FEN,
            "until": str(until),
            "schedule": {
                "instalment_fen": TERM_FEE_FEN,
                "first_due_on": str(today),
                "months_between": TERM_MONTHS,
            },
            "reason": f"孤儿助学：每学期学杂费 {TERM_FEE_FEN // 100} 元，至年满18周岁（共 {terms} 个学期）",
        }
        commitment = api.call_when_known(
            "POST", f"{fund}/commitments", requester, 201, key=f"demo-commitment-{orphan['id']}", json=promise
        )
        first_term = pay(
            api,
            fund,
            (requester, approver, second_approver),
            {
                **place,
                "resident_id": orphan["id"],
                "purpose": "education",
                "fund": "general",
                "amount_fen": TERM_FEE_FEN,
                "reason": "孤儿助学：本学期学杂费",
                "commitment_id": commitment["id"],
            },
        )
        progress(
            f"fund demo: school-fee commitment for the orphan: {terms} terms until {until}, first term paid"
        )

        patient = sorted(needing_care, key=lambda r: r["id"])[0]
        medical = pay(
            api,
            fund,
            (requester, approver, second_approver),
            {
                **place,
                "resident_id": patient["id"],
                "purpose": "medical",
                "amount_fen": MEDICAL_HELP_FEN,
                "reason": "大病医疗救助：住院自付部分",
            },
        )
    progress(
        f"fund demo: loaded {COMMUNITY_NAME}: {len(gifts)} donations ({raised / 100:,.2f} yuan), "
        "1 commitment, "
        f"2 payments ({first_term['amount_fen'] / 100:,.2f} + {medical['amount_fen'] / 100:,.2f} yuan) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return True


def pay(api: DemoApi, fund: str, officers: tuple[str, str, str], body: dict[str, Any]) -> dict[str, Any]:
    """Request (first officer), approve (the others, as many as needed) and pay a disbursement."""
    requester, *approvers = officers
    requested = api.call_when_known("POST", f"{fund}/disbursements", requester, 201, json=body)
    for approver in approvers[: requested["approvals_needed"]]:
        api.call("POST", f"{fund}/disbursements/{requested['id']}/approvals", approver, 200)
    url = f"{fund}/disbursements/{requested['id']}/payment"
    return dict(api.call("POST", url, requester, 200, json={"channel": "bank_transfer"}))
