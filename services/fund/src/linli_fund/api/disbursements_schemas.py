"""What the disbursement routes accept and return (money in integer fen)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, StrictInt

from linli_fund.domain import MAX_FEN, Channel, Fund, Purpose
from linli_shared.schema_types import Code, Strict


class DisbursementIn(Strict):
    district: str = Code
    community: str = Code
    resident_id: str = Field(min_length=1, max_length=36, description="An active resident of the community.")
    purpose: Purpose
    fund: Fund | None = Field(default=None, description="general or the purpose's own fund (default).")
    amount_fen: StrictInt = Field(gt=0, le=MAX_FEN)
    reason: str = Field(min_length=1, max_length=1000)
    commitment_id: str | None = Field(default=None, max_length=36, description="Pay out of this commitment.")


class RejectionIn(Strict):
    reason: str = Field(min_length=1, max_length=1000)


class PaymentIn(Strict):
    channel: Channel = Channel.BANK_TRANSFER


class DisbursementOut(BaseModel):
    id: str
    district: str
    community: str
    resident_id: str
    purpose: str
    fund: str
    amount_fen: int
    reason: str
    status: str
    approvals_needed: int
    requested_by: str
    requested_at: datetime
    first_approved_by: str | None
    second_approved_by: str | None
    rejected_by: str | None
    rejection_reason: str
    paid_by: str | None
    paid_at: datetime | None
    channel: str | None
    entry_id: int | None
    commitment_id: str | None
    instalment_number: int | None
