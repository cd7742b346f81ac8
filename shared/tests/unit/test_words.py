from __future__ import annotations

from datetime import date, datetime

from linli_shared.words import day_words, yuan


def test_money_is_written_exactly_in_each_of_its_forms() -> None:
    assert yuan(128_050) == "¥1,280.50" and yuan(-5) == "-¥0.05" and yuan(0) == "¥0.00"
    assert yuan(123_456_789, symbol=False) == "1,234,567.89"
    assert yuan(-128_050, symbol=False, grouped=False) == "-1280.50"


def test_days_are_written_as_people_write_them() -> None:
    assert day_words("2026-12-02T05:15:20+08:00") == "2026年12月2日"
    assert day_words(date(2026, 3, 9), year=False) == "3月9日"
    assert day_words(datetime(2026, 1, 1, 23, 0)) == "2026年1月1日"
    assert day_words(None) == day_words("") == ""
