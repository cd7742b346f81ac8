"""What the publication routes accept and return: frozen period reports and their hash chain."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from linli_fund.api.questions_schemas import PublicQuestionOut, QuestionPeriodOut
from linli_shared.schema_types import Strict


class PublicationIn(Strict):
    first_day: date = Field(description="First day of the period (China time); after the last published one.")
    last_day: date = Field(description="Last day of the period, included; before today (China time).")


class PublishedDisclosureOut(BaseModel):
    """A frozen period report and its link in the community's hash chain."""

    sequence: int
    first_day: date
    last_day: date
    sha256: str = Field(description="sha256 of the previous period's hash, a newline and the report's JSON.")
    short_code: str = Field(
        description="The hash's first 12 hex digits in groups of four, for a notice board."
    )
    previous_sha256: str | None
    published_at: datetime
    report: dict[str, Any] = Field(description="Exactly as frozen: beneficiaries appear only as initials.")
    question_period: QuestionPeriodOut = Field(description="The 公示期: open for questions until its date.")
    questions: list[PublicQuestionOut] = Field(
        description="Residents' questions and the answers, askers masked."
    )


class WitnessCheckOut(BaseModel):
    checked: bool = Field(
        description="Whether the chain was compared with the witness kept outside the fund."
    )
    reason: str = Field(description="What the comparison found, or why there was none.")
    periods: int | None = Field(default=None, description="Periods the witness saw published.")


class HashLookupOut(BaseModel):
    sha256: str = Field(description="The hash (or its first hex digits) asked about.")
    found: bool
    sequence: int | None = None
    first_day: date | None = None
    last_day: date | None = None
    message: str


class ChainVerificationOut(BaseModel):
    valid: bool = Field(description="The chain holds by itself and agrees with the witness where checked.")
    chain_valid: bool = Field(description="The chain holds by itself (recomputed from the stored reports).")
    periods: int
    broken_at: int | None = Field(description="The first period whose link does not hold, if any.")
    problem: str | None
    latest_sha256: str | None = Field(description="The chain's end, to compare with the posted notice.")
    witness: WitnessCheckOut
    lookup: HashLookupOut | None = Field(default=None, description="The period carrying ?sha256=, if asked.")
