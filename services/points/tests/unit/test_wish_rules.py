from datetime import UTC, datetime, timedelta

import pytest

from linli_points.domain import wishes as wish_rules
from linli_points.domain.wishes import WishStatus, WrongWishState
from linli_shared.errors import Forbidden, Invalid

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
S = WishStatus


@pytest.mark.parametrize(
    ("current", "to"),
    [
        (S.PENDING, S.OPEN),
        (S.PENDING, S.REJECTED),
        (S.OPEN, S.CLAIMED),
        (S.CLAIMED, S.FULFILLED),
        (S.CLAIMED, S.OPEN),
        (S.FULFILLED, S.CONFIRMED),
    ],
)
def test_lifecycle_steps_are_allowed(current: WishStatus, to: WishStatus) -> None:
    assert wish_rules.check_move(current.value, to) is current


@pytest.mark.parametrize(
    ("current", "to"),
    [
        (S.PENDING, S.CLAIMED),
        (S.OPEN, S.OPEN),
        (S.OPEN, S.FULFILLED),
        (S.CLAIMED, S.CLAIMED),
        (S.CLAIMED, S.CONFIRMED),
        (S.FULFILLED, S.FULFILLED),
        (S.CONFIRMED, S.CONFIRMED),
        (S.REJECTED, S.OPEN),
        (S.CLOSED, S.OPEN),
        (S.CONFIRMED, S.CLOSED),
    ],
)
def test_skipping_or_repeating_a_step_is_a_conflict(current: WishStatus, to: WishStatus) -> None:
    with pytest.raises(WrongWishState) as raised:
        wish_rules.check_move(current.value, to)
    assert raised.value.status == 409 and current.value in raised.value.detail


def test_only_unfinished_wishes_can_be_closed() -> None:
    assert wish_rules.CLOSABLE == {S.PENDING, S.OPEN, S.CLAIMED, S.FULFILLED}


def test_approval_opens_and_rejection_needs_a_reason() -> None:
    assert wish_rules.review_outcome(True, "") is S.OPEN
    assert wish_rules.review_outcome(False, "already provided by the district") is S.REJECTED
    with pytest.raises(Invalid):
        wish_rules.review_outcome(False, "   ")


def test_claim_deadline_counts_the_communitys_days_and_at_least_one() -> None:
    assert wish_rules.claim_deadline(NOW, 14) == NOW + timedelta(days=14)
    assert wish_rules.claim_deadline(NOW, 3) == NOW + timedelta(days=3)
    assert wish_rules.claim_deadline(NOW, 0) == NOW + timedelta(days=1)


def test_claim_is_current_until_its_deadline_and_not_at_it() -> None:
    deadline = NOW + timedelta(days=14)
    wish_rules.check_claim_current(deadline, deadline - timedelta(seconds=1))
    with pytest.raises(WrongWishState):
        wish_rules.check_claim_current(deadline, deadline)


def test_only_the_claimant_may_report_fulfilment() -> None:
    wish_rules.check_claimant("v1", "v1")
    with pytest.raises(Forbidden):
        wish_rules.check_claimant("v1", "v2")
    with pytest.raises(Forbidden):
        wish_rules.check_claimant(None, "v2")


def test_a_volunteer_cannot_claim_their_own_wish() -> None:
    wish_rules.check_not_own_wish(None, "r1")
    wish_rules.check_not_own_wish("r2", "r1")
    with pytest.raises(Forbidden):
        wish_rules.check_not_own_wish("r1", "r1")


@pytest.mark.parametrize(
    ("status", "claimant", "visible"),
    [
        (S.PENDING, None, False),
        (S.REJECTED, None, False),
        (S.CLOSED, None, False),
        (S.OPEN, None, True),
        (S.CLAIMED, "other", True),
        (S.CONFIRMED, "other", True),
        (S.CLOSED, "me", True),
    ],
)
def test_volunteers_see_the_wall_and_their_own_claims(
    status: WishStatus, claimant: str | None, visible: bool
) -> None:
    assert wish_rules.visible_to_volunteer(status.value, claimant, "me") is visible
