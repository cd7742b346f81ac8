"""Points from hours, the daily cap and certificate serials: plain rules, no fixtures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from linli_points.domain import hours
from linli_points.domain.hours import Rounding
from linli_shared.tables import spreadsheet_safe


@pytest.mark.parametrize(
    ("minutes", "down", "nearest", "up"),
    [
        (0, 0, 0, 0),
        (1, 0, 0, 1),
        (29, 0, 0, 1),
        (30, 0, 1, 1),
        (59, 0, 1, 1),
        (60, 1, 1, 1),
        (61, 1, 1, 2),
        (89, 1, 1, 2),
        (90, 1, 2, 2),
        (150, 2, 3, 3),
        (180, 3, 3, 3),
    ],
)
def test_whole_hours_round_down_nearest_and_up(minutes: int, down: int, nearest: int, up: int) -> None:
    assert hours.whole_hours(minutes, Rounding.DOWN) == down
    assert hours.whole_hours(minutes, Rounding.NEAREST) == nearest
    assert hours.whole_hours(minutes, Rounding.UP) == up


def test_points_are_whole_hours_times_points_per_hour() -> None:
    assert hours.points_for(150, 10, Rounding.DOWN) == 20
    assert hours.points_for(150, 10, Rounding.NEAREST) == 30
    assert hours.points_for(121, 7, Rounding.UP) == 21
    assert hours.points_for(600, 0, Rounding.UP) == 0


def test_points_refuse_negative_minutes_or_rates() -> None:
    with pytest.raises(ValueError):
        hours.points_for(-1, 10, Rounding.DOWN)
    with pytest.raises(ValueError):
        hours.points_for(60, -10, Rounding.DOWN)


@pytest.mark.parametrize(
    ("points", "already", "cap", "awarded"),
    [
        (30, 0, None, 30),
        (30, 500, None, 30),
        (30, 0, 50, 30),
        (30, 30, 50, 20),
        (30, 50, 50, 0),
        (30, 70, 50, 0),
        (30, 0, 0, 0),
        (0, 0, 50, 0),
    ],
)
def test_daily_cap_awards_only_what_the_day_has_left(
    points: int, already: int, cap: int | None, awarded: int
) -> None:
    assert hours.capped(points, already_today=already, daily_cap=cap) == awarded


def test_window_must_end_after_start_and_last_at_most_a_day() -> None:
    start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    hours.check_window(start, start + timedelta(hours=24))
    assert hours.window_minutes(start, start + timedelta(hours=2, seconds=59)) == 120
    with pytest.raises(ValueError, match="after"):
        hours.check_window(start, start)
    with pytest.raises(ValueError, match="24 hours"):
        hours.check_window(start, start + timedelta(hours=24, minutes=1))


def test_serial_has_the_community_the_year_and_sixteen_random_characters() -> None:
    serial = hours.certificate_serial("c-dongsi_2", 2026, bytes(range(10)))
    assert serial == "LL-CDONGSI2-2026-AAAQEAYEAUDAOCAJ"
    assert hours.normal_serial(serial) == serial
    assert hours.normal_serial(f"  {serial.lower()} ") == serial
    long = hours.certificate_serial("a" * 40, 2026, b"\xff" * 10)
    assert len(long) <= 40 and hours.normal_serial(long) == long


@pytest.mark.parametrize("text", ["", "LL-X-2026-SHORT", "LL-X-26-AAAQEAYEAUDAOCAJ", "../etc/passwd", "ll-x"])
def test_text_that_cannot_be_a_serial_is_refused(text: str) -> None:
    assert hours.normal_serial(text) is None


def test_serial_needs_exactly_ten_random_bytes() -> None:
    with pytest.raises(ValueError):
        hours.certificate_serial("c1", 2026, b"short")


@pytest.mark.parametrize(
    ("name", "masked"), [("李红亮", "李**"), ("王五", "王*"), ("Li", "L*"), ("张", "张*"), ("  ", "*")]
)
def test_masked_name_keeps_only_the_first_character(name: str, masked: str) -> None:
    assert hours.mask_name(name) == masked


def test_spreadsheet_formulas_are_defused_and_plain_text_kept() -> None:
    assert spreadsheet_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert spreadsheet_safe("-1+1") == "'-1+1"
    assert spreadsheet_safe("磨刀 sharpening") == "磨刀 sharpening"


def test_hours_for_people_are_two_decimals() -> None:
    assert hours.hours_of(90) == 1.5
    assert hours.hours_of(100) == 1.67
