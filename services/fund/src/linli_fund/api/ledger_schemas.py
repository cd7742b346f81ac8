"""What the ledger routes accept and return: entries, balances, the trial balance, disclosures."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from linli_shared.schema_types import Strict


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
