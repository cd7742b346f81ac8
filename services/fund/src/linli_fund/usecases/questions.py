"""The 公示期: residents question a published period's lines, fund officers answer, all append-only.

Nothing here touches the books: a correction is still a reversing entry posted the normal way in a
later period, which an answer may link to. Who asked and who answered is kept for the officers and
auditors; the public page shows the asker masked.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund.access import OFFICERS, check_fund_scope, load_published
from linli_fund.api.questions_schemas import AnswerIn, DisclosureSettingsIn, QuestionIn
from linli_fund.domain.disclosure import QUESTION_DAYS, line_exists, questions_close_on
from linli_fund.models import DisclosureAnswer, DisclosureQuestion, DisclosureSetting, JournalEntry
from linli_shared.auth import Caller, Role
from linli_shared.clock import china_day
from linli_shared.contracts.fund import DisclosureQuestionAnswered, DisclosureQuestioned
from linli_shared.database import flush_or_conflict
from linli_shared.errors import Conflict, Invalid, not_found
from linli_shared.ids import new_id
from linli_shared.unit_of_work import Made, Work, write


@dataclass(frozen=True)
class Questioned:
    question: DisclosureQuestion
    answer: DisclosureAnswer | None


def account_of(caller: Caller) -> str:
    """The signed-in account; a development token has none, and its subject stands in."""
    return caller.account or caller.subject


async def question_days(session: AsyncSession, district: str, community: str) -> int:
    setting = await session.get(DisclosureSetting, (district, community))
    return setting.question_days if setting else QUESTION_DAYS


def closes_on(published_at: datetime, days: int) -> date:
    return questions_close_on(china_day(published_at), days)


async def load_setting(session: AsyncSession, caller: Caller, key: str) -> int:
    district, _, community = key.partition("/")
    return await question_days(session, district, community)


@write(replay=load_setting)
async def set_question_days(
    uow: Work, caller: Caller, district: str, community: str, data: DisclosureSettingsIn
) -> Made[int]:
    """Set how many days a community's published periods stay open for questions; its fund officers only."""
    check_fund_scope(caller, district, community, *OFFICERS)
    setting = await uow.session.get(DisclosureSetting, (district, community))
    if setting is None:
        setting = DisclosureSetting(
            district=district,
            community=community,
            question_days=data.question_days,
            set_by="",
            set_at=uow.now,
        )
    setting.question_days, setting.set_by, setting.set_at = data.question_days, caller.subject, uow.now
    uow.session.add(setting)
    await flush_or_conflict(uow.session, "the question period was set at the same moment; try again")
    return Made(f"{district}/{community}", data.question_days)


async def load_question(session: AsyncSession, caller: Caller, question_id: str) -> Questioned:
    question = await session.get(DisclosureQuestion, question_id)
    if question is None or not caller.can_see(question.district, question.community):
        raise not_found("question")
    return Questioned(question, await session.get(DisclosureAnswer, question_id))


@write(replay=load_question)
async def ask(
    uow: Work, caller: Caller, district: str, community: str, sequence: int, data: QuestionIn
) -> Made[Questioned]:
    """A resident of the community questions one line of a published period, within its 公示期."""
    caller.check_role(Role.RESIDENT)
    caller.check_sees(district, community, "fund")
    published = await load_published(uow.session, district, community, sequence)
    last_day = closes_on(published.published_at, await question_days(uow.session, district, community))
    if china_day(uow.now) > last_day:
        raise Conflict(
            f"the question period of period {sequence} closed on {last_day}",
            zh=f"第 {sequence} 期的公示期已于 {last_day} 结束，不能再提出质询",
        )
    if not line_exists(json.loads(published.report), data.line_kind, data.line_ref):
        raise Invalid(
            f"period {sequence} shows no {data.line_kind} {data.line_ref}",
            zh=f"第 {sequence} 期公示中没有这一笔（{data.line_ref}）",
        )
    question = DisclosureQuestion(
        id=new_id(),
        district=district,
        community=community,
        sequence=sequence,
        line_kind=data.line_kind,
        line_ref=data.line_ref,
        text=data.text,
        asked_by=caller.subject,
        asker_account_id=account_of(caller),
        asked_at=uow.now,
        closes_on=last_day,
    )
    uow.session.add(question)
    uow.record(
        DisclosureQuestioned(
            sequence=sequence,
            question_id=question.id,
            line_kind=data.line_kind,
            line_ref=data.line_ref,
            text=data.text,
            asked_at=uow.now,
            closes_on=last_day,
            asker_account_id=question.asker_account_id,
        ),
        district=district,
        community=community,
    )
    return Made(question.id, Questioned(question, None))


