"""What the points API accepts and returns."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from linli_points.domain import StockSource, TeamKind

Code = Field(pattern=r"^[a-z0-9_-]+$", min_length=1, max_length=40)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TeamIn(Strict):
    district: str = Code
    community: str = Code
    name: str = Field(min_length=1, max_length=100)
    kind: TeamKind


class TeamOut(BaseModel):
    id: str
    district: str
    community: str
    name: str
    kind: TeamKind


class VolunteerIn(Strict):
    district: str = Code
    community: str = Code
    subject: str = Field(min_length=1, max_length=100, description="The subject of their own token.")
    full_name: str = Field(min_length=1, max_length=100)
    resident_id: str | None = Field(default=None, max_length=36, description="If a registered resident.")
    team_id: str | None = Field(default=None, max_length=36)
    party_member: bool = False
    skills: list[str] = Field(default_factory=list, max_length=20)


class VolunteerOut(BaseModel):
    id: str
    district: str
    community: str
    subject: str
    full_name: str
    resident_id: str | None
    team_id: str | None
    party_member: bool
    skills: list[str]
    balance: int
    enrolled_at: datetime


class AdjustmentIn(Strict):
    volunteer_id: str = Field(max_length=36)
    points: int = Field(ge=-100_000, le=100_000, description="Positive credits, negative debits; not 0.")
    reason: str = Field(min_length=1, max_length=500)


class EntryOut(BaseModel):
    id: int
    volunteer_id: str
    kind: str
    points: int
    balance_after: int
    reason: str
    actor: str
    reference: str | None
    created_at: datetime


class ItemIn(Strict):
    district: str = Code
    community: str = Code
    name: str = Field(min_length=1, max_length=100)
    points_price: int = Field(gt=0, le=1_000_000)
    monthly_limit: int | None = Field(default=None, gt=0, le=1000)
    low_stock_threshold: int = Field(default=0, ge=0, le=100_000)


class ItemOut(BaseModel):
    id: str
    district: str
    community: str
    name: str
    points_price: int
    stock: int
    monthly_limit: int | None
    low_stock_threshold: int
    active: bool


class IntakeIn(Strict):
    quantity: int = Field(gt=0, le=100_000)
    source: StockSource
    note: str = Field(default="", max_length=500)


class RedemptionIn(Strict):
    item_id: str = Field(max_length=36)
    quantity: int = Field(default=1, gt=0, le=100)
    volunteer_id: str | None = Field(
        default=None, max_length=36, description="Only a worker may redeem for someone else."
    )


class PickupIn(Strict):
    pickup_code: str = Field(pattern=r"^\d{6}$")


class RedemptionOut(BaseModel):
    id: str
    district: str
    community: str
    item_id: str
    volunteer_id: str
    quantity: int
    points: int
    status: str
    pickup_code: str
    redeemed_at: datetime
    settled_at: datetime | None


class RulesIn(Strict):
    wish_claim_days: int = Field(default=14, ge=1, le=365)
    visit_points: int = Field(default=0, ge=0, le=1000, description="Points per logged visit; 0 is off.")
    points_expire_after_days: int | None = Field(default=None, ge=30, le=3650, description="None: never.")


class RulesOut(RulesIn):
    model_config = ConfigDict(extra="ignore")
    district: str
    community: str
