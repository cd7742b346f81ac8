"""The ledger's rules, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from linli_fund import domain
from linli_fund.beancount_export import yuan
from linli_fund.domain import Channel, Fund, Line, Purpose
from linli_shared.errors import Forbidden, Invalid


def test_an_entry_must_balance_to_the_fen() -> None:
    with pytest.raises(domain.Unbalanced, match="sum to 1"):
        domain.check_balanced([Line("assets:cash", 100), Line("income:donations:general", -99)])


@pytest.mark.parametrize(
    "lines",
    [
        [Line("assets:cash", 0), Line("income:donations:general", 0)],
        [Line("assets:cash", 100)],
        [Line("assets:safe", 100), Line("income:donations:general", -100)],
        [Line("assets:cash", 1.5), Line("income:donations:general", -1.5)],  # type: ignore[arg-type]
    ],
)
def test_an_entry_of_fewer_than_two_real_postings_on_known_accounts_is_refused(lines) -> None:
    with pytest.raises(domain.Unbalanced):
        domain.check_balanced(lines)


def test_donation_and_payment_entries_balance_and_move_the_right_guarded_balances() -> None:
    donation = domain.donation_lines(Channel.CASH, Fund.MEDICAL, 5_000)
    payment = domain.payment_lines(Fund.MEDICAL, Channel.CASH, 2_000)
    for lines in (donation, payment, domain.reversal_lines(payment)):
        domain.check_balanced(lines)
    assert domain.guarded_deltas(donation) == {"assets:cash": 5_000, "funds:medical": 5_000}
    assert domain.guarded_deltas(payment) == {"assets:cash": -2_000, "funds:medical": -2_000}
    assert domain.guarded_deltas(domain.reversal_lines(donation)) == {
        "assets:cash": -5_000,
        "funds:medical": -5_000,
    }


def test_a_reservation_balances_moves_only_the_funds_reserve_and_a_release_undoes_it() -> None:
    reservation = domain.reservation_lines(Fund.EDUCATION, 60_000)
    release = domain.reservation_lines(Fund.EDUCATION, -20_000)
    for lines in (reservation, release):
        domain.check_balanced(lines)
    assert domain.guarded_moves(reservation) == {"funds:education": domain.GuardedMove(0, 60_000)}
    assert domain.guarded_moves(release) == {"funds:education": domain.GuardedMove(0, -20_000)}
    assert domain.guarded_deltas(reservation) == {}  # the fund's balance itself does not move
    assert domain.guarded_moves(domain.reversal_lines(reservation)) == {
        "funds:education": domain.GuardedMove(0, -60_000)
    }
    assert domain.CHART["equity:reserved:education"] is domain.AccountType.EQUITY


def test_restricted_money_pays_only_for_its_purpose() -> None:
    domain.check_fund_fits_purpose(Purpose.EDUCATION, Fund.EDUCATION)
    domain.check_fund_fits_purpose(Purpose.EDUCATION, Fund.GENERAL)
    with pytest.raises(Invalid):
        domain.check_fund_fits_purpose(Purpose.EDUCATION, Fund.MEDICAL)


def test_second_approval_is_needed_only_above_the_limit() -> None:
    assert domain.approvals_needed(200_000, 200_000) == 1
    assert domain.approvals_needed(200_001, 200_000) == 2


def test_nobody_approves_their_own_request_or_approves_twice() -> None:
    with pytest.raises(Forbidden):
        domain.check_approver("a", [], "a")
    with pytest.raises(Forbidden):
        domain.check_approver("a", ["b"], "b")
    domain.check_approver("a", ["b"], "c")


def test_receipts_are_numbered_by_the_year_in_china() -> None:
    new_year_in_beijing = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert domain.receipt_year(new_year_in_beijing) == 2027
    assert domain.receipt_number(2027, 42) == "2027-000042"


def test_anonymous_donors_are_shown_as_anonymous() -> None:
    assert domain.donor_display("王建国", anonymous=True) == "匿名"
    assert domain.donor_display("王建国", anonymous=False) == "王建国"


@pytest.mark.parametrize(
    ("fen", "text"), [(0, "0.00"), (5, "0.05"), (-5, "-0.05"), (123_456, "1234.56"), (-100, "-1.00")]
)
def test_fen_are_written_as_exact_yuan(fen: int, text: str) -> None:
    assert yuan(fen) == text


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张小明", "张**"),
        ("李红", "李*"),
        ("欧阳", "欧*"),
        ("John Smith", "J. S."),
        ("  ", "*"),
        ("王", "王*"),
    ],
)
def test_a_beneficiary_appears_only_as_initials(name: str, masked: str) -> None:
    assert domain.mask_name(name) == masked


def test_restricted_payments_are_covered_by_the_oldest_gifts_first() -> None:
    gifts = [("a", 300), ("b", 500), ("c", 200)]
    payments = [("p1", 200), ("p2", 400), ("p3", 50)]
    assert domain.allocate_first_in_first_out(gifts, payments) == {
        "a": [("p1", 200), ("p2", 100)],
        "b": [("p2", 300), ("p3", 50)],
        "c": [],
    }


def test_allocation_never_covers_more_than_was_given() -> None:
    allocation = domain.allocate_first_in_first_out([("a", 100)], [("p1", 60), ("p2", 60)])
    assert allocation == {"a": [("p1", 60), ("p2", 40)]}
    assert domain.allocate_first_in_first_out([], [("p1", 10)]) == {}


def test_months_are_added_keeping_the_day_or_the_months_last() -> None:
    assert domain.add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert domain.add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert domain.add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


def test_instalments_fall_due_every_few_months_until_the_commitment_ends() -> None:
    dates = domain.due_dates(date(2026, 9, 1), 6, date(2028, 8, 31))
    assert dates == [date(2026, 9, 1), date(2027, 3, 1), date(2027, 9, 1), date(2028, 3, 1)]
    domain.check_schedule(200_000, 50_000, dates)
    with pytest.raises(Invalid, match="4 instalments of 50000 fen make 200000 fen, not the 150000"):
        domain.check_schedule(150_000, 50_000, dates)
    with pytest.raises(Invalid):
        domain.due_dates(date(2029, 1, 1), 6, date(2028, 8, 31))


def test_instalments_are_paid_in_order_then_due_or_upcoming_or_cancelled() -> None:
    dates = [date(2026, 9, 1), date(2027, 3, 1), date(2027, 9, 1)]
    today = date(2027, 4, 1)
    assert domain.instalment_states(dates, 500, 500, True, today) == ["paid", "due", "upcoming"]
    assert domain.instalment_states(dates, 500, 999, False, today) == ["paid", "cancelled", "cancelled"]


@pytest.mark.parametrize(
    ("before", "after", "low"),
    [
        (150, 120, False),
        (120, 100, False),
        (100, 90, True),
        (101, 99, True),
        (90, 80, False),
        (80, 130, False),
    ],
)
def test_a_fund_falls_below_the_threshold_once_per_crossing(before: int, after: int, low: bool) -> None:
    assert domain.falls_below(before, after, threshold=100) is low


def test_a_gift_counts_toward_a_campaign_only_while_it_runs() -> None:
    starts, ends = date(2026, 10, 1), date(2026, 12, 31)
    for day in (starts, date(2026, 11, 27), ends):
        domain.check_within_campaign(starts, ends, day)
    for day in (date(2026, 9, 30), date(2027, 1, 1)):
        with pytest.raises(Invalid, match="campaign runs from 2026-10-01 to 2026-12-31"):
            domain.check_within_campaign(starts, ends, day)


def test_a_gift_is_booked_on_a_day_between_the_oldest_allowed_and_today() -> None:
    today = date(2026, 12, 1)
    domain.check_received_on(today, today, oldest_days=0)
    domain.check_received_on(date(2026, 10, 1), today, oldest_days=61)
    with pytest.raises(Invalid, match="after today"):
        domain.check_received_on(date(2026, 12, 2), today, oldest_days=61)
    with pytest.raises(Invalid, match="at most 60 days back"):
        domain.check_received_on(date(2026, 10, 1), today, oldest_days=60)


def test_nothing_is_booked_on_or_before_the_last_published_day() -> None:
    domain.check_period_open(date(2026, 12, 1), None)
    domain.check_period_open(date(2026, 12, 1), date(2026, 11, 30))
    for day in (date(2026, 11, 30), date(2026, 1, 1)):
        with pytest.raises(domain.PeriodClosed, match="periods up to 2026-11-30 are published"):
            domain.check_period_open(day, date(2026, 11, 30))
