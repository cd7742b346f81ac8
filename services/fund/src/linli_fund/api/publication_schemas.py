"""What the publication routes accept and return: frozen period reports and their hash chain."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

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
    previous_sha256: str | None
    published_at: datetime
    report: dict[str, Any] = Field(description="Exactly as frozen: beneficiaries appear only as initials.")


class ChainVerificationOut(BaseModel):
    valid: bool
    periods: int
    broken_at: int | None = Field(description="The first period whose link does not hold, if any.")
    problem: str | None
    latest_sha256: str | None = Field(description="The chain's end, to compare with the posted notice.")
