"""The points service's tables. Every row carries its district and community."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import JSON, CheckConstraint, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from linli_shared.clock import UtcDateTime
from linli_shared.idempotency import IdempotencyRecord  # noqa: F401 - part of this database's schema
from linli_shared.inbox import InboxEntry  # noqa: F401 - part of this database's schema
from linli_shared.outbox import OutboxMessage  # noqa: F401 - part of this database's schema
from linli_shared.places import KnownPlaceBase
from linli_shared.residents import KnownResidentBase
from linli_shared.versions import RecordChange, Versioned  # noqa: F401 - part of this database's schema


class KnownResident(KnownResidentBase, table=True):
    """Residents as the registry announced them: this service's read model, fed by its inbox."""

    __tablename__ = "known_resident"
    full_name: str = Field(max_length=100)
    party_member: bool = False


class KnownPlace(KnownPlaceBase, table=True):
    """Districts' and communities' names as the registry announced them (place.named), so a
    certificate says 东李庄社区, not its code; fed by this service's inbox."""

    __tablename__ = "known_place"


class Team(Versioned, table=True):
    """A volunteer team; dissolving it keeps the row (and its history) and frees its members."""

    record_type = "team"
    record_label = "这支志愿队伍的信息"
    field_labels = {"name": "队名", "kind": "类型", "active": "是否在册"}
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=30)
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})


class Volunteer(Versioned, table=True):
    """A volunteer; one who left stays on record (and their points on the ledger), inactive."""

    record_type = "volunteer"
    record_label = "这位志愿者的信息"
    field_labels = {
        "full_name": "姓名",
        "team_id": "所在队伍",
        "skills": "技能",
        "active": "是否在册",
        "left_at": "离开时间",
    }
    __table_args__ = (UniqueConstraint("district", "subject"),)
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    subject: str = Field(max_length=100, description="The subject of the volunteer's own token.")
    full_name: str = Field(max_length=100)
    resident_id: str | None = Field(default=None, max_length=36)
    team_id: str | None = Field(default=None, foreign_key="team.id", max_length=36)
    party_member: bool = False
    skills: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    enrolled_at: datetime = Field(sa_type=UtcDateTime)
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    left_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class PointsAccount(SQLModel, table=True):
    """The spendable balance; the database refuses a negative one whatever the code does."""

    __tablename__ = "points_account"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_never_negative"),)
    volunteer_id: str = Field(primary_key=True, foreign_key="volunteer.id", max_length=36)
    district: str = Field(max_length=40)
    community: str = Field(max_length=40)
    balance: int = 0


class PointsEntry(SQLModel, table=True):
    """The append-only points ledger: one row per credit or debit, with the balance after it."""

    __tablename__ = "points_entry"
    id: int | None = Field(default=None, primary_key=True)
    district: str = Field(max_length=40)
    community: str = Field(max_length=40)
    volunteer_id: str = Field(foreign_key="volunteer.id", max_length=36, index=True)
    kind: str = Field(max_length=20)
    points: int
    balance_after: int
    reason: str = Field(max_length=500)
    actor: str = Field(max_length=100)
    reference: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_type=UtcDateTime)


class Item(Versioned, table=True):
    """A good in a community's love supermarket; stock can never go below zero. Stock moves by
    conditional UPDATE statements, which leave the version alone: it counts corrections."""

    record_type = "item"
    record_label = "这件爱心超市商品的信息"
    field_labels = {
        "name": "名称",
        "points_price": "所需积分",
        "monthly_limit": "每人每月限兑",
        "low_stock_threshold": "低库存提醒线",
        "active": "是否上架",
    }

    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_never_negative"),
        CheckConstraint("points_price > 0", name="price_positive"),
    )
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    name: str = Field(max_length=100)
    points_price: int
    stock: int = 0
    monthly_limit: int | None = None
    low_stock_threshold: int = 0
    active: bool = True


class StockIntake(SQLModel, table=True):
    __tablename__ = "stock_intake"
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40)
    community: str = Field(max_length=40)
    item_id: str = Field(foreign_key="item.id", max_length=36, index=True)
    quantity: int
    source: str = Field(max_length=20)
    note: str = Field(default="", max_length=500)
    received_by: str = Field(max_length=100)
    received_at: datetime = Field(sa_type=UtcDateTime)


