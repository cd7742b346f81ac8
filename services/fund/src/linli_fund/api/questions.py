"""The 公示期: a community's question window, residents' questions and fund officers' answers."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter

from linli_fund.api.questions_schemas import (
    AnswerIn,
    DisclosureSettingsIn,
    DisclosureSettingsOut,
    PublicAnswerOut,
    PublicQuestionOut,
    QuestionIn,
    QuestionOut,
    QuestionPeriodOut,
)
from linli_fund.usecases import questions
from linli_fund.usecases.questions import Questioned
from linli_shared.auth import CallerDep
from linli_shared.clock import china_day, utc_now
from linli_shared.schema_types import RowIdPath
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep

router = APIRouter(prefix="/v1/funds/{district}/{community}", tags=["disclosure"])
QUESTIONS = "/disclosures/{sequence}/questions"
MASKED_ASKER = "居民**"


def public_question(questioned: Questioned) -> PublicQuestionOut:
    question, answered = questioned.question, questioned.answer
    return PublicQuestionOut(
        id=question.id,
        asker=MASKED_ASKER,
        line_kind=question.line_kind,
        line_ref=question.line_ref,
        text=question.text,
        asked_at=question.asked_at,
        answer=(
            PublicAnswerOut(
                text=answered.text,
                correction_entry_id=answered.correction_entry_id,
                answered_at=answered.answered_at,
            )
            if answered
            else None
        ),
    )


def question_out(questioned: Questioned) -> QuestionOut:
    question, answered = questioned.question, questioned.answer
    return QuestionOut(
        **public_question(questioned).model_dump(),
        sequence=question.sequence,
        asked_by=question.asked_by,
        asker_account_id=question.asker_account_id,
        answered_by=answered.answered_by if answered else None,
        answered_by_account_id=answered.answered_by_account_id if answered else None,
    )


def question_period(
    published_at: datetime, days: int, asked: list[Questioned], today: date
) -> QuestionPeriodOut:
    """Whether the period is still open for questions, and how many were asked and answered."""
    closes_on = questions.closes_on(published_at, days)
    answered = sum(1 for q in asked if q.answer is not None)
    return QuestionPeriodOut(
        question_days=days,
        closes_on=closes_on,
        open=today <= closes_on,
        asked=len(asked),
        answered=answered,
        summary=f"公示期内 {len(asked)} 条质询，已答复 {answered} 条",
    )


@router.get("/disclosure-settings", response_model=DisclosureSettingsOut)
async def get_disclosure_settings(
    district: str, community: str, session: SessionDep, caller: CallerDep
) -> object:
    caller.check_sees(district, community, "fund")
    return DisclosureSettingsOut(question_days=await questions.question_days(session, district, community))


@router.put("/disclosure-settings", response_model=DisclosureSettingsOut)
async def set_disclosure_settings(
    district: str, community: str, data: DisclosureSettingsIn, uow: UnitOfWorkDep, caller: CallerDep
) -> object:
    days = await questions.set_question_days(uow, caller, district, community, data)
    return DisclosureSettingsOut(question_days=days)


@router.post(QUESTIONS, status_code=201, response_model=QuestionOut)
async def ask_question(
    district: str,
    community: str,
    sequence: RowIdPath,
    data: QuestionIn,
    uow: UnitOfWorkDep,
    caller: CallerDep,
) -> object:
    return question_out(await questions.ask(uow, caller, district, community, sequence, data))


@router.post(QUESTIONS + "/{question_id}/answer", response_model=QuestionOut)
async def answer_question(
    district: str,
    community: str,
    sequence: RowIdPath,
    question_id: str,
    data: AnswerIn,
    uow: UnitOfWorkDep,
    caller: CallerDep,
) -> object:
    return question_out(await questions.answer(uow, caller, district, community, sequence, question_id, data))


@router.get(QUESTIONS, response_model=list[QuestionOut])
async def audit_questions(
    district: str, community: str, sequence: RowIdPath, session: SessionDep, caller: CallerDep
) -> object:
    """Who asked and who answered each question of a period: for officers and auditors."""
    return [
        question_out(q)
        for q in await questions.audit_questions(session, caller, district, community, sequence)
    ]


def today_in_china() -> date:
    return china_day(utc_now())
