"""The fund demo's data (demo_data.toml) and what it plans from the registry's residents and today."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from typing import Any

from linli_fund.domain import due_dates

DATA: dict[str, Any] = tomllib.loads(
    resources.files("linli_fund").joinpath("demo_data.toml").read_text("utf-8")
)
DISTRICT: str = DATA["district"]
COMMUNITY: str = DATA["community"]
COMMUNITY_NAME: str = DATA["community_name"]
PARTY_DONORS: int = DATA["drive"]["party_donors"]
TERM_FEE_FEN: int = DATA["orphan"]["term_fee_fen"]
TERM_MONTHS: int = DATA["orphan"]["term_months"]
MEDICAL_HELP_FEN: int = DATA["medical"]["amount_fen"]
WHO = "fund demo"


@dataclass(frozen=True)
class DemoGift:
    donor_kind: str
    donor_name: str
    amount_fen: int
    channel: str
    anonymous: bool = False
    restricted_to: str | None = None


def quarter_of(day: date) -> tuple[date, date]:
    first_month = 3 * ((day.month - 1) // 3) + 1
    first = date(day.year, first_month, 1)
    following = date(day.year + (first_month == 10), 1 if first_month == 10 else first_month + 3, 1)
    return first, following - timedelta(days=1)


def last_month_of(day: date) -> tuple[date, date]:
    last = day.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def drive_name(day: date) -> str:
    return f"{day.year}年第{(day.month - 1) // 3 + 1}季度爱心募捐"


def plan_gifts(
    party_members: Sequence[dict[str, Any]], residents: Sequence[dict[str, Any]]
) -> list[DemoGift]:
    """About 30,000 yuan: two enterprises, up to 14 party members by name, four anonymous residents."""
    drive = DATA["drive"]
    gifts = [
        DemoGift("enterprise", e["name"], e["amount_fen"], e["channel"], restricted_to=e.get("restricted_to"))
        for e in drive["enterprises"]
    ]
    party = sorted(party_members, key=lambda r: r["id"])[:PARTY_DONORS]
    amounts, channels = drive["party_amounts_fen"], drive["party_channels"]
    for number, member in enumerate(party):
        amount = amounts[number] if number < len(amounts) else drive["party_amount_after_fen"]
        gifts.append(DemoGift("party_member", member["full_name"], amount, channels[number % len(channels)]))
    party_ids = {r["id"] for r in party_members}
    others = sorted(
        (r for r in residents if r["id"] not in party_ids and r["age"] >= 18), key=lambda r: r["id"]
    )
    anonymous = drive["anonymous_amounts_fen"]
    for amount, resident in zip(anonymous, others, strict=False):
        restricted = drive["anonymous_restricted_to"] if amount == anonymous[0] else None
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
