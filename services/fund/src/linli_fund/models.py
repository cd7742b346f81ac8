"""The fund service's tables. Every row carries its district and community.

The journal (journal_entry + posting) is append-only: nothing here is ever updated or deleted;
a correction is a new entry whose `reverses_entry_id` points at the one it reverses, unique, so
an entry can be reversed at most once. The database enforces it: triggers (migration 0005) refuse
any UPDATE or DELETE of journal_entry, posting and published_disclosure rows.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKeyConstraint, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from linli_shared.clock import UtcDateTime
from linli_shared.idempotency import IdempotencyRecord  # noqa: F401 - part of this database's schema
from linli_shared.inbox import InboxEntry  # noqa: F401 - part of this database's schema
from linli_shared.outbox import OutboxMessage  # noqa: F401 - part of this database's schema
from linli_shared.places import KnownPlaceBase
from linli_shared.residents import KnownResidentBase


class KnownResident(KnownResidentBase, table=True):
    """Residents as the registry announced them: this service's read model, fed by its inbox."""

    __tablename__ = "beneficiary"  # not known_resident: table names are unique across services
    masked_name: str = Field(
        default="",
        max_length=40,
        sa_column_kwargs={"server_default": ""},
        description="Initials only (张**, J. S.), for the public report; the name itself is never kept.",
    )


class KnownPlace(KnownPlaceBase, table=True):
    """Districts' and communities' names as the registry announced them (place.named), so a
    published report says 高桥营街道 · 东李庄社区; fed by this service's inbox."""

    __tablename__ = "fund_known_place"  # not known_place: table names are unique across services


class Account(SQLModel, table=True):
    """An account of a community's chart (see domain.CHART), created on first use."""

    district: str = Field(primary_key=True, max_length=40)
    community: str = Field(primary_key=True, max_length=40)
    code: str = Field(primary_key=True, max_length=60)
    type: str = Field(max_length=10)


class GuardedBalance(SQLModel, table=True):
    """The balance of a fund or an asset account, which the database never lets go below what is reserved.

    Moved only by conditional UPDATEs in the transaction that posts the entry moving it, so
    racing payments cannot both spend the same fen.
    """

    __tablename__ = "guarded_balance"
    __table_args__ = (
        CheckConstraint("reserved >= 0", name="reserved_never_negative"),
        CheckConstraint("balance >= reserved", name="never_spend_what_is_not_there"),
    )
    district: str = Field(primary_key=True, max_length=40)
    community: str = Field(primary_key=True, max_length=40)
    name: str = Field(primary_key=True, max_length=60, description="funds:<fund> or an asset account")
    balance: int = 0
    reserved: int = 0


class JournalEntry(SQLModel, table=True):
    __tablename__ = "journal_entry"
    id: int | None = Field(default=None, primary_key=True)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    kind: str = Field(max_length=20)
    narration: str = Field(max_length=500)
    reference: str | None = Field(default=None, max_length=36, description="The donation or disbursement.")
    reverses_entry_id: int | None = Field(default=None, foreign_key="journal_entry.id", unique=True)
    posted_by: str = Field(max_length=100)
    posted_at: datetime = Field(sa_type=UtcDateTime, index=True)


class Posting(SQLModel, table=True):
    """One line of an entry, in fen: debit > 0 > credit; an entry's postings sum to zero."""

    __table_args__ = (
        CheckConstraint("amount <> 0", name="posting_not_zero"),
        ForeignKeyConstraint(
            ["district", "community", "account"], ["account.district", "account.community", "account.code"]
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="journal_entry.id", index=True)
    district: str = Field(max_length=40)
    community: str = Field(max_length=40)
    account: str = Field(max_length=60)
    amount: int


class ReceiptCounter(SQLModel, table=True):
    """The last receipt number given per community and year; bumped in the donation's transaction."""

    __tablename__ = "receipt_counter"
    __table_args__ = (CheckConstraint("last_number >= 0", name="counter_not_negative"),)
    district: str = Field(primary_key=True, max_length=40)
    community: str = Field(primary_key=True, max_length=40)
    year: int = Field(primary_key=True)
    last_number: int = 0


class Campaign(SQLModel, table=True):
    """A donation drive (held every three months)."""

    __table_args__ = (
        CheckConstraint("target_fen > 0", name="target_positive"),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
    )
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    name: str = Field(max_length=200)
    starts_on: date
    ends_on: date
    target_fen: int
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UtcDateTime)


class Donation(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="donation_positive"),
        UniqueConstraint("district", "community", "receipt_year", "receipt_sequence"),
    )
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    receipt_number: str = Field(max_length=20)
    receipt_year: int
    receipt_sequence: int
    campaign_id: str | None = Field(default=None, foreign_key="campaign.id", max_length=36, index=True)
    donor_kind: str = Field(max_length=20)
    donor_name: str = Field(max_length=200)
    donor_resident_id: str | None = Field(
        default=None, max_length=36, index=True, description="The registry's id of a resident donor."
    )
    donor_phone: str | None = Field(
        default=None, max_length=20, description="Only for thanking the donor: never read back, never public."
    )
    anonymous: bool = False
    channel: str = Field(max_length=20)
    restricted_to: str | None = Field(default=None, max_length=20)
    fund: str = Field(max_length=20)
    amount_fen: int
    status: str = Field(default="received", max_length=20)
    entry_id: int = Field(foreign_key="journal_entry.id", unique=True)
    recorded_by: str = Field(max_length=100)
    received_at: datetime = Field(sa_type=UtcDateTime)
    batch_id: str | None = Field(
        default=None, max_length=36, index=True, description="The batch it was recorded in, if any."
    )


