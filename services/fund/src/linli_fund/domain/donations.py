"""Donations and what donors see: receipts, display names, masked beneficiaries, first in first out."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date, datetime

from linli_fund.domain.ledger import Fund, FundError, Purpose
from linli_shared.clock import CHINA_TIME
from linli_shared.errors import Conflict, Invalid

ANONYMOUS = "匿名"
BACKDATE_DAYS = 62
"""How far back a gift may be booked unless the settings say otherwise: last month, whole."""


class DonorKind(enum.StrEnum):
    RESIDENT = "resident"
    PARTY_MEMBER = "party_member"
    ENTERPRISE = "enterprise"
    OUTSIDER = "outsider"


class DonationStatus(enum.StrEnum):
    RECEIVED = "received"
    REVERSED = "reversed"


def check_within_campaign(starts_on: date, ends_on: date, received_on: date) -> None:
    """A gift counts toward a drive only if it is received (China day) while the drive runs."""
    if not starts_on <= received_on <= ends_on:
        raise Invalid(
            f"the campaign runs from {starts_on} to {ends_on}; a gift received on {received_on} "
            "cannot count toward it (record it without campaign_id)",
            zh=f"募捐活动时间为 {starts_on} 至 {ends_on}，{received_on} 收到的捐赠不能计入"
            "（请不选募捐活动再登记）",
        )


class PeriodClosed(FundError, Conflict):
    """A gift dated inside a period already published: that report is frozen, so is its period."""


def check_received_on(received_on: date, today: date, *, oldest_days: int) -> None:
    """Cash counted yesterday is booked yesterday: a gift's China day is never after today and at
    most `oldest_days` back (check_period_open says whether its period is still open)."""
    if received_on > today:
        raise Invalid(
            f"a gift cannot be received after today ({today}, China time)",
            zh=f"收款日期不能晚于今天（{today}，北京时间）",
        )
    if (today - received_on).days > oldest_days:
        raise Invalid(
            f"a gift can be booked at most {oldest_days} days back, not on {received_on}",
            zh=f"捐赠最多只能补记 {oldest_days} 天内的，不能记在 {received_on}",
        )


def check_period_open(day: date, published_until: date | None) -> None:
    """A closed period stays closed: nothing is booked on or before the last published day, since
    that report, and the balances it states, are frozen."""
    if published_until is not None and day <= published_until:
        raise PeriodClosed(
            f"periods up to {published_until} are published: a gift received on {day} "
            "cannot be added to them; record it with a later day",
            zh=f"{published_until} 及以前的账目已公示，不能再补记 {day} 收到的捐赠，请改用之后的日期登记",
        )


def fund_for_donation(restricted_to: Purpose | None) -> Fund:
    return Fund.GENERAL if restricted_to is None else Fund(restricted_to.value)


def receipt_year(now: datetime) -> int:
    return now.astimezone(CHINA_TIME).year


def receipt_number(year: int, sequence: int) -> str:
    return f"{year}-{sequence:06d}"


def donor_display(name: str, anonymous: bool) -> str:
    return ANONYMOUS if anonymous else name


def mask_name(full_name: str) -> str:
    """Initials for a public page: 张小明 → 张**, John Smith → J. S.; never the whole name."""
    name = full_name.strip()
    if not name:
        return "*"
    if any(not char.isascii() for char in name) and " " not in name:
        return name[0] + "*" * max(len(name) - 1, 1)
    return " ".join(f"{part[0].upper()}." for part in name.split())


def allocate_first_in_first_out(
    gifts: Sequence[tuple[str, int]], payments: Sequence[tuple[str, int]]
) -> dict[str, list[tuple[str, int]]]:
    """Which payments of a restricted fund each gift paid for: the oldest unspent money goes first.

    `gifts` and `payments` are (id, fen) in the order they happened; a payment larger than what is
    left of the oldest gift is split across the following ones. Money not yet spent is not listed.
    """
    paid_for: dict[str, list[tuple[str, int]]] = {gift_id: [] for gift_id, _ in gifts}
    gift_ids = [gift_id for gift_id, _ in gifts]
    remaining = [amount for _, amount in gifts]  # fen left of each gift, by position
    current = 0
    for payment_id, amount in payments:
        due = amount
        while due and current < len(remaining):
            share = min(remaining[current], due)
            if share:
                paid_for[gift_ids[current]].append((payment_id, share))
            remaining[current] -= share
            due -= share
            if remaining[current] == 0:
                current += 1
    return paid_for
