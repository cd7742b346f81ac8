"""Wish wall rules as plain functions: no database, no broker, no clock of their own."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from linli_points.words import china_minute, status_zh
from linli_shared.errors import Conflict, Forbidden, Invalid

MAX_POINTS_AWARD = 10_000


class WishStatus(enum.StrEnum):
    PENDING = "pending"
    OPEN = "open"
    REJECTED = "rejected"
    CLAIMED = "claimed"
    FULFILLED = "fulfilled"
    CONFIRMED = "confirmed"
    CLOSED = "closed"


class WrongWishState(Conflict):
    """The wish is not in a state that allows this step (or another request just moved it on)."""


NEXT: dict[WishStatus, frozenset[WishStatus]] = {
    WishStatus.PENDING: frozenset({WishStatus.OPEN, WishStatus.REJECTED, WishStatus.CLOSED}),
    WishStatus.OPEN: frozenset({WishStatus.CLAIMED, WishStatus.CLOSED}),
    WishStatus.CLAIMED: frozenset({WishStatus.FULFILLED, WishStatus.OPEN, WishStatus.CLOSED}),
    WishStatus.FULFILLED: frozenset({WishStatus.CONFIRMED, WishStatus.CLOSED}),
    WishStatus.REJECTED: frozenset(),
    WishStatus.CONFIRMED: frozenset(),
    WishStatus.CLOSED: frozenset(),
}

CLOSABLE = frozenset(status for status, after in NEXT.items() if WishStatus.CLOSED in after)
ON_THE_WALL = frozenset({WishStatus.OPEN, WishStatus.CLAIMED, WishStatus.FULFILLED, WishStatus.CONFIRMED})


def check_move(current: str, to: WishStatus) -> WishStatus:
    """The wish's status, if it may become `to`; otherwise a 409 that says why."""
    status = WishStatus(current)
    if to not in NEXT[status]:
        raise WrongWishState(
            f"this wish is {status.value} and cannot become {to.value}",
            zh=f"这个心愿当前为「{status_zh(status.value)}」，不能改为「{status_zh(to.value)}」",
        )
    return status


def review_outcome(approve: bool, note: str) -> WishStatus:
    """Approval puts the wish on the wall; a rejection must say why, so the resident can be told."""
    if approve:
        return WishStatus.OPEN
    if not note.strip():
        raise Invalid("a rejection needs a note saying why", zh="驳回心愿时请在备注里写明原因")
    return WishStatus.REJECTED


def claim_deadline(now: datetime, claim_days: int) -> datetime:
    """When an unfulfilled claim lapses; a community's rule of less than a day counts as one day."""
    return now + timedelta(days=max(1, claim_days))


def check_not_own_wish(volunteer_resident_id: str | None, wish_resident_id: str) -> None:
    if volunteer_resident_id is not None and volunteer_resident_id == wish_resident_id:
        raise Forbidden("a volunteer may not claim their own wish", zh="志愿者不能认领自己的心愿")


def check_claimant(claimant_id: str | None, volunteer_id: str) -> None:
    if claimant_id != volunteer_id:
        raise Forbidden(
            "only the volunteer who claimed this wish may report it fulfilled",
            zh="只有认领这个心愿的志愿者才能报告已完成",
        )


def check_claim_current(claim_expires_at: datetime | None, now: datetime) -> None:
    """A claim is the claimant's until its deadline, not from it on: the wish then goes back to open."""
    if claim_expires_at is not None and now >= claim_expires_at:
        raise WrongWishState(
            f"the claim lapsed at {claim_expires_at.isoformat()}; the wish goes back to open",
            zh=f"认领已于 {china_minute(claim_expires_at)} 过期，这个心愿已重新开放认领",
        )


def visible_to_volunteer(status: str, claimant_id: str | None, volunteer_id: str) -> bool:
    """Volunteers see the wall (published wishes) and their own claims; never pending or rejected ones."""
    return WishStatus(status) in ON_THE_WALL or claimant_id == volunteer_id