class Commitment(SQLModel, table=True):
    """A promise over time (an orphan's school fees until 18) that reserves money in its fund.

    Its reservation is journalled (equity:reserved:<fund>) and guarded (guarded_balance.reserved):
    ordinary payments cannot touch it, and payments linked to the commitment draw it down, never
    below zero.
    """

    __table_args__ = (
        CheckConstraint("total_fen > 0", name="commitment_positive"),
        CheckConstraint("remaining_fen >= 0 AND remaining_fen <= total_fen", name="remaining_within_total"),
    )
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    resident_id: str = Field(max_length=36, description="The beneficiary; never leaves this service.")
    purpose: str = Field(max_length=20)
    fund: str = Field(max_length=20)
    total_fen: int
    remaining_fen: int
    until: date
    reason: str = Field(max_length=1000)
    status: str = Field(default="active", max_length=20)
    instalment_fen: int | None = Field(default=None, description="Scheduled: the amount of each instalment.")
    first_due_on: date | None = Field(default=None, description="Scheduled: when the first falls due.")
    months_between: int | None = Field(default=None, description="Scheduled: months from one to the next.")
    made_by: str = Field(max_length=100)
    made_at: datetime = Field(sa_type=UtcDateTime)
    released_by: str | None = Field(default=None, max_length=100)
    released_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class Disbursement(SQLModel, table=True):
    """requested → approved (once or twice) → paid, or rejected; `version` guards every move."""

    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="disbursement_positive"),
        UniqueConstraint("commitment_id", "instalment_number", name="one_request_per_instalment"),
    )
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    resident_id: str = Field(max_length=36, description="The beneficiary; never leaves this service.")
    purpose: str = Field(max_length=20)
    fund: str = Field(max_length=20)
    amount_fen: int
    reason: str = Field(max_length=1000)
    status: str = Field(default="requested", max_length=20, index=True)
    approvals_needed: int = 1
    requested_by: str = Field(max_length=100)
    requested_at: datetime = Field(sa_type=UtcDateTime)
    first_approved_by: str | None = Field(default=None, max_length=100)
    second_approved_by: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    rejected_by: str | None = Field(default=None, max_length=100)
    rejection_reason: str = Field(default="", max_length=1000)
    paid_by: str | None = Field(default=None, max_length=100)
    paid_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    channel: str | None = Field(default=None, max_length=20)
    entry_id: int | None = Field(default=None, foreign_key="journal_entry.id", unique=True)
    commitment_id: str | None = Field(default=None, foreign_key="commitment.id", max_length=36, index=True)
    instalment_number: int | None = Field(default=None, description="Requested by the schedule for this one.")
    version: int = 0


class PublishedDisclosure(SQLModel, table=True):
    """A period's public report (公示), frozen when published: never updated, never deleted.

    `sha256` hashes the previous period's hash and this report's canonical JSON, so the reports of a
    community form a chain: changing any stored report (or removing one) breaks every later link.
    """

    __tablename__ = "published_disclosure"
    __table_args__ = (
        UniqueConstraint("district", "community", "sequence"),
        CheckConstraint("last_day >= first_day", name="period_runs_forwards"),
    )
    id: int | None = Field(default=None, primary_key=True)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    sequence: int = Field(description="1 for a community's first published period, then 2, 3, …")
    first_day: date
    last_day: date
    report: str = Field(sa_column=Column(Text, nullable=False), description="The report as canonical JSON.")
    sha256: str = Field(max_length=64)
    previous_sha256: str | None = Field(default=None, max_length=64)
    published_by: str = Field(max_length=100)
    published_at: datetime = Field(sa_type=UtcDateTime)


class DisclosureSetting(SQLModel, table=True):
    """A community's 公示期: how many days after publication residents may question a period."""

    __tablename__ = "disclosure_setting"
    __table_args__ = (CheckConstraint("question_days BETWEEN 1 AND 90", name="question_days_in_range"),)
    district: str = Field(primary_key=True, max_length=40)
    community: str = Field(primary_key=True, max_length=40)
    question_days: int
    set_by: str = Field(max_length=100)
    set_at: datetime = Field(sa_type=UtcDateTime)


class DisclosureQuestion(SQLModel, table=True):
    """A resident's question (质询) about one line of a published period: append-only, never edited."""

    __tablename__ = "disclosure_question"
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    sequence: int = Field(description="The published period questioned.")
    line_kind: str = Field(max_length=20, description="donation or payment")
    line_ref: str = Field(max_length=40, description="A receipt number, or a payment's number in the period.")
    text: str = Field(max_length=500)
    asked_by: str = Field(max_length=100, description="The resident's subject; never public.")
    asker_account_id: str = Field(max_length=100, description="The signed-in account; never public.")
    asked_at: datetime = Field(sa_type=UtcDateTime)
    closes_on: date = Field(description="The last day of the 公示期 when it was asked (China time).")


class DisclosureAnswer(SQLModel, table=True):
    """A fund officer's answer to a question: one per question (its key), append-only."""

    __tablename__ = "disclosure_answer"
    question_id: str = Field(primary_key=True, foreign_key="disclosure_question.id", max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    text: str = Field(max_length=1000)
    correction_entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")
    answered_by: str = Field(max_length=100)
    answered_by_account_id: str = Field(max_length=100)
    answered_at: datetime = Field(sa_type=UtcDateTime)
