"""What the points service publishes: points, the love supermarket, wishes."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from linli_shared.events import Event


class PointsEvent(Event):
    service: ClassVar[str] = "points"


class VolunteerEnrolled(PointsEvent):
    """Someone became a volunteer of a community."""

    name: ClassVar[str] = "volunteer.enrolled"
    volunteer_id: str
    resident_id: str | None
    party_member: bool


class PointsEarned(PointsEvent):
    """Points were credited to a volunteer (service, a fulfilled wish, a visit)."""

    name: ClassVar[str] = "points.earned"
    volunteer_id: str
    points: int = Field(gt=0)
    balance: int = Field(ge=0)
    reason: str


class PointsAdjusted(PointsEvent):
    """A worker corrected a balance, with a reason; the ledger keeps both entries."""

    name: ClassVar[str] = "points.adjusted"
    volunteer_id: str
    points: int
    balance: int = Field(ge=0)
    reason: str
    adjusted_by: str


class PointsRedeemed(PointsEvent):
    """Points were spent in the love supermarket."""

    name: ClassVar[str] = "points.redeemed"
    redemption_id: str
    volunteer_id: str
    item_id: str
    quantity: int = Field(gt=0)
    points: int = Field(gt=0)
    balance: int = Field(ge=0)


class RedemptionCancelled(PointsEvent):
    """A redemption was cancelled: its points refunded and its stock restored, once."""

    name: ClassVar[str] = "redemption.cancelled"
    redemption_id: str
    volunteer_id: str
    points_refunded: int = Field(gt=0)


class StockLow(PointsEvent):
    """An item's stock fell to or below its threshold: tell the supermarket keeper."""

    name: ClassVar[str] = "stock.low"
    item_id: str
    item_name: str
    stock: int = Field(ge=0)
    threshold: int = Field(ge=0)