class Redemption(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    item_id: str = Field(foreign_key="item.id", max_length=36)
    volunteer_id: str = Field(foreign_key="volunteer.id", max_length=36, index=True)
    quantity: int
    points: int
    status: str = Field(default="reserved", max_length=20)
    pickup_code: str = Field(max_length=12)
    redeemed_at: datetime = Field(sa_type=UtcDateTime)
    settled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class CommunityRules(SQLModel, table=True):
    """A community's own rules for points and wishes; defaults apply where none is set."""

    __tablename__ = "community_rules"
    district: str = Field(primary_key=True, max_length=40)
    community: str = Field(primary_key=True, max_length=40)
    wish_claim_days: int = 14
    visit_points: int = Field(default=0, description="Points per registry-logged visit; 0 turns it off.")
    points_expire_after_days: int | None = None


# --- activities and service hours ------------------------------------------------------------


class Activity(Versioned, table=True):
    """A volunteer activity; sign-ups can never exceed its capacity. Sign-ups move `signed_up` by
    conditional UPDATE statements, which leave the version alone: it counts corrections."""

    record_type = "activity"
    record_label = "这项志愿活动的信息"
    field_labels = {
        "title": "标题",
        "place": "地点",
        "starts_at": "开始时间",
        "ends_at": "结束时间",
        "capacity": "名额",
        "points_per_hour": "每小时积分",
        "rounding": "计时取整",
        "daily_points_cap": "每日积分上限",
        "status": "状态",
    }

    __table_args__ = (CheckConstraint("signed_up <= capacity", name="within_capacity"),)
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    title: str = Field(max_length=200)
    kind: str = Field(max_length=30)
    place: str = Field(max_length=200)
    starts_at: datetime = Field(sa_type=UtcDateTime)
    ends_at: datetime = Field(sa_type=UtcDateTime)
    capacity: int
    signed_up: int = 0
    points_per_hour: int = 10
    rounding: str = Field(default="down", max_length=10, description="down, nearest or up, per started hour")
    daily_points_cap: int | None = None
    organiser: str = Field(max_length=100)
    status: str = Field(default="published", max_length=20)
    published_at: datetime = Field(sa_type=UtcDateTime)


class SignUp(SQLModel, table=True):
    __tablename__ = "sign_up"
    __table_args__ = (UniqueConstraint("activity_id", "volunteer_id"),)
    id: str = Field(primary_key=True, max_length=36)
    activity_id: str = Field(foreign_key="activity.id", max_length=36, index=True)
    volunteer_id: str = Field(foreign_key="volunteer.id", max_length=36, index=True)
    status: str = Field(default="signed_up", max_length=20)
    signed_up_at: datetime = Field(sa_type=UtcDateTime)


class ServiceRecord(SQLModel, table=True):
    """The permanent, append-only record of hours served (minutes, to keep integers)."""

    __tablename__ = "service_record"
    __table_args__ = (
        UniqueConstraint("activity_id", "volunteer_id"),
        CheckConstraint("minutes > 0", name="minutes_positive"),
    )
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    volunteer_id: str = Field(foreign_key="volunteer.id", max_length=36, index=True)
    activity_id: str | None = Field(default=None, foreign_key="activity.id", max_length=36)
    served_on: date
    minutes: int
    earns_points: bool = True
    points_awarded: int = 0
    note: str = Field(default="", max_length=500)
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime = Field(sa_type=UtcDateTime)
    batch_id: str | None = Field(
        default=None, max_length=36, index=True, description="The attendance batch it was confirmed in."
    )


class Certificate(SQLModel, table=True):
    """A certificate of service hours; its serial can be verified by anyone."""

    serial: str = Field(primary_key=True, max_length=40)
    district: str = Field(max_length=40)
    community: str = Field(max_length=40)
    volunteer_id: str = Field(foreign_key="volunteer.id", max_length=36)
    total_minutes: int
    issued_by: str = Field(max_length=100)
    issued_at: datetime = Field(sa_type=UtcDateTime)


# --- the wish wall ------------------------------------------------------------------------------


class Wish(SQLModel, table=True):
    """A resident's small wish: pending → open → claimed → fulfilled → confirmed (or rejected/closed)."""

    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    resident_id: str = Field(max_length=36, index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    points_award: int = 0
    status: str = Field(default="pending", max_length=20, index=True)
    posted_by: str = Field(max_length=100)
    posted_at: datetime = Field(sa_type=UtcDateTime)
    reviewed_by: str | None = Field(default=None, max_length=100)
    review_note: str = Field(default="", max_length=500)
    claimant_id: str | None = Field(default=None, foreign_key="volunteer.id", max_length=36)
    claimed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    claim_expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    fulfilled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    fulfilment_note: str = Field(default="", max_length=2000)
    confirmed_by: str | None = Field(default=None, max_length=100)
    closed_reason: str = Field(default="", max_length=200)
    updated_at: datetime = Field(sa_type=UtcDateTime)


# --- neighbour help -----------------------------------------------------------------------------


class HelpOffer(SQLModel, table=True):
    """Goods a resident offers (an idle wheelchair, bedding)."""

    __tablename__ = "help_offer"
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    resident_id: str = Field(max_length=36)
    goods: str = Field(max_length=200)
    description: str = Field(default="", max_length=1000)
    status: str = Field(default="open", max_length=20)
    posted_at: datetime = Field(sa_type=UtcDateTime)


class HelpRequest(SQLModel, table=True):
    """Goods a household asks for."""

    __tablename__ = "help_request"
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40, index=True)
    community: str = Field(max_length=40)
    resident_id: str = Field(max_length=36)
    goods: str = Field(max_length=200)
    description: str = Field(default="", max_length=1000)
    status: str = Field(default="open", max_length=20)
    posted_at: datetime = Field(sa_type=UtcDateTime)


class HelpMatch(SQLModel, table=True):
    """A worker's match of one offer to one request, and the hand-over when it happens."""

    __tablename__ = "help_match"
    id: str = Field(primary_key=True, max_length=36)
    district: str = Field(max_length=40)
    community: str = Field(max_length=40)
    offer_id: str = Field(foreign_key="help_offer.id", max_length=36, unique=True)
    request_id: str = Field(foreign_key="help_request.id", max_length=36, unique=True)
    matched_by: str = Field(max_length=100)
    matched_at: datetime = Field(sa_type=UtcDateTime)
    handed_over_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    hand_over_note: str = Field(default="", max_length=1000)
