from datetime import UTC, date, datetime, timedelta

import pytest

from linli_registry import domain
from linli_shared.errors import Invalid


def test_valid_id_number_is_accepted_and_upper_cased() -> None:
    assert domain.normalise_id_number("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize(
    "number", ["110105194912310021", "1101051949123100", "11010519491331002X", "A1010519491231002X"]
)
def test_id_number_with_wrong_check_length_or_date_is_refused(number: str) -> None:
    with pytest.raises(Invalid):
        domain.normalise_id_number(number)


def test_mask_keeps_region_and_last_four_only() -> None:
    assert domain.mask_id_number("11010519491231002X") == "110105********002X"


def test_hash_depends_on_key() -> None:
    number = "11010519491231002X"
    assert domain.hash_id_number(number, b"k1") == domain.hash_id_number(number, b"k1")
    assert domain.hash_id_number(number, b"k1") != domain.hash_id_number(number, b"k2")
    assert number not in domain.hash_id_number(number, b"k1")


@pytest.mark.parametrize(
    ("birth", "band"),
    [
        (date(2020, 1, 1), "0-17"),
        (date(1990, 1, 1), "18-59"),
        (date(1960, 11, 27), "60-69"),
        (date(1960, 11, 26), "60-69"),
        (date(1956, 11, 27), "60-69"),
        (date(1950, 1, 1), "70-79"),
        (date(1930, 1, 1), "80+"),
    ],
)
def test_age_band_counts_birthdays(birth: date, band: str) -> None:
    assert domain.age_band(birth, date(2026, 11, 26)) == band


def test_sixtieth_birthday_is_counted_on_the_day() -> None:
    assert domain.age_on(date(1966, 11, 26), date(2026, 11, 26)) == 60
    assert domain.age_on(date(1966, 11, 27), date(2026, 11, 26)) == 59


START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_no_missed_period_before_the_first_is_over() -> None:
    assert domain.latest_missed_due(START, DAY, START + DAY - timedelta(seconds=1)) is None


def test_missed_period_is_the_same_all_through_the_next_period() -> None:
    first = domain.latest_missed_due(START, DAY, START + DAY + timedelta(minutes=1))
    later = domain.latest_missed_due(START, DAY, START + 2 * DAY - timedelta(minutes=1))
    assert first == later == START + DAY


def test_each_further_period_missed_is_a_new_one() -> None:
    assert domain.latest_missed_due(START, DAY, START + 3 * DAY + timedelta(hours=1)) == START + 3 * DAY


def test_a_care_group_may_be_entered_as_formed_up_to_31_days_ago() -> None:
    now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    assert domain.check_formed_at(now - timedelta(days=31), now) == now - timedelta(days=31)
    assert domain.check_formed_at(now + timedelta(minutes=2), now) == now, "a clock a little ahead: now"
    with pytest.raises(Invalid, match="more than 31 days"):
        domain.check_formed_at(now - timedelta(days=31, seconds=1), now)
    with pytest.raises(Invalid, match="future"):
        domain.check_formed_at(now + timedelta(hours=1), now)
    with pytest.raises(Invalid, match="timezone"):
        domain.check_formed_at(datetime(2026, 3, 9, 9, 0), now)


def test_a_visit_needs_a_timezone_and_may_not_be_in_the_future() -> None:
    now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    assert domain.check_visited_at(now + timedelta(minutes=4), now) == now + timedelta(minutes=4)
    with pytest.raises(Invalid, match="future"):
        domain.check_visited_at(now + timedelta(minutes=6), now)
    with pytest.raises(Invalid, match="timezone"):
        domain.check_visited_at(datetime(2026, 3, 9, 9, 0), now)
