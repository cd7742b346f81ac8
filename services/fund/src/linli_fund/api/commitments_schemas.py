"""What the commitment routes accept and return (money in integer fen)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field, StrictInt

from linli_fund.domain import MAX_FEN, Fund, Purpose
from linli_shared.schema_types import Code, Strict


class ScheduleIn(Strict):
    instalment_fen: StrictInt = Field(gt=0, le=MAX_FEN, description="The amount of each instalment.")
    first_due_on: date = Field(description="When the first instalment falls due.")
    months_between: int = Field(
        ge=1, le=12, description="Months from one instalment to the next (6: a term)."
    )


class CommitmentIn(Strict):
    district: str = Code
    community: str = Code
    resident_id: str = Field(min_length=1, max_length=36, description="An active resident of the community.")
    purpose: Purpose
    fund: Fund | None = Field(default=None, description="general or the purpose's own fund (default).")
    total_fen: StrictInt = Field(gt=0, le=MAX_FEN, description="Reserved now, paid out over time.")
    until: date = Field(description="The last day the promise runs, e.g. the child's 18th birthday.")
    reason: str = Field(min_length=1, max_length=1000)
    schedule: ScheduleIn | None = Field(
        default=None, description="Instalments (e.g. every term); they must add up to total_fen."
    )


class CommitmentOut(BaseModel):
    id: str
    district: str
    community: str
    resident_id: str
    purpose: str
    fund: str
    total_fen: int
    remaining_fen: int
    until: date
    reason: str
    status: str
    made_by: str
    made_at: datetime
    released_by: str | None
    released_at: datetime | None
    instalment_fen: int | None = None
    first_due_on: date | None = None
    months_between: int | None = None


class InstalmentOut(BaseModel):
    number: int
    due_on: date
    amount_fen: int
    status: str = Field(description="paid, due, upcoming, or cancelled once the commitment stopped.")


class ScheduleOut(BaseModel):
    commitment_id: str
    status: str
    paid_fen: int = Field(description="Paid so far through disbursements linked to the commitment.")
    instalments: list[InstalmentOut]
