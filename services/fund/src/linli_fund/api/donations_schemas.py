"""What the donation routes accept and return. Money is integer fen: a StrictInt, a JSON number
without a fraction; "100" and 100.5 are refused (422), never rounded or parsed."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field, StrictInt, model_validator
from pydantic_core import PydanticCustomError

from linli_fund.domain import MAX_FEN, Channel, DonorKind, Purpose
from linli_shared.schema_types import Code, Strict

MAX_BATCH = 5000


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
            raise PydanticCustomError("ends_before_starts", "ends_on must not be before starts_on")
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


class DonationLineIn(Strict):
    """A gift without its community: a line of a batch, and the body of a donation less two fields."""

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
    received_on: date | None = Field(
        default=None,
        description="The China day the gift came in, when it is booked later (cash counted yesterday is "
        "booked yesterday); today if not given. Never after today, never on or before the last day of "
        "a published period (409), at most LINLI_FUND_DONATION_BACKDATE_DAYS days back (422).",
    )


class DonationIn(DonationLineIn):
    district: str = Code
    community: str = Code


class DonationBatchIn(Strict):
    """A counted collection box or a bank statement: gifts to one community's fund, all or none."""

    district: str = Code
    community: str = Code
    donations: list[DonationLineIn] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description=f"At most {MAX_BATCH} gifts, each receipted in this order with the next number.",
    )


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


class DonationBatchOut(BaseModel):
    id: str = Field(description="The batch's id; a repeated Idempotency-Key answers with the same batch.")
    district: str
    community: str
    count: int
    total_fen: int
    first_receipt_number: str
    last_receipt_number: str
    donations: list[DonationOut]
