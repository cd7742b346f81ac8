"""What the points service publishes: points, the love supermarket, wishes."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, Field

from linli_shared.events import Event


class PointsEvent(Event):
    service: ClassVar[str] = "points"


class VolunteerEnrolled(PointsEvent):
    """Someone became a volunteer of a community."""

    name: ClassVar[str] = "volunteer.enrolled"
    volunteer_id: str
    subject: str | None = Field(default=None, description="The subject of the volunteer's own token.")
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


class ActivityPublished(PointsEvent):
    """A community published a volunteer activity."""

    name: ClassVar[str] = "activity.published"
    activity_id: str
    title: str
    kind: str
    starts_at: datetime
    capacity: int


class ServiceHoursConfirmed(PointsEvent):
    """Hours of service were confirmed for a volunteer (the permanent record)."""

    name: ClassVar[str] = "service.hours_confirmed"
    record_id: str
    volunteer_id: str
    activity_id: str | None
    minutes: int = Field(gt=0)
    points_awarded: int = Field(ge=0)


class AttendeeConfirmed(BaseModel):
    """One attendee of an attendance batch: their hours, as `service.hours_confirmed` carries them,
    and what they earned, as `points.earned` does (no balance when they earned nothing)."""

    record_id: str
    volunteer_id: str
    minutes: int = Field(gt=0)
    points_awarded: int = Field(ge=0)
    balance: int | None = Field(default=None, ge=0, description="The balance after the credit.")
    reason: str


class AttendanceConfirmed(PointsEvent):
    """An activity's attendance was confirmed in one batch: every attendee's hours recorded and
    points credited. One event carries up to ATTENDEES_PER_EVENT of them, so a batch is one or two
    messages, not two for each attendee."""

    name: ClassVar[str] = "service.attendance_confirmed"
    batch_id: str = Field(description="The attendance batch, as the records carry it.")
    activity_id: str
    attendees: list[AttendeeConfirmed] = Field(
        min_length=1, max_length=200, description="In volunteer-id order."
    )


ATTENDEES_PER_EVENT = 200
"""About 200 bytes an attendee: far under NATS's 1 MB message limit."""


class WishPosted(PointsEvent):
    name: ClassVar[str] = "wish.posted"
    wish_id: str
    resident_id: str
    title: str


class WishReviewed(PointsEvent):
    """The party branch approved (published on the wall) or rejected a wish."""

    name: ClassVar[str] = "wish.reviewed"
    wish_id: str
    resident_id: str
    approved: bool
    note: str


class WishClaimed(PointsEvent):
    name: ClassVar[str] = "wish.claimed"
    wish_id: str
    resident_id: str
    volunteer_id: str
    claim_expires_at: datetime


class WishClaimExpired(PointsEvent):
    """A claim was not fulfilled in time: the wish is open again."""

    name: ClassVar[str] = "wish.claim_expired"
    wish_id: str
    volunteer_id: str


class WishFulfilled(PointsEvent):
    name: ClassVar[str] = "wish.fulfilled"
    wish_id: str
    resident_id: str
    volunteer_id: str
    note: str


class WishConfirmed(PointsEvent):
    """A worker or the resident confirmed the fulfilment; the claimant earns the wish's points."""

    name: ClassVar[str] = "wish.confirmed"
    wish_id: str
    volunteer_id: str
    points_awarded: int = Field(ge=0)


class WishClosed(PointsEvent):
    """A wish was closed without fulfilment (the resident died or moved out, or it was withdrawn)."""

    name: ClassVar[str] = "wish.closed"
    wish_id: str
    reason: str


class HelpMatched(PointsEvent):
    """A worker matched a neighbour's offer to a household's request."""

    name: ClassVar[str] = "help.matched"
    match_id: str
    offer_id: str
    request_id: str
    goods: str


class HelpHandedOver(PointsEvent):
    name: ClassVar[str] = "help.handed_over"
    match_id: str


class PointsExpired(PointsEvent):
    """Points older than the community's limit expired (spending always uses the oldest first)."""

    name: ClassVar[str] = "points.expired"
    volunteer_id: str
    points: int = Field(gt=0)
    balance: int = Field(ge=0)


class VolunteerChanged(PointsEvent):
    """A worker corrected a volunteer's record, or the volunteer left (`active` false; their points
    stay on the ledger): the volunteer as they stand now, whole, and which fields changed."""

    name: ClassVar[str] = "volunteer.changed"
    volunteer_id: str
    subject: str = Field(description="The subject of the volunteer's own token.")
    full_name: str
    resident_id: str | None = None
    team_id: str | None = None
    party_member: bool
    skills: list[str]
    active: bool = Field(description="False once the volunteer has left.")
    version: int = Field(description="The record's version after this change; each change raises it.")
    changed: list[str] = Field(description="The fields changed, e.g. full_name, team_id, active.")


class TeamChanged(PointsEvent):
    """A team was renamed or given another kind, or dissolved (`active` false, its members freed)."""

    name: ClassVar[str] = "team.changed"
    team_id: str
    team_name: str
    kind: str
    active: bool
    version: int
    changed: list[str]


class ActivityChanged(PointsEvent):
    """A worker corrected an activity (title, place, time, capacity, its points rule): the activity
    as it stands now, whole, and which fields changed."""

    name: ClassVar[str] = "activity.changed"
    activity_id: str
    title: str
    kind: str
    place: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    points_per_hour: int
    rounding: str
    daily_points_cap: int | None = None
    version: int
    changed: list[str]


class ActivityCancelled(PointsEvent):
    """An activity was called off before any attendance was confirmed: its sign-ups were
    cancelled (`volunteer_ids`, whom to tell) and no hours can be confirmed for it."""

    name: ClassVar[str] = "activity.cancelled"
    activity_id: str
    title: str
    starts_at: datetime
    reason: str
    volunteer_ids: list[str] = Field(description="The volunteers whose sign-ups it cancelled.")
    version: int


class ItemChanged(PointsEvent):
    """A love-supermarket item was corrected (name, price, limits) or delisted (`active` false)."""

    name: ClassVar[str] = "item.changed"
    item_id: str
    item_name: str
    points_price: int = Field(gt=0)
    monthly_limit: int | None = None
    low_stock_threshold: int = Field(ge=0)
    active: bool
    version: int
    changed: list[str]
