"""The fund officer's pages in people's words: yuan typed and shown, days, the next period offered,
and a service's refusal put next to the field it concerns."""

from __future__ import annotations

from datetime import date

import pytest

from linli_console.pages_fund import FormErrors, donation_body, next_period
from linli_console.services import Refusal
from linli_console.words import dates_in, fen_of
from linli_shared.words import day_words, yuan


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("200", 20_000),
        ("12.5", 1_250),
        ("12.50", 1_250),
        ("¥1,280.50", 128_050),
        ("30 元", 3_000),
        ("0.01", 1),
    ],
)
def test_yuan_as_typed_becomes_fen(typed: str, fen: int) -> None:
    assert fen_of(typed) == fen


@pytest.mark.parametrize("typed", ["", "12.345", "abc", "-5", "1e3", "12.", "1234567890123"])
def test_what_is_not_money_is_refused(typed: str) -> None:
    assert fen_of(typed) is None


def test_money_and_days_are_written_for_people() -> None:
    assert yuan(128_050) == "¥1,280.50" and yuan(-5) == "-¥0.05" and yuan(0) == "¥0.00"
    assert day_words("2026-12-01") == "2026年12月1日" and day_words(date(2026, 3, 9), year=False) == "3月9日"
    assert dates_in("2026-11-30 及以前的账目已公示") == "2026年11月30日 及以前的账目已公示"


def test_a_wrong_amount_is_said_next_to_its_field_before_any_call() -> None:
    body, errors = donation_body({"amount": "12.345", "donor_name": " "}, "d", "c")
    assert errors and "以元为单位" in errors.about("amount") and errors.about("donor_name")
    body, errors = donation_body(
        {"amount": "12.5", "donor_name": "王芳", "received_on": "2026-12-01"}, "d", "c"
    )
    assert not errors and body["amount_fen"] == 1_250 and body["received_on"] == "2026-12-01"
    assert "donor_phone" not in body and "restricted_to" not in body


def test_a_refusal_goes_next_to_the_field_it_concerns() -> None:
    by_field = FormErrors(Refusal(422, "输入有误", {"amount_fen": ["必须大于 0"]}))
    assert by_field.about("amount") == "必须大于 0" and not by_field.general
    about_the_day = FormErrors(
        Refusal(409, "2026-11-30 及以前的账目已公示，不能再补记 2026-11-29 收到的捐赠")
    )
    about_the_day.move_general_to("received_on", ("日期", "补记", "公示"))
    assert about_the_day.about("received_on").startswith("2026年11月30日") and not about_the_day.general


def test_the_next_period_follows_the_last_one() -> None:
    assert next_period([], date(2026, 12, 2)) == (date(2026, 11, 1), date(2026, 11, 30))
    assert next_period([{"last_day": "2026-10-31"}], date(2026, 12, 2)) == (
        date(2026, 11, 1),
        date(2026, 11, 30),
    )
    assert next_period([{"last_day": "2026-11-30"}], date(2026, 12, 5)) == (
        date(2026, 12, 1),
        date(2026, 12, 4),
    )