async def check_correction(
    session: AsyncSession, question: DisclosureQuestion, last_day: date, entry_id: int
) -> None:
    """A correction is a reversing entry of this community, posted after the period questioned."""
    entry = await session.get(JournalEntry, entry_id)
    if (
        entry is None
        or (entry.district, entry.community) != (question.district, question.community)
        or entry.reverses_entry_id is None
        or china_day(entry.posted_at) <= last_day
    ):
        raise Invalid(
            f"entry {entry_id} is not a reversing entry of this community posted after the period",
            zh=f"分录 {entry_id} 不是本社区在该期之后做的冲正分录",
        )


@write(replay=load_question)
async def answer(
    uow: Work, caller: Caller, district: str, community: str, sequence: int, question_id: str, data: AnswerIn
) -> Made[Questioned]:
    """A fund officer of the community answers a question, once; only recorded, never changing the books."""
    check_fund_scope(caller, district, community, *OFFICERS)
    question = await uow.session.get(DisclosureQuestion, question_id)
    if question is None or (question.district, question.community, question.sequence) != (
        district,
        community,
        sequence,
    ):
        raise not_found("question")
    if await uow.session.get(DisclosureAnswer, question_id) is not None:
        raise Conflict("this question is already answered", zh="这条质询已经答复过了")
    if data.correction_entry_id is not None:
        published = await load_published(uow.session, district, community, sequence)
        await check_correction(uow.session, question, published.last_day, data.correction_entry_id)
    answered = DisclosureAnswer(
        question_id=question_id,
        district=district,
        community=community,
        text=data.text,
        correction_entry_id=data.correction_entry_id,
        answered_by=caller.subject,
        answered_by_account_id=account_of(caller),
        answered_at=uow.now,
    )
    uow.session.add(answered)
    await flush_or_conflict(uow.session, "this question is already answered", zh="这条质询已经答复过了")
    uow.record(
        DisclosureQuestionAnswered(
            sequence=sequence,
            question_id=question_id,
            text=data.text,
            correction_entry_id=data.correction_entry_id,
            answered_at=uow.now,
            asker_account_id=question.asker_account_id,
            answered_by_account_id=answered.answered_by_account_id,
        ),
        district=district,
        community=community,
    )
    return Made(question_id, Questioned(question, answered))


async def questions_of(
    session: AsyncSession, district: str, community: str, sequence: int | None = None
) -> dict[int, list[Questioned]]:
    """A community's questions with their answers, by period, oldest first."""
    statement = select(DisclosureQuestion, DisclosureAnswer).outerjoin(
        DisclosureAnswer, col(DisclosureAnswer.question_id) == col(DisclosureQuestion.id)
    )
    statement = statement.where(
        DisclosureQuestion.district == district, DisclosureQuestion.community == community
    )
    if sequence is not None:
        statement = statement.where(DisclosureQuestion.sequence == sequence)
    by_period: dict[int, list[Questioned]] = defaultdict(list)
    for question, answered in (
        await session.exec(statement.order_by(col(DisclosureQuestion.asked_at)))
    ).all():
        by_period[question.sequence].append(Questioned(question, answered))
    return by_period


async def audit_questions(
    session: AsyncSession, caller: Caller, district: str, community: str, sequence: int
) -> list[Questioned]:
    """Every question of a period with who asked and who answered: for the fund's readers (auditors too)."""
    check_fund_scope(caller, district, community)
    return (await questions_of(session, district, community, sequence)).get(sequence, [])
