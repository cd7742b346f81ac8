"""What the fund service publishes: donations, disbursements, ledger corrections and low-balance alerts.

No event ever names or identifies a beneficiary: disbursements are announced by id, purpose and
amount only. Amounts are integer fen (1 yuan = 100 fen).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from pydantic import Field

from linli_shared.events import Event


class FundEvent(Event):
    service: ClassVar[str] = "fund"


class DonationReceived(FundEvent):
    """A donation was received, receipted and posted to the community's love-fund ledger."""

    name: ClassVar[str] = "donation.received"
    donation_id: str = Field(description="The donation's id in the fund service.")
    receipt_number: str = Field(description="Sequential per community and year, e.g. 2026-000042.")
    campaign_id: str | None = Field(description="The quarterly drive it was given at, if any.")
    donor_kind: str = Field(description="resident, party_member, enterprise or outsider.")
    donor_display: str = Field(description="The donor's name as it may be shown, or 匿名 if anonymous.")
    donor_resident_id: str | None = Field(
        default=None,
        description="The registry's id of a donor who is a registered resident, so they can be thanked.",
    )
    donor_phone: str | None = Field(
        default=None,
        description="A phone the donor gave to be thanked on (by SMS); never shown in public reports.",
    )
    channel: str = Field(description="cash, bank_transfer or mobile_payment.")
    fund: str = Field(description="The fund credited: general, or the restricted education/medical/relief.")
    amount_fen: int = Field(gt=0, description="Amount in fen.")
    entry_id: int = Field(description="The journal entry that posted it.")


class DonationsReceived(FundEvent):
    """A batch's gifts (a counted collection box, a bank statement) were received, receipted and
    posted, each as `donation.received` would announce it alone. One event carries up to
    GIFTS_PER_EVENT of them, so a batch of thousands is a handful of messages, not thousands."""

    name: ClassVar[str] = "donations.received"
    batch_id: str = Field(description="The donation batch they were recorded in.")
    donations: list[DonationReceived] = Field(
        min_length=1, max_length=200, description="The gifts, in receipt order."
    )


GIFTS_PER_EVENT = 200
"""At most 1 kB a gift (names and contacts included), well under NATS's 1 MB message limit."""


class DisbursementRequested(FundEvent):
    """A fund officer asked for money to be paid out; it waits for approval."""

    name: ClassVar[str] = "disbursement.requested"
    disbursement_id: str = Field(description="The disbursement's id (never the beneficiary's).")
    purpose: str = Field(description="education, medical or relief.")
    fund: str = Field(description="The fund it is to be paid from.")
    amount_fen: int = Field(gt=0, description="Amount in fen.")
    approvals_needed: int = Field(ge=1, le=2, description="Two above the configured amount, else one.")


class DisbursementApproved(FundEvent):
    """Someone other than the requester approved a disbursement (once or, above the limit, twice)."""

    name: ClassVar[str] = "disbursement.approved"
    disbursement_id: str = Field(description="The disbursement's id.")
    approvals: int = Field(ge=1, le=2, description="Approvals given so far.")
    approvals_needed: int = Field(ge=1, le=2, description="Approvals it needs before payment.")
    approved_by: str = Field(description="The approving officer's subject.")


class DisbursementRejected(FundEvent):
    """A disbursement was rejected and will not be paid."""

    name: ClassVar[str] = "disbursement.rejected"
    disbursement_id: str = Field(description="The disbursement's id.")
    rejected_by: str = Field(description="The rejecting officer's subject.")


class DisbursementPaid(FundEvent):
    """An approved disbursement was paid: its journal entry is posted, the fund reduced."""

    name: ClassVar[str] = "disbursement.paid"
    disbursement_id: str = Field(description="The disbursement's id.")
    purpose: str = Field(description="education, medical or relief.")
    fund: str = Field(description="The fund it was paid from.")
    amount_fen: int = Field(gt=0, description="Amount in fen.")
    entry_id: int = Field(description="The journal entry that posted it.")


class FundBalanceLow(FundEvent):
    """A payment took a fund's available money below the community's alert threshold: time to raise more.

    Announced once per crossing (the payment that took it from at or above the threshold to below
    it), not again while it stays low. It names the fund, never the payment's beneficiary.
    """

    name: ClassVar[str] = "fund.balance_low"
    fund: str = Field(
        description="The fund that ran low: general, or the restricted education/medical/relief."
    )
    available_fen: int = Field(
        ge=0, description="What is left to spend after the payment: balance − reserved, fen."
    )
    threshold_fen: int = Field(
        ge=0, description="The alert threshold it fell below (LINLI_FUND_BALANCE_LOW_BELOW_FEN)."
    )
    disbursement_id: str = Field(
        description="The payment that took it below (its id, never the beneficiary's)."
    )


