"""The 公示 rules without a database: question windows, questioned lines, chain against witness."""

from __future__ import annotations

from datetime import date

from linli_fund.domain.disclosure import (
    Break,
    Link,
    line_exists,
    questions_close_on,
    witness_break,
)

REPORT = {"donations": [{"receipt_number": "2026-000007"}], "disbursements": [{}, {}]}
CHAIN = [Link(1, "a" * 64), Link(2, "b" * 64), Link(3, "c" * 64)]


def test_a_period_published_on_the_first_closes_questions_seven_days_later() -> None:
    assert questions_close_on(date(2026, 12, 1), 7) == date(2026, 12, 8)


def test_a_question_is_about_a_receipt_or_a_payments_number_the_page_shows() -> None:
    assert line_exists(REPORT, "donation", "2026-000007")
    assert line_exists(REPORT, "payment", "2")
    assert not line_exists(REPORT, "donation", "2026-000008")
    assert not line_exists(REPORT, "payment", "3")
    assert not line_exists(REPORT, "payment", "0")
    assert not line_exists(REPORT, "payment", "x")


def test_a_chain_equal_to_its_witness_has_no_break_even_with_its_newest_period_not_yet_witnessed() -> None:
    assert witness_break(CHAIN, CHAIN) is None
    assert witness_break(CHAIN, CHAIN[:2]) is None


def test_a_rewritten_period_breaks_at_the_first_hash_the_witness_saw_otherwise() -> None:
    rewritten = [CHAIN[0], Link(2, "d" * 64), Link(3, "e" * 64)]
    assert witness_break(rewritten, CHAIN) == Break(
        2, "its hash is not the one witnessed when it was published"
    )


def test_a_deleted_last_period_breaks_at_the_period_the_witness_saw_and_the_fund_lost() -> None:
    assert witness_break(CHAIN[:2], CHAIN) == Break(3, "the witness saw 3 periods, the fund shows 2")
