"""What the fund API accepts and returns. Money is integer fen throughout.

Money coming in is a StrictInt: a JSON number without a fraction; "100" and 100.5 are refused
(422), never rounded or parsed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

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
    target_fen: StrictInt = Field(gt=0, le=MAX_FEN)

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
    donor_resident_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=36,
        description="A resident or party-member donor's registry id, if they give it: their statement "
        "can then be found by it, they may read it themselves, and notify thanks them in the app.",
    )
    donor_phone: str | None = Field(
        default=None,
        min_length=5,
        max_length=20,
        pattern=r"^\+?[0-9]+$",
        description="A phone the donor gave to be thanked on (digits, optional leading +): it travels "
        "only on donation.received, for notify; no report, statement or read of the donation shows it.",
    )
    anonymous: bool = Field(default=False, description="Show the donor as 匿名 wherever it is disclosed.")
    channel: Channel
    restricted_to: Purpose | None = Field(default=None, description="None: the general fund.")
    amount_fen: StrictInt = Field(gt=0, le=MAX_FEN)


class DonationOut(BaseModel):
    """A donation as fund readers see it: never the donor's phone."""

    id: str
    district: str
    community: str
    receipt_number: str
    campaign_id: str | None
    donor_kind: str
    donor_name: str
    donor_resident_id: str | None
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


class DisclosedCorrection(BaseModel):
    """A reversal posted in the period of a donation or payment that an earlier period shows."""

    corrected_on: date
    kind: str = Field(description="donation or payment")
    original_on: date
    reference: str = Field(description="The donation's receipt number, or the payment's purpose.")
    beneficiary: str = Field(description="A payment's beneficiary as initials; empty for a donation.")
    fund: str
    amount_fen: int


class DisclosureOut(BaseModel):
    district: str
    community: str
    first_day: date
    last_day: date
    donations: list[DisclosedDonation]
    disbursements: list[DisclosedDisbursement]
    corrections: list[DisclosedCorrection] = Field(
        description="Earlier periods' records reversed in this one."
    )
    received_fen: int = Field(description="Donations received in the period, less those reversed by its end.")
    paid_fen: int = Field(description="Disbursements paid in the period, less those reversed by its end.")
    funds_at_end: dict[str, int] = Field(description="Each fund's balance at the end of the last day.")


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


class PaidFor(BaseModel):
    """A payment a restricted gift helped make: what for and when, the beneficiary only as initials."""

    paid_on: date
    purpose: str
    beneficiary: str
    amount_fen: int = Field(description="The part of the payment this gift covered.")


class StatementGift(BaseModel):
    receipt_number: str
    received_on: date
    campaign: str | None
    fund: str
    amount_fen: int
    reversed: bool
    paid_for: list[PaidFor] = Field(
        description="Restricted gifts only: the fund's payments it covered, oldest money spent first."
    )
    unspent_fen: int | None = Field(description="Restricted gifts: what is not spent yet; None for general.")


class DonorStatementOut(BaseModel):
    district: str
    community: str
    donor_name: str = Field(description="The name the donor's latest gift was recorded under.")
    donor_resident_id: str | None = Field(description="Set when the statement was asked for by resident id.")
    total_fen: int = Field(description="All the donor's gifts, less those reversed.")
    gifts: list[StatementGift]


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