class EntryReversed(FundEvent):
    """A journal entry was corrected by a reversing entry (ledgers are append-only)."""

    name: ClassVar[str] = "entry.reversed"
    entry_id: int = Field(description="The entry that was reversed.")
    reversal_entry_id: int = Field(description="The new entry that reverses it.")
    kind: str = Field(description="What the reversed entry recorded: donation or disbursement.")
    reason: str = Field(description="Why it was reversed.")


class CommitmentMade(FundEvent):
    """Money was reserved in a fund for a promise over time (e.g. school fees until 18)."""

    name: ClassVar[str] = "commitment.made"
    commitment_id: str = Field(description="The commitment's id (never the beneficiary's).")
    purpose: str = Field(description="education, medical or relief.")
    fund: str = Field(description="The fund the money is reserved in.")
    amount_fen: int = Field(gt=0, description="Amount reserved, in fen.")
    until: date = Field(description="The last day the promise runs.")


class CommitmentReleased(FundEvent):
    """What was left of a commitment's reservation went back to the fund's available money."""

    name: ClassVar[str] = "commitment.released"
    commitment_id: str = Field(description="The commitment's id.")
    released_fen: int = Field(ge=0, description="Amount no longer reserved, in fen.")
    released_by: str = Field(description="The officer's subject.")


class CommitmentSuspended(FundEvent):
    """The registry said a commitment's beneficiary died or moved out: it stops, its reserve is freed."""

    name: ClassVar[str] = "commitment.suspended"
    commitment_id: str = Field(description="The commitment's id (never the beneficiary's).")
    purpose: str = Field(description="education, medical or relief.")
    fund: str = Field(description="The fund whose reservation was released.")
    released_fen: int = Field(ge=0, description="Amount no longer reserved, in fen.")
    reason: str = Field(description="deceased or moved_out: what the registry announced.")


class CommitmentInstalmentDue(FundEvent):
    """A scheduled instalment fell due: a disbursement was requested for it, waiting for approval."""

    name: ClassVar[str] = "commitment.instalment_due"
    commitment_id: str = Field(description="The commitment's id (never the beneficiary's).")
    instalment_number: int = Field(ge=1, description="1 for the first instalment of the schedule.")
    due_on: date = Field(description="The day it fell due (China time).")
    purpose: str = Field(description="education, medical or relief.")
    amount_fen: int = Field(gt=0, description="Amount in fen.")
    disbursement_id: str = Field(description="The request made for it, to approve and pay as any other.")


class DisclosurePublished(FundEvent):
    """A period's public report (公示) was frozen; its hash chains it to the previous period's."""

    name: ClassVar[str] = "disclosure.published"
    sequence: int = Field(ge=1, description="1 for the community's first published period, then 2, 3, …")
    first_day: date = Field(description="First day of the period (China time).")
    last_day: date = Field(description="Last day of the period, included.")
    sha256: str = Field(description="The report's link in the chain: sha256(previous hash, newline, JSON).")
    previous_sha256: str | None = Field(
        default=None,
        description="The previous period's hash (None for the first), so a witness can keep the chain.",
    )


class DisclosureQuestioned(FundEvent):
    """A resident questioned (质询) a line of a published period during its 公示期; officers are told."""

    name: ClassVar[str] = "disclosure.questioned"
    sequence: int = Field(ge=1, description="The published period questioned.")
    question_id: str = Field(description="The question's id in the fund service.")
    line_kind: str = Field(description="donation or payment.")
    line_ref: str = Field(
        description="A donation's receipt number, or a payment's number in the period's list (1, 2, …)."
    )
    text: str = Field(description="The question as the resident wrote it (at most 500 characters).")
    asked_at: datetime = Field(description="When it was asked (UTC).")
    closes_on: date = Field(description="The last day of the period's 公示期 (China time).")
    asker_account_id: str = Field(description="The account that asked; never shown in public.")


class DisclosureQuestionAnswered(FundEvent):
    """A fund officer of the community answered a question, once; a correction, if any, is a reversing
    entry made the normal way, linked here."""

    name: ClassVar[str] = "disclosure.question_answered"
    sequence: int = Field(ge=1, description="The published period the question was about.")
    question_id: str = Field(description="The question answered.")
    text: str = Field(description="The answer, public on the period's page.")
    correction_entry_id: int | None = Field(
        description="The reversing journal entry that corrects it, if any."
    )
    answered_at: datetime = Field(description="When it was answered (UTC).")
    asker_account_id: str = Field(description="Who asked, so they can be told.")
    answered_by_account_id: str = Field(description="The officer's account that answered.")
