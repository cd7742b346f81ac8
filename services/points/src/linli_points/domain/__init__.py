"""Points rules as plain functions: no database, no broker, no clock of their own.

The points ledger and the love supermarket live here; service hours, the wish wall and neighbour
help have their own modules in this package.
"""

from __future__ import annotations

import enum
import secrets

from linli_shared.errors import Conflict, DomainError


class PointsError(DomainError):
    """Base of the points service's errors."""


class NotEnoughPoints(Conflict):
    pass


class OutOfStock(Conflict):
    pass


class TeamKind(enum.StrEnum):
    PARTY_BUILDING = "party_building"
    CONVENIENCE = "convenience"
    ELDERLY_CARE = "elderly_care"
    YOUTH = "youth"
    MEDICAL = "medical"
    EDUCATION = "education"


class EntryKind(enum.StrEnum):
    EARNED = "earned"
    REDEEMED = "redeemed"
    REFUNDED = "refunded"
    ADJUSTED = "adjusted"
    EXPIRED = "expired"


class StockSource(enum.StrEnum):
    PURCHASE = "purchase"
    DONATION = "donation"
    NEIGHBOUR = "neighbour"


class RedemptionStatus(enum.StrEnum):
    RESERVED = "reserved"
    PICKED_UP = "picked_up"
    CANCELLED = "cancelled"


def new_pickup_code() -> str:
    """Six digits the keeper asks for at the counter."""
    return f"{secrets.randbelow(1_000_000):06d}"


def crosses_low_stock(before: int, after: int, threshold: int) -> bool:
    """True once, when stock falls to or below the threshold, not again while it stays low."""
    return before > threshold >= after


def check_monthly_limit(already_this_month: int, quantity: int, limit: int | None) -> None:
    if limit is not None and already_this_month + quantity > limit:
        raise Conflict(
            f"monthly limit of {limit} reached: {already_this_month} already redeemed this month",
            zh=f"已达到每月限兑 {limit} 件：本月已兑换 {already_this_month} 件",
        )


def expirable_points(credited_before_cutoff: int, debited_ever: int) -> int:
    """Spending uses the oldest points first, so what was earned before the cutoff and not yet
    spent (or expired) is what expires now."""
    return max(0, credited_before_cutoff - debited_ever)
