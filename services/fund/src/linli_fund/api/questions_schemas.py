"""What the 公示期 routes accept and return: a community's question window, questions and answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from linli_fund.domain.disclosure import QUESTION_DAYS
from linli_shared.schema_types import Strict


class DisclosureSettingsIn(Strict):
    question_days: int = Field(
        ge=1, le=90, description="Days after publication residents may question a period."
    )


class DisclosureSettingsOut(BaseModel):
    question_days: int = Field(default=QUESTION_DAYS)


class QuestionIn(Strict):
    line_kind: Literal["donation", "payment"]
    line_ref: str = Field(
        min_length=1,
        max_length=40,
        description="A donation's receipt number, or a payment's number in the period's list (1, 2, …).",
    )
    text: str = Field(min_length=1, max_length=500)


class AnswerIn(Strict):
    text: str = Field(min_length=1, max_length=1000)
    correction_entry_id: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="The reversing entry, posted after the period, that corrects the line, if any.",
    )


class PublicAnswerOut(BaseModel):
    text: str
    correction_entry_id: int | None
    answered_at: datetime


class PublicQuestionOut(BaseModel):
    """A question as the public page shows it: the asker masked."""

    id: str
    asker: str = Field(description="Always masked (居民**): who asked is kept for the officers and auditors.")
    line_kind: str
    line_ref: str
    text: str
    asked_at: datetime
    answer: PublicAnswerOut | None


class QuestionOut(PublicQuestionOut):
    """A question as the fund's readers (officers, auditors) see it: who asked and who answered."""

    sequence: int
    asked_by: str
    asker_account_id: str
    answered_by: str | None
    answered_by_account_id: str | None


class QuestionPeriodOut(BaseModel):
    """The period's 公示期: open for questions until `closes_on` (China time), then closed."""

    question_days: int
    closes_on: date
    open: bool
    asked: int
    answered: int
    summary: str = Field(description="公示期内 N 条质询，已答复 M 条")
