"""What the fund API accepts and returns. Money is integer fen throughout."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from linli_fund.domain import Channel, DonorKind, Fund, Purpose

Code = Field(pattern=r"^[a-z0-9_-]+$", min_length=1, max_length=40)
MAX_FEN = 10_000_000_000  # 100 million yuan: far above any community fund, well inside 64 bits


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CampaignIn(Strict):
    district: str = Code
    community: str = Code
    name: str = Field(min_length=1, max_length=200)
    starts_on: date
    ends_on: date
    target_fen: int = Field(gt=0, le=MAX_FEN)

    @model_validator(mode="after")
    def ends_after_start(self) -> CampaignIn:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on must not be before starts_on")
        return self


class CampaignOut(BaseModel):
    id: str
    district: str
    community: str
    name: str
    starts_on: date
    ends_on: date
    target_fen: int
    raised_fen: int
    donations: int


class DonationIn(Strict):
    district: str = Code
    community: str = Code
    campaign_id: str | None = Field(default=None, max_length=36)
    donor_kind: DonorKind
    donor_name: str = Field(min_length=1, max_length=200)
    anonymous: bool = Field(default=False, description="Show the donor as 匿名 wherever it is disclosed.")
    channel: Channel
    restricted_to: Purpose | None = Field(default=None, description="None: the general fund.")
    amount_fen: int = Field(gt=0, le=MAX_FEN)


class DonationOut(BaseModel):
    id: str
    district: str
    community: str
    receipt_number: str
    campaign_id: str | None
    donor_kind: str
    donor_name: str
    anonymous: bool
    channel: str
    restricted_to: str | None
    fund: str
    amount_fen: int
    status: str
    entry_id: int
    recorded_by: str
    received_at: datetime


class DisbursementIn(Strict):
    district: str = Code
    community: str = Code
    resident_id: str = Field(min_length=1, max_length=36, description="An active resident of the community.")
    purpose: Purpose
    fund: Fund | None = Field(default=None, description="general or the purpose's own fund (default).")
    amount_fen: int = Field(gt=0, le=MAX_FEN)
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


class ReversalIn(Strict):
    reason: str = Field(min_length=1, max_length=500)


class PostingOut(BaseModel):
    account: str
    amount: int = Field(description="Fen: debit > 0 > credit.")


class EntryOut(BaseModel):
    id: int
    district: str
    community: str
    kind: str
    narration: str
    reference: str | None
    reverses_entry_id: int | None
    posted_by: str
    posted_at: datetime
    postings: list[PostingOut]


class FundBalanceOut(BaseModel):
    fund: str
    balance_fen: int
    reserved_fen: int
    available_fen: int


class FundOut(BaseModel):
    district: str
    community: str
    funds: list[FundBalanceOut]
    assets: list[FundBalanceOut]


class TrialBalanceLineOut(BaseModel):
    account: str
    type: str
    debit: int
    credit: int


class TrialBalanceOut(BaseModel):
    district: str
    community: str
    as_of: date | None
    lines: list[TrialBalanceLineOut]
    total_debit: int
    total_credit: int
    funds: dict[str, int] = Field(description="Each fund's balance at that date, from the journal.")


class DisclosedDonation(BaseModel):
    receipt_number: str
    received_on: date
    donor: str = Field(description="The donor's name, or 匿名 if they asked to stay anonymous.")
    donor_kind: str
    fund: str
    amount_fen: int
    reversed: bool


class DisclosedDisbursement(BaseModel):
    """What was paid, for what, from which fund: never to whom."""

    disbursement_id: str
    paid_on: date
    purpose: str
    fund: str
    amount_fen: int
    reversed: bool


class DisclosureOut(BaseModel):
    district: str
    community: str
    first_day: date
    last_day: date
    donations: list[DisclosedDonation]
    disbursements: list[DisclosedDisbursement]
    received_fen: int = Field(description="Donations received in the period, less those reversed.")
    paid_fen: int = Field(description="Disbursements paid in the period, less those reversed.")
    funds_at_end: dict[str, int] = Field(description="Each fund's balance at the end of the last day.")


class CommitmentIn(Strict):
    district: str = Code
    community: str = Code
    resident_id: str = Field(min_length=1, max_length=36, description="An active resident of the community.")
    purpose: Purpose
    fund: Fund | None = Field(default=None, description="general or the purpose's own fund (default).")
    total_fen: int = Field(gt=0, le=MAX_FEN, description="Reserved now, paid out over time.")
    until: date = Field(description="The last day the promise runs, e.g. the child's 18th birthday.")
    reason: str = Field(min_length=1, max_length=1000)


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
