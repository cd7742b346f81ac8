"""The 公示期: residents question a published period's lines, fund officers of the community answer,
both append-only and audited; the public page shows them, askers masked; the books never move."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from linli_shared.auth import Role

from .test_donations import fund, outbox_events
from .test_publication import china_today, pay, public, publish

pytestmark = [pytest.mark.integration]

RESIDENT = "resident-7f3a"


def questions_path(community, sequence: int = 1) -> str:
    return f"{community.fund_path}/disclosures/{sequence}/questions"


async def published_period(client, community, donate, approved, a_day_later) -> dict[str, object]:
    """Period 1: two gifts and one payment, published the next day."""
    gift = await donate(community, 50_000, donor_name="王建国")
    await donate(community, 20_000, donor_name="李红")
    await pay(client, community, approved, 10_000)
    today = china_today()
    published = await publish(client, community, today - timedelta(days=2), today, later=a_day_later)
    assert published.status_code == 201, published.text
    return gift


async def ask(client, community, line_kind="donation", line_ref="", text="这笔钱入账了吗？", **headers):
    return await client.post(
        questions_path(community),
        json={"line_kind": line_kind, "line_ref": line_ref, "text": text},
        headers={**community.as_(Role.RESIDENT, RESIDENT), **headers},
    )


async def answer(client, community, question_id, role=Role.FUND_OFFICER, subject="officer-q", **body):
    return await client.post(
        f"{questions_path(community)}/{question_id}/answer",
        json={"text": "已核对银行流水，款项已入账。", **body},
        headers=community.as_(role, subject),
    )


async def test_a_resident_questions_lines_an_officer_answers_and_the_page_shows_both_with_the_asker_masked(
    client, community, donate, approved, a_day_later
) -> None:
    gift = await published_period(client, community, donate, approved, a_day_later)
    books_before = await fund(client, community)

    on_gift = await ask(client, community, line_ref=gift["receipt_number"])
    on_payment = await ask(client, community, "payment", "1", "受助人是否符合条件？")
    assert (on_gift.status_code, on_payment.status_code) == (201, 201), on_gift.text + on_payment.text
    answered = await answer(client, community, on_gift.json()["id"])
    assert answered.status_code == 200, answered.text

    assert await fund(client, community) == books_before, "a question or an answer never moves money"
    page = (await client.get(f"{public(community)}/1.json")).json()
    period = page["question_period"]
    assert (period["question_days"], period["open"], period["asked"], period["answered"]) == (7, True, 2, 1)
    assert period["closes_on"] == str(china_today() + timedelta(days=1 + 7)), "published a day later, + 7"
    assert period["summary"] == "公示期内 2 条质询，已答复 1 条"
    assert [(q["asker"], q["line_ref"]) for q in page["questions"]] == [
        ("居民**", gift["receipt_number"]),
        ("居民**", "1"),
    ]
    assert page["questions"][0]["answer"]["text"] == "已核对银行流水，款项已入账。"
    assert page["questions"][1]["answer"] is None
    html = (await client.get(f"{public(community)}/1.html")).text
    assert "公示期内 2 条质询，已答复 1 条" in html and "受助人是否符合条件？" in html and "公示期至" in html
    for public_answer in (page, html, (await client.get(public(community))).text):
        assert RESIDENT not in str(public_answer) and "officer-q" not in str(public_answer)

    audited = await client.get(questions_path(community), headers=community.as_(Role.AUDITOR))
    assert audited.status_code == 200, audited.text
    assert [(q["asked_by"], q["answered_by"]) for q in audited.json()] == [
        (RESIDENT, "officer-q"),
        (RESIDENT, None),
    ]
    [asked, _] = await outbox_events(client, ".fund.disclosure.questioned")
    [told] = await outbox_events(client, ".fund.disclosure.question_answered")
    assert asked["payload"]["asker_account_id"] == RESIDENT and asked["payload"]["line_kind"] == "donation"
    assert asked["payload"]["closes_on"] == period["closes_on"]
    assert (told["payload"]["answered_by_account_id"], told["payload"]["correction_entry_id"]) == (
        "officer-q",
        None,
    )


async def test_a_question_after_the_question_period_closes_is_refused_with_the_date(
    client, community, donate, approved, a_day_later, writes_later
) -> None:
    gift = await published_period(client, community, donate, approved, a_day_later)
    settings = await client.put(
        f"{community.fund_path}/disclosure-settings",
        json={"question_days": 2},
        headers=community.as_(Role.FUND_OFFICER),
    )
    assert settings.status_code == 200 and settings.json() == {"question_days": 2}, settings.text
    closes_on = china_today() + timedelta(days=1 + 2)

    with writes_later(timedelta(days=3)):
        last_day = await ask(client, community, line_ref=gift["receipt_number"])
    with writes_later(timedelta(days=4)):
        too_late = await ask(client, community, line_ref=gift["receipt_number"])

    assert last_day.status_code == 201, last_day.text
    assert too_late.status_code == 409, too_late.text
    assert str(closes_on) in too_late.json()["detail"]
    chinese = await ask(client, community, line_ref=gift["receipt_number"], **{"Accept-Language": "zh-CN"})
    assert chinese.status_code == 201, "still open today"


@pytest.mark.parametrize(
    ("role", "subject", "stranger", "status"),
    [
        (Role.RESIDENT, RESIDENT, False, 403),  # the asker cannot answer themselves
        (Role.COMMUNITY_WORKER, "worker", False, 403),
        (Role.AUDITOR, "auditor", False, 403),
        (Role.FUND_OFFICER, "officer-elsewhere", True, 404),  # an officer of another community
    ],
)
async def test_a_forged_answer_is_refused_and_the_audit_shows_only_the_officers(
    client, community, donate, approved, a_day_later, role, subject, stranger, status
) -> None:
    gift = await published_period(client, community, donate, approved, a_day_later)
    question = (await ask(client, community, line_ref=gift["receipt_number"])).json()
    forger = type(community)(community.district, f"{community.community}x") if stranger else community

    forged = await client.post(
        f"{questions_path(community)}/{question['id']}/answer",
        json={"text": "没有问题"},
        headers=forger.as_(role, subject),
    )
    real = await answer(client, community, question["id"])
    twice = await answer(client, community, question["id"], subject="officer-r")

    assert forged.status_code == status, forged.text
    assert (real.status_code, twice.status_code) == (200, 409), twice.text
    [audited] = (await client.get(questions_path(community), headers=community.as_(Role.AUDITOR))).json()
    assert (audited["answered_by"], audited["answer"]["text"]) == (
        "officer-q",
        "已核对银行流水，款项已入账。",
    )
    assert len(await outbox_events(client, ".fund.disclosure.question_answered")) == 1


async def test_questions_that_are_not_a_residents_about_a_shown_line_are_refused(
    client, community, donate, approved, a_day_later
) -> None:
    gift = await published_period(client, community, donate, approved, a_day_later)
    neighbour = type(community)(community.district, f"{community.community}x")
    body = {"line_kind": "donation", "line_ref": gift["receipt_number"], "text": "?"}

    answers = {
        "officer": await client.post(
            questions_path(community), json=body, headers=community.as_(Role.FUND_OFFICER)
        ),
        "neighbour": await client.post(
            questions_path(community), json=body, headers=neighbour.as_(Role.RESIDENT)
        ),
        "no token": await client.post(questions_path(community), json=body),
        "unknown receipt": await ask(client, community, line_ref="2026-999999"),
        "payment 2 of 1": await ask(client, community, "payment", "2"),
        "too long": await ask(client, community, line_ref=gift["receipt_number"], text="问" * 501),
        "unpublished": await client.post(
            questions_path(community, 2), json=body, headers=community.as_(Role.RESIDENT, RESIDENT)
        ),
    }

    assert {name: a.status_code for name, a in answers.items()} == {
        "officer": 403,
        "neighbour": 404,
        "no token": 401,
        "unknown receipt": 422,
        "payment 2 of 1": 422,
        "too long": 422,
        "unpublished": 404,
    }
    assert await outbox_events(client, ".fund.disclosure.questioned") == []


async def test_the_same_idempotency_key_asks_once(client, community, donate, approved, a_day_later) -> None:
    gift = await published_period(client, community, donate, approved, a_day_later)

    first = await ask(client, community, line_ref=gift["receipt_number"], **{"Idempotency-Key": "q-1"})
    again = await ask(client, community, line_ref=gift["receipt_number"], **{"Idempotency-Key": "q-1"})

    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert first.json() == again.json()
    assert len((await client.get(questions_path(community), headers=community.as_(Role.AUDITOR))).json()) == 1


async def test_an_answer_links_only_a_reversing_entry_posted_after_the_period(
    client, community, donate, approved, a_day_later, writes_later
) -> None:
    gift = await published_period(client, community, donate, approved, a_day_later)
    question = (
        await ask(client, community, line_ref=gift["receipt_number"], text="捐款人说捐的是五百元")
    ).json()
    officer = community.as_(Role.FUND_OFFICER, "officer-d")
    with writes_later(timedelta(days=2)):
        reversal = await client.post(
            f"/v1/entries/{gift['entry_id']}/reversal", json={"reason": "金额录错"}, headers=officer
        )
    assert reversal.status_code == 201, reversal.text

    not_a_reversal = await answer(client, community, question["id"], correction_entry_id=gift["entry_id"])
    linked = await answer(client, community, question["id"], correction_entry_id=reversal.json()["id"])

    assert not_a_reversal.status_code == 422, not_a_reversal.text
    assert linked.status_code == 200, linked.text
    page = (await client.get(f"{public(community)}/1.json")).json()
    assert page["questions"][0]["answer"]["correction_entry_id"] == reversal.json()["id"]
    assert page["report"]["donations"][0]["reversed"] is False, "the frozen period still says what it said"


async def test_two_officers_answering_at_once_leave_one_answer_and_one_event(
    client, community, donate, approved, a_day_later
) -> None:
    gift = await published_period(client, community, donate, approved, a_day_later)
    question = (await ask(client, community, line_ref=gift["receipt_number"])).json()

    first, second = await asyncio.gather(
        answer(client, community, question["id"], subject="officer-q"),
        answer(client, community, question["id"], subject="officer-r"),
    )

    assert sorted((first.status_code, second.status_code)) == [200, 409], (first.text, second.text)
    [audited] = (await client.get(questions_path(community), headers=community.as_(Role.AUDITOR))).json()
    winner = first if first.status_code == 200 else second
    assert audited["answered_by"] == winner.json()["answered_by"]
    [told] = await outbox_events(client, ".fund.disclosure.question_answered")
    assert told["payload"]["question_id"] == question["id"]
