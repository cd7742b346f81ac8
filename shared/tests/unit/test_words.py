from __future__ import annotations

from datetime import date, datetime

from linli_shared.words import day_words, short_code, yuan


def test_money_is_written_exactly_in_each_of_its_forms() -> None:
    assert yuan(128_050) == "¥1,280.50" and yuan(-5) == "-¥0.05" and yuan(0) == "¥0.00"
    assert yuan(123_456_789, symbol=False) == "1,234,567.89"
    assert yuan(-128_050, symbol=False, grouped=False) == "-1280.50"


def test_days_are_written_as_people_write_them() -> None:
    assert day_words("2026-12-02T05:15:20+08:00") == "2026年12月2日"
    assert day_words(date(2026, 3, 9), year=False) == "3月9日"
    assert day_words(datetime(2026, 1, 1, 23, 0)) == "2026年1月1日"
    assert day_words(None) == day_words("") == ""


def test_a_short_code_is_a_hashs_first_twelve_hex_digits_in_groups_of_four() -> None:
    assert short_code("3F2A9C017BDE" + "0" * 52) == "3f2a 9c01 7bde"
    assert short_code("3f2a9c017bde" + "0" * 52, length=8) == "3f2a 9c01"
